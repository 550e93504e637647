//! Credentials: a username and a secret of one of three kinds (a password,
//! an identity token or a registry token, R24), and a credential as stored
//! at a scope and location, with an optional expiry (R25).

use std::fmt;
use std::num::NonZeroU64;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::zeroize::{Zeroize, ZeroizeOnDrop};
use secrecy::{ExposeSecret, SecretString};

use crate::identity::Record;
use crate::metadata::{Metadata, MetadataError, MetadataPatch};
use crate::{Location, Scope};

/// The longest password accepted (R16), in bytes.
pub const MAX_PASSWORD_LEN: usize = 5000;

/// The longest username accepted, in bytes.
pub const MAX_USERNAME_LEN: usize = 255;

/// Why a username or password was refused. The messages never hold the
/// password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// The username is empty.
    #[error("the username is empty; give the registry username")]
    EmptyUsername,
    /// The username is too long.
    #[error("the username is {len} bytes long, more than the {MAX_USERNAME_LEN} allowed")]
    UsernameTooLong {
        /// Its length.
        len: usize,
    },
    /// The username has a character R16 forbids.
    #[error(
        "the username contains {class} {} at byte {at}; remove it{}",
        Escaped(*character),
        class.why()
    )]
    UsernameCharacter {
        /// The byte offset of the character.
        at: usize,
        /// The character.
        character: char,
        /// Why it is forbidden.
        class: ForbiddenCharacter,
    },
    /// The password is empty.
    #[error("the password is empty; give the registry password")]
    EmptyPassword,
    /// The password is too long.
    #[error("the password is {len} bytes long, more than the {MAX_PASSWORD_LEN} allowed")]
    PasswordTooLong {
        /// Its length.
        len: usize,
    },
    /// A token is empty (R24: a token follows the password's limits).
    #[error("the {} is empty; give the token the registry issued", kind.secret_name())]
    EmptyToken {
        /// Which kind of token.
        kind: CredentialKind,
    },
    /// A token is too long.
    #[error("the {} is {len} bytes long, more than the {MAX_PASSWORD_LEN} allowed", kind.secret_name())]
    TokenTooLong {
        /// Which kind of token.
        kind: CredentialKind,
        /// Its length.
        len: usize,
    },
}

impl CredentialError {
    /// This error as said of a secret of `kind`: a password's limits
    /// refused for a token name the token.
    fn for_kind(self, kind: CredentialKind) -> Self {
        match (kind, self) {
            (CredentialKind::Password, e) => e,
            (kind, CredentialError::EmptyPassword) => CredentialError::EmptyToken { kind },
            (kind, CredentialError::PasswordTooLong { len }) => {
                CredentialError::TokenTooLong { kind, len }
            }
            (_, e) => e,
        }
    }
}

/// Why a character may not be part of a username (R16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ForbiddenCharacter {
    /// `:`, which HTTP Basic authentication (RFC 7617) cannot carry in a
    /// username, and at which `config.json`'s `auth` is split.
    Colon,
    /// A control character (general category Cc), `U+0085` included.
    Control,
    /// A Unicode format character (general category Cf): bidi controls,
    /// zero-width marks, the soft hyphen, the byte order mark.
    Format,
    /// A line or paragraph separator (`U+2028`, `U+2029`).
    LineSeparator,
    /// Any other white space or space separator (general category Zs, or
    /// `char::is_whitespace`).
    Whitespace,
}

impl ForbiddenCharacter {
    /// The class of `c`, when a username may not hold it (R16).
    pub fn of(c: char) -> Option<Self> {
        // ASCII, the common case, without the Unicode tables: its only
        // forbidden characters are the colon, the controls (every ASCII
        // white space but the space is one) and the space.
        if c.is_ascii() {
            return match c {
                ':' => Some(Self::Colon),
                ' ' => Some(Self::Whitespace),
                _ if c.is_ascii_control() => Some(Self::Control),
                _ => None,
            };
        }
        Self::by_category(c)
    }

