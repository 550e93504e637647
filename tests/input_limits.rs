//! Input limits (R6, R16): every parser refuses over-long input before it
//! does work that grows with the input.
//!
//! No test here times anything (the machine is noisy). Instead each 1 MB
//! input is built so that a parser that scanned it before checking its
//! length would fail differently: the first byte is already wrong (white
//! space, a control character, a protocol, non-ASCII), so a scan would
//! report that byte. Getting the "too long" error, at the limit's position,
//! shows the length was checked first, in constant time.

use registry_credentials::credential::{
    CredentialError, ForbiddenCharacter, MAX_PASSWORD_LEN, MAX_USERNAME_LEN,
};
use registry_credentials::location::LocationErrorKind;
use registry_credentials::reference::{MAX_REFERENCE_LEN, ReferenceErrorKind};
use registry_credentials::scope::{AppId, IdError, MAX_ID_LEN, OrgId, SpaceId};
use registry_credentials::syntax::Fault;
use registry_credentials::{Credential, Location, Password, Reference, Username};

const MB: usize = 1 << 20;

/// 1 MB whose first bytes are `head`, so a scan fails at byte 0.
fn mb_starting_with(head: &str) -> String {
    let mut s = String::with_capacity(MB);
    s.push_str(head);
    while s.len() < MB {
        s.push('a');
    }
    s
}

/// Heads that a scan would refuse at once, each with the fault it would
/// find (the same in a reference and a location).
const HEADS: [(&str, Fault); 4] = [
    (" ", Fault::Whitespace),
    ("\u{1}", Fault::ControlCharacter),
    ("\u{e9}", Fault::NonAscii),
    ("https://", Fault::Scheme),
];

/// What a parser finds in an input of [`MB`] bytes, whatever its head.
const TOO_LONG: Fault = Fault::TooLong {
    len: MB,
    max: MAX_REFERENCE_LEN,
};

#[test]
fn r6_a_1mb_reference_is_refused_by_its_length_alone() {
    for (head, fault) in HEADS {
        let scanned = ReferenceErrorKind::Syntax(fault);
        let input = mb_starting_with(head);
        // What a short input with the same head gets: the scan's error.
        let short = Reference::parse(&input[..64]).unwrap_err();
        assert_eq!(short.kind(), &scanned, "{head:?}");
        let e = Reference::parse(&input).unwrap_err();
        assert_eq!(e.kind(), &ReferenceErrorKind::Syntax(TOO_LONG), "{head:?}");
        assert_eq!(e.position(), MAX_REFERENCE_LEN);
        assert!(e.hint().is_none());
        assert_eq!(
            e.to_string(),
            "invalid image reference at byte 1024: it is 1048576 bytes long, more than the 1024 allowed"
        );
        // Every way in goes through the same check.
        assert_eq!(input.parse::<Reference>().unwrap_err(), e);
        assert_eq!(Reference::try_from(input.as_str()).unwrap_err(), e);
        assert_eq!(Reference::try_from(input).unwrap_err(), e);
    }
}

#[test]
fn r6_a_1mb_location_is_refused_by_its_length_alone() {
    for (head, fault) in HEADS {
        let scanned = LocationErrorKind::Syntax(fault);
        let input = mb_starting_with(head);
        assert_eq!(Location::parse(&input[..64]).unwrap_err().kind(), &scanned);
        let e = Location::parse(&input).unwrap_err();
        assert_eq!(e.kind(), &LocationErrorKind::Syntax(TOO_LONG), "{head:?}");
        assert_eq!(e.position(), MAX_REFERENCE_LEN);
        assert!(e.hint().is_none(), "no corrected input is worked out");
        assert_eq!(input.parse::<Location>().unwrap_err(), e);
        assert_eq!(Location::try_from(input).unwrap_err(), e);
    }
    // User information in a huge input is not echoed either.
    let e = Location::parse(&mb_starting_with("user:hunter2@")).unwrap_err();
    assert!(!e.to_string().contains("hunter2"));
}

#[test]
fn r6_the_limits_are_exact() {
    // One byte over the limit: too long, whatever the content.
    let over = "a".repeat(MAX_REFERENCE_LEN + 1);
    assert!(matches!(
        Reference::parse(&over).unwrap_err().kind(),
        ReferenceErrorKind::Syntax(Fault::TooLong { len, .. }) if *len == MAX_REFERENCE_LEN + 1
    ));
    assert!(matches!(
        Location::parse(&over).unwrap_err().kind(),
        LocationErrorKind::Syntax(Fault::TooLong { .. })
    ));
    // At the limit the input is read, and refused for what it is.
    let at = "a".repeat(MAX_REFERENCE_LEN);
    assert!(matches!(
        Reference::parse(&at).unwrap_err().kind(),
        ReferenceErrorKind::NameTooLong { .. }
    ));
    assert!(matches!(
        Location::parse(&at).unwrap_err().kind(),
        LocationErrorKind::NameTooLong { .. }
    ));
}

