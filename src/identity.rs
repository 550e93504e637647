//! A stored credential's identity and times (R22): its [`Guid`] and the
//! [`Record`] a store keeps of it.
//!
//! A store gives every credential it stores a random GUID, never reused,
//! and stamps it with the time it was created and last updated, in UTC
//! whole seconds; a credential not yet stored has no record.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use registry_credentials::identity::{Guid, Record};
//! let guid: Guid = "6f1c3a52-0b8e-4c8e-9a51-2d1f3e4b5c6d".parse()?;
//! let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
//! let record = Record::new(guid, at, at + Duration::from_millis(2_500));
//! assert_eq!(record.guid().to_string(), "6f1c3a52-0b8e-4c8e-9a51-2d1f3e4b5c6d");
//! assert_eq!(record.updated_at(), at + Duration::from_secs(2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A stored credential's id (R22): 128 random bits, written as the
/// platform writes its GUIDs (`6f1c3a52-0b8e-4c8e-9a51-2d1f3e4b5c6d`,
/// lower-case hexadecimal in groups of 8, 4, 4, 4 and 12).
///
/// Made only by [`Guid::random`] or by parsing one; the nil GUID (all
/// zeros) is not one, so no store can hand it out by accident.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Guid(uuid::Uuid);

impl Guid {
    /// A new random GUID (a version 4 UUID, from the system's random
    /// source): what a store gives a credential it creates.
    pub fn random() -> Self {
        Guid(uuid::Uuid::new_v4())
    }

    /// The 16 bytes, most significant first: how the databases keep it.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// The GUID of 16 bytes read back from a store.
    ///
    /// # Errors
    ///
    /// [`GuidError`] when they are all zero (the nil GUID is never given).
    pub fn from_bytes(bytes: [u8; 16]) -> Result<Self, GuidError> {
        let uuid = uuid::Uuid::from_bytes(bytes);
        if uuid.is_nil() {
            return Err(GuidError::nil());
        }
        Ok(Guid(uuid))
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

impl FromStr for Guid {
    type Err = GuidError;

    /// Reads a GUID in its hyphenated form, in either case.
    fn from_str(s: &str) -> Result<Self, GuidError> {
        if s.len() != 36 {
            return Err(GuidError::new(s));
        }
        let uuid = uuid::Uuid::try_parse(s).map_err(|_| GuidError::new(s))?;
        if uuid.is_nil() {
            return Err(GuidError::nil());
        }
        Ok(Guid(uuid))
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Guid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Why a text or bytes are not a [`Guid`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given} is not a GUID; give one such as 6f1c3a52-0b8e-4c8e-9a51-2d1f3e4b5c6d")]
pub struct GuidError {
    given: String,
}

impl GuidError {
    fn new(given: &str) -> Self {
        let cut: String = given.chars().take(40).collect();
        GuidError {
            given: format!("`{}`", cut.escape_debug()),
        }
    }

    fn nil() -> Self {
        GuidError {
            given: "the nil GUID".into(),
        }
    }
}

/// What a store keeps of a credential beside its content (R22): its GUID,
/// and when it was created and last updated, in whole seconds since 1970
/// (a time before 1970 is 1970).
///
/// An update moves `updated_at` only, and never before `created_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Record {
    guid: Guid,
    created_at: u64,
    updated_at: u64,
}

/// Whole seconds since 1970 of `at`, cut down to the second.
pub(crate) fn seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Record {
    /// The record of a credential stored under `guid`, created at
    /// `created_at` and updated at `updated_at` (an `updated_at` before
    /// `created_at` is taken as `created_at`).
    pub fn new(guid: Guid, created_at: SystemTime, updated_at: SystemTime) -> Self {
        Record::from_secs(guid, seconds(created_at), seconds(updated_at))
    }

    /// [`new`](Self::new) of times in whole seconds since 1970: how the
    /// databases keep them.
    pub fn from_secs(guid: Guid, created_secs: u64, updated_secs: u64) -> Self {
        Record {
            guid,
            created_at: created_secs,
            updated_at: updated_secs.max(created_secs),
        }
    }

    /// A new credential's record: a [random](Guid::random) GUID, created
    /// and updated `now`.
    pub fn fresh(now: SystemTime) -> Self {
        Record::new(Guid::random(), now, now)
    }

    /// This record updated at `now`: the GUID and `created_at` stay.
    #[must_use]
    pub fn touched(self, now: SystemTime) -> Self {
        Record {
            updated_at: seconds(now).max(self.created_at),
            ..self
        }
    }

    /// The GUID.
    pub fn guid(&self) -> Guid {
        self.guid
    }

    /// When the credential was created, to the second.
    pub fn created_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.created_at)
    }

    /// When the credential was last changed (or created), to the second.
    pub fn updated_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.updated_at)
    }

    /// `created_at` in whole seconds since 1970: how the databases keep it.
    pub fn created_secs(&self) -> u64 {
        self.created_at
    }

    /// `updated_at` in whole seconds since 1970.
    pub fn updated_secs(&self) -> u64 {
        self.updated_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r22_guids_are_random_and_round_trip_as_text_and_bytes() {
        let a = Guid::random();
        let b = Guid::random();
        assert_ne!(a, b);
        let text = a.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(text, text.to_ascii_lowercase());
        assert_eq!(text.parse::<Guid>().unwrap(), a);
        assert_eq!(text.to_ascii_uppercase().parse::<Guid>().unwrap(), a);
        assert_eq!(Guid::from_bytes(*a.as_bytes()).unwrap(), a);
    }

    #[test]
    fn r22_a_guid_refuses_other_forms_and_the_nil_guid() {
        for bad in [
            "",
            "6f1c3a520b8e4c8e9a512d1f3e4b5c6d",
            "{6f1c3a52-0b8e-4c8e-9a51-2d1f3e4b5c6d}",
            "urn:uuid:6f1c3a52-0b8e-4c8e-9a51-2d1f3e4b5c6d",
            "6f1c3a52-0b8e-4c8e-9a51-2d1f3e4b5c6g",
            "00000000-0000-0000-0000-000000000000",
        ] {
            let e = bad.parse::<Guid>().unwrap_err();
            assert!(e.to_string().contains("not a GUID"), "{bad}: {e}");
        }
        assert!(Guid::from_bytes([0; 16]).is_err());
    }

    #[test]
    fn r22_an_update_moves_updated_at_only_and_never_before_creation() {
        let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let r = Record::fresh(at);
        assert_eq!((r.created_at(), r.updated_at()), (at, at));
        let later = r.touched(at + Duration::from_millis(61_900));
        assert_eq!(later.guid(), r.guid());
        assert_eq!(later.created_at(), at);
        assert_eq!(later.updated_at(), at + Duration::from_secs(61));
        let earlier = r.touched(at - Duration::from_secs(5));
        assert_eq!(earlier.updated_at(), at);
    }
}
