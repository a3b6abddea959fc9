// Test set-up: a real relay (the workspace's logbook-relay binary, LOGBOOK_RELAY_BIN, set by
// desktop/pom.xml) on a free loopback port, temporary stores, and a small coop with a kiosk.
// The relay start mirrors android/logbook-kotlin/src/test/kotlin/coop/logbook/TestRelay.kt
// (test sources of another module are not on this module's path).
package coop.logbook.desktop

import coop.logbook.CoopLogbook
import coop.logbook.InMemoryStoreKeys
import coop.logbook.core.PersonRole
import coop.logbook.ffi.DeviceRole
import coop.logbook.ffi.Grant
import java.io.File
import java.nio.file.Path
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.io.path.createTempDirectory
import kotlin.io.path.deleteRecursively
import kotlinx.coroutines.runBlocking

class TestRelay : AutoCloseable {
    val dataDir: Path = createTempDirectory("logbook-relay-")
    private val bin: String = System.getenv("LOGBOOK_RELAY_BIN")
        ?: error("LOGBOOK_RELAY_BIN is not set: run the tests with scripts/test-desktop.sh or mvn -f desktop/pom.xml test")
    private val process: Process
    val url: String

    init {
        check(File(bin).canExecute()) { "relay binary $bin is missing: cargo build -p logbook-relay" }
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

    fun createCoop(name: String): String {
        val admin = ProcessBuilder(bin, "admin", "--data", dataDir.toString(), "create-coop", "--name", name)
            .redirectErrorStream(true)
            .start()
        val out = admin.inputStream.bufferedReader().readText()
        check(admin.waitFor(30, TimeUnit.SECONDS) && admin.exitValue() == 0) { "create-coop failed: $out" }
        return out.lineSequence().first { it.startsWith("coordinator code:") }.substringAfter(":").trim()
    }

    /** Stop serving (the kiosk then finds itself offline). Idempotent. */
    fun stop() {
        if (!process.isAlive) return
        process.destroy()
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor()
    }

    @OptIn(kotlin.io.path.ExperimentalPathApi::class)
    override fun close() {
        stop()
        runCatching { dataDir.deleteRecursively() }
    }
}

/** Temporary directories and stores one test owns; closed and deleted at the end. */
class Workspace : AutoCloseable {
    private val root: Path = createTempDirectory("logbook-desktop-test-")
    private val closeables = mutableListOf<AutoCloseable>()

    fun <T : AutoCloseable> own(c: T): T = c.also { closeables += it }
    private val keys = InMemoryStoreKeys()
    fun open(name: String): CoopLogbook = own(CoopLogbook.open(root.resolve(name), keys))
    fun relay(): TestRelay = own(TestRelay())

    @OptIn(kotlin.io.path.ExperimentalPathApi::class)
    override fun close() {
        closeables.asReversed().forEach { runCatching { it.close() } }
        runCatching { root.deleteRecursively() }
    }
}

/** A coordinator on a real relay, the café site, two workers with PINs, a joined kiosk. */
class KioskCoop(
    val relay: TestRelay,
    val coordinator: CoopLogbook,
    val kiosk: CoopLogbook,
    val siteId: String,
    val aisha: String,
    val ben: String,
) {
    companion object {
        const val AISHA_PIN = "1234"
        const val BEN_PIN = "5678"
    }
}

fun Workspace.kioskCoop(): KioskCoop = runBlocking {
    val relay = relay()
    val code = relay.createCoop("Riverside Café Co-op")
    val coordinator = open("coordinator")
    coordinator.initCoop("Riverside Café Co-op", "Europe/London")
    coordinator.join(relay.url, code, "coordinator laptop")
    val site = coordinator.directory.addSite("Café")
    val aisha = coordinator.directory.addPerson("Aisha Khan", listOf(PersonRole.WORKER), listOf(site), false)
    coordinator.directory.setPin(aisha, KioskCoop.AISHA_PIN)
    val ben = coordinator.directory.addPerson("Ben Murray", listOf(PersonRole.WORKER), listOf(site), false)
    coordinator.directory.setPin(ben, KioskCoop.BEN_PIN)
    coordinator.sync()
    val kioskCode = coordinator.invite(Grant(DeviceRole.KIOSK, null, site, emptyList())).code
    val kiosk = open("kiosk")
    kiosk.join(relay.url, kioskCode, "café kiosk")
    KioskCoop(relay, coordinator, kiosk, site, aisha, ben)
}

/** A coordinator with the demo coop on a real relay, and one worker's phone joined to it. */
class AppCoop(
    val relay: TestRelay,
    val coordinator: CoopLogbook,
    val phone: CoopLogbook,
    val siteId: String,
    /** Whose phone it is. */
    val personId: String,
    val zone: java.time.ZoneId,
)

fun Workspace.appCoop(phoneFor: String = "Aisha Khan", timezone: String = DEMO_TIMEZONE): AppCoop = runBlocking {
    val relay = relay()
    val code = relay.createCoop("Riverside Café Co-op")
    val coordinator = open("coordinator")
    coordinator.initCoop("Riverside Café Co-op", timezone)
    coordinator.join(relay.url, code, "coordinator laptop")
    val site = demoCoop(coordinator)
    coordinator.sync()
    val person = demoPerson(coordinator, phoneFor)
    val phoneCode = coordinator.invite(Grant(DeviceRole.WORKER, person, null, emptyList())).code
    val phone = open("phone")
    phone.join(relay.url, phoneCode, "$phoneFor's phone")
    // The worker writes a note thread on the phone and lets coordinators read it.
    demoNotes(phone, person)
    phone.sync()
    coordinator.sync()
    AppCoop(relay, coordinator, phone, site, person, java.time.ZoneId.of(timezone))
}

/**
 * A fixed-offset zone where it is now between 20:00 and 20:59, so a shift from 00:30 today
 * to now is over the 16-hour review threshold and still in today's week, whenever the
 * test runs.
 */
fun eveningZone(): String {
    val hour = java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC).hour
    var offset = 20 - hour
    if (offset > 14) offset -= 24
    return when {
        offset > 0 -> "Etc/GMT-$offset" // POSIX sign: Etc/GMT-3 is three hours AHEAD of UTC
        offset < 0 -> "Etc/GMT+${-offset}"
        else -> "Etc/GMT"
    }
}

