//! Every accessor of `Reference` and `Location`, table-driven, with the round
//! trip `parse(x.to_string()) == x` (R1–R9).

use registry_credentials::candidates::CandidateKind;
use registry_credentials::credential::ForbiddenCharacter;
use registry_credentials::host::Host;
use registry_credentials::reference::ReferenceErrorKind;
use registry_credentials::syntax::Fault;
use registry_credentials::{Location, Reference, ScopeKind};

macro_rules! reference_table {
    ($($name:ident: $input:expr => {
        name: $n:expr, registry: $reg:expr, host: $host:expr, port: $port:expr,
        path: $path:expr, image: $img:expr, tag: $tag:expr, digest: $dig:expr, has_host: $hh:expr,
    })*) => {$(
        #[test]
        fn $name() {
            let r = Reference::parse($input).unwrap();
            assert_eq!(r.as_str(), $input, "as written");
            assert_eq!(r.to_string(), $input, "Display is what was written");
            assert_eq!(r.name(), $n, "name");
            assert_eq!(r.registry(), $reg, "registry");
            assert_eq!(r.host(), $host, "host");
            assert_eq!(r.port(), $port, "port");
            assert_eq!(r.path(), $path, "path");
            assert_eq!(r.image_name(), $img, "image name");
            assert_eq!(r.tag(), $tag, "tag");
            assert_eq!(r.digest(), $dig, "digest");
            assert_eq!(r.has_host(), $hh, "has_host");
            assert_eq!(r.is_docker_hub(), $reg == "docker.io", "is_docker_hub");
            let again: Reference = r.to_string().parse().unwrap();
            assert_eq!(again, r, "round trip");
            assert_eq!(Reference::try_from(String::from($input)).unwrap(), r);
        }
    )*};
}

const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

reference_table! {
    r3_bare_name: "nginx" => {
        name: "docker.io/library/nginx", registry: "docker.io", host: Host::Domain("docker.io"),
        port: None, path: "library/nginx", image: "nginx", tag: None, digest: None, has_host: false,
    }
    r3_org_image_with_tag: "myorg/app:1.0" => {
        name: "docker.io/myorg/app", registry: "docker.io", host: Host::Domain("docker.io"),
        port: None, path: "myorg/app", image: "app", tag: Some("1.0"), digest: None, has_host: false,
    }
    r4_alias_and_case: "Index.Docker.IO/nginx" => {
        name: "docker.io/library/nginx", registry: "docker.io", host: Host::Domain("docker.io"),
        port: None, path: "library/nginx", image: "nginx", tag: None, digest: None, has_host: true,
    }
    r1_full_reference: "Registry.Example.com:05000/team/sub/image:v2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" => {
        name: "registry.example.com:5000/team/sub/image", registry: "registry.example.com:5000",
        host: Host::Domain("registry.example.com"), port: Some(5000), path: "team/sub/image",
        image: "image", tag: Some("v2"), digest: Some(SHA), has_host: true,
    }
    r5_ipv4: "10.0.0.1:5000/repo/img" => {
        name: "10.0.0.1:5000/repo/img", registry: "10.0.0.1:5000",
        host: Host::Ipv4([10, 0, 0, 1].into()), port: Some(5000), path: "repo/img",
        image: "img", tag: None, digest: None, has_host: true,
    }
    r5_ipv6: "[2001:DB8:0:0:0:0:0:2]/img" => {
        name: "[2001:db8::2]/img", registry: "[2001:db8::2]",
        host: Host::Ipv6("2001:db8::2".parse().unwrap()), port: None, path: "img",
        image: "img", tag: None, digest: None, has_host: true,
    }
    r2_capital_host: "Foo/bar" => {
        name: "foo/bar", registry: "foo", host: Host::Domain("foo"), port: None, path: "bar",
        image: "bar", tag: None, digest: None, has_host: true,
    }
    r2_localhost: "localhost/img" => {
        name: "localhost/img", registry: "localhost", host: Host::Domain("localhost"), port: None,
        path: "img", image: "img", tag: None, digest: None, has_host: true,
    }
    r1_digest_only: "img@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" => {
        name: "docker.io/library/img", registry: "docker.io", host: Host::Domain("docker.io"),
        port: None, path: "library/img", image: "img", tag: None, digest: Some(SHA), has_host: false,
    }
}

