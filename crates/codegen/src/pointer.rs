//! JSON pointers (RFC 6901) into the source document.

use std::fmt;

/// A pointer being built while walking the document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pointer(String);

impl Pointer {
    pub fn root() -> Self {
        Self(String::new())
    }

    /// Parses `#/a/b` or `/a/b`.
    pub fn parse(text: &str) -> Self {
        Self(text.trim_start_matches('#').to_string())
    }

    /// This pointer with one more segment.
    pub fn join(&self, segment: impl fmt::Display) -> Self {
        let segment = segment.to_string().replace('~', "~0").replace('/', "~1");
        Self(format!("{}/{}", self.0, segment))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}