#[test]
fn r13_a_1mb_id_is_refused_by_its_length_alone() {
    let input = mb_starting_with(" ");
    assert!(matches!(
        OrgId::new(&input[..64]),
        Err(IdError::BadCharacter { at: 0, .. })
    ));
    let e = OrgId::new(&input).unwrap_err();
    assert_eq!(
        e,
        IdError::TooLong {
            what: "organization",
            len: MB
        }
    );
    assert_eq!(
        e.to_string(),
        format!("organization id is {MB} bytes long, more than the {MAX_ID_LEN} allowed")
    );
    assert!(matches!(
        SpaceId::new(&input),
        Err(IdError::TooLong { len: MB, .. })
    ));
    assert!(matches!(
        AppId::new(&input),
        Err(IdError::TooLong { len: MB, .. })
    ));
    assert!(matches!(
        input.parse::<AppId>(),
        Err(IdError::TooLong { len: MB, .. })
    ));
    assert!(OrgId::new("a".repeat(MAX_ID_LEN)).is_ok());
    assert!(OrgId::new("a".repeat(MAX_ID_LEN + 1)).is_err());
}

#[test]
fn r16_a_1mb_username_is_refused_by_its_length_alone() {
    let input = mb_starting_with("\u{1}");
    assert_eq!(
        Username::new(&input[..64]),
        Err(CredentialError::UsernameCharacter {
            at: 0,
            character: '\u{1}',
            class: ForbiddenCharacter::Control
        })
    );
    assert_eq!(
        Username::new(&input),
        Err(CredentialError::UsernameTooLong { len: MB })
    );
    assert_eq!(
        input.parse::<Username>(),
        Err(CredentialError::UsernameTooLong { len: MB })
    );
    assert!(Username::new("u".repeat(MAX_USERNAME_LEN)).is_ok());
    // Credential::new checks the username before it touches the password.
    assert_eq!(
        Credential::new(&input, "x".repeat(MB)).unwrap_err(),
        CredentialError::UsernameTooLong { len: MB }
    );
}

#[test]
fn r16_a_1mb_password_is_refused_by_its_length_alone() {
    let secret = mb_starting_with("hunter2");
    // From a `&str`: the length is checked before the copy.
    let e = Password::try_from(secret.as_str()).unwrap_err();
    assert_eq!(e, CredentialError::PasswordTooLong { len: MB });
    assert!(!e.to_string().contains("hunter2"));
    // From a `String`: checked before it is moved into the secret (and the
    // refused string is wiped).
    assert_eq!(
        Password::new(secret.clone()).unwrap_err(),
        CredentialError::PasswordTooLong { len: MB }
    );
    assert_eq!(
        Password::try_from(secret).unwrap_err(),
        CredentialError::PasswordTooLong { len: MB }
    );
    assert_eq!(
        Credential::new("user", "p".repeat(MB)).unwrap_err(),
        CredentialError::PasswordTooLong { len: MB }
    );
    // The limit itself, from every way in.
    let max = "p".repeat(MAX_PASSWORD_LEN);
    assert_eq!(Password::try_from(max.as_str()).unwrap().expose(), max);
    assert_eq!(Password::new(max.clone()).unwrap().expose(), max);
    let over = "p".repeat(MAX_PASSWORD_LEN + 1);
    assert!(Password::try_from(over.as_str()).is_err());
    assert!(Password::new(over).is_err());
    assert_eq!(Password::try_from(""), Err(CredentialError::EmptyPassword));
}

#[cfg(feature = "serde")]
#[test]
fn r6_serde_reads_through_the_same_limits() {
    let json = serde_json::to_string(&mb_starting_with(" ")).unwrap();
    let e = serde_json::from_str::<Reference>(&json).unwrap_err();
    assert!(e.to_string().contains("1048576 bytes long"), "{e}");
    let e = serde_json::from_str::<Location>(&json).unwrap_err();
    assert!(e.to_string().contains("1048576 bytes long"), "{e}");
    let e = serde_json::from_str::<OrgId>(&json).unwrap_err();
    assert!(e.to_string().contains("1048576 bytes long"), "{e}");
}
