// The Co-op Logbook iOS app: one app, three modes (kiosk, worker's phone, coordinator),
// chosen by the grant of the one-time code the device joined with. Thin over the Rust screen
// models (LogbookKit: KioskScreen, WorkerHomeScreen, CoordinatorScreens, JoinScreen): the
// views only draw their states and call their actions. NOT BUILT ON THIS MACHINE (no Xcode):
// see ios/App/README.md.

import BackgroundTasks
import LogbookKit
import SwiftUI

@main
struct CoopLogbookApp: App {
    @StateObject private var app = AppModel()

    init() {
        BackgroundSync.register()
    }

    var body: some Scene {
        WindowGroup {
            RootView().environmentObject(app)
        }
    }
}

/// Opens the store once and decides the mode from the grant.
@MainActor
final class AppModel: ObservableObject {
    let book: CoopLogbook
    @Published private(set) var role: DeviceRole?

    init() {
        let home = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
            .appendingPathComponent("logbook", isDirectory: true)
        try? FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        // A store that cannot open is a broken install: there is nothing to show without it.
        book = try! CoopLogbook(home: home)
        role = (try? book.grant)?.role
        BackgroundSync.schedule()
    }

    func joined() {
        role = (try? book.grant)?.role
        BackgroundSync.schedule()
    }

    var zone: TimeZone {
        (try? book.coop).flatMap { TimeZone(identifier: $0.timezone) } ?? .current
    }
}

struct RootView: View {
    @EnvironmentObject var app: AppModel

    var body: some View {
        switch app.role {
        case .none:
            JoinView(model: JoinModel(book: app.book)) { app.joined() }
        case .kiosk:
            KioskView(model: KioskModel(book: app.book))
        case .worker, .supporter:
            WorkerView(model: WorkerModel(book: app.book))
        case .coordinator:
            CoordinatorView(model: CoordinatorModel(book: app.book))
        }
    }
}

/// Background sync with BGTaskScheduler: an app-refresh task, asked for every 15 minutes
/// (iOS decides when it really runs). The identifier is listed in Info.plist under
/// BGTaskSchedulerPermittedIdentifiers.
enum BackgroundSync {
    static let identifier = "coop.logbook.sync"

    static func register() {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: identifier, using: nil) { task in
            schedule() // the next one
            let work = Task {
                let home = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
                    .appendingPathComponent("logbook", isDirectory: true)
                let ok: Bool
                if let book = try? CoopLogbook(home: home), (try? book.grant) != nil {
                    ok = (try? await book.sync()) != nil
                } else {
                    ok = true
                }
                task.setTaskCompleted(success: ok)
            }
            task.expirationHandler = { work.cancel() }
        }
    }

    static func schedule() {
        let request = BGAppRefreshTaskRequest(identifier: identifier)
        request.earliestBeginDate = Date(timeIntervalSinceNow: 15 * 60)
        try? BGTaskScheduler.shared.submit(request)
    }
}
