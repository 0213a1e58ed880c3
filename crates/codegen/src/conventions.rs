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
//!   webhook-signature:                       # how `x-webhooks` deliveries are signed
//!     header: Connect-Signature              # a header parameter of every webhook
//!     scheme: hmac-sha256                    # `t=<unix seconds>,v1=<hex HMAC-SHA256>`
//!     tolerance-seconds: 300                 # optional; how old a delivery may be
//! ```

use serde_json::Value;

use crate::load::{Locate, SpecError};
use crate::pointer::Pointer;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Conventions {
    pub idempotency: Option<Idempotency>,
    pub paging: Option<Paging>,
    pub webhook_signature: Option<WebhookSignature>,
}

/// How webhook deliveries are signed (the only scheme: see the receiver's `signature` module).
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookSignature {
    pub header: String,
    pub tolerance_seconds: u64,
}

/// The signature scheme the generated receivers verify.
pub const SIGNATURE_SCHEME: &str = "hmac-sha256";

/// How old a delivery may be when the spec does not say.
pub const DEFAULT_TOLERANCE_SECONDS: u64 = 300;

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
    let webhook_signature = match node.get("webhook-signature") {
        None => None,
        Some(entry) => {
            let at = root.join("webhook-signature");
            let header = text(entry, "header", &at, true)?.unwrap_or_default();
            let scheme = text(entry, "scheme", &at, true)?.unwrap_or_default();
            if scheme != SIGNATURE_SCHEME {
                return Err(SpecError::unsupported(
                    source,
                    &at.join("scheme"),
                    format!("the signature scheme `{scheme}` is not one the receivers verify"),
                    format!("write `scheme: {SIGNATURE_SCHEME}`"),
                ));
            }
            let tolerance_seconds = match entry.get("tolerance-seconds") {
                None => DEFAULT_TOLERANCE_SECONDS,
                Some(value) => value.as_u64().filter(|s| *s > 0).ok_or_else(|| {
                    SpecError::invalid(
                        source,
                        &at.join("tolerance-seconds"),
                        "`tolerance-seconds` must be a whole number of seconds above 0",
                    )
                })?,
            };
            Some(WebhookSignature {
                header,
                tolerance_seconds,
            })
        }
    };
    Ok(Conventions {
        idempotency,
        paging,
        webhook_signature,
    })
}
