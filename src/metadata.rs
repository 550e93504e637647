//! Labels and annotations (R22), and label selectors over them (R23), as
//! the platform has them for every resource.
//!
//! - [`LabelKey`]: an optional prefix (a DNS subdomain of at most 253
//!   characters that contains a dot, each of its labels at most 63, then
//!   `/`) and a name of 1–63 characters of `[A-Za-z0-9._-]` that starts and
//!   ends with a letter or digit. The prefix `cloudfoundry.org` (any case)
//!   is reserved. Annotation keys are label keys.
//! - [`LabelValue`]: empty, or the name's form, at most 63 characters.
//! - annotation values: at most 5,000 characters.
//! - [`Metadata`]: at most 50 labels and 200 annotations, merged as a PATCH
//!   merges them ([`Metadata::merge`]: a `None` value removes a key).
//! - [`Selector`]: requirements joined by `,`, each `k=v`, `k==v`, `k!=v`,
//!   `k in (v1,v2)`, `k notin (v1,v2)`, `k` or `!k`, matched as Kubernetes
//!   matches them ([`Selector::matches`]).
//!
//! Every check is a pure function of its input: no error message repeats
//! more than a quoted, escaped piece of it.
//!
//! ```
//! use registry_credentials::metadata::{Metadata, MetadataPatch, Selector};
//! let mut meta = Metadata::default();
//! meta.merge(&MetadataPatch::labels([("env", Some("prod")), ("team.example.com/owner", Some("ci"))]))?;
//! let selector: Selector = "env in (prod,staging),team.example.com/owner,!deprecated".parse()?;
//! assert!(selector.matches(meta.labels()));
//! assert!(!"env!=prod".parse::<Selector>()?.matches(meta.labels()));
//! meta.merge(&MetadataPatch::labels([("env", None)]))?;
//! assert!(meta.labels().is_empty() == false && meta.label("env").is_none());
//! # Ok::<(), registry_credentials::metadata::MetadataError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The longest label name or value (R22).
pub const MAX_NAME_LEN: usize = 63;
/// The longest key prefix (R22).
pub const MAX_PREFIX_LEN: usize = 253;
/// The longest annotation value, in characters (R22).
pub const MAX_ANNOTATION_LEN: usize = 5000;
/// The most labels a credential carries (R22).
pub const MAX_LABELS: usize = 50;
/// The most annotations a credential carries (R22).
pub const MAX_ANNOTATIONS: usize = 200;
/// The most requirements in a selector (R23).
pub const MAX_REQUIREMENTS: usize = 50;
/// The reserved key prefix (R22), compared without regard to case.
pub const RESERVED_PREFIX: &str = "cloudfoundry.org";

/// The most characters of an input an error quotes.
const QUOTED: usize = 64;

/// Why a key, a value, a patch or a selector was refused (R22, R23).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// A key is not an optional prefix and `/` then a name.
    #[error("the key {given} is not valid: {why}")]
    Key {
        /// The key, quoted and escaped.
        given: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A label value is not empty or a name.
    #[error("the label value {given} is not valid: {why}")]
    LabelValue {
        /// The value, quoted and escaped.
        given: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// An annotation value is too long.
    #[error(
        "the annotation value for {key} has {len} characters, more than the {MAX_ANNOTATION_LEN} allowed"
    )]
    AnnotationTooLong {
        /// Its key.
        key: String,
        /// Its length in characters.
        len: usize,
    },
    /// A patch would leave too many labels or annotations.
    #[error("{what} would be {count}, more than the {max} allowed; remove some in the same change")]
    TooMany {
        /// `labels` or `annotations`.
        what: &'static str,
        /// How many there would be.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A selector is not one this crate reads.
    #[error("the label selector {given} is not valid: {why}")]
    Selector {
        /// The selector, quoted and escaped.
        given: String,
        /// What is wrong with it.
        why: String,
    },
}

/// `s` quoted and escaped, cut to [`QUOTED`] characters.
fn quoted(s: &str) -> String {
    let mut cut: String = s.chars().take(QUOTED).collect();
    if cut.len() < s.len() {
        cut.push('…');
    }
    format!("`{}`", cut.escape_debug())
}

/// Whether `s` is a name: 1–63 characters of `[A-Za-z0-9._-]`, starting
/// and ending with a letter or digit; `Err` says why not.
fn check_name(s: &str) -> Result<(), &'static str> {
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (None, _) | (_, None) => Err("the name is empty"),
        _ if bytes.len() > MAX_NAME_LEN => Err("the name is longer than 63 characters"),
        _ if !bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) =>
        {
            Err("a name has only letters, digits, `.`, `_` and `-`")
        }
        (Some(first), Some(last))
            if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() =>
        {
            Err("a name starts and ends with a letter or digit")
        }
        _ => Ok(()),
    }
}

