//! The one error value every extractor in this crate produces.

use serde::{Deserialize, Serialize};

/// Error codes this runtime produces. They are the conventions of the error body the
/// generator expects (`code`, `message`, `details[] { property, code, message }`).
pub mod codes {
    /// The request is well-formed but breaks a constraint of the spec.
    pub const VALIDATION_ERROR: &str = "validation_error";
    /// The body is not JSON, or not declared as JSON.
    pub const MALFORMED_REQUEST: &str = "malformed_request";
    /// The body is larger than the server accepts.
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    /// The body did not arrive within the server's deadline.
    pub const REQUEST_TIMEOUT: &str = "request_timeout";
}

/// One bad property of a rejected request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Detail {
    /// A JSON pointer into the body (`/email`), or `query/<name>`, `header/<name>`, `path/<name>`.
    pub property: String,
    /// The JSON Schema keyword that failed (`maxLength`, `pattern`, `required`, `type`, ...).
    pub code: String,
    /// What is wrong, for a person; never echoes the rejected value.
    pub message: String,
}

/// A request that failed before the handler's own logic ran.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Rejection {
    /// HTTP status code (400, 408 or 413); the response carries it, the body does not.
    #[serde(skip)]
    pub status: u16,
    /// Stable machine-readable code, one of [`codes`].
    pub code: String,
    /// A sentence for a person.
    pub message: String,
    /// One entry per bad property; empty when the request as a whole is unreadable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Detail>,
}

impl Rejection {
    /// A 400 `validation_error` listing `details`.
    pub fn validation(details: Vec<Detail>) -> Self {
        let message = match details.as_slice() {
            [one] => format!("invalid request: {}: {}", one.property, one.message),
            many if many.len() >= crate::MAX_DETAILS => {
                format!(
                    "invalid request: {} or more properties are invalid; the first are listed",
                    many.len()
                )
            }
            many => format!("invalid request: {} properties are invalid", many.len()),
        };
        Self {
            status: 400,
            code: codes::VALIDATION_ERROR.to_string(),
            message,
            details,
        }
    }

    /// A 400 `malformed_request`.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code: codes::MALFORMED_REQUEST.to_string(),
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// A 413 `payload_too_large`.
    pub fn too_large(limit: usize) -> Self {
        Self {
            status: 413,
            code: codes::PAYLOAD_TOO_LARGE.to_string(),
            message: format!("the request body is larger than the limit of {limit} bytes"),
            details: Vec::new(),
        }
    }
}

impl Rejection {
    /// A 408 `request_timeout`: the body took longer than `limit` to arrive.
    pub fn timeout(limit: std::time::Duration) -> Self {
        Self {
            status: 408,
            code: codes::REQUEST_TIMEOUT.to_string(),
            message: format!(
                "the request body did not arrive within {} seconds",
                limit.as_secs_f64()
            ),
            details: Vec::new(),
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for Rejection {}
