// A real relay for the tests: the logbook-relay binary (path in LOGBOOK_RELAY_BIN, set by
// scripts/test-kotlin.sh) serving a temporary data directory on a free loopback port.
package coop.logbook

import java.io.File
import java.nio.file.Path
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.io.path.createTempDirectory
import kotlin.io.path.deleteRecursively

class TestRelay : AutoCloseable {
    val dataDir: Path = createTempDirectory("logbook-relay-")
    private val bin: String = System.getenv("LOGBOOK_RELAY_BIN")
        ?: error("LOGBOOK_RELAY_BIN is not set: run the tests with scripts/test-kotlin.sh")
    private val process: Process
    /** The relay's base URL, e.g. `http://127.0.0.1:41234`. */
    val url: String

    init {
        check(File(bin).canExecute()) { "relay binary $bin is missing: cargo build --workspace" }
        // Port 0: the OS picks a free port and the relay prints the one it bound.
        process = ProcessBuilder(bin, "serve", "--data", dataDir.toString(), "--listen", "127.0.0.1:0")
            .redirectError(dataDir.resolve("relay.log").toFile())
            .start()
        val lines = LinkedBlockingQueue<String>()
        Thread({ process.inputStream.bufferedReader().forEachLine { lines.put(it) } }, "relay-stdout")
            .apply { isDaemon = true }
            .start()
        var found: String? = null
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
        while (found == null && System.nanoTime() < deadline) {
            val line = lines.poll(100, TimeUnit.MILLISECONDS) ?: continue
            if (line.startsWith("listening on ")) found = line.removePrefix("listening on ").trim()
        }
        if (found == null) {
            process.destroyForcibly()
            error("the relay did not start within 30 s (log in $dataDir/relay.log)")
        }
        url = found
    }

    /** Create a coop on the relay; returns the one-time coordinator join code. */
    fun createCoop(name: String): String {
        val admin = ProcessBuilder(bin, "admin", "--data", dataDir.toString(), "create-coop", "--name", name)
            .redirectErrorStream(true)
            .start()
        val out = admin.inputStream.bufferedReader().readText()
        check(admin.waitFor(30, TimeUnit.SECONDS) && admin.exitValue() == 0) { "create-coop failed: $out" }
        return out.lineSequence()
            .first { it.startsWith("coordinator code:") }
            .substringAfter(":").trim()
    }

    @OptIn(kotlin.io.path.ExperimentalPathApi::class)
    override fun close() {
        process.destroy()
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor()
        runCatching { dataDir.deleteRecursively() }
    }
}
