//! A tiny fixed binary layout used for keys, key rings, join payloads and wrapped keys.
//!
//! Integers are big-endian. `str8` is a u8 length followed by that many bytes of UTF-8;
//! `u16`/`u32` counts prefix lists. Buffers that hold secret bytes live in a [`Zeroizing`]
//! vector that is grown by hand, so no reallocation leaves a copy behind in freed memory.

use crate::error::{CryptoError, Result};
use logbook_protocol::{Grant, Role, Scope};
use zeroize::Zeroizing;

/// Output buffer; zeroized on drop, grown without leaving copies behind.
pub(crate) struct Writer {
    buf: Zeroizing<Vec<u8>>,
}

impl Writer {
    pub(crate) fn with_capacity(n: usize) -> Writer {
        Writer {
            buf: Zeroizing::new(Vec::with_capacity(n.max(64))),
        }
    }

    fn reserve(&mut self, extra: usize) {
        let need = self.buf.len() + extra;
        if need > self.buf.capacity() {
            let mut bigger = Vec::with_capacity(need.max(self.buf.capacity() * 2));
            bigger.extend_from_slice(&self.buf);
            // The old buffer is zeroized when `Zeroizing` drops it.
            self.buf = Zeroizing::new(bigger);
        }
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.reserve(b.len());
        self.buf.extend_from_slice(b);
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.bytes(&v.to_be_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }

    /// A u8-length-prefixed string; errors if longer than 255 bytes.
    pub(crate) fn str8(&mut self, s: &str) -> Result<()> {
        let n = u8::try_from(s.len()).map_err(|_| CryptoError::InvalidId)?;
        self.u8(n);
        self.bytes(s.as_bytes());
        Ok(())
    }

    pub(crate) fn scope(&mut self, scope: &Scope) -> Result<()> {
        self.str8(&scope.to_string())
    }

    /// Role byte (0 coordinator, 1 worker, 2 supporter, 3 kiosk), then `str8` person and
    /// site (empty = none), then a u16 count of `str8` supported people.
    pub(crate) fn grant(&mut self, g: &Grant) -> Result<()> {
        self.u8(match g.role {
            Role::Coordinator => 0,
            Role::Worker => 1,
            Role::Supporter => 2,
            Role::Kiosk => 3,
        });
        self.str8(g.person.as_deref().unwrap_or(""))?;
        self.str8(g.site.as_deref().unwrap_or(""))?;
        let n = u16::try_from(g.supports.len()).map_err(|_| CryptoError::InvalidId)?;
        self.u16(n);
        for p in &g.supports {
            self.str8(p)?;
        }
        Ok(())
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    /// The bytes, still zeroized on drop.
    pub(crate) fn into_secret(self) -> Zeroizing<Vec<u8>> {
        self.buf
    }

    /// The bytes as a plain vector: only for output that holds no secret.
    pub(crate) fn into_public(self) -> Vec<u8> {
        let mut buf = self.buf;
        std::mem::take(&mut *buf)
    }
}

/// Input cursor; every read checks bounds and fails with [`CryptoError::Malformed`].
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(CryptoError::Malformed)?;
        let out = self.buf.get(self.pos..end).ok_or(CryptoError::Malformed)?;
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn str8(&mut self) -> Result<&'a str> {
        let n = usize::from(self.u8()?);
        std::str::from_utf8(self.take(n)?).map_err(|_| CryptoError::Malformed)
    }

    pub(crate) fn scope(&mut self) -> Result<Scope> {
        Scope::parse(self.str8()?).map_err(|_| CryptoError::Malformed)
    }

    pub(crate) fn grant(&mut self) -> Result<Grant> {
        let role = match self.u8()? {
            0 => Role::Coordinator,
            1 => Role::Worker,
            2 => Role::Supporter,
            3 => Role::Kiosk,
            _ => return Err(CryptoError::Malformed),
        };
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let person = opt(self.str8()?);
        let site = opt(self.str8()?);
        let n = self.u16()?;
        let mut supports = Vec::with_capacity(usize::from(n).min(1024));
        for _ in 0..n {
            supports.push(self.str8()?.to_string());
        }
        Ok(Grant {
            role,
            person,
            site,
            supports,
        })
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let out = &self.buf[self.pos..];
        self.pos = self.buf.len();
        out
    }

    /// Fails unless every byte was consumed.
    pub(crate) fn finish(&self) -> Result<()> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(CryptoError::Malformed)
        }
    }
}

/// Fill a buffer from the operating system's CSPRNG.
pub(crate) fn random_bytes<const N: usize>() -> Result<Zeroizing<[u8; N]>> {
    let mut out = Zeroizing::new([0u8; N]);
    getrandom::fill(&mut *out).map_err(|_| CryptoError::Random)?;
    Ok(out)
}

/// Check a device or coop id: 1-64 bytes of `A-Z a-z 0-9 _ -` (the protocol's entity id).
pub(crate) fn check_id(id: &str) -> Result<()> {
    logbook_protocol::validate_entity_id(id).map_err(|_| CryptoError::InvalidId)
}
