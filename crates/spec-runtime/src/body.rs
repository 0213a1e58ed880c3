//! Request bodies, validated against the spec before they are deserialized.
//!
//! The extractors read nothing: they keep the body's stream, so that the handler checks
//! authentication first and an anonymous request costs neither a read nor a validation. The
//! handler then calls `read(&policy)`, which reads the bytes within the policy's deadline and
//! bounded by the server's body limit, and `into_inner()`, which decodes and validates them.

use std::marker::PhantomData;
use std::time::Duration;

use dropshot::{
    ApiEndpointBodyContentType, ExclusiveExtractor, ExtractorMetadata, HttpError, RequestContext,
    ServerContext, TypedBody, UntypedBody,
};
use http_body_util::BodyExt;
use schemars::JsonSchema;
use spec_schema::{Rejection, Validated};

/// How a handler reads a request body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyPolicy {
    /// How long the whole body may take to arrive, from the first read: a slower body is
    /// answered 408 `request_timeout` (and its connection closed).
    pub timeout: Duration,
    /// How much of an oversize body is read and thrown away before it is answered 413, so
    /// that a client still sending sees the answer rather than a reset connection (within
    /// the same deadline). A body larger still is answered at once and its connection closed.
    pub drain: usize,
}

/// The default [`BodyPolicy::timeout`].
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// The default [`BodyPolicy::drain`].
pub const BODY_DRAIN: usize = 8 * 1024 * 1024;

impl Default for BodyPolicy {
    fn default() -> Self {
        Self {
            timeout: BODY_TIMEOUT,
            drain: BODY_DRAIN,
        }
    }
}

/// A request body: its media type and, once read, its bytes.
#[derive(Debug)]
pub struct BodyBytes {
    /// The media type, lower-cased, without parameters.
    content_type: Option<String>,
    /// The `boundary` parameter of a multipart media type.
    boundary: Option<String>,
    state: BodyState,
}

#[derive(Debug)]
enum BodyState {
    /// Not read yet: the stream, the server's limit and the declared `Content-Length`.
    Unread {
        body: dropshot::Body,
        limit: usize,
        declared: Option<u64>,
    },
    /// `Err` when the body could not be read (too large, too slow, a broken stream).
    Read(Result<Vec<u8>, Rejection>),
}

impl BodyBytes {
    /// Reads the body off the wire (once; later calls do nothing).
    pub async fn read(&mut self, policy: &BodyPolicy) {
        let state = std::mem::replace(&mut self.state, BodyState::Read(Ok(Vec::new())));
        self.state = match state {
            BodyState::Unread {
                body,
                limit,
                declared,
            } => BodyState::Read(read_bytes(body, limit, declared, policy).await),
            read => read,
        };
    }

    /// The bytes as received; `None` when the body could not be read (or was not read yet),
    /// so that the caller can fingerprint the request (idempotency keys) and tell
    /// "unreadable" from "empty".
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.state {
            BodyState::Read(Ok(bytes)) => Some(bytes),
            _ => None,
        }
    }

    /// The media type as sent, lower-cased and without parameters (`charset`, ...).
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    fn into_bytes(self) -> Result<Vec<u8>, Rejection> {
        match self.state {
            BodyState::Read(result) => result,
            // A handler that decodes a body it never read has a bug; the request is not at
            // fault, but nothing better can be said to it.
            BodyState::Unread { .. } => Err(Rejection::malformed(
                "the server did not read the request body",
            )),
        }
    }

    /// The bytes, if their media type is one `accepts` takes.
    fn take(self, expected: &str, accepts: fn(&str) -> bool) -> Result<Vec<u8>, Rejection> {
        let media = self.content_type.clone();
        let bytes = self.into_bytes()?;
        match media.as_deref() {
            Some(media) if accepts(media) => Ok(bytes),
            Some(other) => Err(Rejection::malformed(format!(
                "expected content type {expected}, got {other}"
            ))),
            None => Err(Rejection::malformed(format!(
                "expected content type {expected}, got none"
            ))),
        }
    }
}

/// Reads a whole body: at most `limit` bytes, within the policy's deadline.
async fn read_bytes(
    mut body: dropshot::Body,
    limit: usize,
    declared: Option<u64>,
    policy: &BodyPolicy,
) -> Result<Vec<u8>, Rejection> {
    let deadline = tokio::time::Instant::now() + policy.timeout;
    if declared.is_some_and(|length| length > limit as u64) {
        if declared.is_some_and(|length| length <= policy.drain as u64) {
            drain(&mut body, policy.drain, deadline).await;
        }
        return Err(Rejection::too_large(limit));
    }
    let capacity = declared.map_or(0, |length| length as usize);
    let reading = async {
        let mut bytes = Vec::with_capacity(capacity);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|error| {
                Rejection::malformed(format!("error reading the request body: {error}"))
            })?;
            // Trailers carry no body bytes.
            let Ok(data) = frame.into_data() else {
                continue;
            };
            if bytes.len() + data.len() > limit {
                return Ok(Err(bytes.len() + data.len()));
            }
            bytes.extend_from_slice(&data);
        }
        Ok(Ok(bytes))
    };
    match tokio::time::timeout_at(deadline, reading).await {
        Err(_) => Err(Rejection::timeout(policy.timeout)),
        Ok(Err(rejection)) => Err(rejection),
        Ok(Ok(Ok(bytes))) => Ok(bytes),
        Ok(Ok(Err(seen))) => {
            drain(&mut body, policy.drain.saturating_sub(seen), deadline).await;
            Err(Rejection::too_large(limit))
        }
    }
}