    /// The class of `c` by its Unicode general category: what [`of`](Self::of)
    /// answers for every character.
    fn by_category(c: char) -> Option<Self> {
        use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory};
        // `U+180E` (Mongolian vowel separator) was white space before
        // Unicode 6.3 and `U+200B` is read as one by many tools; both are
        // Cf today, so the format class covers them.
        match (c, c.general_category()) {
            (':', _) => Some(Self::Colon),
            (_, G::Control) => Some(Self::Control),
            (_, G::Format) => Some(Self::Format),
            (_, G::LineSeparator | G::ParagraphSeparator) => Some(Self::LineSeparator),
            (_, G::SpaceSeparator) => Some(Self::Whitespace),
            _ if c.is_whitespace() => Some(Self::Whitespace),
            _ => None,
        }
    }

    /// The reason, after the advice to remove it.
    pub(crate) fn why(self) -> &'static str {
        match self {
            Self::Colon => ": basic authentication splits username and password at the first `:`",
            Self::Control => ": a control character could forge a listing or log line",
            Self::Format => {
                ": an invisible format character (bidi control or zero-width mark) could disguise the name"
            }
            Self::LineSeparator => ": a line separator could forge a listing or log line",
            Self::Whitespace => ": white space could disguise the name",
        }
    }
}

impl fmt::Display for ForbiddenCharacter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Colon => "a colon",
            Self::Control => "a control character",
            Self::Format => "a format character",
            Self::LineSeparator => "a line separator",
            Self::Whitespace => "white space",
        })
    }
}

/// A character written as `U+XXXX`, so that no message prints it raw.
struct Escaped(char);

impl fmt::Display for Escaped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U+{:04X}", u32::from(self.0))
    }
}

/// A registry username: non-empty, at most 255 bytes, and none of the
/// characters R16 forbids ([`ForbiddenCharacter`]): no `:`, no control,
/// format or separator characters, no white space.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Username(Box<str>);

impl Username {
    /// Checks and wraps a username.
    ///
    /// # Errors
    ///
    /// [`CredentialError`] when it is empty, too long or has a character
    /// R16 forbids.
    pub fn new(name: impl AsRef<str>) -> Result<Self, CredentialError> {
        let name = name.as_ref();
        if name.is_empty() {
            return Err(CredentialError::EmptyUsername);
        }
        if name.len() > MAX_USERNAME_LEN {
            return Err(CredentialError::UsernameTooLong { len: name.len() });
        }
        for (at, character) in name.char_indices() {
            if let Some(class) = ForbiddenCharacter::of(character) {
                return Err(CredentialError::UsernameCharacter {
                    at,
                    character,
                    class,
                });
            }
        }
        Ok(Username(name.into()))
    }
}

crate::macros::string_accessors! {
    /// The username.
    Username
}

crate::macros::checked_string_conversions!(Username, CredentialError, Username::new);

/// A registry password: non-empty, at most 5,000 bytes (R16).
///
/// It is a secret. Its `Debug` prints `Password(<redacted>)`; it has no
/// `Display` and no serde, so it cannot be printed, logged or serialized by
/// accident; it is held in a [`secrecy::SecretString`], whose memory is
/// zeroed when it is dropped. [`expose`](Self::expose) is the one way to
/// read it, for the code that talks to the registry.
///
/// ```
/// use registry_credentials::Password;
/// let p = Password::new("s3cret")?;
/// assert_eq!(format!("{p:?}"), "Password(<redacted>)");
/// assert_eq!(p.expose(), "s3cret");
/// # Ok::<(), registry_credentials::credential::CredentialError>(())
/// ```
pub struct Password(SecretString);

impl Password {
    /// Checks and wraps a password.
    ///
    /// The length is checked before anything else is done with the
    /// password; a refused one is wiped at once. Given a `&str`, the
    /// conversion to `String` copies it before that check: for an untrusted
    /// `&str` of any length, [`Password::try_from`] checks first.
    ///
    /// # Errors
    ///
    /// [`CredentialError`] when it is empty or longer than 5,000 bytes. The
    /// error does not hold the password.
    pub fn new(password: impl Into<String>) -> Result<Self, CredentialError> {
        let mut password: String = password.into();
        let len = password.len();
        let refused = if len == 0 {
            Some(CredentialError::EmptyPassword)
        } else if len > MAX_PASSWORD_LEN {
            Some(CredentialError::PasswordTooLong { len })
        } else {
            None
        };
        if let Some(e) = refused {
            password.zeroize();
            return Err(e);
        }
        Ok(Password(into_secret(password)))
    }

