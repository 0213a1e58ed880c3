//! Spec-validated JSON request bodies.

use dropshot::{ExclusiveExtractor, RequestContext, ServerContext, UntypedBody};
use serde::de::DeserializeOwned;

use crate::{Detail, Rejection, validate};

/// Reads the request body (bounded by the server's `request_body_max_bytes`), insists on a JSON
/// content type, parses it, validates it against `validator` (every bad property reported) and
/// only then deserializes it into `T`.
///
/// Returns the raw bytes beside the result (`None` when the body could not be read, e.g. because
/// it is too large), so that the caller can fingerprint the request, e.g. for idempotency keys.
pub async fn read_json_body<C: ServerContext, T: DeserializeOwned>(
    rqctx: &RequestContext<C>,
    request: hyper_request::Request,
    validator: &jsonschema::Validator,
) -> (Option<Vec<u8>>, Result<T, Rejection>) {
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
        return (None, Err(Rejection::too_large(limit)));
    }
    let bytes = match UntypedBody::from_request(rqctx, request).await {
        Ok(body) => body.as_bytes().to_vec(),
        // Dropshot answers an over-long body (one without Content-Length, e.g. chunked) with a
        // 400 whose message says so; the contract says 413.
        Err(error)
            if error
                .external_message
                .starts_with("request body exceeded maximum size") =>
        {
            return (None, Err(Rejection::too_large(limit)));
        }
        Err(error) => return (None, Err(Rejection::from_http_error(&error))),
    };
    let result = decode(content_type.as_deref(), &bytes, validator);
    (Some(bytes), result)
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