/// Reads and discards up to `budget` more bytes of a body, until `deadline`.
async fn drain(body: &mut dropshot::Body, budget: usize, deadline: tokio::time::Instant) {
    let draining = async {
        let mut left = budget;
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                match left.checked_sub(data.len()) {
                    Some(rest) => left = rest,
                    None => return,
                }
            }
        }
    };
    let _ = tokio::time::timeout_at(deadline, draining).await;
}

/// Whether `media` is JSON: `application/json` or any `+json` type (`application/problem+json`).
pub fn is_json(media: &str) -> bool {
    media == "application/json"
        || media
            .split_once('/')
            .is_some_and(|(_, subtype)| subtype.ends_with("+json"))
}

/// Takes the request body without reading it; `BodyBytes::read` reads it.
pub fn unread_body<C: ServerContext>(
    rqctx: &RequestContext<C>,
    request: hyper_request::Request,
) -> BodyBytes {
    let header = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let content_type = header.map(|value| {
        value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    });
    let boundary = header.and_then(|value| {
        value.split(';').skip(1).find_map(|parameter| {
            let (name, value) = parameter.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| value.trim().trim_matches('"').to_string())
        })
    });
    let declared = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    BodyBytes {
        content_type,
        boundary,
        state: BodyState::Unread {
            body: request.into_body(),
            limit: rqctx.request_body_max_bytes(),
            declared,
        },
    }
}

macro_rules! typed_body {
    ($(#[$doc:meta])* $name:ident, $expected:literal, $accepts:expr, $decode:ident) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name<T> {
            raw: BodyBytes,
            body: PhantomData<fn() -> T>,
        }

        impl<T: Validated> $name<T> {
            /// Reads the body off the wire, as `policy` says (call it after authentication).
            pub async fn read(mut self, policy: &BodyPolicy) -> Self {
                self.raw.read(policy).await;
                self
            }

            /// The body as received; `None` when it could not be read (e.g. too large) or was
            /// not read yet.
            pub fn bytes(&self) -> Option<&[u8]> {
                self.raw.bytes()
            }

            /// The body, or why it was rejected (malformed, too large, or invalid).
            pub fn into_inner(self) -> Result<T, Rejection> {
                let bytes = self.raw.take($expected, $accepts)?;
                T::$decode(&bytes)
            }
        }

        #[async_trait::async_trait]
        impl<T: Validated + JsonSchema> ExclusiveExtractor for $name<T> {
            async fn from_request<C: ServerContext>(
                rqctx: &RequestContext<C>,
                request: hyper_request::Request,
            ) -> Result<Self, HttpError> {
                Ok(Self {
                    raw: unread_body(rqctx, request),
                    body: PhantomData,
                })
            }

            /// Described exactly as dropshot describes a `TypedBody` of the same type.
            fn metadata(content_type: ApiEndpointBodyContentType) -> ExtractorMetadata {
                <TypedBody<T> as ExclusiveExtractor>::metadata(content_type)
            }
        }
    };
}

typed_body!(
    /// A JSON request body (`application/json`, or any `+json` media type), validated against
    /// the spec's schema before it is deserialized.
    JsonBody,
    "application/json",
    is_json,
    from_json_bytes
);

/// A form body (`application/x-www-form-urlencoded` or `multipart/form-data`), read by the
/// spec's schema (numbers, booleans and repeated fields as it describes them) and validated
/// before it is deserialized. A multipart file field is read as text (lossily, for a file that
/// is not UTF-8).
#[derive(Debug)]
pub struct FormBody<T> {
    raw: BodyBytes,
    /// A multipart body's fields, split by `read` (the parser is asynchronous).
    fields: Option<Result<Vec<(String, String)>, Rejection>>,
    body: PhantomData<fn() -> T>,
}

const FORM: &str = "application/x-www-form-urlencoded";
const MULTIPART: &str = "multipart/form-data";

impl<T: Validated> FormBody<T> {
    /// Reads the body off the wire, as `policy` says (call it after authentication), and
    /// splits a multipart body into its fields.
    pub async fn read(mut self, policy: &BodyPolicy) -> Self {
        self.raw.read(policy).await;
        if let (Some(MULTIPART), Some(bytes)) = (self.raw.content_type(), self.raw.bytes()) {
            self.fields = Some(multipart_fields(bytes.to_vec(), self.raw.boundary.clone()).await);
        }
        self
    }

