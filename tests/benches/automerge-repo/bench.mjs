// The automerge-repo side of the sync-cost bench (tests/benches/sync_cost.rs; numbers in
// docs/PERFORMANCE.md, "Sync cost"). Not run by CI. From this directory:
//
//   npm install
//   node bench.mjs                 # N = 200 and 2,000
//   node bench.mjs --docs 200
//
// Same workload as ours: N documents of 20 punches, each punch its own change (40 people,
// so N / 40 months each). Steps: upload (the device that wrote them connects and syncs
// every document), no-change (it connects again), fresh device (a new device with empty
// storage finds every document), 5% catch-up (the first device adds two punches to every
// 20th document: push; the second device connects again: pull). Every device runs in a
// process of its own (device.mjs) with NodeFS storage; the server (server.mjs, equivalent
// to automerge-repo-sync-server) is another, behind a loopback proxy here that counts the
// bytes each way (WebSocket frames and the HTTP upgrade, TCP/IP not). A step ends when the
// side that receives holds every punch (the server for upload and push, asked over IPC;
// the device for the pulls) or, for the no-change sync, with the last byte; its bytes are
// counted until the link has been quiet for QUIET_MS after that. Server CPU is from /proc/PID/stat,
// its peak memory VmHWM from /proc/PID/status.
import { fork, spawn } from "node:child_process"
import fs from "node:fs"
import net from "node:net"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const QUIET_MS = 1000
const args = process.argv.slice(2)
const docsArg = args.includes("--docs") ? args[args.indexOf("--docs") + 1] : "200,2000"

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

/// A loopback proxy counting bytes each way and the time of the last one.
function proxy(listen, target) {
  const c = { up: 0, down: 0, last: Date.now() }
  const server = net.createServer((client) => {
    const upstream = net.connect(target, "127.0.0.1")
    client.on("data", (d) => { c.up += d.length; c.last = Date.now(); upstream.write(d) })
    upstream.on("data", (d) => { c.down += d.length; c.last = Date.now(); client.write(d) })
    const close = () => { client.destroy(); upstream.destroy() }
    client.on("error", close); upstream.on("error", close)
    client.on("close", close); upstream.on("close", close)
  })
  server.listen(listen, "127.0.0.1")
  return { c, server }
}

function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) / 100 // utime + stime, USER_HZ = 100
}

function vmHwmMiB(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, "utf8").match(/VmHWM:\s+(\d+) kB/)
  return Number(m[1]) / 1024
}

function next(child, t) {
  return new Promise((resolve, reject) => {
    const on = (m) => { if (m.t === t) { child.off("message", on); resolve(m) } }
    child.on("message", on)
    child.once("exit", (code) => reject(new Error(`device exited (${code}) before '${t}'`)))
  })
}

/// Wait until no byte has passed for QUIET_MS, counting from `since` at the earliest (a
/// change is sent a moment after it is made).
async function quiet(c, since = 0) {
  for (;;) {
    const idle = Date.now() - Math.max(c.last, since)
    if (idle >= QUIET_MS) return
    await sleep(QUIET_MS - idle)
  }
}

async function run(n) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "amrepo-bench-"))
  const serverPort = await freePort()
  const proxyPort = await freePort()
  const srv = spawn(process.execPath, [path.join(here, "server.mjs"), serverPort, path.join(tmp, "server")], { stdio: ["ignore", "pipe", "inherit", "ipc"] })
  process.once("exit", () => srv.kill())
  await new Promise((r) => srv.stdout.once("data", r))
  const { c, server } = proxy(proxyPort, serverPort)
  const device = (role, dir, ...rest) =>
    fork(path.join(here, "device.mjs"), [role, path.join(tmp, dir), ...rest.map(String)], { stdio: ["ignore", "inherit", "inherit", "ipc"] })

  const t0 = Date.now()
  const creator = device("create", "a", n)
  const { urls } = await next(creator, "done")
  const urlsFile = path.join(tmp, "urls.json")
  fs.writeFileSync(urlsFile, JSON.stringify(urls))
  console.log(`N = ${n}: ${n * 20} changes written offline in ${((Date.now() - t0) / 1000).toFixed(1)} s`)

  const documentIds = urls.map((u) => u.replace(/^automerge:/, ""))
  /// Wait until the server holds `want` punches in the bench's documents; returns when.
  async function serverHolds(want) {
    const deadline = Date.now() + 600_000
    for (;;) {
      srv.send(documentIds)
      const have = await new Promise((r) => srv.once("message", r))
      if (have >= want) return Date.now()
      if (Date.now() > deadline) throw new Error(`the server holds ${have} of ${want} punches`)
      await sleep(20)
    }
  }

  const rows = []
  async function step(name, role, dir, expect, end) {
    const up0 = c.up, down0 = c.down, cpu0 = cpuSeconds(srv.pid)
    const have = role === "tap" ? n * 20 : expect
    const child = device(role, dir, proxyPort, urlsFile, have)
    let started = (await next(child, "start")).at
    let up = up0, down = down0, cpu = cpu0
    if (role === "tap") {
      await next(child, "ready")
      await quiet(c)
      up = c.up; down = c.down; cpu = cpuSeconds(srv.pid)
      child.send("go")
    }
    const done = await next(child, "done")
    if (role === "tap") started = done.at
    // Upload and push end when the server holds every punch, the pulls when the device
    // does, the no-change sync with the last byte; bytes are counted until the link is
    // quiet, so late acknowledgements are in.
    const ends = end === "server" ? await serverHolds(expect) : done.end
    await quiet(c, ends)
    const finish = end === "link" ? c.last : ends
    const row = {
      step: name,
      ms: finish - started,
      up: c.up - up,
      down: c.down - down,
      serverCpu: cpuSeconds(srv.pid) - cpu,
      punches: done.punches,
    }
    child.send("exit")
    row.clientPeakMiB = (await next(child, "bye")).maxRssKiB / 1024
    if (row.punches !== expect) throw new Error(`${name}: ${row.punches} punches, expected ${expect}`)
    rows.push(row)
    console.log(`  ${name.padEnd(20)} ${(row.ms / 1000).toFixed(2).padStart(7)} s  up ${String(row.up).padStart(10)} B  down ${String(row.down).padStart(10)} B  server CPU ${row.serverCpu.toFixed(2)} s  client peak ${row.clientPeakMiB.toFixed(1)} MiB`)
  }
  const caught = n * 20 + 2 * Math.ceil(n / 20)
  await step("upload", "sync", "a", n * 20, "server")
  await step("no-change", "sync", "a", n * 20, "link")
  await step("fresh device", "sync", "b", n * 20, "device")
  await step("5% catch-up: push", "tap", "a", caught, "server")
  await step("5% catch-up: pull", "sync", "b", caught, "device")
  console.log(`  server peak memory (VmHWM) ${vmHwmMiB(srv.pid).toFixed(1)} MiB; load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`)
  srv.kill()
  server.close()
  fs.rmSync(tmp, { recursive: true, force: true })
  return rows
}

for (const n of docsArg.split(",").map(Number)) await run(n)
process.exit(0)