#[test]
fn r1_equality_is_by_normalized_name_tag_and_digest() {
    let a: Reference = "nginx:1".parse().unwrap();
    let b: Reference = "docker.io/library/nginx:1".parse().unwrap();
    let c: Reference = "nginx:2".parse().unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    let mut set = std::collections::HashSet::new();
    set.insert(a);
    assert!(set.contains(&b), "Hash agrees with Eq");
}

#[test]
fn r1_hash_follows_name_tag_and_digest() {
    use std::hash::{DefaultHasher, Hash, Hasher};
    fn hash(s: &str) -> u64 {
        let r: Reference = s.parse().unwrap();
        let mut h = DefaultHasher::new();
        r.hash(&mut h);
        h.finish()
    }
    // Equal references hash alike however they were written...
    assert_eq!(hash("nginx:1"), hash("docker.io/library/nginx:1"));
    assert_eq!(hash("Index.Docker.IO/nginx:1"), hash("nginx:1"));
    // ...and a different name, tag or digest hashes apart (`DefaultHasher::new`
    // has fixed keys, so these are the same numbers on every run).
    let digest = format!("nginx:1@sha256:{}", "0".repeat(64));
    for other in ["redis:1", "nginx:2", "nginx", digest.as_str()] {
        assert_ne!(hash("nginx:1"), hash(other), "{other}");
    }
}

#[test]
fn r1_debug_shows_what_was_written_and_the_parts() {
    let r: Reference = "Registry.Example.com/team/app:v1".parse().unwrap();
    assert_eq!(
        format!("{r:?}"),
        "Reference { written: \"Registry.Example.com/team/app:v1\", \
         name: \"registry.example.com/team/app\", tag: Some(\"v1\"), digest: None }"
    );
}

#[test]
fn r7_location_accessors() {
    let l: Location = "Registry.Example.com:5000/team/sub".parse().unwrap();
    assert_eq!(l.as_str(), "registry.example.com:5000/team/sub");
    assert_eq!(l.registry(), "registry.example.com:5000");
    assert_eq!(l.host(), Host::Domain("registry.example.com"));
    assert_eq!(l.port(), Some(5000));
    assert_eq!(l.path(), Some("team/sub"));
    assert_eq!(l.to_string().parse::<Location>().unwrap(), l);
    let bare: Location = "registry.example.com".parse().unwrap();
    assert_eq!(bare.path(), None);
    assert_eq!(bare.port(), None);
    let set: std::collections::HashSet<Location> = [l.clone()].into();
    assert!(
        set.contains("registry.example.com:5000/team/sub"),
        "looked up by &str"
    );
}

#[test]
fn r6_errors_say_what_where_and_how() {
    let e = Reference::parse("registry.example.com/repo/Image").unwrap_err();
    assert_eq!(e.kind(), &ReferenceErrorKind::Syntax(Fault::Uppercase));
    assert_eq!(e.position(), 26);
    assert!(e.to_string().contains("must be lowercase"));
    let e = Reference::parse("https://registry.example.com/repo/img").unwrap_err();
    assert!(e.to_string().contains("leave out the protocol"), "{e}");
    assert_eq!(e.hint(), Some("registry.example.com/repo/img"));
    let e = Location::parse("registry.example.com/path/to/repo:5000").unwrap_err();
    assert!(
        e.to_string()
            .contains("registry.example.com:5000/path/to/repo"),
        "{e}"
    );
}

#[test]
fn r10_candidate_kinds_and_scope_names() {
    let r: Reference = "registry.example.com:5000/a/b/img".parse().unwrap();
    let got: Vec<_> = r.candidates().map(|c| (c.as_str(), c.kind())).collect();
    assert_eq!(
        got,
        [
            ("registry.example.com:5000/a/b", CandidateKind::Namespace),
            ("registry.example.com:5000/a", CandidateKind::Namespace),
            ("registry.example.com:5000", CandidateKind::Registry),
            ("example.com:5000", CandidateKind::ParentDomain),
        ]
    );
    let names: Vec<_> = ScopeKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(names, ["app", "space", "organization", "foundation"]);
}

