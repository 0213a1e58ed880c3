//! The conventions an API declares (top-level `x-conventions`), which the generator turns into
//! client conveniences: retry-safe writes for every operation that takes the idempotency key
//! header, and a stream for every list that declares `x-paged: true`.
//!
//! ```yaml
//! x-conventions:
//!   idempotency:
//!     key-header: X-Idempotency-Key          # the request header that carries the key
//!     replayed-header: Idempotent-Replayed   # the response header that marks a replay
//!   paging:
//!     limit: limit                           # query parameters of a paged list
//!     offset: offset
//!     cursor: cursor                         # optional
//!     items: /items                          # JSON pointers into its 200 body
//!     total: /pagination/total
//!     position: /pagination/offset           # optional: where a cursor page starts
//!     next-cursor: /pagination/nextCursor    # optional
//! ```

use serde_json::Value;

use crate::load::{Locate, SpecError};
use crate::pointer::Pointer;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Conventions {
    pub idempotency: Option<Idempotency>,
    pub paging: Option<Paging>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Idempotency {
    pub key_header: String,
    pub replayed_header: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Paging {
    pub limit: String,
    pub offset: String,
    pub cursor: Option<String>,
    pub items: String,
    pub total: String,
    pub position: Option<String>,
    pub next_cursor: Option<String>,
}

/// The document's conventions; a malformed declaration is an error at its node.
pub fn read(doc: &Value, source: &(impl Locate + ?Sized)) -> Result<Conventions, SpecError> {
    let root = Pointer::root().join("x-conventions");
    let Some(node) = doc.get("x-conventions") else {
        return Ok(Conventions::default());
    };
    let text = |node: &Value,
                key: &str,
                at: &Pointer,
                required: bool|
     -> Result<Option<String>, SpecError> {
        match node.get(key) {
            Some(Value::String(text)) if !text.is_empty() => Ok(Some(text.clone())),
            None if !required => Ok(None),
            Some(_) => Err(SpecError::invalid(
                source,
                &at.join(key),
                format!("`{key}` must be a non-empty string"),
            )),
            None => Err(SpecError::invalid(
                source,
                at,
                format!("`{key}` is required here"),
            )),
        }
    };
    let pointer = |node: &Value,
                   key: &str,
                   at: &Pointer,
                   required: bool|
     -> Result<Option<String>, SpecError> {
        let value = text(node, key, at, required)?;
        match value {
            Some(p) if !p.starts_with('/') => Err(SpecError::invalid(
                source,
                &at.join(key),
                format!("`{key}` must be a JSON pointer into the page's body, such as `/items`"),
            )),
            other => Ok(other),
        }
    };
    let idempotency = match node.get("idempotency") {
        None => None,
        Some(entry) => {
            let at = root.join("idempotency");
            Some(Idempotency {
                key_header: text(entry, "key-header", &at, true)?.unwrap_or_default(),
                replayed_header: text(entry, "replayed-header", &at, false)?,
            })
        }
    };
    let paging = match node.get("paging") {
        None => None,
        Some(entry) => {
            let at = root.join("paging");
            Some(Paging {
                limit: text(entry, "limit", &at, true)?.unwrap_or_default(),
                offset: text(entry, "offset", &at, true)?.unwrap_or_default(),
                cursor: text(entry, "cursor", &at, false)?,
                items: pointer(entry, "items", &at, true)?.unwrap_or_default(),
                total: pointer(entry, "total", &at, true)?.unwrap_or_default(),
                position: pointer(entry, "position", &at, false)?,
                next_cursor: pointer(entry, "next-cursor", &at, false)?,
            })
        }
    };
    Ok(Conventions {
        idempotency,
        paging,
    })
}
