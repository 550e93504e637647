//! Passwords encrypted at rest: keys, keyrings and the row cipher, shared
//! by the database stores.
//!
//! # Design
//!
//! Each stored password is sealed with XChaCha20-Poly1305 (authenticated
//! encryption, from RustCrypto's `chacha20poly1305`) under the keyring's
//! current key, with a fresh random 24-byte nonce from the operating system
//! (a nonce that long can be drawn at random without fear of repeats). The
//! row's identity — scope kind, scope id, location — and its username are
//! bound in as associated data, so a ciphertext copied to another row, or a
//! row whose username was changed behind the store's back, fails to decrypt
//! instead of yielding the wrong password. Each row records the id of the
//! key that sealed it, so a store can hold rows under several keys while a
//! rotation is under way.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, Zeroizing};

use registry_credentials::scope::{ScopeKind, ScopeRef};

/// The length of an encryption key, in bytes.
pub const KEY_LEN: usize = 32;

/// The longest key id accepted, in bytes.
pub const MAX_KEY_ID_LEN: usize = 64;

const NONCE_LEN: usize = 24;

/// Why a key could not be made, or a stored secret could not be read with
/// the keys given. The messages never hold key material or passwords.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key id is empty, too long, or has a character outside
    /// `[A-Za-z0-9._-]`.
    #[error(
        "key id `{id}` is not valid; use 1 to {MAX_KEY_ID_LEN} letters, digits, `.`, `_` or `-`"
    )]
    InvalidId {
        /// The id as given (shown only when it has no control characters).
        id: String,
    },
    /// The key material is not 32 bytes long.
    #[error(
        "key `{id}` is {len} bytes long; an encryption key is exactly {KEY_LEN} bytes (64 hexadecimal digits)"
    )]
    InvalidLength {
        /// The key's id.
        id: String,
        /// The length given.
        len: usize,
    },
    /// The key text is not 64 hexadecimal digits.
    #[error(
        "key `{id}` is not 64 hexadecimal digits; give the key as written by `EncryptionKey::generate_hex`"
    )]
    InvalidHex {
        /// The key's id.
        id: String,
    },
    /// Two keys of a keyring have the same id.
    #[error("the keyring already holds a key with id `{id}`; give each key its own id")]
    DuplicateId {
        /// The id given twice.
        id: String,
    },
    /// The store knows a key by this id, and the key given under it is a
    /// different one.
    #[error(
        "key `{id}` is not the key this store knows by that id (its check value does not decrypt); give the right key for `{id}`"
    )]
    WrongKey {
        /// The key's id.
        id: String,
    },
    /// Stored credentials are encrypted with a key the keyring does not
    /// hold.
    #[error(
        "the store holds credentials encrypted with key `{id}`, which the keyring lacks; add it with `Keyring::with_key`, then call `rotate` to move them to the current key"
    )]
    MissingKey {
        /// The missing key's id.
        id: String,
    },
    /// A stored password failed authentication: the row was altered or
    /// moved, or written under another key with the same id.
    #[error(
        "the stored password for `{location}` at {scope} does not decrypt with key `{id}`; the row was altered, or written with a different key of that id"
    )]
    Undecryptable {
        /// The scope of the row.
        scope: String,
        /// The location of the row.
        location: String,
        /// The key id the row names.
        id: String,
    },
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Random(#[source] getrandom::Error),
}

fn check_id(id: &str) -> Result<(), KeyError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_KEY_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        let shown = if id.chars().any(char::is_control) || id.len() > 2 * MAX_KEY_ID_LEN {
            "…".to_owned()
        } else {
            id.to_owned()
        };
        Err(KeyError::InvalidId { id: shown })
    }
}

