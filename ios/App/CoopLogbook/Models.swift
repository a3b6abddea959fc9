// One ObservableObject per screen model: subscribes (the model calls the listener with the
// current state at once, then after every change, on the thread that made it), publishes the
// state on the main actor, and runs actions off it (they are quick blocking calls).

import Foundation
import LogbookKit

private final class Forward<State>: @unchecked Sendable {
    let publish: (State) -> Void
    init(_ publish: @escaping (State) -> Void) { self.publish = publish }
}

@MainActor
final class KioskModel: ObservableObject {
    let screen: KioskScreen
    @Published private(set) var state: KioskScreenState
    private var subscription: ScreenSubscription?
    private var ticker: Timer?

    init(book: CoopLogbook) {
        screen = try! KioskScreen(logbook: book.raw, config: KioskScreenConfig(siteId: nil, hourTypes: [], outcomeSeconds: 5, pinIdleSeconds: 30))
        state = screen.state()
        subscription = screen.subscribe(listener: Listener { [weak self] s in Task { @MainActor in self?.state = s } })
        // The model's countdowns and idle return follow its clock: tick it once a second.
        ticker = Timer.scheduledTimer(withTimeInterval: 1, repeats: true) { [screen] _ in
            DispatchQueue.global().async { screen.tick() }
        }
    }

    deinit { subscription?.cancel(); ticker?.invalidate() }

    private let queue = DispatchQueue(label: "kiosk-actions") // in order: a PIN's digits must not swap
    func run(_ action: @escaping (KioskScreen) -> Void) { queue.async { [screen] in action(screen) } }

    final class Listener: KioskScreenListener, @unchecked Sendable {
        let f: (KioskScreenState) -> Void
        init(_ f: @escaping (KioskScreenState) -> Void) { self.f = f }
        func onState(state: KioskScreenState) throws { f(state) }
    }
}

@MainActor
final class WorkerModel: ObservableObject {
    let screen: WorkerHomeScreen
    @Published private(set) var state: WorkerHomeScreenState
    private var subscription: ScreenSubscription?

    init(book: CoopLogbook) {
        screen = try! WorkerHomeScreen(logbook: book.raw, personId: nil)
        state = screen.state()
        subscription = screen.subscribe(listener: Listener { [weak self] s in Task { @MainActor in self?.state = s } })
    }

    deinit { subscription?.cancel() }

    func tap(_ kind: PunchKind, _ type: HourType? = nil) {
        let screen = self.screen
        DispatchQueue.global().async { _ = try? screen.tap(action: kind, hourType: type) }
    }

    func write(thread: String?, text: String) {
        let screen = self.screen
        DispatchQueue.global().async { try? screen.writeNote(threadId: thread, text: text) }
    }

    func setConsent(_ on: Bool) { Task { try? await screen.setConsent(coordinatorsMayRead: on) } }
    func sync() { Task { _ = await screen.sync() } }
    /// Yes: the device may read the notes (the key goes with the sync this starts).
    func approveNotesDevice(_ deviceKey: String) { Task { _ = try? await screen.approveNotesDevice(deviceKey: deviceKey) } }
    func notNow(_ deviceKey: String) { screen.notNow(deviceKey: deviceKey) }

    final class Listener: WorkerHomeScreenListener, @unchecked Sendable {
        let f: (WorkerHomeScreenState) -> Void
        init(_ f: @escaping (WorkerHomeScreenState) -> Void) { self.f = f }
        func onState(state: WorkerHomeScreenState) throws { f(state) }
    }
}

@MainActor
final class CoordinatorModel: ObservableObject {
    let screen: CoordinatorScreens
    let zone: TimeZone
    @Published private(set) var state: CoordinatorScreenState
    private var subscription: ScreenSubscription?

    init(book: CoopLogbook, relayUrl: String = "") {
        screen = try! CoordinatorScreens(logbook: book.raw, relayUrl: relayUrl)
        zone = (try? book.coop).flatMap { TimeZone(identifier: $0.timezone) } ?? .current
        state = screen.state()
        subscription = screen.subscribe(listener: Listener { [weak self] s in Task { @MainActor in self?.state = s } })
    }

    deinit { subscription?.cancel() }

    func run(_ action: @escaping (CoordinatorScreens) throws -> Void) {
        let screen = self.screen
        DispatchQueue.global().async { try? action(screen) } // refusals are also the state's outcome
    }

    /// `HH:mm` on the shift's local date, in the coop's zone; nil if blank or unreadable.
    func at(date: String, time: String) -> Int64? {
        let f = DateFormatter()
        f.timeZone = zone
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.date(from: "\(date) \(time)").map { Int64($0.timeIntervalSince1970) }
    }

    func invite(_ grant: Grant) { Task { _ = try? await screen.invite(grant: grant, expiresInHours: nil) } }
    func loadDevices() { Task { try? await screen.loadDevices() } }
    func revoke(_ id: String) { Task { try? await screen.revokeDevice(deviceId: id) } }
    func sync() { Task { _ = await screen.sync() } }

    final class Listener: CoordinatorScreenListener, @unchecked Sendable {
        let f: (CoordinatorScreenState) -> Void
        init(_ f: @escaping (CoordinatorScreenState) -> Void) { self.f = f }
        func onState(state: CoordinatorScreenState) throws { f(state) }
    }
}

@MainActor
final class JoinModel: ObservableObject {
    let screen: JoinScreen
    @Published private(set) var state: JoinScreenState
    private var subscription: ScreenSubscription?

    init(book: CoopLogbook, relayUrl: String = "") {
        screen = JoinScreen(logbook: book.raw, relayUrl: relayUrl)
        state = screen.state()
        subscription = screen.subscribe(listener: Listener { [weak self] s in Task { @MainActor in self?.state = s } })
    }

    deinit { subscription?.cancel() }

    func join(deviceName: String) { Task { _ = await screen.join(deviceName: deviceName) } }
    /// A scanned QR code's text: the model fills the relay and the code, or says why not.
    func scanned(_ payload: String) { _ = screen.scanned(payload: payload) }

    final class Listener: JoinScreenListener, @unchecked Sendable {
        let f: (JoinScreenState) -> Void
        init(_ f: @escaping (JoinScreenState) -> Void) { self.f = f }
        func onState(state: JoinScreenState) throws { f(state) }
    }
}
