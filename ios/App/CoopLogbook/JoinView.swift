// Joining with a one-time code (typed, or the text of a scanned QR code).

import LogbookKit
import SwiftUI

struct JoinView: View {
    @StateObject var model: JoinModel
    let onJoined: () -> Void
    @State private var code = ""
    @State private var relay = ""

    var body: some View {
        VStack(spacing: 16) {
            Text(L.text("kiosk.title")).font(.largeTitle).accessibilityAddTraits(.isHeader)
            Text(L.text(model.state.prompt))
            switch model.state.stage {
            case let .joined(_, _, message, note):
                Text(L.text(message))
                if let note { Text(L.text(note)) }
                Button(L.text("join.continue"), action: onJoined).buttonStyle(.borderedProminent).frame(minHeight: 48)
            default:
                TextField(L.text("join.relay"), text: $relay).onChange(of: relay) { model.screen.setRelayUrl(url: $0) }
                TextField(L.text("join.code"), text: $code).onChange(of: code) { model.screen.setCode(code: $0) }
                if case let .failed(reason) = model.state.stage { Text(L.text(reason)).foregroundColor(.red) }
                if case .joining = model.state.stage { Text(L.text("join.busy")) }
                Button(L.text("join.button")) { model.join(deviceName: UIDevice.current.name) }
                    .buttonStyle(.borderedProminent).frame(minHeight: 48).disabled(!model.state.canJoin)
            }
        }
        .textFieldStyle(.roundedBorder)
        .padding(24)
    }
}