    /// The password, for sending to the registry. Keep the borrow short.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// Moves `password` into a secret without leaving a copy behind.
///
/// `SecretString::from(String)` shrinks the buffer to its length first,
/// which moves the bytes when the capacity is larger and frees the old
/// buffer unwiped. So a `String` with spare room is copied into an
/// exact-size box and wiped, capacity and all.
fn into_secret(mut password: String) -> SecretString {
    if password.capacity() == password.len() {
        return SecretString::from(password);
    }
    let exact: Box<str> = Box::from(password.as_str());
    password.zeroize();
    SecretString::from(exact)
}

/// Checks the length of `password` before copying it, so an over-long
/// input costs nothing.
///
/// ```
/// use registry_credentials::credential::CredentialError;
/// use registry_credentials::Password;
/// let huge = "x".repeat(1 << 20);
/// let e = Password::try_from(huge.as_str()).unwrap_err();
/// assert_eq!(e, CredentialError::PasswordTooLong { len: 1 << 20 });
/// assert_eq!(Password::try_from("s3cret")?.expose(), "s3cret");
/// # Ok::<(), CredentialError>(())
/// ```
impl TryFrom<&str> for Password {
    type Error = CredentialError;
    fn try_from(password: &str) -> Result<Self, CredentialError> {
        match password.len() {
            0 => Err(CredentialError::EmptyPassword),
            len if len > MAX_PASSWORD_LEN => Err(CredentialError::PasswordTooLong { len }),
            _ => Ok(Password(SecretString::from(password))),
        }
    }
}

impl TryFrom<String> for Password {
    type Error = CredentialError;
    fn try_from(password: String) -> Result<Self, CredentialError> {
        Self::new(password)
    }
}

/// The password's memory is wiped when it is dropped: it lives in a
/// [`secrecy::SecretString`], whose `Drop` zeroes it (`secrecy` 0.10,
/// `SecretBox<str>`, with `zeroize`). The private check below makes this
/// impl fail to compile if the field ever stops being one.
impl ZeroizeOnDrop for Password {}

/// Compile-time proof that the field of [`Password`] is wiped on drop.
const _: fn(&Password) = |p| {
    fn wiped_on_drop<T: ZeroizeOnDrop + ?Sized>(_: &T) {}
    wiped_on_drop(&p.0);
};

impl Clone for Password {
    fn clone(&self) -> Self {
        Password(SecretString::from(self.expose()))
    }
}

/// Compares in constant time for equal lengths, so comparing a password with
/// a guess does not tell how many leading bytes match.
impl PartialEq for Password {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.expose().as_bytes(), other.expose().as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl Eq for Password {}

/// Redacted: a password must never reach a log.
impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// What a credential's secret is, and so how a puller sends it (R24).
///
/// Every kind's secret is a [`Password`] by type: the same limits (R16) and
/// the same secrecy (R21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum CredentialKind {
    /// A username and password, sent as HTTP Basic authentication.
    Password,
    /// An identity token: an OAuth 2 refresh token the registry exchanges
    /// for access tokens (Docker's `identitytoken`; `az acr login` writes
    /// one). Protocols that need a username with it send
    /// [`IDENTITY_TOKEN_USERNAME`] (`<token>`).
    IdentityToken,
    /// A registry token: a bearer token sent as is (Docker's
    /// `registrytoken`, oci-client's `RegistryAuth::Bearer`). No username
    /// is sent with it; the stored one names the account in listings.
    RegistryToken,
}

/// The username the docker credential helper protocol sends to say that
/// the secret is an identity token (R24).
pub const IDENTITY_TOKEN_USERNAME: &str = "<token>";

impl CredentialKind {
    /// What its secret is called in messages: `password`, `identity token`
    /// or `registry token`.
    pub const fn secret_name(self) -> &'static str {
        match self {
            CredentialKind::Password => "password",
            CredentialKind::IdentityToken => "identity token",
            CredentialKind::RegistryToken => "registry token",
        }
    }
}

crate::macros::enum_names! {
    /// Every kind, in a fixed order.
    ALL,
    /// Its name in listings and in the stores' schema: `password`,
    /// `identity-token` or `registry-token`.
    CredentialKind::as_str {
        Password => "password",
        IdentityToken => "identity-token",
        RegistryToken => "registry-token",
    }
    parse: UnknownKind
}