/// Whether `s` is a key prefix: a DNS subdomain of at most 253 characters
/// with a dot, each label 1–63 of `[A-Za-z0-9-]` starting and ending with
/// a letter or digit, and not the reserved one.
fn check_prefix(s: &str) -> Result<(), &'static str> {
    if s.len() > MAX_PREFIX_LEN {
        return Err("the prefix is longer than 253 characters");
    }
    if !s.contains('.') {
        return Err("the prefix is a DNS name with a dot, such as `example.com`");
    }
    for label in s.split('.') {
        let bytes = label.as_bytes();
        let ok = !bytes.is_empty()
            && bytes.len() <= MAX_NAME_LEN
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && bytes[0].is_ascii_alphanumeric()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric();
        if !ok {
            return Err(
                "each label of the prefix is 1-63 letters, digits and `-`, starting and ending with a letter or digit",
            );
        }
    }
    if s.eq_ignore_ascii_case(RESERVED_PREFIX) {
        return Err("the prefix `cloudfoundry.org` is reserved");
    }
    Ok(())
}

/// A label or annotation key (R22): `[PREFIX/]NAME`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LabelKey(Box<str>);

impl LabelKey {
    /// Checks a key.
    ///
    /// # Errors
    ///
    /// [`MetadataError::Key`] saying what is wrong.
    pub fn new(key: &str) -> Result<Self, MetadataError> {
        let refuse = |why| MetadataError::Key {
            given: quoted(key),
            why,
        };
        let name = match key.split_once('/') {
            Some((prefix, name)) => {
                check_prefix(prefix).map_err(refuse)?;
                name
            }
            None => key,
        };
        check_name(name).map_err(refuse)?;
        Ok(LabelKey(key.into()))
    }
}

crate::macros::string_accessors! {
    /// The key.
    LabelKey
}

/// A key is ordered and compared as its text, so maps of keys are looked
/// up by `&str`.
impl std::borrow::Borrow<str> for LabelKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl FromStr for LabelKey {
    type Err = MetadataError;
    fn from_str(s: &str) -> Result<Self, MetadataError> {
        Self::new(s)
    }
}

/// A label value (R22): empty, or a name.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LabelValue(Box<str>);

impl LabelValue {
    /// Checks a label value.
    ///
    /// # Errors
    ///
    /// [`MetadataError::LabelValue`] saying what is wrong.
    pub fn new(value: &str) -> Result<Self, MetadataError> {
        if !value.is_empty() {
            check_name(value).map_err(|why| MetadataError::LabelValue {
                given: quoted(value),
                why,
            })?;
        }
        Ok(LabelValue(value.into()))
    }
}

crate::macros::string_accessors! {
    /// The value.
    LabelValue
}

/// A change to metadata, as a PATCH body's `metadata` gives it: each key
/// with a value to set, or `None` to remove it (R22).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataPatch {
    labels: Vec<(String, Option<String>)>,
    annotations: Vec<(String, Option<String>)>,
}

impl MetadataPatch {
    /// A patch of labels alone.
    pub fn labels<'a>(labels: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> Self {
        MetadataPatch {
            labels: owned(labels),
            annotations: Vec::new(),
        }
    }

    /// A patch of annotations alone.
    pub fn annotations<'a>(
        annotations: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) -> Self {
        MetadataPatch {
            labels: Vec::new(),
            annotations: owned(annotations),
        }
    }

    /// This patch, with `annotations` too.
    #[must_use]
    pub fn with_annotations<'a>(
        mut self,
        annotations: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) -> Self {
        self.annotations.extend(owned(annotations));
        self
    }
}

fn owned<'a>(
    pairs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Vec<(String, Option<String>)> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.map(str::to_owned)))
        .collect()
}

/// A credential's labels and annotations (R22).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    labels: BTreeMap<LabelKey, LabelValue>,
    annotations: BTreeMap<LabelKey, Box<str>>,
}

impl Metadata {
    /// No labels and no annotations.
    pub const EMPTY: Metadata = Metadata {
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
    };

