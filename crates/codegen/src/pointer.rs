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
        Self(format!("{}/{}", self.0, escape(&segment.to_string())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The segments, unescaped.
    pub fn segments(&self) -> Vec<String> {
        self.0
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect()
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One JSON pointer segment, escaped (`~` as `~0`, `/` as `~1`).
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Follows local `$ref`s (`#/...`) from `node` to the node they name, stopping at the first
/// one that does not resolve and after 16 hops (a cycle). For comparing documents that have
/// already been checked; [`crate::model`] reports bad references with their pointers instead.
pub fn resolve_local<'v>(
    document: &'v serde_json::Value,
    node: &'v serde_json::Value,
) -> &'v serde_json::Value {
    let mut node = node;
    for _ in 0..16 {
        let target = node
            .get("$ref")
            .and_then(serde_json::Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| document.pointer(p));
        match target {
            Some(target) => node = target,
            None => break,
        }
    }
    node
}