/// Why a name is not a [`CredentialKind`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not a credential kind; give password, identity-token or registry-token")]
pub struct UnknownKind {
    given: Box<str>,
}

impl UnknownKind {
    /// The error for `given`, of which it keeps the first 64 characters.
    fn unknown(given: &str) -> Self {
        UnknownKind {
            given: given.chars().take(64).collect::<String>().into(),
        }
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for CredentialKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A username and a secret of some [`CredentialKind`]: what a push brings,
/// or what is stored.
///
/// Both parts are checked when it is made ([`Credential::new`] for a
/// password, [`Credential::identity_token`], [`Credential::registry_token`],
/// or [`Credential::from_parts`] for parts already checked), and read
/// through [`username`](Self::username), [`password`](Self::password) (the
/// secret, whatever its kind) and [`kind`](Self::kind).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Credential {
    username: Username,
    password: Password,
    kind: CredentialKind,
}

impl Credential {
    /// Checks and pairs a username and a password.
    ///
    /// # Errors
    ///
    /// [`CredentialError`] when either is refused.
    pub fn new(
        username: impl AsRef<str>,
        password: impl Into<String>,
    ) -> Result<Self, CredentialError> {
        Self::of_kind(CredentialKind::Password, username, password)
    }

    /// Checks and pairs the username an identity token was issued to and
    /// the token (R24).
    ///
    /// ```
    /// use registry_credentials::{Credential, CredentialKind};
    /// let c = Credential::identity_token("00000000-0000-0000-0000-000000000000", "eyJ.refresh")?;
    /// assert_eq!(c.kind(), CredentialKind::IdentityToken);
    /// assert!(!format!("{c:?}").contains("eyJ"));
    /// # Ok::<(), registry_credentials::credential::CredentialError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CredentialError`] when either is refused.
    pub fn identity_token(
        username: impl AsRef<str>,
        token: impl Into<String>,
    ) -> Result<Self, CredentialError> {
        Self::of_kind(CredentialKind::IdentityToken, username, token)
    }

    /// Checks and pairs the account a registry (bearer) token belongs to
    /// and the token (R24). The username is shown in listings, never sent.
    ///
    /// # Errors
    ///
    /// [`CredentialError`] when either is refused.
    pub fn registry_token(
        username: impl AsRef<str>,
        token: impl Into<String>,
    ) -> Result<Self, CredentialError> {
        Self::of_kind(CredentialKind::RegistryToken, username, token)
    }

    /// Checks and pairs a username and a secret of `kind`.
    ///
    /// # Errors
    ///
    /// [`CredentialError`] when either is refused; an empty or over-long
    /// secret is named by its kind.
    pub fn of_kind(
        kind: CredentialKind,
        username: impl AsRef<str>,
        secret: impl Into<String>,
    ) -> Result<Self, CredentialError> {
        let username = Username::new(username)?;
        let password = Password::new(secret).map_err(|e| e.for_kind(kind))?;
        Ok(Credential {
            username,
            password,
            kind,
        })
    }

    /// Pairs a username and a password already checked.
    pub fn from_parts(username: Username, password: Password) -> Self {
        Self::from_parts_of_kind(CredentialKind::Password, username, password)
    }

    /// Pairs a username and a secret of `kind`, both already checked.
    pub fn from_parts_of_kind(kind: CredentialKind, username: Username, secret: Password) -> Self {
        Credential {
            username,
            password: secret,
            kind,
        }
    }

    /// The username.
    pub fn username(&self) -> &Username {
        &self.username
    }

    /// The secret: the password, or the token for the token kinds.
    pub fn password(&self) -> &Password {
        &self.password
    }

    /// What the secret is (R24).
    pub fn kind(&self) -> CredentialKind {
        self.kind
    }

    /// The username and the secret, taken apart (see [`kind`](Self::kind)
    /// first: the secret may be a token).
    pub fn into_parts(self) -> (Username, Password) {
        (self.username, self.password)
    }
}

/// A credential stored at a scope, under a location (R13), with an
/// optional expiry (R25), labels and annotations, and once stored the
/// store's [`Record`] of it: GUID, created and updated (R22).
///
/// Its `Debug` shows the secret as `<redacted>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryCredential {
    scope: Scope,
    location: Location,
    credential: Credential,
    /// Whole seconds since 1970 plus one, so that no expiry takes no room.
    expires_at: Option<NonZeroU64>,
    record: Option<Record>,
    /// Boxed, and absent when empty, so that a credential without labels
    /// or annotations costs one word for them.
    metadata: Option<Box<Metadata>>,
}

