// One device of the bench, in a process of its own (its peak memory is its own), driven by
// bench.mjs over IPC. Roles:
//   create  DIR N           write N documents of 20 punches, 20 changes each (offline)
//   sync    DIR PORT URLS EXPECTED   open DIR, connect, find every document and wait
//                           until they hold EXPECTED punches in all (upload, no-change,
//                           fresh device and catch-up pull are all this)
//   tap     DIR PORT URLS EXPECTED   like sync, then two more punches in every 20th one
import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs"
import fs from "node:fs"

const [role, dir, a, b] = process.argv.slice(2)
const send = (m) => process.send(m)
const PEOPLE = 40

function punch(doc, person, i, device) {
  const at = 1_793_610_000 + doc * 86_400 + i * 1800
  return {
    id: `pu-${doc.toString(16).padStart(8, "0")}${i.toString(16).padStart(8, "0")}`,
    person,
    kind: i % 2 === 0 ? "clock_in" : "clock_out",
    at,
    device,
    source: "phone",
    hour_type: i % 2 === 0 ? "paid" : null,
    site: null,
  }
}

if (role === "create") {
  const n = Number(a)
  const repo = new Repo({ storage: new NodeFSStorageAdapter(dir), network: [] })
  const urls = []
  for (let d = 0; d < n; d++) {
    const person = `p-${(d % PEOPLE).toString(16).padStart(16, "0")}`
    const h = repo.create({ person, month: `m-${Math.floor(d / PEOPLE)}`, punches: [] })
    // One change per punch, as one fsynced tap each.
    for (let i = 0; i < 20; i++) h.change((x) => { x.punches.push(punch(d, person, i, "d-0000000000000001")) })
    urls.push(h.url)
  }
  await repo.flush()
  await repo.shutdown()
  send({ t: "done", urls })
  process.exit(0)
}

const port = a
const urls = JSON.parse(fs.readFileSync(b, "utf8"))
const repo = new Repo({
  storage: new NodeFSStorageAdapter(dir),
  network: [new WebSocketClientAdapter(`ws://127.0.0.1:${port}`)],
})
process.on("message", async (m) => {
  if (m === "exit") {
    await repo.flush()
    await repo.shutdown()
    send({ t: "bye", maxRssKiB: process.resourceUsage().maxRSS })
    process.exit(0)
  }
})
send({ t: "start", at: Date.now() })
const handles = await Promise.all(urls.map((u) => repo.find(u)))
const count = () => handles.reduce((sum, h) => sum + (h.doc()?.punches?.length ?? 0), 0)
async function holding(want) {
  // A document found in local storage is ready at once: wait until the device holds
  // every punch it should (bounded: the bench fails after ten minutes).
  const deadline = Date.now() + 600_000
  for (;;) {
    const have = count()
    if (have >= want) return have
    if (Date.now() > deadline) throw new Error(`not synced: ${have} of ${want} punches`)
    await new Promise((r) => setTimeout(r, 5))
  }
}
const expected = Number(process.argv[6])
if (process.env.BENCH_DEBUG) console.error(`${role}: ${count()} punches at once of ${expected}`)
const punches = await holding(expected)
if (role === "tap") {
  // Everything found (what that cost is the no-change step's): the parent measures from
  // here, once the link is quiet.
  send({ t: "ready", punches })
  await new Promise((resolve) => process.once("message", resolve))
  const at = Date.now()
  let added = 0
  handles.forEach((h, d) => {
    if (d % 20 !== 0) return
    const person = h.doc().person
    for (const i of [20, 21]) {
      h.change((x) => { x.punches.push(punch(d, person, i, "d-0000000000000001")) })
      added++
    }
  })
  send({ t: "done", at, end: Date.now(), punches: punches + added })
} else {
  send({ t: "done", end: Date.now(), punches })
}