/// A 256-bit key that encrypts stored passwords, with the id rows record it
/// by.
///
/// It is a secret: its `Debug` shows the id only, it has no `Display` and no
/// serde, and its key material is wiped when it is dropped. The crate never
/// stores keys: keep them in a secret manager and pass them in when opening
/// a store.
///
/// ```
/// use registry_credentials_sql::EncryptionKey;
/// let hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/// let key = EncryptionKey::from_hex("2026-11", hex)?;
/// assert_eq!(key.id(), "2026-11");
/// assert_eq!(format!("{key:?}"), r#"EncryptionKey { id: "2026-11", key: <redacted> }"#);
/// assert!(EncryptionKey::from_hex("2026-11", "00ff").is_err());
/// # Ok::<(), registry_credentials_sql::KeyError>(())
/// ```
#[derive(Clone)]
pub struct EncryptionKey {
    id: Box<str>,
    // The cipher holds the only copy of the key and wipes it on drop.
    cipher: XChaCha20Poly1305,
}

impl EncryptionKey {
    /// A key with id `id` (1 to 64 letters, digits, `.`, `_` or `-`) and
    /// the 32 bytes of `key`, which are wiped here after use.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidId`] for a bad id.
    pub fn new(id: impl AsRef<str>, mut key: [u8; KEY_LEN]) -> Result<Self, KeyError> {
        let made = Self::from_slice(id, &key);
        key.zeroize();
        made
    }

    /// A key from 32 bytes of key material.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidId`] for a bad id, [`KeyError::InvalidLength`]
    /// when `key` is not 32 bytes long.
    pub fn from_slice(id: impl AsRef<str>, key: &[u8]) -> Result<Self, KeyError> {
        let id = id.as_ref();
        check_id(id)?;
        if key.len() != KEY_LEN {
            return Err(KeyError::InvalidLength {
                id: id.to_owned(),
                len: key.len(),
            });
        }
        let cipher =
            XChaCha20Poly1305::new_from_slice(key).map_err(|_| KeyError::InvalidLength {
                id: id.to_owned(),
                len: key.len(),
            })?;
        Ok(EncryptionKey {
            id: id.into(),
            cipher,
        })
    }

    /// A key from 64 hexadecimal digits (either case; surrounding white
    /// space, as a secret file may end with a newline, is ignored).
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidId`] for a bad id, [`KeyError::InvalidHex`] when
    /// `hex` is not 64 hexadecimal digits. The error never holds the text.
    pub fn from_hex(id: impl AsRef<str>, hex: &str) -> Result<Self, KeyError> {
        let id = id.as_ref();
        check_id(id)?;
        let hex = hex.trim().as_bytes();
        let bad = || KeyError::InvalidHex { id: id.to_owned() };
        if hex.len() != 2 * KEY_LEN {
            return Err(bad());
        }
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        for (byte, pair) in key.iter_mut().zip(hex.chunks_exact(2)) {
            let digit = |c: u8| (c as char).to_digit(16);
            match (digit(pair[0]), digit(pair[1])) {
                (Some(h), Some(l)) => *byte = (h * 16 + l) as u8,
                _ => return Err(bad()),
            }
        }
        Self::from_slice(id, &key[..])
    }

    /// 64 hexadecimal digits of fresh key material from the operating
    /// system's random number generator: what to save in a secret manager
    /// and later pass to [`from_hex`](Self::from_hex). The digits are a
    /// secret: [`GeneratedKey`] hands them out only when asked by name.
    ///
    /// ```
    /// use registry_credentials_sql::EncryptionKey;
    /// let generated = EncryptionKey::generate_hex()?;
    /// // Into a secret manager, a file or a pipe (here a buffer).
    /// let mut out = Vec::new();
    /// generated.write_to(&mut out)?;
    /// let key = EncryptionKey::from_hex("k1", std::str::from_utf8(&out)?)?;
    /// assert_eq!(key.id(), "k1");
    /// assert_eq!(format!("{generated:?}"), "GeneratedKey(<redacted>)");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`KeyError::Random`] when the random number generator fails.
    pub fn generate_hex() -> Result<GeneratedKey, KeyError> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::fill(&mut key[..]).map_err(KeyError::Random)?;
        let mut hex = Zeroizing::new([0u8; 2 * KEY_LEN]);
        for (pair, b) in hex.chunks_exact_mut(2).zip(key.iter()) {
            pair[0] = HEX_DIGITS[usize::from(b >> 4)];
            pair[1] = HEX_DIGITS[usize::from(b & 15)];
        }
        Ok(GeneratedKey(hex))
    }

    /// The key's id, as rows record it.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(KeyError::Random)?;
        let sealed = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            // Encryption fails only for messages of gigabytes.
            .map_err(|_| KeyError::InvalidLength {
                id: self.id.to_string(),
                len: plaintext.len(),
            })?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        self.cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }
}