/// An expiry as [`RegistryCredential`] keeps it: whole seconds since 1970
/// plus one.
fn expiry(at: Option<SystemTime>) -> Option<NonZeroU64> {
    at.and_then(|at| NonZeroU64::new(crate::identity::seconds(at).saturating_add(1)))
}

/// The time an expiry as [`expiry`] keeps it stands for.
fn expiry_time(kept: Option<NonZeroU64>) -> Option<SystemTime> {
    kept.map(|s| UNIX_EPOCH + Duration::from_secs(s.get() - 1))
}

/// The metadata of a credential that has none.
static NO_METADATA: Metadata = Metadata::EMPTY;

impl RegistryCredential {
    /// A credential for `location` at `scope`, with no expiry.
    pub fn new(scope: Scope, location: Location, credential: Credential) -> Self {
        RegistryCredential {
            scope,
            location,
            credential,
            expires_at: None,
            record: None,
            metadata: None,
        }
    }

    /// This credential with `metadata` as its labels and annotations
    /// (R22).
    ///
    /// ```
    /// use registry_credentials::metadata::{Metadata, MetadataPatch};
    /// use registry_credentials::{Credential, RegistryCredential, Scope};
    /// let mut metadata = Metadata::default();
    /// metadata.merge(&MetadataPatch::labels([("env", Some("prod"))]))?;
    /// let c = RegistryCredential::new(Scope::Foundation, "example.com".parse()?, Credential::new("u", "p")?)
    ///     .with_metadata(metadata);
    /// assert_eq!(c.metadata().label("env"), Some("prod"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = (!metadata.is_empty()).then(|| Box::new(metadata));
        self
    }

    /// This credential with the store's `record` of it (R22): what a store
    /// sets when it stores or reads one. A store's
    /// [`create`](crate::CredentialStore::create) gives a new credential a
    /// fresh record whatever it carried.
    #[must_use]
    pub fn with_record(mut self, record: Record) -> Self {
        self.record = Some(record);
        self
    }

    /// The store's record of it, its GUID and times; `None` before it is
    /// stored (R22).
    pub fn record(&self) -> Option<&Record> {
        self.record.as_ref()
    }

    /// Its labels and annotations (R22).
    pub fn metadata(&self) -> &Metadata {
        self.metadata.as_deref().unwrap_or(&NO_METADATA)
    }

    /// This credential, expiring at `expires_at` (whole seconds: a finer
    /// time is cut to the second before it, as the stores keep it, and a
    /// time before 1970 is 1970), or never with `None` (R25).
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use registry_credentials::{Credential, RegistryCredential, Scope};
    /// let at = UNIX_EPOCH + Duration::from_millis(1_800_000_000_999);
    /// let c = RegistryCredential::new(Scope::Foundation, "example.com".parse()?, Credential::new("u", "p")?)
    ///     .with_expires_at(Some(at));
    /// assert_eq!(c.expires_at(), Some(UNIX_EPOCH + Duration::from_secs(1_800_000_000)));
    /// assert!(c.is_expired_at(UNIX_EPOCH + Duration::from_secs(1_800_000_000)));
    /// assert!(!c.is_expired_at(UNIX_EPOCH + Duration::from_secs(1_799_999_999)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_expires_at(mut self, expires_at: Option<SystemTime>) -> Self {
        self.expires_at = expiry(expires_at);
        self
    }

    /// Where it lives.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// What it is stored under.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The username.
    pub fn username(&self) -> &Username {
        &self.credential.username
    }

    /// The secret: the password, or the token for the token kinds.
    pub fn password(&self) -> &Password {
        &self.credential.password
    }

    /// What the secret is (R24).
    pub fn kind(&self) -> CredentialKind {
        self.credential.kind
    }

    /// Username and secret.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// When it stops being chosen, if ever (R25).
    pub fn expires_at(&self) -> Option<SystemTime> {
        expiry_time(self.expires_at)
    }

    /// Whether it has expired at `now`: from its `expires_at` on, a
    /// resolution passes over it as if it were absent (R25).
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.expires_at().is_some_and(|at| at <= now)
    }

    /// This credential with `update` applied; scope, location and record
    /// stay (R17, R22: the store moves `updated_at`). A new secret brings
    /// its kind; a new username keeps it. All of it or none.
    ///
    /// # Errors
    ///
    /// [`MetadataError`] when a metadata patch is refused (a key or value
    /// out of R22's rules, or too many labels or annotations); nothing
    /// changes then.
    pub fn updated(&self, update: CredentialUpdate) -> Result<Self, MetadataError> {
        let mut c = self.clone();
        c.apply(update)?;
        Ok(c)
    }

    fn apply(&mut self, update: CredentialUpdate) -> Result<(), MetadataError> {
        match update {
            CredentialUpdate::Username(u) => self.credential.username = u,
            CredentialUpdate::Password(p) => {
                self.credential.password = p;
                self.credential.kind = CredentialKind::Password;
            }
            CredentialUpdate::Secret(kind, secret) => {
                self.credential.password = secret;
                self.credential.kind = kind;
            }
            CredentialUpdate::Both(cred) => self.credential = cred,
            CredentialUpdate::ExpiresAt(at) => self.expires_at = expiry(at),
            CredentialUpdate::Metadata(patch) => {
                let mut metadata = self.metadata().clone();
                metadata.merge(&patch)?;
                self.metadata = (!metadata.is_empty()).then(|| Box::new(metadata));
            }
            CredentialUpdate::All(updates) => {
                for update in updates {
                    self.apply(update)?;
                }
            }
        }
        Ok(())
    }
}