    /// True when it has no labels and no annotations.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.annotations.is_empty()
    }

    /// The labels, by key.
    pub fn labels(&self) -> &BTreeMap<LabelKey, LabelValue> {
        &self.labels
    }

    /// The label at `key`.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(LabelValue::as_str)
    }

    /// The annotations, by key.
    pub fn annotations(&self) -> impl Iterator<Item = (&LabelKey, &str)> {
        self.annotations.iter().map(|(k, v)| (k, &**v))
    }

    /// Applies `patch` as a PATCH does (R22): each key set or, with
    /// `None`, removed; keys not named stay. All of it or none: on an
    /// error nothing changes.
    ///
    /// # Errors
    ///
    /// [`MetadataError`] naming the first key or value refused, or
    /// [`MetadataError::TooMany`] when the result would exceed 50 labels or
    /// 200 annotations.
    pub fn merge(&mut self, patch: &MetadataPatch) -> Result<(), MetadataError> {
        let mut labels = self.labels.clone();
        for (key, value) in &patch.labels {
            let key = LabelKey::new(key)?;
            match value {
                Some(v) => labels.insert(key, LabelValue::new(v)?),
                None => labels.remove(&key),
            };
        }
        let mut annotations = self.annotations.clone();
        for (key, value) in &patch.annotations {
            let key = LabelKey::new(key)?;
            match value {
                Some(v) => {
                    let len = v.chars().count();
                    if len > MAX_ANNOTATION_LEN {
                        return Err(MetadataError::AnnotationTooLong {
                            key: quoted(key.as_str()),
                            len,
                        });
                    }
                    annotations.insert(key, v.as_str().into())
                }
                None => annotations.remove(&key),
            };
        }
        for (what, count, max) in [
            ("labels", labels.len(), MAX_LABELS),
            ("annotations", annotations.len(), MAX_ANNOTATIONS),
        ] {
            if count > max {
                return Err(MetadataError::TooMany { what, count, max });
            }
        }
        self.labels = labels;
        self.annotations = annotations;
        Ok(())
    }
}

/// One requirement of a [`Selector`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// `k=v`, `k==v`, `k in (…)`: the label with one of the values.
    In(LabelKey, Vec<LabelValue>),
    /// `k!=v`, `k notin (…)`: the label absent, or with another value.
    NotIn(LabelKey, Vec<LabelValue>),
    /// `k`: the label, with any value.
    Exists(LabelKey),
    /// `!k`: no such label.
    Absent(LabelKey),
}

