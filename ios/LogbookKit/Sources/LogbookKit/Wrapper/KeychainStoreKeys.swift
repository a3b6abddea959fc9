// The store key on iOS (docs/SECURITY.md, "At rest"): a random 32-byte key made at first
// start and kept in the Keychain as a generic password, this device only (never synced to
// iCloud, never in a backup restored elsewhere). It is readable after the first unlock
// following a boot, so a kiosk iPad keeps punching through the night after an update.
// Compiled on macOS only (scripts/build-xcframework.sh).

import Foundation
import Security

public final class KeychainStoreKeys: StoreKeyProvider, @unchecked Sendable {
    private let service: String
    private let lock = NSLock()

    public init(service: String = "coop.logbook.store-key") {
        self.service = service
    }

    public func storeKey(home: String) throws -> Data {
        lock.lock()
        defer { lock.unlock() }
        if let key = try read(account: home) {
            return key
        }
        var key = Data(count: 32)
        let made = key.withUnsafeMutableBytes { SecRandomCopyBytes(kSecRandomDefault, 32, $0.baseAddress!) }
        guard made == errSecSuccess else {
            throw LogbookError.Storage(reason: "could not make a store key")
        }
        let add: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: home,
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
            kSecAttrSynchronizable as String: false,
            kSecValueData as String: key,
        ]
        let status = SecItemAdd(add as CFDictionary, nil)
        guard status == errSecSuccess else {
            throw LogbookError.Storage(reason: "could not keep the store key in the Keychain (\(status))")
        }
        return key
    }

    private func read(account: String) throws -> Data? {
        let query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecReturnData as String: true,
            kSecMatchLimit as String: kSecMatchLimitOne,
        ]
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        switch status {
        case errSecSuccess:
            guard let data = item as? Data, data.count == 32 else {
                throw LogbookError.Storage(reason: "the Keychain's store key is unreadable")
            }
            return data
        case errSecItemNotFound:
            return nil
        default:
            throw LogbookError.Storage(reason: "could not read the store key from the Keychain (\(status))")
        }
    }
}
