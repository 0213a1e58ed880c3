//! Reading a spec: YAML syntax, then the OpenAPI shape, then the constructs we support.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::pointer::Pointer;

/// A loaded OpenAPI document.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Where it came from, as the user named it.
    pub path: PathBuf,
    /// The document as progenitor reads it.
    pub doc: openapiv3::OpenAPI,
    /// The same document as plain JSON, for walking with pointers.
    pub raw: Value,
}

/// Everything that can be wrong with a spec. Every variant names the file; all but I/O and
/// syntax errors name the JSON pointer of the offending node.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: YAML syntax error: {message}", path.display())]
    Syntax { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{}{pointer}: {message}", path.display())]
    Invalid { path: PathBuf, pointer: String, message: String },
    #[error("{}{pointer}: {message}\n  hint: {hint}", path.display())]
    Unsupported { path: PathBuf, pointer: String, message: String, hint: String },
    #[error("{}: {message}", path.display())]
    Generator { path: PathBuf, message: String },
}

impl SpecError {
    pub(crate) fn invalid(spec_path: &Path, pointer: &Pointer, message: impl Into<String>) -> Self {
        Self::Invalid {
            path: spec_path.to_path_buf(),
            pointer: pointer.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn unsupported(
        spec_path: &Path,
        pointer: &Pointer,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::Unsupported {
            path: spec_path.to_path_buf(),
            pointer: pointer.to_string(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// The JSON pointer this error names, if any (`#/paths/...`).
    pub fn pointer(&self) -> Option<&str> {
        match self {
            Self::Invalid { pointer, .. } | Self::Unsupported { pointer, .. } => Some(pointer),
            _ => None,
        }
    }
}

/// Reads and checks the spec at `path`.
pub fn load(path: &Path) -> Result<Spec, SpecError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| SpecError::Io { path: path.to_path_buf(), source })?;
    load_str(path, &text)
}

/// Checks a spec given as text; `path` only labels messages.
pub fn load_str(path: &Path, text: &str) -> Result<Spec, SpecError> {
    let yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|error| {
        let location = error.location();
        SpecError::Syntax {
            path: path.to_path_buf(),
            line: location.as_ref().map_or(0, |l| l.line()),
            column: location.as_ref().map_or(0, |l| l.column()),
            message: strip_location(&error.to_string()),
        }
    })?;
    let raw: Value = serde_json::to_value(&yaml).map_err(|error| {
        SpecError::invalid(path, &Pointer::root(), format!("not representable as JSON: {error}"))
    })?;
    if !raw.is_object() {
        return Err(SpecError::invalid(path, &Pointer::root(), "the document must be a mapping"));
    }
    check_version(path, &raw)?;
    let doc: openapiv3::OpenAPI = serde_path_to_error::deserialize(raw.clone()).map_err(|error| {
        let mut pointer = Pointer::root();
        for segment in error.path().iter() {
            pointer = match segment {
                serde_path_to_error::Segment::Seq { index } => pointer.join(index),
                serde_path_to_error::Segment::Map { key } => pointer.join(key),
                serde_path_to_error::Segment::Enum { variant } => pointer.join(variant),
                serde_path_to_error::Segment::Unknown => pointer,
            };
        }
        SpecError::invalid(path, &pointer, format!("not a valid OpenAPI 3.0 node: {}", error.inner()))
    })?;
    Ok(Spec { path: path.to_path_buf(), doc, raw })
}

fn check_version(path: &Path, raw: &Value) -> Result<(), SpecError> {
    let pointer = Pointer::root().join("openapi");
    match raw.get("openapi").and_then(Value::as_str) {
        Some(version) if version.starts_with("3.0.") => Ok(()),
        Some(version) => Err(SpecError::unsupported(
            path,
            &pointer,
            format!("OpenAPI {version} is not supported"),
            "progenitor reads OpenAPI 3.0.x only: write `openapi: 3.0.3` and use 3.0 constructs \
             (`nullable: true` rather than type arrays)",
        )),
        None => Err(SpecError::invalid(
            path,
            &pointer,
            "missing `openapi` version string (expected `openapi: 3.0.3`)",
        )),
    }
}

/// serde_yaml appends " at line L column C" to messages; we print the location up front.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message.to_string(),
    }
}
