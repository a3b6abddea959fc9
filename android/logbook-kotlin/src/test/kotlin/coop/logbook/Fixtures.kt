// Shared set-up for the binding tests: temporary stores and a small coop on a real relay.
package coop.logbook

import coop.logbook.core.PersonRole
import coop.logbook.ffi.DeviceRole
import coop.logbook.ffi.Grant
import java.nio.file.Path
import kotlin.io.path.createTempDirectory
import kotlin.io.path.deleteRecursively

/** Temporary directories and stores that one test owns; all closed and deleted at the end. */
class Workspace : AutoCloseable {
    private val root: Path = createTempDirectory("logbook-kotlin-test-")
    private val closeables = mutableListOf<AutoCloseable>()

    fun <T : AutoCloseable> own(c: T): T = c.also { closeables += it }

    fun dir(name: String): Path = root.resolve(name)

    /** The stores' keys, in memory for the life of the test (as a platform key store would keep them). */
    val keys = InMemoryStoreKeys()

    fun open(name: String): CoopLogbook = own(CoopLogbook.open(dir(name), keys))

    fun relay(): TestRelay = own(TestRelay())

    @OptIn(kotlin.io.path.ExperimentalPathApi::class)
    override fun close() {
        closeables.asReversed().forEach { runCatching { it.close() } }
        runCatching { root.deleteRecursively() }
    }
}

/** A coordinator joined to a relay, one site, one worker with a PIN. */
class SmallCoop(
    val relay: TestRelay,
    val coordinator: CoopLogbook,
    val siteId: String,
    val aisha: String,
    val pin: String,
)

suspend fun Workspace.smallCoop(): SmallCoop {
    val relay = relay()
    val code = relay.createCoop("Riverside Bakery Co-op")
    val coordinator = open("coordinator")
    coordinator.initCoop("Riverside Bakery Co-op", "Europe/London")
    coordinator.join(relay.url, code, "coordinator laptop")
    val site = coordinator.directory.addSite("Bakery")
    val aisha = coordinator.directory.addPerson("Aisha", listOf(PersonRole.WORKER), listOf(site), false)
    coordinator.directory.setPin(aisha, "1234")
    coordinator.sync()
    return SmallCoop(relay, coordinator, site, aisha, "1234")
}

/** Join a new device to the small coop with a code the coordinator mints. */
suspend fun Workspace.joinDevice(coop: SmallCoop, name: String, grant: Grant): CoopLogbook {
    val code = coop.coordinator.invite(grant).code
    val device = open(name)
    device.join(coop.relay.url, code, name)
    return device
}

fun kioskGrant(site: String) = Grant(DeviceRole.KIOSK, null, site, emptyList())

fun workerGrant(person: String) = Grant(DeviceRole.WORKER, person, null, emptyList())