    /// The body as received; `None` when it could not be read (e.g. too large) or was not
    /// read yet.
    pub fn bytes(&self) -> Option<&[u8]> {
        self.raw.bytes()
    }

    /// The body, or why it was rejected (malformed, too large, or invalid).
    pub fn into_inner(self) -> Result<T, Rejection> {
        match self.fields {
            Some(fields) => T::from_form_fields(fields?),
            None => {
                let bytes = self
                    .raw
                    .take(&format!("{FORM} or {MULTIPART}"), |media| media == FORM)?;
                T::from_form_bytes(&bytes)
            }
        }
    }
}

#[async_trait::async_trait]
impl<T: Validated + JsonSchema> ExclusiveExtractor for FormBody<T> {
    async fn from_request<C: ServerContext>(
        rqctx: &RequestContext<C>,
        request: hyper_request::Request,
    ) -> Result<Self, HttpError> {
        Ok(Self {
            raw: unread_body(rqctx, request),
            fields: None,
            body: PhantomData,
        })
    }

    /// Described exactly as dropshot describes a `TypedBody` of the same type.
    fn metadata(content_type: ApiEndpointBodyContentType) -> ExtractorMetadata {
        <TypedBody<T> as ExclusiveExtractor>::metadata(content_type)
    }
}

/// The fields of a multipart body, each as text.
async fn multipart_fields(
    bytes: Vec<u8>,
    boundary: Option<String>,
) -> Result<Vec<(String, String)>, Rejection> {
    let boundary = boundary
        .ok_or_else(|| Rejection::malformed("the multipart media type has no `boundary`"))?;
    let stream =
        futures::stream::once(async move { Ok::<_, std::io::Error>(bytes::Bytes::from(bytes)) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    loop {
        let field = multipart.next_field().await.map_err(|error| {
            Rejection::malformed(format!("request body is not multipart: {error}"))
        })?;
        let Some(field) = field else { break };
        let name = field.name().unwrap_or_default().to_string();
        let data = field.bytes().await.map_err(|error| {
            Rejection::malformed(format!("request body is not multipart: {error}"))
        })?;
        fields.push((name, String::from_utf8_lossy(&data).into_owned()));
    }
    Ok(fields)
}

/// A request body the spec does not describe as JSON or a form (`application/octet-stream`,
/// `text/plain`, an image): its bytes and media type, for the handler to read.
#[derive(Debug)]
pub struct RawBody {
    raw: BodyBytes,
}

impl RawBody {
    /// Reads the body off the wire, as `policy` says (call it after authentication).
    pub async fn read(mut self, policy: &BodyPolicy) -> Self {
        self.raw.read(policy).await;
        self
    }

    /// The media type as sent, lower-cased and without parameters.
    pub fn content_type(&self) -> Option<&str> {
        self.raw.content_type()
    }

    /// The body, if its media type is one of `accepted` (`*/*` and `type/*` match as usual).
    pub fn into_inner(self, accepted: &[&str]) -> Result<Vec<u8>, Rejection> {
        let media = self.raw.content_type.clone();
        let bytes = self.raw.into_bytes()?;
        let matches = |pattern: &str, media: &str| match pattern.split_once('/') {
            Some(("*", "*")) => true,
            Some((kind, "*")) => media.split('/').next() == Some(kind),
            _ => pattern.eq_ignore_ascii_case(media),
        };
        match media {
            Some(media) if accepted.iter().any(|p| matches(p, &media)) => Ok(bytes),
            other => Err(Rejection::malformed(format!(
                "expected content type {}, got {}",
                accepted.join(" or "),
                other.as_deref().unwrap_or("none")
            ))),
        }
    }
}

#[async_trait::async_trait]
impl ExclusiveExtractor for RawBody {
    async fn from_request<C: ServerContext>(
        rqctx: &RequestContext<C>,
        request: hyper_request::Request,
    ) -> Result<Self, HttpError> {
        Ok(Self {
            raw: unread_body(rqctx, request),
        })
    }

    fn metadata(content_type: ApiEndpointBodyContentType) -> ExtractorMetadata {
        <UntypedBody as ExclusiveExtractor>::metadata(content_type)
    }
}

/// The request type dropshot hands to exclusive extractors.
pub mod hyper_request {
    /// `hyper::Request<dropshot::Body>`, named without a direct hyper dependency.
    pub type Request = http::Request<dropshot::Body>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types_include_the_plus_json_family() {
        for media in [
            "application/json",
            "application/problem+json",
            "application/vnd.api+json",
        ] {
            assert!(is_json(media), "{media}");
        }
        for media in ["text/json", "application/jsonp", "application/xml", "json"] {
            assert!(!is_json(media), "{media}");
        }
    }
}