/// Redacted: key material must never reach a log.
/// Lowercase hexadecimal digits, by value.
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// A key made by [`EncryptionKey::generate_hex`]: 64 lowercase hexadecimal
/// digits to save in a secret manager, for
/// [`EncryptionKey::from_hex`] to read back.
///
/// A secret, held as the crate holds passwords (STYLE.md 6): `Debug` shows
/// `GeneratedKey(<redacted>)`, there is no `Display` and no serde, and the
/// digits are wiped from memory on drop. They come out only through
/// [`expose`](Self::expose) or [`write_to`](Self::write_to), so no other
/// crate is needed to read them.
///
/// ```
/// use registry_credentials_sql::EncryptionKey;
/// let generated = EncryptionKey::generate_hex()?;
/// assert_eq!(generated.expose().len(), 64);
/// let key = EncryptionKey::from_hex("2026-11", generated.expose())?;
/// assert_eq!(key.id(), "2026-11");
/// # Ok::<(), registry_credentials_sql::KeyError>(())
/// ```
pub struct GeneratedKey(Zeroizing<[u8; 2 * KEY_LEN]>);

impl GeneratedKey {
    /// The 64 hexadecimal digits. Keep what this returns out of logs.
    pub fn expose(&self) -> &str {
        // Only ASCII digits are ever written in.
        std::str::from_utf8(&self.0[..]).unwrap_or_default()
    }

    /// Writes the 64 hexadecimal digits to `out`, with no newline, in one
    /// `write_all`: for a secret manager's stdin, a file or a pipe.
    ///
    /// # Errors
    ///
    /// What `out` fails with.
    pub fn write_to(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        out.write_all(&self.0[..])?;
        out.flush()
    }
}

/// Its one field is `Zeroizing`, which wipes the digits when dropped.
impl zeroize::ZeroizeOnDrop for GeneratedKey {}

/// Leaves the digits out, as every secret's `Debug` does (R21).
impl fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GeneratedKey(<redacted>)")
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "EncryptionKey {{ id: {:?}, key: <redacted> }}",
            &*self.id
        )
    }
}

/// The keys a store may use: the current one, which encrypts every write,
/// and older ones that only decrypt rows not yet rotated.
///
/// To rotate: open every instance with the new key as an extra key
/// ([`with_key`](Self::with_key)) so all can read it; then make it the
/// current key everywhere, keeping the old one as an extra; call the store's
/// `rotate`, which re-encrypts every row under the current key; finally drop
/// the old key.
///
/// ```
/// use registry_credentials_sql::{EncryptionKey, Keyring};
/// let new = EncryptionKey::new("2026-11", [7; 32])?;
/// let old = EncryptionKey::new("2026-05", [9; 32])?;
/// let keyring = Keyring::new(new).with_key(old)?;
/// assert_eq!(keyring.current().id(), "2026-11");
/// assert_eq!(keyring.ids().collect::<Vec<_>>(), ["2026-11", "2026-05"]);
///
/// let again = EncryptionKey::new("2026-05", [1; 32])?;
/// assert!(keyring.with_key(again).is_err(), "ids are unique");
/// # Ok::<(), registry_credentials_sql::KeyError>(())
/// ```
#[derive(Clone)]
pub struct Keyring {
    // keys[0] is the current key.
    keys: Vec<EncryptionKey>,
}

