//! Errors: the spec's `Error` body as a typed value, and messages a person can act on.
//!
//! Every generated call fails with [`progenitor_client::Error<types::Error>`](crate::Error).
//! [`ErrorExt`] reads the typed body from it. [`ApiError`] wraps it with a `Display` that says
//! what happened (status, code, message, each detail) and is what the hand-written helpers
//! ([`Retrying`](crate::Retrying), the paging streams) return.

use std::fmt;

use progenitor_client::ResponseValue;
use reqwest::StatusCode;

use crate::types;

/// The error every generated call returns.
pub(crate) type RawError = progenitor_client::Error<types::Error>;

/// The longest part of an undocumented response body quoted in a message.
const EXCERPT_CHARS: usize = 200;

/// Typed access to the spec's `Error` body on the error every generated call returns.
///
/// ```no_run
/// use connect_client::{Client, ErrorExt};
///
/// # async fn example(client: &Client) {
/// match client.get_user().user_id("rid_crm-4711").send().await {
///     Ok(user) => println!("found {}", user.name.as_str()),
///     Err(error) if error.code() == Some("not_found") => println!("no such user"),
///     Err(error) => eprintln!("{}", connect_client::ApiError::from(error)),
/// }
/// # }
/// ```
pub trait ErrorExt: sealed::Sealed {
    /// The `Error` body the server answered with, for every status the spec documents.
    ///
    /// Statuses the spec does not list for an operation (a 500, say) arrive as
    /// [`Error::UnexpectedResponse`](crate::Error::UnexpectedResponse) with the body unread:
    /// [`ApiError::from_error`] reads it.
    fn api_error(&self) -> Option<&types::Error>;

    /// The body's stable, machine-readable `code`, such as `not_found` or `validation_error`.
    fn code(&self) -> Option<&str> {
        self.api_error().map(|body| body.code.as_str())
    }
}