/// What a listing shows of a stored credential: everything but its secret
/// (R21, R22). A [`Page`](crate::store::Page) of the platform's list holds
/// these, so a listing cannot carry a secret, and a store answers it
/// without opening one.
///
/// ```
/// use registry_credentials::credential::CredentialSummary;
/// use registry_credentials::{Credential, CredentialStore, MemoryStore, RegistryCredential, Scope};
/// let store = MemoryStore::new();
/// let c = store.create(RegistryCredential::new(Scope::Foundation, "example.com".parse()?, Credential::new("u", "s3cret")?))?;
/// let summary = CredentialSummary::of(&c).expect("stored");
/// assert_eq!(summary.username().as_str(), "u");
/// assert!(!format!("{summary:?}").contains("s3cret"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSummary {
    scope: Scope,
    location: Location,
    username: Username,
    kind: CredentialKind,
    expires_at: Option<NonZeroU64>,
    record: Record,
    metadata: Option<Box<Metadata>>,
}

impl CredentialSummary {
    /// The summary of a stored credential; `None` for one never stored
    /// (it has no record).
    pub fn of(credential: &RegistryCredential) -> Option<Self> {
        Some(CredentialSummary {
            scope: credential.scope.clone(),
            location: credential.location.clone(),
            username: credential.credential.username.clone(),
            kind: credential.credential.kind,
            expires_at: credential.expires_at,
            record: *credential.record.as_ref()?,
            metadata: credential.metadata.clone(),
        })
    }

    /// The summary of a credential of `kind` for `username`, stored at
    /// `scope` for `location` under `record`: what a store reads from its
    /// rows without opening the secret.
    pub fn new(
        scope: Scope,
        location: Location,
        username: Username,
        kind: CredentialKind,
        record: Record,
    ) -> Self {
        CredentialSummary {
            scope,
            location,
            username,
            kind,
            expires_at: None,
            record,
            metadata: None,
        }
    }

    /// This summary, expiring at `expires_at` (as
    /// [`RegistryCredential::with_expires_at`] keeps it).
    #[must_use]
    pub fn with_expires_at(mut self, expires_at: Option<SystemTime>) -> Self {
        self.expires_at = expiry(expires_at);
        self
    }