#[cfg(feature = "serde")]
#[test]
fn serde_writes_strings_and_reading_validates() {
    let r: Reference = "Index.Docker.io/nginx:1".parse().unwrap();
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(json, "\"Index.Docker.io/nginx:1\"");
    assert_eq!(serde_json::from_str::<Reference>(&json).unwrap(), r);
    assert!(serde_json::from_str::<Reference>("\"Bad/Path\"").is_err());
    let l: Location = "Registry.Example.com".parse().unwrap();
    assert_eq!(
        serde_json::to_string(&l).unwrap(),
        "\"registry.example.com\""
    );
    let err = serde_json::from_str::<Location>("\"https://x.example.com\"").unwrap_err();
    assert!(err.to_string().contains("leave out the protocol"), "{err}");
    assert!(serde_json::from_str::<registry_credentials::scope::OrgId>("\"\"").is_err());
    let u: registry_credentials::Username = serde_json::from_str("\"me\"").unwrap();
    assert_eq!(serde_json::to_string(&u).unwrap(), "\"me\"");
    assert!(serde_json::from_str::<registry_credentials::Username>("\"\"").is_err());
}

/// Every kind of scope prints as `KIND ID` (or `foundation`) and parses
/// back to itself (R13).
#[test]
fn r13_scope_round_trips_through_its_display() {
    use registry_credentials::Scope;
    use registry_credentials::scope::{AppId, OrgId, SpaceId};
    let table = [
        (Scope::Foundation, "foundation"),
        (Scope::Org(OrgId::new("o-1").unwrap()), "organization o-1"),
        (Scope::Space(SpaceId::new("s/1").unwrap()), "space s/1"),
        (
            Scope::App(AppId::new("5b1c8e0a-6f0c-4b8e-9b1e-2d3f4a5b6c7d").unwrap()),
            "app 5b1c8e0a-6f0c-4b8e-9b1e-2d3f4a5b6c7d",
        ),
        // An id that is itself a kind's name is still just an id.
        (Scope::Org(OrgId::new("app").unwrap()), "organization app"),
    ];
    for (scope, text) in table {
        assert_eq!(scope.to_string(), text);
        assert_eq!(scope.to_string().parse::<Scope>().unwrap(), scope, "{text}");
        assert_eq!(Scope::parse(text).unwrap(), scope);
        assert_eq!(
            scope.as_scope_ref().to_string(),
            text,
            "ScopeRef prints the same"
        );
    }
}

/// What is not a scope as it prints is refused, saying what to write
/// instead (R13).
#[test]
fn r13_scope_parsing_refuses_other_notations() {
    use registry_credentials::Scope;
    use registry_credentials::scope::{IdError, ScopeParseError};
    let unknown = |input: &str| ScopeParseError::UnknownKind {
        input: input.to_owned(),
    };
    assert_eq!(Scope::parse(""), Err(unknown("")));
    assert_eq!(Scope::parse("org o"), Err(unknown("org o")));
    assert_eq!(
        Scope::parse("Organization o"),
        Err(unknown("Organization o"))
    );
    assert_eq!(
        Scope::parse("organization:o"),
        Err(unknown("organization:o"))
    );
    assert_eq!(Scope::parse(" foundation"), Err(unknown(" foundation")));
    assert_eq!(
        Scope::parse("space"),
        Err(ScopeParseError::MissingId {
            kind: ScopeKind::Space
        })
    );
    assert_eq!(
        Scope::parse("foundation x"),
        Err(ScopeParseError::FoundationId {
            input: "foundation x".into()
        })
    );
    assert_eq!(
        Scope::parse("foundation "),
        Err(ScopeParseError::FoundationId {
            input: "foundation ".into()
        })
    );
    // The id goes through the id's own check.
    let whitespace = |what, at| IdError::BadCharacter {
        what,
        at,
        class: ForbiddenCharacter::Whitespace,
    };
    for (input, source) in [
        ("app ", IdError::Empty { what: "app" }),
        ("organization  o", whitespace("organization", 0)),
    ] {
        let id_error = ScopeParseError::Id {
            input: input.into(),
            source,
        };
        assert_eq!(Scope::parse(input), Err(id_error));
    }
    let long = format!("space {}", "x".repeat(256));
    assert!(matches!(
        Scope::parse(&long),
        Err(ScopeParseError::Id {
            source: IdError::TooLong { .. },
            ..
        })
    ));
    // Messages name the input, escaped, and the fix; the id's own reason
    // is left to `source()`.
    assert_eq!(
        Scope::parse("org\u{1b}[2J o").unwrap_err().to_string(),
        "scope `org\\u{1b}[2J o` does not start with a scope kind; write `foundation`, `organization ID`, `space ID` or `app ID`"
    );
    assert_eq!(
        Scope::parse("app").unwrap_err().to_string(),
        "app scope has no id; write `app ID`, one space between"
    );
    let e = Scope::parse("app a\tb").unwrap_err();
    assert_eq!(
        e.to_string(),
        "scope `app a\\tb` has an id that is not valid"
    );
    assert_eq!(
        std::error::Error::source(&e).unwrap().to_string(),
        "app id contains a control character at byte 1; remove it: a control character could forge a listing or log line"
    );
}