impl ErrorExt for RawError {
    fn api_error(&self) -> Option<&types::Error> {
        match self {
            progenitor_client::Error::ErrorResponse(response) => Some(response.as_ref()),
            _ => None,
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::RawError {}
}

/// A failed call: what the server answered (with its typed `Error` body) or why there was no
/// answer, and how many attempts were made.
///
/// `Display` is written for people: `409 Conflict: conflict: another object of this kind has
/// this referenceId (/referenceId: already in use) [request id req_01HQ]`. The generated
/// error is kept whole ([`ApiError::get_ref`], [`ApiError::into_inner`]).
#[derive(Debug)]
pub struct ApiError {
    /// Boxed: the generated error is over 200 bytes, too big to move through every `Result`.
    inner: Box<RawError>,
    /// Set when an undocumented response's body was read and is not an `Error` body.
    excerpt: Option<String>,
    attempts: u32,
}

impl ApiError {
    /// Wraps `error`, first reading the body of a response the spec does not document for the
    /// operation (a 500, or a 502 from a proxy): when it is the spec's `Error` body, it becomes
    /// an [`Error::ErrorResponse`](crate::Error::ErrorResponse) like any documented error, so
    /// [`ApiError::api_error`] finds it; any other body is quoted in the message and left
    /// readable. [`From`] wraps without reading anything.
    pub async fn from_error(error: progenitor_client::Error<types::Error>) -> Self {
        let (inner, excerpt) = read_undocumented_body(error).await;
        Self {
            inner: Box::new(inner),
            excerpt,
            attempts: 1,
        }
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// The HTTP status of the answer, if there was one.
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status()
    }

    /// The spec's `Error` body the server answered with, if any.
    pub fn api_error(&self) -> Option<&types::Error> {
        self.inner.api_error()
    }

    /// The body's stable, machine-readable `code`, such as `not_found` or `validation_error`.
    pub fn code(&self) -> Option<&str> {
        self.inner.code()
    }

    /// How many attempts were made (more than one when the call was retried).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether sending the same request again (with the same idempotency key, for a write)
    /// may succeed: no answer at all, a timeout, a 5xx, or 409 `idempotency_key_locked`.
    /// Never for any other 4xx, `idempotency_key_mismatch` included.
    pub fn is_retryable(&self) -> bool {
        is_retryable(&self.inner)
    }

    /// The generated client's error.
    pub fn get_ref(&self) -> &progenitor_client::Error<types::Error> {
        &self.inner
    }

    /// The generated client's error.
    pub fn into_inner(self) -> progenitor_client::Error<types::Error> {
        *self.inner
    }
}

impl From<progenitor_client::Error<types::Error>> for ApiError {
    fn from(inner: progenitor_client::Error<types::Error>) -> Self {
        Self {
            inner: Box::new(inner),
            excerpt: None,
            attempts: 1,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use progenitor_client::Error as E;
        match &*self.inner {
            E::ErrorResponse(response) => write!(f, "{}: {}", response.status(), **response)?,
            E::UnexpectedResponse(response) => {
                write!(f, "{}: unexpected response", response.status())?;
                match &self.excerpt {
                    Some(excerpt) if excerpt.is_empty() => write!(f, " with an empty body")?,
                    Some(excerpt) => write!(f, " `{excerpt}`")?,
                    None => {}
                }
            }
            E::CommunicationError(error) if error.is_timeout() => {
                write!(f, "the request timed out: {}", Chain(error))?
            }
            E::CommunicationError(error) if error.is_connect() => {
                write!(f, "could not connect to the server: {}", Chain(error))?
            }
            E::CommunicationError(error) => write!(f, "the request failed: {}", Chain(error))?,
            E::ResponseBodyError(error) => {
                write!(f, "reading the response failed: {}", Chain(error))?
            }
            E::InvalidRequest(message) => write!(f, "invalid request, not sent: {message}")?,
            E::InvalidResponsePayload(bytes, error) => write!(
                f,
                "the response does not match the API ({error}): `{}`",
                excerpt(bytes)
            )?,
            E::InvalidUpgrade(error) => write!(f, "invalid protocol upgrade: {}", Chain(error))?,
            E::Custom(message) => write!(f, "{message}")?,
        }
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

/// No `source`: the message already says everything, causes included (a transport error's
/// own message, "error sending request", is not enough to act on), and a source would repeat
/// it in reports that print the chain. [`ApiError::get_ref`] reaches the underlying error.
impl std::error::Error for ApiError {}

/// An error and its causes, `: `-separated.
struct Chain<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(error) = cause {
            write!(f, ": {error}")?;
            cause = error.source();
        }
        Ok(())
    }
}

/// `code: message (property: message; ...) [request id ...]`.
impl fmt::Display for types::Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if !self.details.is_empty() {
            f.write_str(" (")?;
            for (i, detail) in self.details.iter().enumerate() {
                if i > 0 {
                    f.write_str("; ")?;
                }
                write!(f, "{detail}")?;
            }
            f.write_str(")")?;
        }
        if let Some(request_id) = &self.request_id {
            write!(f, " [request id {request_id}]")?;
        }
        Ok(())
    }
}

/// `property: message`.
impl fmt::Display for types::ErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.property, self.message)
    }
}

impl std::error::Error for types::Error {}

/// Whether a failure may go away when the same request is sent again. The contract (section
/// 1.3): a 409 `idempotency_key_locked` means "the first request is still running, retry
/// later"; `idempotency_key_mismatch` is a programming error; other 4xx will not change.
pub(crate) fn is_retryable(error: &RawError) -> bool {
    use progenitor_client::Error as E;
    match error {
        // No answer: refused, reset, dropped before the response, timed out. A builder error
        // is the request itself being wrong, which no retry fixes.
        E::CommunicationError(error) => !error.is_builder(),
        // The answer was cut off half-way through the body.
        E::ResponseBodyError(_) => true,
        E::ErrorResponse(response) => {
            response.status().is_server_error()
                || (response.status() == StatusCode::CONFLICT
                    && response.code == "idempotency_key_locked")
        }
        E::UnexpectedResponse(response) => response.status().is_server_error(),
        E::InvalidRequest(_)
        | E::InvalidResponsePayload(..)
        | E::InvalidUpgrade(_)
        | E::Custom(_) => false,
    }
}

