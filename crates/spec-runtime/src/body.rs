//! Request bodies, validated against the spec before they are deserialized.
//!
//! The extractors only read the bytes (bounded by the server's body limit) and never fail the
//! request: `into_inner()` decodes and validates them, so that the handler checks
//! authentication first and an anonymous request costs no validation.

use std::marker::PhantomData;

use dropshot::{
    ApiEndpointBodyContentType, ExclusiveExtractor, ExtractorMetadata, HttpError, RequestContext,
    ServerContext, TypedBody, UntypedBody,
};
use schemars::JsonSchema;
use spec_schema::{Rejection, Validated};

/// A request body as read off the wire, not yet looked at.
#[derive(Debug)]
pub struct BodyBytes {
    /// The media type, lower-cased, without parameters.
    content_type: Option<String>,
    /// The `boundary` parameter of a multipart media type.
    boundary: Option<String>,
    /// `Err` when the body could not be read (too large, a broken stream).
    bytes: Result<Vec<u8>, Rejection>,
}

impl BodyBytes {
    /// The bytes as received; `None` when the body could not be read, so that the caller can
    /// fingerprint the request (idempotency keys) and tell "unreadable" from "empty".
    pub fn bytes(&self) -> Option<&[u8]> {
        self.bytes.as_deref().ok()
    }

    /// The media type as sent, lower-cased and without parameters (`charset`, ...).
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The bytes, if their media type is one `accepts` takes.
    fn take(self, expected: &str, accepts: fn(&str) -> bool) -> Result<Vec<u8>, Rejection> {
        let bytes = self.bytes?;
        match self.content_type.as_deref() {
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

/// Whether `media` is JSON: `application/json` or any `+json` type (`application/problem+json`).
pub fn is_json(media: &str) -> bool {
    media == "application/json"
        || media
            .split_once('/')
            .is_some_and(|(_, subtype)| subtype.ends_with("+json"))
}

/// Reads the request body, bounded by the server's `request_body_max_bytes`.
pub async fn read_body<C: ServerContext>(
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
    let limit = rqctx.request_body_max_bytes();
    let declared = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return BodyBytes {
            content_type,
            boundary,
            bytes: Err(Rejection::too_large(limit)),
        };
    }
    let bytes = match UntypedBody::from_request(rqctx, request).await {
        Ok(body) => Ok(body.as_bytes().to_vec()),
        // Dropshot answers an over-long body (one without Content-Length, e.g. chunked) with a
        // 400 whose message says so; it is a 413.
        Err(error)
            if error
                .external_message
                .starts_with("request body exceeded maximum size") =>
        {
            Err(Rejection::too_large(limit))
        }
        Err(error) => Err(crate::rejection_of(&error)),
    };
    BodyBytes {
        content_type,
        boundary,
        bytes,
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
            /// The body as received; `None` when it could not be read (e.g. too large).
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
                let raw = read_body(rqctx, request).await;
                Ok(Self {
                    raw,
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
    /// A multipart body's fields, read by the extractor (its parser is asynchronous).
    fields: Option<Result<Vec<(String, String)>, Rejection>>,
    body: PhantomData<fn() -> T>,
}

const FORM: &str = "application/x-www-form-urlencoded";
const MULTIPART: &str = "multipart/form-data";

impl<T: Validated> FormBody<T> {
    /// The body as received; `None` when it could not be read (e.g. too large).
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
        let raw = read_body(rqctx, request).await;
        let fields = match (raw.content_type(), raw.bytes()) {
            (Some(MULTIPART), Some(bytes)) => {
                Some(multipart_fields(bytes.to_vec(), raw.boundary.clone()).await)
            }
            _ => None,
        };
        Ok(Self {
            raw,
            fields,
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
    /// The media type as sent, lower-cased and without parameters.
    pub fn content_type(&self) -> Option<&str> {
        self.raw.content_type()
    }

    /// The body, if its media type is one of `accepted` (`*/*` and `type/*` match as usual).
    pub fn into_inner(self, accepted: &[&str]) -> Result<Vec<u8>, Rejection> {
        let media = self.raw.content_type.clone();
        let bytes = self.raw.bytes?;
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
            raw: read_body(rqctx, request).await,
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
