//! Reading a spec: YAML syntax, then the OpenAPI shape, then the constructs we support.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::Segment;

use crate::openapi31;
use crate::pointer::Pointer;
use crate::source::{self, Document, Format, Position, ReadError};

/// A loaded OpenAPI document.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Where it came from, as the user named it.
    pub path: PathBuf,
    /// The document as progenitor reads it.
    pub doc: openapiv3::OpenAPI,
    /// The same document as plain JSON, for walking with pointers.
    pub raw: Value,
    /// The source text, for locating the nodes that messages name.
    pub text: String,
    /// Where each node of `raw` was written in `text`.
    document: Document,
    /// What reading it found suspect (an OpenAPI 3.1 keyword dropped), each at its node.
    pub notes: Vec<(Pointer, String)>,
    /// For a document derived from the one written ([`Spec::derived`]): the subtrees it moved,
    /// as (pointer here, pointer in the source), so that messages name where they were written.
    moved: Vec<(Pointer, Pointer)>,
}

impl Spec {
    /// The `openapi` version the document was written in (`raw` is 3.0.3 for a 3.1 document).
    pub fn source_version(&self) -> Option<&str> {
        self.document.value.get("openapi").and_then(Value::as_str)
    }

    /// JSON or YAML, as the document was written.
    pub fn format(&self) -> Format {
        self.document.format
    }

    /// Another document made from this one (`raw`), whose subtrees `moved` stand, in the
    /// source, where the second pointer of each pair says: its messages name the source's
    /// lines and pointers. Fails, naming the node, where `raw` is not OpenAPI 3.0.
    pub(crate) fn derived(
        &self,
        raw: Value,
        moved: Vec<(Pointer, Pointer)>,
    ) -> Result<Spec, SpecError> {
        let mut spec = Spec {
            path: self.path.clone(),
            doc: self.doc.clone(),
            raw,
            text: self.text.clone(),
            document: self.document.clone(),
            notes: Vec::new(),
            moved,
        };
        spec.doc = shape(&spec.raw, &Pointer::root()).map_err(|(pointer, message)| {
            let (pointer, message) = refine(&spec.raw, pointer, message);
            SpecError::invalid(
                &spec,
                &pointer,
                format!("not a valid OpenAPI 3.0 node: {message}"),
            )
        })?;
        Ok(spec)
    }
}

/// Something that can say where a node named by a JSON pointer was written: a spec, or a
/// document derived from one that maps its pointers back.
pub(crate) trait Locate {
    /// The spec's path, as messages show it.
    fn path(&self) -> &Path;
    /// The pointer into the source document that `pointer` stands for (the same pointer unless
    /// the node was moved), and its position in the source text.
    fn origin(&self, pointer: &Pointer) -> (Pointer, Option<Position>);
}

impl Locate for Spec {
    fn path(&self) -> &Path {
        &self.path
    }

    fn origin(&self, pointer: &Pointer) -> (Pointer, Option<Position>) {
        let source = self
            .moved
            .iter()
            .find_map(|(here, there)| {
                let rest = pointer.as_str().strip_prefix(here.as_str())?;
                (rest.is_empty() || rest.starts_with('/'))
                    .then(|| Pointer::parse(&format!("{}{rest}", there.as_str())))
            })
            .unwrap_or_else(|| pointer.clone());
        let position = self.document.locate(&self.text, source.as_str());
        (source, position)
    }
}

/// A document being loaded, before it is a [`Spec`].
struct Reading<'a> {
    path: &'a Path,
    text: &'a str,
    document: &'a Document,
}

impl Locate for Reading<'_> {
    fn path(&self) -> &Path {
        self.path
    }

    fn origin(&self, pointer: &Pointer) -> (Pointer, Option<Position>) {
        (
            pointer.clone(),
            self.document.locate(self.text, pointer.as_str()),
        )
    }
}

/// Everything that can be wrong with a spec. Every variant names the file; all but I/O and
/// syntax errors name the JSON pointer of the offending node, and its line and column when the
/// block-style YAML source can be walked to it (best effort: see [`Position`]).
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: YAML syntax error: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: {message}", origin(path, pointer, *position))]
    Invalid {
        path: PathBuf,
        pointer: String,
        position: Option<Position>,
        message: String,
    },
    #[error("{}: {message}\n  hint: {hint}", origin(path, pointer, *position))]
    Unsupported {
        path: PathBuf,
        pointer: String,
        position: Option<Position>,
        message: String,
        hint: String,
    },
    #[error("{}: {message}", path.display())]
    Generator { path: PathBuf, message: String },
}

