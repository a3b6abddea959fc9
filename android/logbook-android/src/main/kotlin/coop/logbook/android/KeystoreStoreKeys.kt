// The store key on Android (docs/SECURITY.md, "At rest"). The Android Keystore cannot
// hand out a raw key, and SQLCipher needs one, so the store key is a random 32-byte key
// kept *wrapped*: AES-256-GCM under a non-exportable Keystore key (hardware-backed where
// the device has it), in the app's no-backup directory. The wrapped file alone opens
// nothing; the Keystore key never leaves the Keystore. Not compiled here (no Android SDK
// in CI): see android/README or scripts/build-android.sh.
package coop.logbook.android

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import coop.logbook.ffi.LogbookException
import coop.logbook.ffi.StoreKeyProvider
import java.io.File
import java.security.KeyStore
import java.security.MessageDigest
import java.security.SecureRandom
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

class KeystoreStoreKeys(private val context: Context) : StoreKeyProvider {
    private val keyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }

    @Synchronized
    override fun storeKey(home: String): ByteArray {
        val name = alias(home)
        val file = File(context.noBackupFilesDir, "$name.wrapped")
        val wrapping = wrappingKey(name)
        if (file.exists()) {
            val bytes = file.readBytes()
            if (bytes.size <= IV_BYTES) throw LogbookException.Storage("the wrapped store key is unreadable")
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, wrapping, GCMParameterSpec(128, bytes, 0, IV_BYTES))
            return cipher.doFinal(bytes, IV_BYTES, bytes.size - IV_BYTES)
        }
        val key = ByteArray(32).also(SecureRandom()::nextBytes)
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, wrapping) // the Keystore chooses the IV
        val sealed = cipher.iv + cipher.doFinal(key)
        val tmp = File(file.path + ".tmp")
        tmp.outputStream().use { it.write(sealed); it.fd.sync() }
        check(tmp.renameTo(file)) { "could not keep the wrapped store key" }
        return key
    }

    private fun wrappingKey(name: String): SecretKey {
        (keyStore.getEntry(name, null) as? KeyStore.SecretKeyEntry)?.let { return it.secretKey }
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
        generator.init(
            KeyGenParameterSpec.Builder(name, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                // A kiosk must open its store after a reboot with nobody there to unlock it,
                // so no user authentication is required; the key is bound to this device.
                .setUserAuthenticationRequired(false)
                .build(),
        )
        return generator.generateKey()
    }

    private fun alias(home: String): String {
        val digest = MessageDigest.getInstance("SHA-256").digest(home.toByteArray())
        return "coop-logbook-store-" + digest.take(8).joinToString("") { "%02x".format(it) }
    }

    private companion object {
        const val ANDROID_KEYSTORE = "AndroidKeyStore"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_BYTES = 12
    }
}
