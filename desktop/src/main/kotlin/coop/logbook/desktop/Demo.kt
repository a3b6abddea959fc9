// The demo coop the desktop app opens when it is not given a joined store: a café site,
// five people with PINs, one on shift, and enough history for the phone and coordinator
// screens to show something: a finished shift for Aisha, a forgotten clock-out of Chiara's
// that needs checking, a training certificate of Aisha's that expires soon, a community payback
// order for Dawit and a note thread of Aisha's shared with coordinators.
package coop.logbook.desktop

import coop.logbook.CoopLogbook
import coop.logbook.core.HourType
import coop.logbook.core.NewTraining
import coop.logbook.core.PersonRole
import coop.logbook.core.PunchKind
import coop.logbook.core.PunchSource
import java.time.LocalDate
import java.time.ZoneId
import kotlinx.coroutines.runBlocking

/** The demo coop's people and PINs, in the order they are added. */
val DEMO_PEOPLE = listOf(
    "Aisha Khan" to "1111",
    "Ben Murray" to "2222",
    "Chiara Rossi" to "3333",
    "Dawit Bekele" to "4444",
    "Eilidh Fraser" to "5555",
)

const val DEMO_TIMEZONE = "Europe/London"

/** Make [book] a small demo coop (if it is not one already); returns the café's site id. */
fun demoCoop(book: CoopLogbook): String {
    if (!book.isInitialised) book.initCoop("Riverside Café Co-op", DEMO_TIMEZONE)
    book.directory.sites().firstOrNull { it.name == "Café" }?.let { return it.id }
    val site = book.directory.addSite("Café")
    val ids = DEMO_PEOPLE.map { (name, pin) ->
        book.directory.addPerson(name, listOf(PersonRole.WORKER), listOf(site), name == "Dawit Bekele").also {
            book.directory.setPin(it, pin)
        }
    }
    val (aisha, ben, chiara, dawit) = ids
    book.timesheets.clockIn(ben, null) // Ben is on shift now
    val zone = zoneOf(book)
    val now = System.currentTimeMillis() / 1000
    // Aisha worked two hours earlier today (or late yesterday, just after midnight).
    book.timesheets.punch(aisha, PunchKind.CLOCK_IN, PunchSource.KIOSK, now - 3 * 3600, HourType.PAID, site)
    book.timesheets.punch(aisha, PunchKind.CLOCK_OUT, PunchSource.KIOSK, now - 3600, null, site)
    // Chiara clocked in three days ago and forgot to clock out: past the 16-hour review
    // threshold her open shift waits in the coordinator's review queue.
    val threeDaysAgo = LocalDate.now(zone).minusDays(3).atTime(9, 0).atZone(zone).toEpochSecond()
    book.timesheets.punch(chiara, PunchKind.CLOCK_IN, PunchSource.KIOSK, threeDaysAgo, HourType.PAID, site)
    val today = LocalDate.now(zone)
    book.training.add(
        NewTraining(aisha, "Food hygiene level 2", today.minusMonths(11).toString(), 240u, null, null, today.plusDays(20).toString(), true, true),
    )
    book.cpo.setOrder(dawit, 60u, today.minusDays(30).toString(), null)
    // Notes are written by the person and their supporter; a store joined to a relay as a
    // coordinator's device may not write them, so only the standalone demo has them here.
    if (book.grant == null) demoNotes(book, aisha)
    return site
}

/** The id of a demo person by name. */
fun demoPerson(book: CoopLogbook, name: String): String =
    book.directory.people().first { it.name == name }.id

/** A note thread about [person], shared with coordinators (from the person's own device). */
fun demoNotes(book: CoopLogbook, person: String) {
    val thread = book.notes.add(person, "First week went well. Wants more morning shifts.")
    book.notes.reply(thread, "Agreed: mornings from next month.")
    runBlocking { book.notes.setConsent(person, true) }
}
