//! placeholder
#![forbid(unsafe_code)]
mod codec;
pub mod envelope;
pub mod error;
pub mod keyring;
pub mod keys;