impl SpecError {
    /// A node that breaks a rule of OpenAPI or of this generator.
    pub(crate) fn invalid(
        source: &(impl Locate + ?Sized),
        pointer: &Pointer,
        message: impl Into<String>,
    ) -> Self {
        let (pointer, position) = source.origin(pointer);
        Self::Invalid {
            path: source.path().to_path_buf(),
            pointer: pointer.to_string(),
            position,
            message: message.into(),
        }
    }

    /// A valid construct the generator cannot express, with a hint at what to write instead.
    pub(crate) fn unsupported(
        source: &(impl Locate + ?Sized),
        pointer: &Pointer,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        let (pointer, position) = source.origin(pointer);
        Self::Unsupported {
            path: source.path().to_path_buf(),
            pointer: pointer.to_string(),
            position,
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

    /// Where in the source text the error is, if known: the syntax error's location, or the
    /// node the pointer names.
    pub fn position(&self) -> Option<Position> {
        match self {
            Self::Syntax { line, column, .. } if *line > 0 => Some(Position {
                line: *line,
                column: *column,
            }),
            Self::Invalid { position, .. } | Self::Unsupported { position, .. } => *position,
            _ => None,
        }
    }
}

/// `file:line:column (#/pointer)` when the node was located, `file#/pointer` otherwise.
fn origin(path: &Path, pointer: &str, position: Option<Position>) -> String {
    match position {
        Some(position) => format!("{}:{position} ({pointer})", path.display()),
        None => format!("{}{pointer}", path.display()),
    }
}

/// Reads and checks the spec at `path`.
pub fn load(path: &Path) -> Result<Spec, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|source| SpecError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    load_str(path, &text)
}

/// Checks a spec given as text; `path` labels messages and, by its extension, says whether the
/// text is JSON or YAML.
pub fn load_str(path: &Path, text: &str) -> Result<Spec, SpecError> {
    let document = source::read(text, Format::of(path, text)).map_err(|error| match error {
        ReadError::Syntax { position, message } => SpecError::Syntax {
            path: path.to_path_buf(),
            line: position.line,
            column: position.column,
            message,
        },
        ReadError::Node {
            pointer,
            position,
            message,
        } => SpecError::Invalid {
            path: path.to_path_buf(),
            pointer: pointer.to_string(),
            position,
            message,
        },
    })?;
    let reading = Reading {
        path,
        text,
        document: &document,
    };
    let raw = &document.value;
    if !raw.is_object() {
        return Err(SpecError::invalid(
            &reading,
            &Pointer::root(),
            "the document must be a mapping",
        ));
    }
    let mut raw = raw.clone();
    let notes = match check_version(&reading, &raw)? {
        Version::V30 => Vec::new(),
        Version::V31 => openapi31::down(&mut raw).map_err(|refusal| {
            SpecError::unsupported(&reading, &refusal.pointer, refusal.message, refusal.hint)
        })?,
    };
    let doc = openapi(&reading, &raw)?;
    Ok(Spec {
        path: path.to_path_buf(),
        doc,
        raw,
        text: text.to_string(),
        document,
        notes,
        moved: Vec::new(),
    })
}

/// The document as progenitor reads it; a node of the wrong shape is named by its pointer.
fn openapi(reading: &Reading<'_>, raw: &Value) -> Result<openapiv3::OpenAPI, SpecError> {
    shape(raw, &Pointer::root()).map_err(|(pointer, message)| {
        let (pointer, message) = refine(raw, pointer, message);
        SpecError::invalid(
            reading,
            &pointer,
            format!("not a valid OpenAPI 3.0 node: {message}"),
        )
    })
}

/// Deserializes `node` (found at `at`), or says where below it and why it cannot.
fn shape<T: DeserializeOwned>(node: &Value, at: &Pointer) -> Result<T, (Pointer, String)> {
    serde_path_to_error::deserialize(node).map_err(|error| {
        let mut pointer = at.clone();
        for segment in error.path().iter() {
            pointer = match segment {
                Segment::Seq { index } => pointer.join(index),
                Segment::Map { key } => pointer.join(key),
                Segment::Enum { variant } => pointer.join(variant),
                Segment::Unknown => pointer,
            };
        }
        (pointer, error.inner().to_string())
    })
}

/// serde keeps no path inside the nodes openapiv3 buffers before reading them: untagged enums
/// (every `ReferenceOr`) and flattened maps (`paths`, `responses`). An error anywhere below one
/// names that node, often with a message about the enum rather than the field ("data did not
/// match any variant"). Reading the node again as the type it must be, and the entries of a map
/// one by one, finds the field and its own message.
fn refine(raw: &Value, mut pointer: Pointer, mut message: String) -> (Pointer, String) {
    // Each step goes one node deeper (or stops), so the document's depth bounds the loop.
    while let Some(node) = raw.pointer(pointer.as_str()) {
        if node.get("$ref").is_some() {
            break;
        }
        let result = match Kind::of(&pointer) {
            Some(Kind::PathItems) => first_error::<openapiv3::PathItem>(node, &pointer),
            Some(Kind::PathItem) => shape::<openapiv3::PathItem>(node, &pointer).err(),
            Some(Kind::Parameter) => shape::<openapiv3::Parameter>(node, &pointer).err(),
            Some(Kind::RequestBody) => shape::<openapiv3::RequestBody>(node, &pointer).err(),
            Some(Kind::Responses) => first_error::<openapiv3::Response>(node, &pointer),
            Some(Kind::Response) => shape::<openapiv3::Response>(node, &pointer).err(),
            Some(Kind::Schema) => shape::<openapiv3::Schema>(node, &pointer).err(),
            None => None,
        };
        match result {
            Some((deeper, why)) if deeper != pointer => (pointer, message) = (deeper, why),
            Some((_, why)) => return (pointer, why),
            None => break,
        }
    }
    (pointer, message)
}

/// What an OpenAPI node is, from where it sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `paths`: path items by template.
    PathItems,
    PathItem,
    Parameter,
    RequestBody,
    /// An operation's `responses`: responses by status.
    Responses,
    Response,
    Schema,
}