impl Requirement {
    /// Whether `labels` meet it (R23, as Kubernetes reads it).
    pub fn matches(&self, labels: &BTreeMap<LabelKey, LabelValue>) -> bool {
        match self {
            Requirement::In(k, values) => labels.get(k).is_some_and(|v| values.contains(v)),
            Requirement::NotIn(k, values) => labels.get(k).is_none_or(|v| !values.contains(v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::Absent(k) => !labels.contains_key(k),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |values: &[LabelValue]| {
            values
                .iter()
                .map(LabelValue::as_str)
                .collect::<Vec<_>>()
                .join(",")
        };
        match self {
            Requirement::In(k, v) if v.len() == 1 => write!(f, "{k}={}", v[0]),
            Requirement::In(k, v) => write!(f, "{k} in ({})", list(v)),
            Requirement::NotIn(k, v) if v.len() == 1 => write!(f, "{k}!={}", v[0]),
            Requirement::NotIn(k, v) => write!(f, "{k} notin ({})", list(v)),
            Requirement::Exists(k) => write!(f, "{k}"),
            Requirement::Absent(k) => write!(f, "!{k}"),
        }
    }
}

/// A label selector (R23): requirements that must all hold.
///
/// Its `Display` writes it back in the form it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

impl Selector {
    /// Reads a selector (R23).
    ///
    /// # Errors
    ///
    /// [`MetadataError::Selector`] saying what is wrong and where; a key or
    /// value refused names R22's rule.
    pub fn parse(text: &str) -> Result<Self, MetadataError> {
        let refuse = |why: String| MetadataError::Selector {
            given: quoted(text),
            why,
        };
        let mut requirements = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let (requirement, after) = requirement(rest).map_err(&refuse)?;
            if let Some(r) = requirement {
                if requirements.len() == MAX_REQUIREMENTS {
                    return Err(refuse(format!(
                        "it has more than {MAX_REQUIREMENTS} requirements"
                    )));
                }
                requirements.push(r);
            }
            rest = after;
        }
        if requirements.is_empty() {
            return Err(refuse(
                "it is empty; give requirements such as `env=prod`".to_owned(),
            ));
        }
        Ok(Selector { requirements })
    }

    /// Its requirements, in order.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether `labels` meet every requirement.
    pub fn matches(&self, labels: &BTreeMap<LabelKey, LabelValue>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }
}

/// The first requirement of `text` (`None` for an empty one between
/// commas) and what follows its comma.
fn requirement(text: &str) -> Result<(Option<Requirement>, &str), String> {
    if let Some(after) = text.strip_prefix(',') {
        return Ok((None, after));
    }
    let key = |k: &str| LabelKey::new(k).map_err(|e| e.to_string());
    let value = |v: &str| LabelValue::new(v).map_err(|e| e.to_string());
    let end_of = |s: &str| s.find(',').unwrap_or(s.len());
    if let Some(negated) = text.strip_prefix('!') {
        let end = end_of(negated);
        let (k, rest) = negated.split_at(end);
        return Ok((Some(Requirement::Absent(key(k)?)), skip_comma(rest)));
    }
    let key_end = text
        .find(['=', '!', ' ', ',', '(', ')'])
        .unwrap_or(text.len());
    let (k, rest) = text.split_at(key_end);
    if k.is_empty() {
        return Err(format!(
            "a requirement starts with a key, not {}",
            quoted(&rest[..rest.len().min(1)])
        ));
    }
    let k = key(k)?;
    for (op, set) in [(" in (", true), (" notin (", false)] {
        if let Some(list) = rest.strip_prefix(op) {
            let close = list
                .find(')')
                .ok_or_else(|| format!("`{}` has no closing `)`", op.trim()))?;
            let values = list[..close]
                .split(',')
                .map(value)
                .collect::<Result<Vec<_>, _>>()?;
            let after = &list[close + 1..];
            if !(after.is_empty() || after.starts_with(',')) {
                return Err("a `)` ends its requirement; join requirements with `,`".to_owned());
            }
            let r = if set {
                Requirement::In(k, values)
            } else {
                Requirement::NotIn(k, values)
            };
            return Ok((Some(r), skip_comma(after)));
        }
    }
    let (equal, rest) = if let Some(v) = rest.strip_prefix("==") {
        (true, v)
    } else if let Some(v) = rest.strip_prefix("!=") {
        (false, v)
    } else if let Some(v) = rest.strip_prefix('=') {
        (true, v)
    } else if rest.is_empty() || rest.starts_with(',') {
        return Ok((Some(Requirement::Exists(k)), skip_comma(rest)));
    } else {
        return Err(format!(
            "after the key {} comes `=`, `==`, `!=`, ` in (` or ` notin (`, with no other white space",
            quoted(k.as_str())
        ));
    };
    let end = end_of(rest);
    let (v, after) = rest.split_at(end);
    let values = vec![value(v)?];
    let r = if equal {
        Requirement::In(k, values)
    } else {
        Requirement::NotIn(k, values)
    };
    Ok((Some(r), skip_comma(after)))
}

fn skip_comma(s: &str) -> &str {
    s.strip_prefix(',').unwrap_or(s)
}

impl FromStr for Selector {
    type Err = MetadataError;
    fn from_str(s: &str) -> Result<Self, MetadataError> {
        Self::parse(s)
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<LabelKey, LabelValue> {
        pairs
            .iter()
            .map(|(k, v)| (LabelKey::new(k).unwrap(), LabelValue::new(v).unwrap()))
            .collect()
    }

    #[test]
    fn r22_label_keys_follow_the_platform_rules() {
        for ok in [
            "env",
            "a",
            "a.b_c-d",
            "example.com/env",
            "sub.example.com/A1",
            &format!("{}.com/x", "a".repeat(63)),
            &"n".repeat(63),
        ] {
            assert!(LabelKey::new(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("", "empty"),
            ("-env", "starts and ends"),
            ("env.", "starts and ends"),
            ("e nv", "only letters"),
            ("a.com/x/y", "only letters"),
            ("example/env", "with a dot"),
            ("/env", "with a dot"),
            ("cloudfoundry.org/env", "reserved"),
            ("CloudFoundry.ORG/env", "reserved"),
            ("ex_ample.com/env", "each label"),
            ("-a.com/env", "each label"),
            ("a..com/env", "each label"),
            (&"n".repeat(64), "longer than 63"),
            (&format!("{}.com/x", "a".repeat(64)), "each label"),
        ] {
            let e = LabelKey::new(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        let long_prefix = format!("{}.com/x", vec!["a".repeat(60); 5].join("."));
        assert!(
            LabelKey::new(&long_prefix)
                .unwrap_err()
                .to_string()
                .contains("253")
        );
        assert!(LabelKey::new("foo.cloudfoundry.org/env").is_ok());
    }

    #[test]
    fn r22_label_values_are_empty_or_a_name() {
        assert!(LabelValue::new("").is_ok());
        assert!(LabelValue::new("v1.2_x-y").is_ok());
        for bad in ["-v", "v-", "a b", "a/b", &"v".repeat(64)] {
            assert!(LabelValue::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn r22_merge_sets_removes_and_refuses_whole() {
        let mut m = Metadata::default();
        m.merge(
            &MetadataPatch::labels([("env", Some("prod")), ("tier", Some(""))])
                .with_annotations([("note", Some("free text, with spaces"))]),
        )
        .unwrap();
        assert_eq!(m.label("env"), Some("prod"));
        assert_eq!(m.label("tier"), Some(""));
        m.merge(&MetadataPatch::labels([("env", None), ("new", Some("x"))]))
            .unwrap();
        assert_eq!(m.label("env"), None);
        assert_eq!(m.label("tier"), Some(""), "keys not named stay");
        let before = m.clone();
        let e = m
            .merge(&MetadataPatch::labels([
                ("ok", Some("y")),
                ("bad key", Some("z")),
            ]))
            .unwrap_err();
        assert!(matches!(e, MetadataError::Key { .. }));
        assert_eq!(m, before, "a refused patch changes nothing");
        let long = "é".repeat(MAX_ANNOTATION_LEN);
        m.merge(&MetadataPatch::annotations([("long", Some(long.as_str()))]))
            .unwrap();
        let longer = format!("{long}x");
        assert!(matches!(
            m.merge(&MetadataPatch::annotations([(
                "long",
                Some(longer.as_str())
            )])),
            Err(MetadataError::AnnotationTooLong { len: 5001, .. })
        ));
        let keys: Vec<String> = (0..=MAX_LABELS).map(|i| format!("k{i}")).collect();
        let e = Metadata::default()
            .merge(&MetadataPatch::labels(
                keys.iter().map(|k| (k.as_str(), Some("v"))),
            ))
            .unwrap_err();
        assert_eq!(
            e,
            MetadataError::TooMany {
                what: "labels",
                count: 51,
                max: 50
            }
        );
    }

    #[test]
    fn r23_selectors_match_as_kubernetes_reads_them() {
        let l = labels(&[("env", "prod"), ("tier", ""), ("example.com/team", "ci")]);
        let cases = [
            ("env=prod", true),
            ("env==prod", true),
            ("env=dev", false),
            ("env!=dev", true),
            ("env!=prod", false),
            ("missing!=x", true),
            ("env in (dev,prod)", true),
            ("env in (dev,qa)", false),
            ("missing in (x)", false),
            ("env notin (dev,qa)", true),
            ("env notin (prod)", false),
            ("missing notin (x)", true),
            ("env", true),
            ("missing", false),
            ("!missing", true),
            ("!env", false),
            ("tier=", true),
            ("env=", false),
            ("example.com/team=ci,env,!gone", true),
            ("env=prod,env=dev", false),
            (",,env=prod,,", true),
        ];
        for (text, want) in cases {
            let s: Selector = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(s.matches(&l), want, "{text}");
        }
    }

    #[test]
    fn r23_malformed_selectors_say_why() {
        for (bad, why) in [
            ("", "empty"),
            (",,", "empty"),
            ("env = prod", "no other white space"),
            ("env  in (a)", "no other white space"),
            ("env in(a)", "no other white space"),
            ("env in (a, b)", "not valid"),
            ("env in (a", "closing"),
            ("env in (a)x", "join requirements"),
            ("=prod", "starts with a key"),
            ("env=pr od", "not valid"),
            ("cloudfoundry.org/x=1", "reserved"),
            ("!", "empty"),
        ] {
            let e = bad.parse::<Selector>().unwrap_err().to_string();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        let many = (0..=MAX_REQUIREMENTS)
            .map(|i| format!("k{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let e = many.parse::<Selector>().unwrap_err().to_string();
        assert!(e.contains("more than 50"), "{e}");
    }

    #[test]
    fn r23_a_selector_writes_back_as_it_reads() {
        for text in [
            "env=prod",
            "env!=prod",
            "env in (a,b)",
            "env notin (a,b)",
            "env",
            "!env",
            "a=1,b!=2,c in (3,4),!d,e",
            "tier=",
        ] {
            let s: Selector = text.parse().unwrap();
            assert_eq!(s.to_string(), text);
            assert_eq!(s.to_string().parse::<Selector>().unwrap(), s);
        }
    }
}