/// An app prints as `app APP in space SPACE of organization ORG` and
/// parses back to itself, whatever its ids hold besides white space (R13).
#[test]
fn r13_app_round_trips_through_its_display() {
    use registry_credentials::App;
    for (org, space, app) in [
        ("o", "s", "a"),
        ("org/with/slashes", "in", "of"),
        ("organization", "space", "app"),
        ("5b1c8e0a", "9b1e-2d3f", "x:y@z"),
    ] {
        let a = App::new(org, space, app).unwrap();
        let text = a.to_string();
        assert_eq!(
            text,
            format!("app {app} in space {space} of organization {org}")
        );
        assert_eq!(text.parse::<App>().unwrap(), a, "{text}");
        assert_eq!(App::parse(&text).unwrap(), a);
    }
}

/// What is not an app as it prints is refused, saying how to write it
/// (R13).
#[test]
fn r13_app_parsing_refuses_other_notations() {
    use registry_credentials::App;
    use registry_credentials::scope::{AppParseError, IdError};
    for input in [
        "",
        "o/s/a",
        "a in space s of organization o",
        "app a in space s",
        "app a of organization o in space s",
        "App a in space s of organization o",
        "app a  in space s of organization o",
    ] {
        let e = App::parse(input).unwrap_err();
        assert!(
            matches!(&e, AppParseError::Shape { input: i } if i == input)
                || matches!(&e, AppParseError::Id { .. }),
            "{input:?}: {e:?}"
        );
    }
    assert_eq!(
        App::parse("o/s/a").unwrap_err().to_string(),
        "app `o/s/a` is not written as `app APP in space SPACE of organization ORG`; write it so, one space between words"
    );
    // Ids go through `App::new`'s checks.
    let whitespace = |what, at| IdError::BadCharacter {
        what,
        at,
        class: ForbiddenCharacter::Whitespace,
    };
    for (input, source) in [
        (
            "app a in space  of organization o",
            IdError::Empty { what: "space" },
        ),
        ("app a  in space s of organization o", whitespace("app", 1)),
    ] {
        let id_error = AppParseError::Id {
            input: input.into(),
            source,
        };
        assert_eq!(App::parse(input), Err(id_error));
    }
    let e = App::parse("app a in space s of organization o p").unwrap_err();
    assert_eq!(
        e.to_string(),
        "app `app a in space s of organization o p` has an id that is not valid"
    );
}

/// R16: every id (organization, space, app, user) is checked by the
/// classes usernames are, the colon apart: a zero-width mark, a bidi
/// control or a line separator could make one name look like another.
#[test]
fn r16_ids_refuse_format_separator_and_control_characters_but_not_a_colon() {
    use registry_credentials::scope::{AppId, IdError, OrgId, SpaceId, UserId};
    for (text, class) in [
        ("ali\u{200b}ce", ForbiddenCharacter::Format),
        ("ali\u{202e}ce", ForbiddenCharacter::Format),
        ("ali\u{2028}ce", ForbiddenCharacter::LineSeparator),
        ("ali\u{0007}ce", ForbiddenCharacter::Control),
        ("ali\u{00a0}ce", ForbiddenCharacter::Whitespace),
    ] {
        let expect = |what| IdError::BadCharacter { what, at: 3, class };
        assert_eq!(UserId::new(text).unwrap_err(), expect("user"), "{text:?}");
        assert_eq!(OrgId::new(text).unwrap_err(), expect("organization"));
        assert_eq!(SpaceId::new(text).unwrap_err(), expect("space"));
        assert_eq!(AppId::new(text).unwrap_err(), expect("app"));
    }
    assert_eq!(UserId::new("ldap:alice").unwrap().as_str(), "ldap:alice");
}
