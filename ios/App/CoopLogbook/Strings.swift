// The screen models send message keys with values; this looks the key up in the String
// Catalog (Localizable.xcstrings, English and Italian, generated from the same
// strings_<lang>.properties the Compose apps use) and fills the {placeholders}. A message
// with a `count` value is a plural: KEY.one for 1, KEY.other otherwise.

import Foundation
import LogbookKit

enum L {
    static func text(_ key: String, _ args: [String: String] = [:]) -> String {
        var s = NSLocalizedString(key, comment: "")
        for (name, value) in args { s = s.replacingOccurrences(of: "{\(name)}", with: value) }
        return s
    }

    static func text(_ message: ScreenMessage) -> String {
        let args = Dictionary(message.args.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        if let count = args["count"].flatMap(Int.init) {
            return text(message.key + (count == 1 ? ".one" : ".other"), args)
        }
        return text(message.key, args)
    }

    static func action(_ kind: PunchKind) -> String {
        switch kind {
        case .clockIn: return text("action.clockIn")
        case .clockOut: return text("action.clockOut")
        case .breakStart: return text("action.breakStart")
        case .breakEnd: return text("action.breakEnd")
        }
    }

    static func hourType(_ type: HourType) -> String {
        switch type {
        case .paid: return text("hourType.paid")
        case .volunteer: return text("hourType.volunteer")
        case .cpoUnpaidWork: return text("hourType.cpoUnpaidWork")
        case .cpoOtherActivity: return text("hourType.cpoOtherActivity")
        case .training: return text("hourType.training")
        }
    }

    static func hours(_ minutes: UInt32) -> String { String(format: "%d:%02d", minutes / 60, minutes % 60) }
}
