// The idiomatic Swift face of the Rust core: one store object, its feature sub-objects,
// `async` network calls, and AsyncStreams of observed state. It compiles in the LogbookKit
// module together with the generated Generated/LogbookKit.swift and Generated/LogbookCore.swift
// (scripts/build-xcframework.sh), so it uses the generated types directly. Nothing here
// decides domain rules. Compiled on macOS only; on Linux only the generated files are checked.

import Foundation

/// Something changed in the store: where it came from and which scopes.
public struct LogbookChange: Equatable {
    public let origin: ChangeOrigin
    public let scopes: [String]

    /// Whether any changed scope is one of `prefixes` (`"timesheet:p-1"`, `"directory"`, ...).
    /// An empty list matches every change.
    public func touches(_ prefixes: [String]) -> Bool {
        prefixes.isEmpty || scopes.contains { s in prefixes.contains { s == $0 || s.hasPrefix($0 + ":") } }
    }
}


/// Forwards the Rust core's change calls into an AsyncStream.
private final class StreamObserver: LogbookObserver, @unchecked Sendable {
    private let continuation: AsyncStream<LogbookChange>.Continuation

    init(_ continuation: AsyncStream<LogbookChange>.Continuation) {
        self.continuation = continuation
    }

    func onChange(origin: ChangeOrigin, scopes: [String]) {
        continuation.yield(LogbookChange(origin: origin, scopes: scopes))
    }
}

/// One device's logbook. Open it once and keep it for the app's life.
///
/// Reads and local writes are quick, blocking calls (one fsynced SQLite transaction for a
/// write): call them off the main actor. Network calls are `async` and may be cancelled at
/// any point (cancelling the Task) without harming the store.
public final class CoopLogbook: @unchecked Sendable {
    /// The generated object, for anything this wrapper does not cover.
    public let raw: Logbook
    public let directory: Directory
    public let kiosk: Kiosk
    public let timesheets: Timesheets
    public let training: Training
    public let cpo: Cpo
    public let notes: Notes
    public let reports: Reports
    private let relay: SyncClient

    /// Open (or create) the store in `home`, a directory in the app's container, encrypted
    /// at rest under the key `keys` keeps for it (`KeychainStoreKeys()` in the app). A key
    /// that does not open the store throws `LogbookError.WrongKey` and changes nothing.
    public init(home: URL, keys: StoreKeyProvider = KeychainStoreKeys()) throws {
        raw = try Logbook.open(home: home.path, keys: keys)
        directory = raw.directory()
        kiosk = raw.kiosk()
        timesheets = raw.timesheets()
        training = raw.training()
        cpo = raw.cpo()
        notes = raw.notes()
        reports = raw.reports()
        relay = raw.sync()
    }

    /// Start a new coop here (standalone, or the first coordinator device).
    public func initCoop(name: String, timezone: String) throws {
        try raw.initCoop(coopName: name, timezone: timezone)
    }

    public var isInitialised: Bool { get throws { try raw.isInitialised() } }
    public var coop: CoopInfo { get throws { try raw.coop() } }
    public var grant: Grant? { get throws { try raw.grant() } }

    /// Today in the coop's time zone, `YYYY-MM-DD`.
    public func today() throws -> String { try raw.today() }

    // MARK: relay

    /// Redeem a one-time join code (typed, or read from a QR code), then sync once.
    public func join(relay url: URL, code: String, deviceName: String) async throws -> JoinInfo {
        try await relay.join(relayUrl: url.absoluteString, code: code, deviceName: deviceName)
    }

    /// Push local changes and pull remote ones. Observers hear about what it applied.
    @discardableResult
    public func sync() async throws -> SyncSummary { try await relay.run() }

    /// A one-time join code for a new device (coordinators).
    public func invite(_ grant: Grant, expiresInHours: UInt32? = nil) async throws -> Invite {
        try await relay.invite(grant: grant, expiresInHours: expiresInHours)
    }

    public func devices() async throws -> [DeviceInfo] { try await relay.devices() }

    public func revokeDevice(_ deviceId: String) async throws { try await relay.revokeDevice(deviceId: deviceId) }

    /// Local changes the relay has not acknowledged yet.
    public var pendingChanges: UInt64 { get throws { try relay.pendingChanges() } }

    // MARK: observation

    /// Every change from now on (local writes and applied syncs). Iterating subscribes;
    /// ending the iteration (or its Task) cancels the native subscription.
    public func changes() -> AsyncStream<LogbookChange> {
        AsyncStream { continuation in
            let subscription = raw.subscribe(observer: StreamObserver(continuation))
            continuation.onTermination = { _ in subscription.cancel() }
        }
    }

    /// State that follows the store: `read` now, then again after every change touching
    /// one of `scopes` (all changes if empty); equal consecutive states are yielded once.
    /// Subscribes before the first read, so no change in between is missed.
    public func observe<T: Equatable>(
        _ scopes: [String] = [],
        read: @escaping (CoopLogbook) throws -> T
    ) -> AsyncThrowingStream<T, Error> {
        let changes = self.changes()
        return AsyncThrowingStream { continuation in
            let task = Task {
                var last: T?
                func emit() throws {
                    let value = try read(self)
                    if value != last {
                        last = value
                        continuation.yield(value)
                    }
                }
                do {
                    try emit()
                    for await change in changes where change.touches(scopes) {
                        try emit()
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// A person's shifts on local dates `from...to`, kept up to date (for a SwiftUI list).
    public func shifts(personId: String, from: String? = nil, to: String? = nil) -> AsyncThrowingStream<[Shift], Error> {
        observe(["timesheet:\(personId)", "review:\(personId)", "directory"]) { book in
            try book.timesheets.shifts(personId: personId, fromDate: from, toDate: to)
        }
    }
}