impl Kind {
    fn of(pointer: &Pointer) -> Option<Self> {
        let segments: Vec<&str> = pointer.as_str().split('/').skip(1).collect();
        Some(match segments.as_slice() {
            ["paths"] => Self::PathItems,
            ["paths", _] => Self::PathItem,
            ["paths", _, "parameters", _]
            | ["paths", _, _, "parameters", _]
            | ["components", "parameters", _] => Self::Parameter,
            ["paths", _, _, "requestBody"] | ["components", "requestBodies", _] => {
                Self::RequestBody
            }
            ["paths", _, _, "responses"] => Self::Responses,
            ["paths", _, _, "responses", _] | ["components", "responses", _] => Self::Response,
            ["components", "schemas", _] | [.., "schema"] => Self::Schema,
            _ => return None,
        })
    }
}

/// The first entry of the map `node` that is not a `T` (extensions and `$ref`s aside), and why.
fn first_error<T: DeserializeOwned>(node: &Value, at: &Pointer) -> Option<(Pointer, String)> {
    node.as_object()?
        .iter()
        .filter(|(key, value)| !key.starts_with("x-") && value.get("$ref").is_none())
        .find_map(|(key, value)| shape::<T>(value, &at.join(key)).err())
}

/// The OpenAPI versions read: 3.0, and 3.1 as the 3.0 it can be written as.
enum Version {
    V30,
    V31,
}

fn check_version(reading: &Reading<'_>, raw: &Value) -> Result<Version, SpecError> {
    if let Some(version) = raw.get("swagger") {
        let shown = version
            .as_str()
            .map_or_else(|| version.to_string(), str::to_string);
        return Err(SpecError::unsupported(
            reading,
            &Pointer::root().join("swagger"),
            format!("this is a Swagger {shown} document, not OpenAPI 3.0"),
            "convert it to OpenAPI 3.0 first (for example `npx swagger2openapi spec.yaml -o \
             openapi.yaml`, or the converter at converter.swagger.io), then generate from that",
        ));
    }
    let pointer = Pointer::root().join("openapi");
    match raw.get("openapi") {
        Some(Value::String(version)) if version.starts_with("3.0.") => Ok(Version::V30),
        Some(Value::String(version)) if version.starts_with("3.1.") => Ok(Version::V31),
        Some(Value::String(version)) => Err(SpecError::unsupported(
            reading,
            &pointer,
            format!("OpenAPI {version} is not supported"),
            "write `openapi: 3.0.3` (or 3.1.x) and the constructs of that version",
        )),
        Some(other) => Err(SpecError::invalid(
            reading,
            &pointer,
            format!("`openapi` must be a version string such as `3.0.3`, not {other}"),
        )),
        None => Err(SpecError::invalid(
            reading,
            &pointer,
            "missing `openapi` version string (expected `openapi: 3.0.3`)",
        )),
    }
}
