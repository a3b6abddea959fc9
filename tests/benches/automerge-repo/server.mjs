// A server equivalent to automerge-repo-sync-server (its src/server.js, without express's
// "running" page): a Repo on a WebSocket server with a NodeFS storage adapter, sharing
// nothing it was not asked for. Usage: node server.mjs PORT DATA_DIR
import { WebSocketServer } from "ws"
import { Repo } from "@automerge/automerge-repo"
import { NodeWSServerAdapter } from "@automerge/automerge-repo-network-websocket"
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs"
import os from "node:os"

const [port, dir] = process.argv.slice(2)
const wss = new WebSocketServer({ noServer: true })
const server = (await import("node:http")).createServer((_req, res) => {
  res.end("automerge-repo sync server")
})
server.on("upgrade", (request, socket, head) => {
  wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request))
})
const repo = new Repo({
  network: [new NodeWSServerAdapter(wss)],
  storage: new NodeFSStorageAdapter(dir),
  peerId: `storage-server-${os.hostname()}`,
  // Like the sync server: do not announce documents to peers that did not ask.
  sharePolicy: async () => false,
})
server.listen(Number(port), "127.0.0.1", () => console.log("listening"))
// For the bench only (not in the sync server): how many punches it holds in the documents
// the bench asks about, so a step can end when the server has everything.
process.on("message", (ids) => {
  let punches = 0
  for (const id of ids) {
    const h = repo.handles[id]
    if (h?.isReady()) punches += h.doc()?.punches?.length ?? 0
  }
  process.send(punches)
})