impl Keyring {
    /// A keyring whose current key is `current`.
    pub fn new(current: EncryptionKey) -> Self {
        Keyring {
            keys: vec![current],
        }
    }

    /// This keyring with `key` added as an extra key: it decrypts rows that
    /// name it, and encrypts nothing.
    ///
    /// # Errors
    ///
    /// [`KeyError::DuplicateId`] when the keyring already holds a key with
    /// that id.
    pub fn with_key(mut self, key: EncryptionKey) -> Result<Self, KeyError> {
        if self.get(key.id()).is_some() {
            return Err(KeyError::DuplicateId {
                id: key.id().to_owned(),
            });
        }
        self.keys.push(key);
        Ok(self)
    }

    /// The key that encrypts every write.
    pub fn current(&self) -> &EncryptionKey {
        &self.keys[0]
    }

    /// The ids of every key, the current one first.
    pub fn ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.keys.iter().map(EncryptionKey::id)
    }

    pub(crate) fn get(&self, id: &str) -> Option<&EncryptionKey> {
        self.keys.iter().find(|k| k.id() == id)
    }

    /// Seals `password` for the row at (`scope`, `location`) with
    /// `username`, under the current key.
    pub(crate) fn seal_password(
        &self,
        scope: ScopeRef<'_>,
        location: &str,
        username: &str,
        binding: SecretBinding,
        password: &str,
    ) -> Result<Vec<u8>, KeyError> {
        with_row_aad(
            scope.kind(),
            scope.id().unwrap_or(""),
            location,
            username,
            binding,
            |aad| self.current().seal(aad, password.as_bytes()),
        )
    }

    /// Opens a row's sealed password, checking it belongs to that row.
    pub(crate) fn open_password(
        &self,
        row: RowIdentity<'_>,
        username: &str,
        key_id: &str,
        sealed: &[u8],
    ) -> Result<String, KeyError> {
        let key = self.get(key_id).ok_or_else(|| KeyError::MissingKey {
            id: key_id.to_owned(),
        })?;
        let undecryptable = || KeyError::Undecryptable {
            scope: row.describe_scope(),
            location: row.location.to_owned(),
            id: key_id.to_owned(),
        };
        let opened = with_row_aad(
            row.kind,
            row.scope_id,
            row.location,
            username,
            row.binding,
            |aad| key.open(aad, sealed),
        );
        let mut plain = opened.ok_or_else(undecryptable)?;
        match String::from_utf8(std::mem::take(&mut *plain)) {
            Ok(s) => Ok(s),
            Err(e) => {
                e.into_bytes().zeroize();
                Err(undecryptable())
            }
        }
    }

    /// The check value stored for `key`: proves later that a key given
    /// under the same id is the same key.
    pub(crate) fn check_value(key: &EncryptionKey) -> Result<Vec<u8>, KeyError> {
        key.seal(&check_aad(key.id()), CHECK_PLAINTEXT)
    }

    /// Whether `check` was made by `key`.
    pub(crate) fn verify_check_value(key: &EncryptionKey, check: &[u8]) -> Result<(), KeyError> {
        match key.open(&check_aad(key.id()), check) {
            Some(p) if p.as_slice() == CHECK_PLAINTEXT => Ok(()),
            _ => Err(KeyError::WrongKey {
                id: key.id().to_owned(),
            }),
        }
    }
}

/// Lists the ids, never the keys.
impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current().id())
            .field("keys", &self.ids().collect::<Vec<_>>())
            .finish()
    }
}

const CHECK_PLAINTEXT: &[u8] = b"registry-credentials key check v1";

fn check_aad(id: &str) -> Vec<u8> {
    let mut aad = b"rc1:key-check:".to_vec();
    aad.extend_from_slice(id.as_bytes());
    aad
}

