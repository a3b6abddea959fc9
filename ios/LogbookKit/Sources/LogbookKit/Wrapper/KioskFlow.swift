// The kiosk's PIN flow: a tap either punches or yields a result the screen can show. The
// PIN check, failure count and lockout live in the Rust core; this turns its errors into
// UI states (the same shape as android/logbook-kotlin's KioskFlow).

import Foundation

public enum KioskResult: Equatable {
    /// The tap was recorded.
    case punched(punchId: String)
    /// Wrong PIN: try again (a few more wrong ones lock this person out here).
    case wrongPin
    /// Too many wrong PINs: this person may try again after `retryAfter` seconds.
    case lockedOut(retryAfter: TimeInterval)
    /// Refused for a reason the person can act on ("already clocked in").
    case refused(reason: String)
}

public struct KioskFlow {
    private let logbook: CoopLogbook

    public init(_ logbook: CoopLogbook) {
        self.logbook = logbook
    }

    /// The names to show (this kiosk's site).
    public func roster() throws -> [RosterEntry] { try logbook.kiosk.roster(siteId: nil) }

    /// Who is on shift now.
    public func onShift() throws -> [RosterEntry] { try logbook.kiosk.onShift() }

    /// Check `pin` for `personId`, then record `kind` now. Storage failures still throw.
    public func tap(personId: String, pin: String, kind: PunchKind, hourType: HourType? = nil) throws -> KioskResult {
        do {
            let id = try logbook.kiosk.punch(personId: personId, pin: pin, kind: kind, hourType: hourType)
            return .punched(punchId: id)
        } catch LogbookError.WrongPin {
            return .wrongPin
        } catch let LogbookError.LockedOut(retryAfterSeconds, _) {
            return .lockedOut(retryAfter: TimeInterval(retryAfterSeconds))
        } catch let LogbookError.Forbidden(reason) {
            return .refused(reason: reason)
        } catch let LogbookError.Conflict(reason) {
            return .refused(reason: reason)
        } catch let LogbookError.Invalid(reason) {
            return .refused(reason: reason)
        }
    }
}
