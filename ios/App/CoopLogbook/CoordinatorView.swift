// The coordinator's screens on an iPad: the review queue with a shift's correction, audit
// trail and week approval; people and sites; invites (code and QR); devices; training; CPO;
// consented notes; reports; sync. Thin: every list and message is the model's state.

import LogbookKit
import SwiftUI

struct CoordinatorView: View {
    @StateObject var model: CoordinatorModel
    @State private var end = ""
    @State private var reason = ""

    var body: some View {
        let s = model.state
        NavigationView {
            List {
                if let o = s.outcome { Text(L.text(o)).foregroundColor(.orange) }
                Section(L.text("coord.review.heading")) {
                    if let e = s.reviewEmpty { Text(L.text(e)) }
                    ForEach(s.review, id: \.at) { item in
                        Button("\(item.personName) · \(item.localDate): \(L.text(item.message))") {
                            model.run { $0.openShift(shiftId: item.shiftId) }
                        }
                        .frame(minHeight: 48)
                    }
                }
                if let d = s.openShift {
                    Section(L.text("coord.correct.heading")) {
                        Text(L.text("coord.shift.counted", ["hours": L.hours(UInt32(d.shift.countedSeconds / 60))]))
                        TextField(L.text("coord.correct.end"), text: $end)
                        TextField(L.text("coord.correct.reason"), text: $reason)
                        Button(L.text("coord.correct.save")) {
                            let fix = ShiftCorrection(start: nil, end: model.at(date: d.shift.localDate, time: end), hourType: nil, breakSeconds: nil, void: false, reason: reason)
                            model.run { try $0.correctShift(shiftId: d.shift.id, fix: fix) }
                        }
                        Button(L.text("coord.week.approve")) { model.run { try $0.reviewWeek(date: d.shift.localDate, people: [d.shift.personId], lock: false) } }
                        Button(L.text("coord.week.lock")) { model.run { try $0.reviewWeek(date: d.shift.localDate, people: [d.shift.personId], lock: true) } }
                        ForEach(d.history, id: \.eventId) { e in Text("\(e.kind): \(e.reason)") }
                    }
                }
                Section(L.text("coord.people.heading")) {
                    ForEach(s.people, id: \.personId) { p in
                        HStack {
                            Text(p.name)
                            Spacer()
                            Button(L.text("coord.invite.phone", ["name": p.name])) { model.invite(Grant(role: .worker, personId: p.personId, siteId: nil, supports: [])) }
                        }
                    }
                }
                Section(L.text("coord.invite.heading")) {
                    ForEach(s.sites, id: \.siteId) { site in
                        Button(L.text("coord.invite.kiosk", ["site": site.name])) { model.invite(Grant(role: .kiosk, personId: nil, siteId: site.siteId, supports: [])) }
                    }
                    if let inv = s.invite {
                        HStack(spacing: 20) {
                            QRView(modules: inv.qrModules, width: Int(inv.qrWidth))
                                .frame(width: 220, height: 220).accessibilityLabel(L.text("coord.invite.qr"))
                            VStack(alignment: .leading) { Text(inv.code).font(.system(.title, design: .monospaced)); Text(L.text(inv.message)) }
                        }
                    }
                }
                Section(L.text("coord.devices.heading")) {
                    Button(L.text("coord.devices.load")) { model.loadDevices() }
                    ForEach(s.devices, id: \.deviceId) { d in
                        HStack { Text(d.name); Spacer(); if !d.revoked { Button(L.text("coord.devices.revoke", ["name": d.name])) { model.revoke(d.deviceId) } } }
                    }
                }
                Section(L.text("coord.training.heading")) { ForEach(s.expiring, id: \.recordId) { Text("\($0.personName): \(L.text($0.message))") } }
                Section(L.text("coord.cpo.heading")) { ForEach(s.cpo, id: \.personId) { Text("\($0.personName): \(L.text($0.progress.message))") } }
                Section(L.text("coord.notes.heading")) {
                    ForEach(s.notes, id: \.personId) { p in ForEach(p.threads, id: \.threadId) { t in ForEach(t.entries, id: \.entryId) { Text("\(p.personName): \($0.text)") } } }
                }
                Section(L.text("sync.heading")) {
                    Text(L.text(s.sync.message))
                    Button(L.text("sync.now")) { model.sync() }
                }
            }
            .navigationTitle(L.text("coord.title"))
        }
    }
}

/// The invite's QR code from the model's modules (row by row, true is dark).
struct QRView: View {
    let modules: [Bool]
    let width: Int

    var body: some View {
        Canvas { ctx, size in
            guard width > 0 else { return }
            let cell = size.width / CGFloat(width + 8)
            ctx.fill(Path(CGRect(origin: .zero, size: size)), with: .color(.white))
            for (i, dark) in modules.enumerated() where dark {
                let rect = CGRect(x: CGFloat(i % width + 4) * cell, y: CGFloat(i / width + 4) * cell, width: cell, height: cell)
                ctx.fill(Path(rect), with: .color(.black))
            }
        }
    }
}