/// Reads the body of an error response the spec does not list for the operation. An `Error`
/// body makes it an `ErrorResponse`; any other body is put back (so the caller can still read
/// it) and an excerpt returned for messages.
async fn read_undocumented_body(error: RawError) -> (RawError, Option<String>) {
    let response = match error {
        progenitor_client::Error::UnexpectedResponse(response)
            if !response.status().is_success() =>
        {
            response
        }
        other => return (other, None),
    };
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let bytes = match response.bytes().await {
        Ok(bytes) => bytes,
        Err(error) => return (progenitor_client::Error::ResponseBodyError(error), None),
    };
    if let Ok(body) = serde_json::from_slice::<types::Error>(&bytes) {
        let response = ResponseValue::new(body, status, headers);
        return (progenitor_client::Error::ErrorResponse(response), None);
    }
    let excerpt = excerpt(&bytes);
    let mut rebuilt = http::Response::new(bytes);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    (
        progenitor_client::Error::UnexpectedResponse(reqwest::Response::from(rebuilt)),
        Some(excerpt),
    )
}

/// The start of a body, as text, on one line.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    let mut excerpt: String = text
        .chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > EXCERPT_CHARS {
        excerpt.push('…');
    }
    excerpt
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: &str) -> types::Error {
        types::Error {
            code: code.to_string(),
            message: "the request body is invalid".to_string(),
            details: vec![
                types::ErrorDetail {
                    property: "/email".to_string(),
                    code: "format".to_string(),
                    message: "not an email address".to_string(),
                },
                types::ErrorDetail {
                    property: "query/limit".to_string(),
                    code: "maximum".to_string(),
                    message: "at most 1000".to_string(),
                },
            ],
            request_id: Some("req_42".to_string()),
        }
    }

    fn response(status: StatusCode, code: &str) -> RawError {
        progenitor_client::Error::ErrorResponse(ResponseValue::new(
            body(code),
            status,
            Default::default(),
        ))
    }

    #[test]
    fn display_names_status_code_message_and_every_detail() {
        let error = ApiError::from(response(StatusCode::BAD_REQUEST, "validation_error"));
        assert_eq!(
            error.to_string(),
            "400 Bad Request: validation_error: the request body is invalid \
             (/email: not an email address; query/limit: at most 1000) [request id req_42]"
        );
        assert_eq!(error.code(), Some("validation_error"));
        assert_eq!(error.api_error().map(|b| b.details.len()), Some(2));
    }

    #[test]
    fn display_counts_attempts() {
        let error = ApiError::from(response(StatusCode::SERVICE_UNAVAILABLE, "unavailable"))
            .with_attempts(3);
        assert!(error.to_string().ends_with("(after 3 attempts)"), "{error}");
    }

    #[test]
    fn retryable_statuses_and_codes() {
        let cases = [
            (StatusCode::INTERNAL_SERVER_ERROR, "internal", true),
            (StatusCode::BAD_GATEWAY, "bad_gateway", true),
            (StatusCode::CONFLICT, "idempotency_key_locked", true),
            (StatusCode::CONFLICT, "idempotency_key_mismatch", false),
            (StatusCode::CONFLICT, "conflict", false),
            (StatusCode::BAD_REQUEST, "validation_error", false),
            (StatusCode::NOT_FOUND, "not_found", false),
            (StatusCode::TOO_MANY_REQUESTS, "rate_limited", false),
        ];
        for (status, code, expected) in cases {
            assert_eq!(
                is_retryable(&response(status, code)),
                expected,
                "{status} {code}"
            );
        }
        assert!(!is_retryable(&progenitor_client::Error::InvalidRequest(
            "bad".to_string()
        )));
    }

    #[test]
    fn excerpt_is_one_bounded_line() {
        assert_eq!(
            excerpt(b"  <h1>Bad\nGateway</h1>\n"),
            "<h1>Bad Gateway</h1>"
        );
        let long = "x".repeat(EXCERPT_CHARS + 10);
        assert_eq!(excerpt(long.as_bytes()).chars().count(), EXCERPT_CHARS + 1);
    }
}
