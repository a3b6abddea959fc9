// Errors cross the FFI as typed exceptions (LogbookException.<Variant>) whose messages say
// what went wrong without carrying personal data.
package coop.logbook

import coop.logbook.core.PersonRole
import coop.logbook.core.ShiftCorrection
import coop.logbook.ffi.DeviceRole
import coop.logbook.ffi.Grant
import coop.logbook.ffi.LogbookException
import coop.logbook.testing.Test
import java.net.ServerSocket
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue

class ErrorsTest : AutoCloseable {
    private val ws = Workspace()

    override fun close() = ws.close()

    @Test
    fun errorsArriveAsTypedExceptionsWithUsefulMessages() {
        val book = ws.open("standalone")

        val notYet = assertFailsWith<LogbookException.NotInitialised> { book.coop }
        assertContains(notYet.reason, "init")

        val badZone = assertFailsWith<LogbookException.Invalid> { book.initCoop("Bakery", "Mars/Olympus") }
        assertContains(badZone.reason, "time zone")
        assertContains(badZone.message!!, "time zone", message = "the exception message carries the reason")

        book.initCoop("Bakery", "Europe/Rome")
        assertFailsWith<LogbookException.Conflict> { book.initCoop("Bakery", "Europe/Rome") }

        val unknown = assertFailsWith<LogbookException.NotFound> { book.timesheets.clockIn("p-nobody", null) }
        assertContains(unknown.reason, "unknown person")

        val site = book.directory.addSite("Kitchen")
        val zanele = book.directory.addPerson("Zanele Dlamini", listOf(PersonRole.WORKER), listOf(site), true)
        val notIn = assertFailsWith<LogbookException.Conflict> { book.timesheets.clockOut(zanele) }
        assertEquals("not clocked in", notIn.reason)

        val badPin = assertFailsWith<LogbookException.Invalid> { book.directory.setPin(zanele, "12ab") }
        assertFalse(badPin.reason.contains("Zanele"), "no names in messages: ${badPin.reason}")
        assertFalse(badPin.reason.contains("12ab"), "no PINs in messages: ${badPin.reason}")

        val noShift = assertFailsWith<LogbookException.NotFound> {
            book.timesheets.correctShift("u-missing", ShiftCorrection(null, null, null, null, false, "typo"))
        }
        assertContains(noShift.reason, "unknown shift")

        // Every variant is a LogbookException, so one catch covers them all.
        val any: LogbookException = assertFailsWith<LogbookException> { book.reports.hoursCsv("2026-13-01", "2026-12-31") }
        assertTrue(any is LogbookException.Invalid)
    }

    @Test
    suspend fun networkAndRelayErrorsAreTypedToo() {
        val book = ws.open("phone")
        val notJoined = assertFailsWith<LogbookException.Conflict> { book.sync() }
        assertContains(notJoined.reason, "join")

        assertFailsWith<LogbookException.Invalid> { book.join("ftp://relay.example", "AAAA-BBBB-CCCC", "phone") }

        // A port nobody listens on.
        val port = ServerSocket(0).use { it.localPort }
        val offline = assertFailsWith<LogbookException.Network> {
            book.join("http://127.0.0.1:$port", "AAAA-BBBB-CCCC", "phone")
        }
        assertContains(offline.reason, "relay")

        val relay = ws.relay()
        val refused = assertFailsWith<LogbookException.Unauthorized> { book.join(relay.url, "AAAA-BBBB-CCCC", "phone") }
        assertContains(refused.reason, "join code")
    }

    @Test
    suspend fun aWorkerPhoneMayNotDoCoordinatorsWork() {
        val coop = ws.smallCoop()
        val phone = ws.joinDevice(coop, "aisha phone", workerGrant(coop.aisha))
        val e = assertFailsWith<LogbookException.Forbidden> { phone.directory.addSite("Another") }
        assertContains(e.reason, "worker")
        assertFailsWith<LogbookException.Forbidden> { phone.reports.hoursCsv("2026-11-01", "2026-11-30") }
        // The relay refuses too, with its status.
        val refused = assertFailsWith<LogbookException.Relay> {
            phone.invite(Grant(DeviceRole.COORDINATOR, null, null, emptyList()))
        }
        assertEquals(403, refused.status.toInt(), refused.reason)
    }
}
