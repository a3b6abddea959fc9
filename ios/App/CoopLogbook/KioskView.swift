// The café kiosk: names as tiles (initials and a colour), the PIN pad, the outcome. Draws the
// KioskScreen model's state only. Guided Access keeps the iPad on this app (README).

import LogbookKit
import SwiftUI

private let palette: [Color] = [
    Color(red: 0.11, green: 0.37, blue: 0.13), Color(red: 0.05, green: 0.28, blue: 0.55),
    Color(red: 0.29, green: 0.08, blue: 0.55), Color(red: 0.72, green: 0.11, blue: 0.11),
    Color(red: 0.0, green: 0.30, blue: 0.25), Color(red: 0.24, green: 0.15, blue: 0.14),
    Color(red: 0.53, green: 0.05, blue: 0.31), Color(red: 0.15, green: 0.20, blue: 0.22),
]

struct KioskView: View {
    @StateObject var model: KioskModel

    var body: some View {
        VStack(alignment: .leading, spacing: 16) {
            HStack {
                Text(L.text("kiosk.title") + (model.state.siteName.isEmpty ? "" : " · \(model.state.siteName)"))
                    .font(.largeTitle).bold().accessibilityAddTraits(.isHeader)
                Spacer()
                if model.state.offline {
                    Text(model.state.badge.map(L.text) ?? L.text("offline.badge"))
                        .padding(12).background(Color.orange.opacity(0.3)).clipShape(Capsule())
                }
            }
            stage
        }
        .padding(24)
        .onAppear { UIApplication.shared.isIdleTimerDisabled = true } // keep the screen on
    }

    @ViewBuilder private var stage: some View {
        switch model.state.stage {
        case .tiles:
            Text(model.state.onShift.isEmpty ? L.text("tiles.onShift.none")
                 : L.text("tiles.onShift.heading") + ": " + model.state.onShift.map(\.name).joined(separator: ", "))
            Text(L.text("tiles.heading")).font(.title).accessibilityAddTraits(.isHeader)
            ScrollView {
                LazyVGrid(columns: [GridItem(.adaptive(minimum: 184), spacing: 16)], spacing: 16) {
                    ForEach(model.state.people, id: \.personId) { p in
                        Button { model.run { $0.pickPerson(personId: p.personId) } } label: { tile(p) }
                            .accessibilityLabel(L.text(p.onShift ? "tile.description.onShift" : "tile.description", ["name": p.name]))
                    }
                }
            }
        case let .pin(person, digits, _, wrong, actions, complete, busy):
            HStack(alignment: .top, spacing: 32) {
                VStack(alignment: .leading, spacing: 16) {
                    Text(L.text("pin.heading", ["name": person.name])).font(.largeTitle)
                    Text(L.text("pin.prompt"))
                    Text(String(repeating: "●", count: Int(digits)) + String(repeating: "○", count: 4 - Int(digits)))
                        .font(.largeTitle)
                        .accessibilityLabel(L.text("pin.entered", ["count": String(digits)]))
                    if let wrong { Text(L.text(wrong)).foregroundColor(.red) }
                    back
                }
                VStack(spacing: 14) {
                    ForEach([[1, 2, 3], [4, 5, 6], [7, 8, 9], [-1, 0, -2]], id: \.self) { row in
                        HStack(spacing: 14) { ForEach(row, id: \.self) { key($0, enabled: !complete && !busy, digits: digits) } }
                    }
                }
                VStack(spacing: 16) {
                    Text(L.text("pin.then"))
                    ForEach(actions, id: \.self) { a in
                        Button(L.action(a)) { model.run { $0.act(action: a) } }
                            .font(.title2).frame(minWidth: 240, minHeight: 88)
                            .buttonStyle(.borderedProminent).disabled(!complete || busy)
                    }
                    if busy { Text(L.text("pin.busy")) }
                }
            }
        case let .chooseHourType(_, choices, question):
            Text(L.text(question)).font(.largeTitle)
            ForEach(choices, id: \.self) { t in
                Button(L.hourType(t)) { model.run { $0.chooseHourType(hourType: t) } }
                    .font(.title2).frame(minWidth: 420, minHeight: 88).buttonStyle(.borderedProminent)
            }
            back
        case let .done(_, _, _, message, thanks):
            outcome(L.text(message), L.text(thanks), ok: L.text("done.ok"))
        case let .lockedOut(_, _, message):
            outcome(L.text("locked.heading"), L.text(message), ok: L.text("pin.back"))
        case let .refused(_, _, reason):
            outcome(L.text("refused.heading"), L.text(reason), ok: L.text("pin.back"))
        }
    }

    private func tile(_ p: KioskTile) -> some View {
        VStack {
            Text(p.initials).font(.system(size: 38, weight: .bold)).foregroundColor(.white)
                .frame(width: 96, height: 96).background(palette[Int(p.colour) % palette.count]).clipShape(Circle())
            Text(p.name).font(.title3).lineLimit(1)
            if p.onShift { Text(L.text("tile.onShift")).foregroundColor(.green) }
        }
        .frame(minWidth: 168, minHeight: 200)
    }

    private func key(_ k: Int, enabled: Bool, digits: UInt32) -> some View {
        Group {
            if k >= 0 {
                Button("\(k)") { model.run { $0.digit(digit: UInt8(k)) } }
                    .accessibilityLabel(L.text("pin.key", ["digit": String(k)])).disabled(!enabled)
            } else if k == -2 {
                Button("⌫") { model.run { $0.deleteDigit() } }
                    .accessibilityLabel(L.text("pin.delete")).disabled(digits == 0)
            } else {
                Color.clear
            }
        }
        .font(.system(size: 44, weight: .semibold)).frame(width: 104, height: 104)
        .buttonStyle(.bordered)
    }

    private var back: some View {
        Button(L.text("pin.back")) { model.run { $0.backToTiles() } }.frame(minHeight: 88)
    }

    private func outcome(_ heading: String, _ body: String, ok: String) -> some View {
        VStack(spacing: 24) {
            Text(heading).font(.largeTitle).accessibilityAddTraits(.isHeader)
            Text(body).font(.title2)
            Button(ok) { model.run { $0.backToTiles() } }.frame(minWidth: 240, minHeight: 88).buttonStyle(.borderedProminent)
        }
        .frame(maxWidth: .infinity)
    }
}