    /// This summary with `metadata`.
    #[must_use]
    pub fn with_metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = (!metadata.is_empty()).then(|| Box::new(metadata));
        self
    }

    /// Where it lives.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// What it is stored under.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The username.
    pub fn username(&self) -> &Username {
        &self.username
    }

    /// What its secret is (R24).
    pub fn kind(&self) -> CredentialKind {
        self.kind
    }

    /// When it stops being chosen, if ever (R25).
    pub fn expires_at(&self) -> Option<SystemTime> {
        expiry_time(self.expires_at)
    }

    /// The store's record of it: GUID and times (R22).
    pub fn record(&self) -> &Record {
        &self.record
    }

    /// Its labels and annotations (R22).
    pub fn metadata(&self) -> &Metadata {
        self.metadata.as_deref().unwrap_or(&NO_METADATA)
    }

    /// The stored credential this summarizes, given its secret: what a
    /// store makes of a row once it has opened the secret.
    pub fn into_credential(self, secret: Password) -> RegistryCredential {
        RegistryCredential {
            scope: self.scope,
            location: self.location,
            credential: Credential::from_parts_of_kind(self.kind, self.username, secret),
            expires_at: self.expires_at,
            record: Some(self.record),
            metadata: self.metadata,
        }
    }
}

/// A change to a stored credential: username, password, both (a whole
/// credential of any kind), its expiry, its metadata, or several of these
/// at once; never the scope or the location (R17, R22).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialUpdate {
    /// A new username; the secret stays.
    Username(Username),
    /// A new password (the credential becomes a password credential); the
    /// username stays.
    Password(Password),
    /// A new secret of the given kind; the username stays.
    Secret(CredentialKind, Password),
    /// A new username and secret, of any kind.
    Both(Credential),
    /// A new expiry, or none (R25); username and secret stay.
    ExpiresAt(Option<SystemTime>),
    /// Labels and annotations merged in, as a PATCH merges them (R22).
    Metadata(MetadataPatch),
    /// Several changes in one step, applied in order: all of them or none
    /// (a PATCH of username, password and metadata at once).
    All(Vec<CredentialUpdate>),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R16: the ASCII classes answer as the Unicode categories do, for
    /// every ASCII character.
    #[test]
    fn r16_ascii_characters_are_classed_as_their_unicode_category() {
        for c in (0u8..=127).map(char::from) {
            assert_eq!(
                ForbiddenCharacter::of(c),
                ForbiddenCharacter::by_category(c),
                "{c:?}"
            );
        }
    }

    #[test]
    fn r16_password_limits() {
        assert_eq!(
            Password::new("").unwrap_err(),
            CredentialError::EmptyPassword
        );
        assert!(Password::new("x".repeat(5000)).is_ok());
        let e = Password::new("y".repeat(5001)).unwrap_err();
        assert_eq!(e, CredentialError::PasswordTooLong { len: 5001 });
        assert!(!e.to_string().contains("yyyy"));
        assert!(Username::new("").is_err());
        assert!(Username::new("a\nb").is_err());
    }

    #[test]
    fn r16_username_refuses_colon_control_format_and_space() {
        use ForbiddenCharacter::*;
        let cases = [
            ("user:name", Colon, ':'),
            ("a\u{7}b", Control, '\u{7}'),
            ("a\u{85}b", Control, '\u{85}'),
            ("admin\u{202E}nimda", Format, '\u{202E}'),
            ("a\u{202A}", Format, '\u{202A}'),
            ("a\u{2066}", Format, '\u{2066}'),
            ("a\u{2069}", Format, '\u{2069}'),
            ("a\u{200E}", Format, '\u{200E}'),
            ("a\u{200F}", Format, '\u{200F}'),
            ("a\u{200B}", Format, '\u{200B}'),
            ("a\u{200D}", Format, '\u{200D}'),
            ("a\u{2060}", Format, '\u{2060}'),
            ("\u{FEFF}a", Format, '\u{FEFF}'),
            ("soft\u{AD}hyphen", Format, '\u{AD}'),
            ("a\u{180E}", Format, '\u{180E}'),
            ("a\u{2028}b", LineSeparator, '\u{2028}'),
            ("a\u{2029}b", LineSeparator, '\u{2029}'),
            ("a b", Whitespace, ' '),
            ("a\u{A0}b", Whitespace, '\u{A0}'),
            ("a\u{3000}b", Whitespace, '\u{3000}'),
            ("a\tb", Control, '\t'),
        ];
        for (name, class, character) in cases {
            let at = name.find(character).unwrap();
            assert_eq!(
                Username::new(name),
                Err(CredentialError::UsernameCharacter {
                    at,
                    character,
                    class
                }),
                "{name:?}"
            );
        }
        for ok in [
            "user",
            "Jos\u{e9}",
            "\u{540d}\u{524d}",
            "a.b-c_d@corp",
            "robot$ci",
        ] {
            assert!(Username::new(ok).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn r16_username_error_names_the_character_escaped() {
        let e = Username::new("admin\u{202E}x").unwrap_err().to_string();
        assert!(e.contains("U+202E"), "{e}");
        assert!(e.contains("byte 5"), "{e}");
        assert!(!e.contains('\u{202E}'), "{e}");
        assert!(
            e.starts_with("the username contains a format character"),
            "{e}"
        );
        let e = Username::new("a:b").unwrap_err().to_string();
        assert!(e.contains("U+003A") && e.contains("remove it"), "{e}");
    }

    #[test]
    fn r16_password_try_from_str_checks_the_same_limits() {
        assert_eq!(
            Password::try_from("").unwrap_err(),
            CredentialError::EmptyPassword
        );
        let longest = "x".repeat(MAX_PASSWORD_LEN);
        assert_eq!(
            Password::try_from(longest.as_str()).unwrap().expose(),
            longest
        );
        let over = "y".repeat(MAX_PASSWORD_LEN + 1);
        assert_eq!(
            Password::try_from(over.as_str()).unwrap_err(),
            CredentialError::PasswordTooLong {
                len: MAX_PASSWORD_LEN + 1
            }
        );
        assert_eq!(Password::try_from(String::from("s")).unwrap().expose(), "s");
    }

    #[test]
    fn r21_passwords_compare_by_every_byte() {
        let p = |s: &str| Password::new(s).unwrap();
        assert_eq!(p("hunter2"), p("hunter2"));
        assert_eq!(p("hunter2").clone(), p("hunter2"));
        // Same length, bytes that differ in the same bits (a ^ b == b ^ a).
        assert_ne!(p("ab"), p("ba"));
        assert_ne!(p("hunter2"), p("hunter3"));
        assert_ne!(p("x"), p("y"));
        // One a prefix of the other.
        assert_ne!(p("a"), p("ab"));
        assert_ne!(p("ab"), p("a"));
    }

    #[test]
    fn r16_username_error_gives_the_reason() {
        assert_eq!(
            Username::new("a:b").unwrap_err().to_string(),
            "the username contains a colon U+003A at byte 1; remove it: basic \
             authentication splits username and password at the first `:`"
        );
        for (name, why) in [
            (
                "a\u{7}",
                "a control character could forge a listing or log line",
            ),
            ("a\u{200B}", "an invisible format character"),
            (
                "a\u{2028}",
                "a line separator could forge a listing or log line",
            ),
            ("a b", "white space could disguise the name"),
        ] {
            let e = Username::new(name).unwrap_err().to_string();
            assert!(e.contains(why), "{e}");
        }
    }

    /// A username is not a secret: `Debug` shows it, quoted and escaped,
    /// while the password beside it stays redacted (R21).
    #[test]
    fn r21_debug_shows_the_username() {
        let u = Username::new("alice").unwrap();
        assert_eq!(format!("{u:?}"), "Username(\"alice\")");
        let c = Credential::new("alice", "hunter2").unwrap();
        assert_eq!(
            format!("{c:?}"),
            "Credential { username: Username(\"alice\"), password: Password(<redacted>), kind: Password }"
        );
    }

    /// The foundation's credential for `example.com`: user `me`, password
    /// `password`.
    fn foundation_credential(password: &str) -> RegistryCredential {
        RegistryCredential::new(
            Scope::Foundation,
            "example.com".parse().unwrap(),
            Credential::new("me", password).unwrap(),
        )
    }

    #[test]
    fn r21_debug_redacts_the_password() {
        let c = foundation_credential("hunter2");
        let dbg = format!("{c:?} {c:#?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("redacted"));
        assert!(dbg.contains("me"));
    }

    #[test]
    fn r17_updates_keep_the_location() {
        let c = foundation_credential("old");
        let u = c
            .updated(CredentialUpdate::Password(Password::new("new").unwrap()))
            .unwrap();
        assert_eq!(u.username().as_str(), "me");
        assert_eq!(u.password().expose(), "new");
        assert_eq!(u.location(), c.location());
        let u = c
            .updated(CredentialUpdate::Username(Username::new("you").unwrap()))
            .unwrap();
        assert_eq!(u.password().expose(), "old");
        assert_eq!(u.username().as_str(), "you");
    }
}
