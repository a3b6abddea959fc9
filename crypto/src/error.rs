//! The one error type of this crate.
//!
//! Messages are fixed English sentences: they never carry key bytes, document ids, person
//! ids, device ids, join codes or plaintext, so they are safe to log and to show.

/// Everything that can go wrong while sealing, opening, wrapping or joining.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The bytes are not a well-formed envelope, key or code of this crate (or are cut short).
    #[error("malformed encrypted data or key")]
    Malformed,
    /// A newer format than this build understands.
    #[error("unsupported format version")]
    UnsupportedVersion,
    /// The signature does not verify: a byte was changed, or the blob was moved to another
    /// document or coop, or it was re-signed by someone else.
    #[error("signature does not verify")]
    BadSignature,
    /// The writer is not the expected one, or its role may not write this scope.
    #[error("written by a device that may not write here")]
    WrongWriter,
    /// The writing device is not in the device directory.
    #[error("unknown writer device")]
    UnknownWriter,
    /// The key id given with the blob names another scope than the document.
    #[error("blob does not belong to this document")]
    WrongDocument,
    /// This device holds no key of the blob's version for the document's scope.
    #[error("no key of this version for this scope")]
    UnknownKeyVersion,
    /// This device holds only the public key of the scope (write-only), or decryption failed.
    #[error("cannot open: no private key, or the ciphertext does not decrypt")]
    CannotOpen,
    /// No key at all for the scope (nothing to seal to).
    #[error("no key for this scope")]
    NoKey,
    /// A join code with the wrong secret part (or for another coop / invite).
    #[error("wrong join code")]
    WrongJoinCode,
    /// A join code that is not 24 characters of Crockford base32.
    #[error("a join code is 24 characters: 0-9 and A-Z without I, L, O, U")]
    MalformedJoinCode,
    /// A different key is already stored under the same scope and version.
    #[error("a different key already has this scope and version")]
    KeyConflict,
    /// The operation would give a key to a device whose role may not hold it, or accept a
    /// key from a device that may not issue it.
    #[error("not allowed by the access table")]
    NotAllowed,
    /// A decompressed blob would exceed the size limit.
    #[error("blob too large")]
    TooLarge,
    /// An id (device, coop, document) is empty or too long.
    #[error("invalid id")]
    InvalidId,
    /// The operating system's random number generator failed.
    #[error("random number generator unavailable")]
    Random,
}

/// Result alias of this crate.
pub type Result<T, E = CryptoError> = std::result::Result<T, E>;
