//! The parse and candidates benches' inputs: five references from the
//! shortest to the longest name R1 allows, each with the registry both
//! parsers (this crate's and oci-spec's) must find.

/// One parse/candidates input: a case name, the reference, and the
/// registry (`host[:port]`) both parsers must find.
pub struct Input {
    /// The case's name in the bench ids (`short`, `typical`, …).
    pub case: &'static str,
    /// The reference as written.
    pub text: String,
    /// The `host[:port]` both parsers must find.
    pub registry: &'static str,
}

/// The five inputs of the parse and candidates benches.
pub fn inputs() -> Vec<Input> {
    let digest = format!("sha256:{}", "0123456789abcdef".repeat(4));
    // 255 characters in all: a host, then 3-character components, a tag.
    let mut long = String::from("registry.example.com");
    let mut n = 0;
    while long.len() + 4 + 3 <= 255 - 3 {
        long.push_str(&format!("/c{:02}", n % 100));
        n += 1;
    }
    long.push_str("/img");
    while long.len() < 255 - 3 {
        long.push('x');
    }
    long.push_str(":v1");
    assert_eq!(long.len(), 255);
    vec![
        Input {
            case: "short",
            text: "nginx".into(),
            registry: "docker.io",
        },
        Input {
            case: "typical",
            text: "registry.example.com/repo/image:tag".into(),
            registry: "registry.example.com",
        },
        Input {
            case: "digest",
            text: format!("registry.example.com/repo/image@{digest}"),
            registry: "registry.example.com",
        },
        Input {
            case: "deep",
            text: "registry.example.com/one/two/three/four/five/six/seven/image:tag".into(),
            registry: "registry.example.com",
        },
        Input {
            case: "long255",
            text: long,
            registry: "registry.example.com",
        },
    ]
}
