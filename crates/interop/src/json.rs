//! The one way this crate reads JSON: every document is first walked
//! whole to refuse an object that holds the same key twice, then read into
//! its type with serde_json.
//!
//! serde_json keeps the last of two equal keys of a map, and refuses two
//! equal fields of a struct as a value it did not expect; Go's
//! `encoding/json`, which the Docker CLI, containers/image and Kubernetes
//! read these files with, keeps the last as well. A file with a key twice
//! was edited by hand or merged badly, and which of its values was meant is
//! anyone's guess: it is refused, naming the key's place (its path and the
//! line and column serde_json reached), never its value.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// The longest a key is shown in a path: more is cut and marked `…`.
const MAX_SHOWN_KEY: usize = 100;

/// Why a document was not read.
#[derive(Debug)]
pub(crate) enum JsonFault {
    /// Not JSON, or JSON of another shape: serde_json's error. Its message
    /// may quote a value; callers keep only its place.
    Serde(serde_json::Error),
    /// An object holds the key at `path` twice.
    DuplicateKey {
        /// The path from the document's root to the second key, each key
        /// quoted and escaped, user info redacted, array items as `[n]`.
        path: String,
        /// The line of the second key, from 1.
        line: usize,
        /// The column just after it, from 1.
        column: usize,
    },
}

/// `bytes` as a `T`, refused when any object in it holds a key twice.
pub(crate) fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonFault> {
    let mut path = Vec::new();
    let mut duplicate = None;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let walked = Walk {
        path: &mut path,
        duplicate: &mut duplicate,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    match (walked, duplicate) {
        (Err(e), Some(path)) => Err(JsonFault::DuplicateKey {
            path,
            line: e.line(),
            column: e.column(),
        }),
        (Err(e), None) => Err(JsonFault::Serde(e)),
        (Ok(()), _) => serde_json::from_slice(bytes).map_err(JsonFault::Serde),
    }
}

/// One step of a path: an object's key or an array's index.
enum Step<'de> {
    Key(Cow<'de, str>),
    Index(usize),
}

/// `path` as text: `auths."registry.example.com".auth`-like, every key
/// quoted, escaped (R21) and cut, and any user info (`user:password@`)
/// replaced, as the import's report shows keys.
fn shown_path(path: &[Step<'_>]) -> String {
    let mut out = String::new();
    for (i, step) in path.iter().enumerate() {
        match step {
            Step::Index(n) => out.push_str(&format!("[{n}]")),
            Step::Key(key) => {
                if i > 0 {
                    out.push('.');
                }
                let key = crate::import::shown_key(key);
                let cut: String = key.chars().take(MAX_SHOWN_KEY).collect();
                out.push('"');
                out.push_str(&cut.escape_debug().to_string());
                if cut.len() < key.len() {
                    out.push('…');
                }
                out.push('"');
            }
        }
    }
    if out.is_empty() {
        out.push_str("(the document)");
    }
    out
}

/// Walks one value, refusing an object with a key twice. Scalars are
/// skipped without being kept.
struct Walk<'p, 'de> {
    path: &'p mut Vec<Step<'de>>,
    duplicate: &'p mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_, 'de> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            self.path.push(Step::Index(i));
            let item = seq.next_element_seed(Walk {
                path: self.path,
                duplicate: self.duplicate,
            });
            self.path.pop();
            if item?.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen: HashSet<Cow<'de, str>> = HashSet::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if seen.contains(&key) {
                self.path.push(Step::Key(key));
                *self.duplicate = Some(shown_path(self.path));
                return Err(de::Error::custom("a key appears twice in one object"));
            }
            seen.insert(key.clone());
            self.path.push(Step::Key(key));
            let value = map.next_value_seed(Walk {
                path: self.path,
                duplicate: self.duplicate,
            });
            self.path.pop();
            value?;
        }
        Ok(())
    }
}

/// A key, borrowed from the input when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(s))
    }

    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(json: &str) -> JsonFault {
        from_slice::<serde_json::Value>(json.as_bytes()).unwrap_err()
    }

    #[test]
    fn a_key_twice_anywhere_is_refused_with_its_path_and_place() {
        let cases = [
            (r#"{"auths": {}, "auths": {}}"#, r#""auths""#, 1),
            (
                "{\"auths\": {\n  \"r.example.com\": {\"auth\": \"a\"},\n  \"r.example.com\": {}}}",
                r#""auths"."r.example.com""#,
                3,
            ),
            (
                r#"{"auths": {"r.example.com": {"auth": "x", "auth": "y"}}}"#,
                r#""auths"."r.example.com"."auth""#,
                1,
            ),
            (r#"{"a": [{"b": 1}, {"b": 1, "b": 2}]}"#, r#""a"[1]."b""#, 1),
            (r#"{"a\u0062": 1, "ab": 2}"#, r#""ab""#, 1),
        ];
        for (json, want, want_line) in cases {
            match fault(json) {
                JsonFault::DuplicateKey { path, line, column } => {
                    assert_eq!(path, want, "{json}");
                    assert_eq!(line, want_line, "{json}");
                    assert!(column > 0, "{json}");
                }
                other => panic!("{json}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_path_never_shows_a_value_or_user_info_and_is_escaped_and_cut() {
        let long = "k".repeat(300);
        let json = format!(
            r#"{{"https://me:Hunter2@r.example.com": {{"x\u001b": "Hunter2", "x\u001b": "Hunter2"}}, "{long}": 1, "{long}": 2}}"#
        );
        let JsonFault::DuplicateKey { path, .. } = fault(&json) else {
            panic!()
        };
        assert_eq!(path, r#""https://<redacted>@r.example.com"."x\u{1b}""#);
        let JsonFault::DuplicateKey { path, .. } =
            fault(&format!(r#"{{"{long}": 1, "{long}": 2}}"#))
        else {
            panic!()
        };
        assert_eq!(path, format!("\"{}…\"", "k".repeat(MAX_SHOWN_KEY)));
    }

    #[test]
    fn distinct_keys_and_bad_json_are_not_duplicates() {
        let v: serde_json::Value =
            from_slice(br#"{"a": {"b": 1}, "b": {"a": [1, {"a": 2}]}, "c": [[], {}]}"#).unwrap();
        assert_eq!(v["b"]["a"][1]["a"], 2);
        for bad in ["", "{", r#"{"a": 1,}"#, "[1] 2", r#"{"a": nul}"#] {
            assert!(matches!(fault(bad), JsonFault::Serde(_)), "{bad}");
        }
        // Deep nesting ends in serde_json's recursion limit, not a crash.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(fault(&deep), JsonFault::Serde(_)));
    }
}
