// Joining with a one-time code: typed, or scanned from the coordinator's invite QR code with
// the camera (QrScannerView), which fills the relay's address and the code.

import LogbookKit
import SwiftUI

struct JoinView: View {
    @StateObject var model: JoinModel
    let onJoined: () -> Void
    @State private var code = ""
    @State private var relay = ""
    @State private var scanning = false

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
                Button(L.text("join.scan")) { scanning = true }.buttonStyle(.bordered).frame(minHeight: 48)
                if case let .failed(reason) = model.state.stage { Text(L.text(reason)).foregroundColor(.red) }
                if case .joining = model.state.stage { Text(L.text("join.busy")) }
                Button(L.text("join.button")) { model.join(deviceName: UIDevice.current.name) }
                    .buttonStyle(.borderedProminent).frame(minHeight: 48).disabled(!model.state.canJoin)
            }
        }
        .textFieldStyle(.roundedBorder)
        .padding(24)
        .sheet(isPresented: $scanning) {
            QrScannerView { text in
                scanning = false
                // Fill the fields from an invite; the model then says whether it was one.
                if let invite = try? parseJoinPayload(payload: text) {
                    relay = invite.relayUrl
                    code = invite.code
                }
                model.scanned(text)
            }
            .ignoresSafeArea()
        }
    }
}
