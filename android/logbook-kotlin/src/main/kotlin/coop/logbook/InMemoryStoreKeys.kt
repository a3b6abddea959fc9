// A store-key provider that keeps keys in memory only: for tests, benches and throwaway
// demo stores. A store opened with it cannot be opened again once the process ends.
package coop.logbook

import coop.logbook.ffi.StoreKeyProvider
import java.security.SecureRandom
import java.util.concurrent.ConcurrentHashMap

/** One random 32-byte key per store directory, remembered for the life of this object. */
class InMemoryStoreKeys : StoreKeyProvider {
    private val keys = ConcurrentHashMap<String, ByteArray>()
    private val random = SecureRandom()

    override fun storeKey(home: String): ByteArray =
        keys.computeIfAbsent(home) { ByteArray(32).also(random::nextBytes) }.copyOf()
}
