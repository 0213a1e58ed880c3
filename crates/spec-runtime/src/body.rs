//! Spec-validated JSON request bodies.

use dropshot::{ExclusiveExtractor, RequestContext, ServerContext, UntypedBody};
use serde::de::DeserializeOwned;

use crate::{Detail, Rejection, validate};

/// A request body as read off the wire, not yet looked at: decoding and validation wait for
/// [`RawBody::decode`], which handlers call after authenticating the caller, so an anonymous
/// request costs no more than reading its (bounded) body.
#[derive(Debug)]
pub struct RawBody {
    content_type: Option<String>,
    /// `Err` when the body could not be read (too large, a broken stream).
    bytes: Result<Vec<u8>, Rejection>,
}

impl RawBody {
    /// The bytes as received; `None` when the body could not be read, so that the caller can
    /// fingerprint the request (idempotency keys) and tell "unreadable" from "empty".
    pub fn bytes(&self) -> Option<&[u8]> {
        self.bytes.as_deref().ok()
    }

    /// Insists on a JSON content type, parses the body, validates it against `validator` (every
    /// bad property reported, up to [`crate::MAX_DETAILS`]) and only then deserializes it.
    pub fn decode<T: DeserializeOwned>(
        self,
        validator: &jsonschema::Validator,
    ) -> Result<T, Rejection> {
        let bytes = self.bytes?;
        decode(self.content_type.as_deref(), &bytes, validator)
    }
}

/// Reads the request body, bounded by the server's `request_body_max_bytes`.
pub async fn read_body<C: ServerContext>(
    rqctx: &RequestContext<C>,
    request: hyper_request::Request,
) -> RawBody {
    let content_type = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    let limit = rqctx.request_body_max_bytes();
    let declared = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return RawBody {
            content_type,
            bytes: Err(Rejection::too_large(limit)),
        };
    }
    let bytes = match UntypedBody::from_request(rqctx, request).await {
        Ok(body) => Ok(body.as_bytes().to_vec()),
        // Dropshot answers an over-long body (one without Content-Length, e.g. chunked) with a
        // 400 whose message says so; the contract says 413.
        Err(error)
            if error
                .external_message
                .starts_with("request body exceeded maximum size") =>
        {
            Err(Rejection::too_large(limit))
        }
        Err(error) => Err(Rejection::from_http_error(&error)),
    };
    RawBody {
        content_type,
        bytes,
    }
}

fn decode<T: DeserializeOwned>(
    content_type: Option<&str>,
    bytes: &[u8],
    validator: &jsonschema::Validator,
) -> Result<T, Rejection> {
    match content_type {
        Some("application/json") => {}
        Some(other) => {
            return Err(Rejection::malformed(format!(
                "expected content type application/json, got {other}"
            )));
        }
        None => {
            return Err(Rejection::malformed(
                "expected content type application/json, got none",
            ));
        }
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| {
        Rejection::malformed(format!("request body is not valid JSON: {error}"))
    })?;
    let details = validate(validator, &value, "");
    if !details.is_empty() {
        return Err(Rejection::validation(details));
    }
    // The schema accepted the value, so this rarely fails; when it does (a constraint JSON
    // Schema cannot express), the pointer still names the property.
    serde_path_to_error::deserialize(value).map_err(|error| {
        let pointer = error
            .path()
            .iter()
            .map(|segment| match segment {
                serde_path_to_error::Segment::Seq { index } => format!("/{index}"),
                serde_path_to_error::Segment::Map { key } => format!("/{key}"),
                serde_path_to_error::Segment::Enum { variant } => format!("/{variant}"),
                serde_path_to_error::Segment::Unknown => String::new(),
            })
            .collect::<String>();
        Rejection::validation(vec![Detail {
            property: pointer,
            code: "invalid".to_string(),
            message: error.inner().to_string(),
        }])
    })
}

/// The request type dropshot hands to exclusive extractors.
pub mod hyper_request {
    /// `hyper::Request<dropshot::Body>`, named without a direct hyper dependency.
    pub type Request = http::Request<dropshot::Body>;
}
