//! What several types share, written once: the conversions of every
//! checked string type (one validator behind `FromStr`, `TryFrom<&str>`,
//! `TryFrom<String>` and serde's reading, and serde writing `as_str()`)
//! and its accessors (`as_str()`, `Display`, `Debug`), builder setters,
//! the error type of each parser of the shared grammar, and the names of
//! fieldless enums (one table behind a name method and `Display`).

macro_rules! checked_string_conversions {
    ($ty:ty, $err:ty, $parse:path) => {
        impl ::std::str::FromStr for $ty {
            type Err = $err;
            fn from_str(s: &str) -> Result<Self, $err> {
                $parse(s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = $err;
            fn try_from(s: &str) -> Result<Self, $err> {
                $parse(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = $err;
            fn try_from(s: String) -> Result<Self, $err> {
                $parse(&s)
            }
        }

        #[cfg(feature = "serde")]
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        /// Reads a string and validates it as parsing does.
        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use checked_string_conversions;

/// `as_str()`, `Display` (the text as it is) and `Debug` (`Type("text")`)
/// of a checked string type that holds its text in its one field; the doc
/// of `as_str` comes first.
macro_rules! string_accessors {
    ($(#[$doc:meta])* $ty:ident) => {
        impl $ty {
            $(#[$doc])*
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, concat!(stringify!($ty), "({:?})"), &*self.0)
            }
        }
    };
}

pub(crate) use string_accessors;

/// Builder methods that each take `self`, set a field and return `self`:
/// `name(arg: Type) => field = value;`, each led by its doc.
macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident($arg:ident: $t:ty) => $field:ident = $value:expr;)*) => {$(
        $(#[$doc])*
        #[must_use]
        pub fn $name(mut self, $arg: $t) -> Self {
            self.$field = $value;
            self
        }
    )*};
}

pub(crate) use setters;

/// `ALL`, `$method` (`as_str`, or the name given) and `Display` for a
/// fieldless enum, from one table of each variant's name: the doc of
/// `ALL` first, then the method's, then `Type::method { Variant => "name",
/// … }`, in the order `ALL` lists them. With `parse: Error` after the
/// table it also gets `FromStr`, which refuses any other name with
/// `Error::unknown(given)`.
macro_rules! enum_names {
    (
        $(#[$all_doc:meta])*
        ALL,
        $(#[$doc:meta])*
        $ty:ident::$method:ident { $($variant:ident => $name:literal,)+ }
        $(parse: $err:ident)?
    ) => {
        impl $ty {
            $(#[$all_doc])*
            pub const ALL: [$ty; [$($name),+].len()] = [$($ty::$variant),+];

            $(#[$doc])*
            pub const fn $method(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.$method())
            }
        }

        $(
            impl ::std::str::FromStr for $ty {
                type Err = $err;
                fn from_str(s: &str) -> Result<Self, $err> {
                    Self::ALL
                        .into_iter()
                        .find(|v| v.$method() == s)
                        .ok_or_else(|| $err::unknown(s))
                }
            }
        )?
    };
}

pub(crate) use enum_names;

/// The error type of a parser of the shared grammar, written once for
/// [`LocationError`](crate::location::LocationError) and
/// [`ReferenceError`](crate::reference::ReferenceError): its kind
/// (`$kind`, an enum with a `Syntax(Fault)` variant, which gets a
/// `fault()` accessor), the byte offset of the fault, and a corrected
/// input where one can be worked out. `$message` is the `Display` format,
/// which names the input and reads `position`, `kind` and the hint.
macro_rules! syntax_error {
    ($(#[$doc:meta])* $name:ident($kind:ident), $message:literal) => {
        impl $kind {
            /// The shared grammar's fault, when this kind is one.
            pub fn fault(&self) -> Option<$crate::syntax::Fault> {
                match self {
                    $kind::Syntax(f) => Some(*f),
                    _ => None,
                }
            }
        }

        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[error($message, $crate::reference::error::Hint(hint))]
        pub struct $name {
            kind: $kind,
            position: usize,
            hint: Option<Box<str>>,
        }

        impl $name {
            pub(crate) fn new(kind: impl Into<$kind>, position: usize) -> Self {
                $name {
                    kind: kind.into(),
                    position,
                    hint: None,
                }
            }

            pub(crate) fn with_hint(mut self, hint: impl Into<Box<str>>) -> Self {
                self.hint = Some(hint.into());
                self
            }

            /// What is wrong.
            pub fn kind(&self) -> &$kind {
                &self.kind
            }

            /// The byte offset in the input where the fault was found.
            pub fn position(&self) -> usize {
                self.position
            }

            /// A corrected input, where one can be worked out.
            pub fn hint(&self) -> Option<&str> {
                self.hint.as_deref()
            }
        }
    };
}
pub(crate) use syntax_error;