/// Which row a sealed password belongs to, as read from the database.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowIdentity<'a> {
    pub kind: ScopeKind,
    pub scope_id: &'a str,
    pub location: &'a str,
    pub binding: SecretBinding,
}

/// What else a sealed secret is bound to: its credential's kind (R24, the
/// `kind` column) and expiry (R25, `expires_at`), so that a row whose kind
/// or expiry was changed in the table does not open, rather than serving
/// a token as a password or past the time it was given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SecretBinding {
    pub kind: i64,
    pub expires_at: Option<i64>,
}

impl RowIdentity<'_> {
    fn describe_scope(&self) -> String {
        match self.kind {
            ScopeKind::Foundation => "foundation".to_owned(),
            kind => format!("{kind} {}", self.scope_id),
        }
    }
}

/// The associated data of a row: a format tag, then scope kind, scope id,
/// location and username, each length-prefixed so no two rows share it;
/// then, for a credential that is not a password without an expiry (the
/// only kind rows of schema versions 1 and 2 hold, whose data stays as it
/// was), `0xFF`, the kind and the expiry (a flag, then its seconds).
/// Handed to `f` from a buffer on the stack when it fits (every row a
/// plan reads, in practice), so sealing and opening a password allocate
/// for the ciphertext or plaintext alone.
fn with_row_aad<T>(
    kind: ScopeKind,
    scope_id: &str,
    location: &str,
    username: &str,
    binding: SecretBinding,
    f: impl FnOnce(&[u8]) -> T,
) -> T {
    const TAG: &[u8] = b"rc1:row:";
    let parts = [scope_id, location, username];
    let bound = (binding != SecretBinding::default()).then(|| {
        let mut extra = [0u8; 11];
        extra[0] = 0xFF;
        extra[1] = u8::try_from(binding.kind).unwrap_or(u8::MAX);
        if let Some(at) = binding.expires_at {
            extra[2] = 1;
            extra[3..].copy_from_slice(&at.to_le_bytes());
        }
        extra
    });
    let len = TAG.len()
        + 1
        + parts.iter().map(|p| 4 + p.len()).sum::<usize>()
        + bound.map_or(0, |b| b.len());
    let mut stack = [0u8; 512];
    let mut heap = Vec::new();
    let aad: &mut [u8] = match stack.get_mut(..len) {
        Some(aad) => aad,
        None => {
            heap.resize(len, 0);
            &mut heap
        }
    };
    let (tag, mut rest) = aad.split_at_mut(TAG.len());
    tag.copy_from_slice(TAG);
    rest[0] = kind as u8;
    rest = &mut rest[1..];
    for part in parts {
        let (prefix, after) = rest.split_at_mut(4);
        prefix.copy_from_slice(&(part.len() as u32).to_le_bytes());
        let (bytes, after) = after.split_at_mut(part.len());
        bytes.copy_from_slice(part.as_bytes());
        rest = after;
    }
    if let Some(extra) = bound {
        rest.copy_from_slice(&extra);
    }
    f(aad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use registry_credentials::scope::OrgId;

    /// A generated key is a secret (R21): its `Debug` is redacted, it is
    /// wiped on drop, and what it writes is 64 lowercase hexadecimal digits
    /// that `from_hex` reads back as the same key.
    #[test]
    fn r21_generated_key_is_redacted_and_its_written_hex_reads_back() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<GeneratedKey>();
        let generated = EncryptionKey::generate_hex().unwrap();
        let hex = generated.expose().to_owned();
        assert_eq!(hex.len(), 2 * KEY_LEN);
        assert!(hex.bytes().all(|b| HEX_DIGITS.contains(&b)), "{hex}");
        for shown in [format!("{generated:?}"), format!("{generated:#?}")] {
            assert_eq!(shown, "GeneratedKey(<redacted>)");
            assert!(!shown.contains(&hex[..8]));
        }
        let mut out = Vec::new();
        generated.write_to(&mut out).unwrap();
        assert_eq!(out, hex.as_bytes(), "the digits alone, no newline");
        let key = EncryptionKey::from_hex("k1", std::str::from_utf8(&out).unwrap()).unwrap();
        let same = EncryptionKey::from_hex("k1", &hex.to_uppercase()).unwrap();
        // The same key: one's check value verifies the other.
        let check = Keyring::check_value(&key).unwrap();
        Keyring::verify_check_value(&same, &check).unwrap();
        // And not some other key.
        let other = EncryptionKey::generate_hex().unwrap();
        assert_ne!(other.expose(), hex);
        let other = EncryptionKey::from_hex("k1", other.expose()).unwrap();
        assert!(Keyring::verify_check_value(&other, &check).is_err());
    }

    fn row<'a>(scope_id: &'a str, location: &'a str) -> RowIdentity<'a> {
        RowIdentity {
            kind: ScopeKind::Org,
            scope_id,
            location,
            binding: SecretBinding::default(),
        }
    }

    /// A keyring of one key, `k1`.
    fn ring() -> Keyring {
        Keyring::new(EncryptionKey::new("k1", [3; 32]).unwrap())
    }

    /// `password` sealed for user `u` at `example.com` of organization `o`.
    fn seal(ring: &Keyring, password: &str) -> Vec<u8> {
        let org = OrgId::new("o").unwrap();
        let sealed = ring.seal_password(
            ScopeRef::Org(&org),
            "example.com",
            "u",
            SecretBinding::default(),
            password,
        );
        sealed.unwrap()
    }

    #[test]
    fn seal_and_open_round_trip_with_fresh_nonces() {
        let ring = ring();
        let a = seal(&ring, "hunter2");
        let b = seal(&ring, "hunter2");
        assert_ne!(a, b, "a random nonce per seal");
        assert!(!a.windows(7).any(|w| w == b"hunter2"));
        let p = ring
            .open_password(row("o", "example.com"), "u", "k1", &a)
            .unwrap();
        assert_eq!(p, "hunter2");
    }

    /// The associated data is laid out as rows have always been sealed
    /// with, from the stack or, past 512 bytes, the heap alike.
    #[test]
    fn row_associated_data_is_tag_kind_and_length_prefixed_parts() {
        let mut want = b"rc1:row:".to_vec();
        want.push(ScopeKind::Org as u8);
        for part in ["o", "example.com", "u"] {
            want.extend_from_slice(&(part.len() as u32).to_le_bytes());
            want.extend_from_slice(part.as_bytes());
        }
        let got = with_row_aad(
            ScopeKind::Org,
            "o",
            "example.com",
            "u",
            SecretBinding::default(),
            <[u8]>::to_vec,
        );
        assert_eq!(got, want);
        let long = "l".repeat(600);
        let got = with_row_aad(
            ScopeKind::App,
            "a",
            &long,
            "u",
            SecretBinding::default(),
            <[u8]>::to_vec,
        );
        assert_eq!(got.len(), 8 + 1 + 4 + 1 + 4 + 600 + 4 + 1);
        assert_eq!(&got[8..9], &[ScopeKind::App as u8]);
        assert_eq!(&got[14..18], &600u32.to_le_bytes());
        assert!(got.ends_with(b"\x01\0\0\0u"));
        // A long row seals and opens.
        let ring = ring();
        let org = OrgId::new("o").unwrap();
        let sealed = ring
            .seal_password(
                ScopeRef::Org(&org),
                &long,
                "u",
                SecretBinding::default(),
                "pw",
            )
            .unwrap();
        let p = ring.open_password(row("o", &long), "u", "k1", &sealed);
        assert_eq!(p.unwrap(), "pw");
    }

    /// R24, R25: a token, or a credential with an expiry, is sealed bound
    /// to its kind and expiry: read with another kind or expiry (a row
    /// changed in the table), it does not open.
    #[test]
    fn r24_r25_a_changed_kind_or_expiry_does_not_open() {
        let ring = ring();
        let org = OrgId::new("o").unwrap();
        let token = SecretBinding {
            kind: 2,
            expires_at: Some(1_800_000_000),
        };
        let sealed = ring
            .seal_password(ScopeRef::Org(&org), "example.com", "u", token, "bearer")
            .unwrap();
        let open = |binding| {
            let r = RowIdentity {
                binding,
                ..row("o", "example.com")
            };
            ring.open_password(r, "u", "k1", &sealed)
        };
        assert_eq!(open(token).unwrap(), "bearer");
        for changed in [
            SecretBinding::default(),
            SecretBinding { kind: 0, ..token },
            SecretBinding { kind: 1, ..token },
            SecretBinding {
                expires_at: None,
                ..token
            },
            SecretBinding {
                expires_at: Some(1_900_000_000),
                ..token
            },
        ] {
            assert!(open(changed).is_err(), "{changed:?}");
        }
        // A password without an expiry keeps the data rows always had.
        let plain = seal(&ring, "pw");
        let with_expiry = RowIdentity {
            binding: SecretBinding {
                kind: 0,
                expires_at: Some(1),
            },
            ..row("o", "example.com")
        };
        assert!(ring.open_password(with_expiry, "u", "k1", &plain).is_err());
    }

    #[test]
    fn moved_or_altered_rows_fail_to_decrypt() {
        let ring = ring();
        let sealed = seal(&ring, "pw");
        for (r, user) in [
            (row("o", "other.example.com"), "u"),
            (row("p", "example.com"), "u"),
            (row("o", "example.com"), "v"),
            (
                RowIdentity {
                    kind: ScopeKind::Space,
                    ..row("o", "example.com")
                },
                "u",
            ),
        ] {
            let e = ring.open_password(r, user, "k1", &sealed).unwrap_err();
            assert!(matches!(e, KeyError::Undecryptable { .. }), "{e}");
        }
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(
            ring.open_password(row("o", "example.com"), "u", "k1", &flipped)
                .is_err()
        );
        let e = ring
            .open_password(row("o", "example.com"), "u", "k2", &sealed)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the store holds credentials encrypted with key `k2`, which the keyring lacks; \
             add it with `Keyring::with_key`, then call `rotate` to move them to the current key"
        );
    }

    #[test]
    fn check_values_tell_keys_apart() {
        let k = EncryptionKey::new("k1", [1; 32]).unwrap();
        let check = Keyring::check_value(&k).unwrap();
        Keyring::verify_check_value(&k, &check).unwrap();
        let other = EncryptionKey::new("k1", [2; 32]).unwrap();
        let e = Keyring::verify_check_value(&other, &check).unwrap_err();
        assert!(matches!(e, KeyError::WrongKey { .. }));
    }

    #[test]
    fn keys_are_checked_and_redacted() {
        assert!(matches!(
            EncryptionKey::new("", [0; 32]),
            Err(KeyError::InvalidId { .. })
        ));
        assert!(EncryptionKey::new("a b", [0; 32]).is_err());
        assert!(EncryptionKey::new("x".repeat(65), [0; 32]).is_err());
        assert!(matches!(
            EncryptionKey::from_slice("k", &[0; 31]),
            Err(KeyError::InvalidLength { len: 31, .. })
        ));
        let secret_hex = "ab".repeat(31) + "zz";
        let e = EncryptionKey::from_hex("k", &secret_hex).unwrap_err();
        assert!(!e.to_string().contains("abab"), "{e}");
        let k = EncryptionKey::from_hex("k", &format!("{}\n", "AB".repeat(32))).unwrap();
        let dbg = format!("{k:?} {:?}", Keyring::new(k.clone()));
        assert!(!dbg.contains("171") && !dbg.contains("ab"), "{dbg}");
        assert!(dbg.contains("redacted"));
    }
}
