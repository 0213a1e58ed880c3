//! Success responses dropshot has no type for: any status, a JSON body, a raw body or none,
//! and response headers of any scalar type.
//!
//! Dropshot's response metadata types cannot be built outside dropshot, so [`Reply`] borrows
//! the metadata of dropshot's own response types (the body schema of `HttpResponseOk<T>`, the
//! "no content" of `HttpResponseUpdatedNoContent`, the headers of `HttpResponseHeaders`) and
//! changes only the status.

use std::fmt;

use dropshot::{
    ApiEndpointResponse, HttpError, HttpResponse, HttpResponseHeaders, HttpResponseOk,
    HttpResponseUpdatedNoContent, NoHeaders,
};
use http::StatusCode;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// A success response with status `CODE`, body `B` (a schema type sent as JSON, a
/// [`RawContent`] or [`NoContent`]) and headers `H` (a struct whose fields are the spec's
/// response headers, of any scalar type; `None` fields are left out).
pub struct Reply<const CODE: u16, B = NoContent, H = NoHeaders> {
    status: StatusCode,
    body: B,
    headers: H,
    other_headers: http::HeaderMap,
}

impl<const CODE: u16, B: ReplyBody> Reply<CODE, B, NoHeaders> {
    /// A response with `body` and no headers.
    pub fn new(body: B) -> Self {
        Self::with_headers(body, NoHeaders {})
    }
}

impl<const CODE: u16, B: ReplyBody, H> Reply<CODE, B, H> {
    /// A response with `body` and the spec's `headers`.
    pub fn with_headers(body: B, headers: H) -> Self {
        Self {
            status: Self::STATUS,
            body,
            headers,
            other_headers: http::HeaderMap::new(),
        }
    }

    /// The same response with another of the statuses the spec documents for it (an
    /// operation documenting `200` and `201` with one body, say); dropshot documents `CODE`.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Headers beyond those the spec declares.
    pub fn headers_mut(&mut self) -> &mut http::HeaderMap {
        &mut self.other_headers
    }

    const STATUS: StatusCode = match StatusCode::from_u16(CODE) {
        Ok(status) => status,
        Err(_) => panic!("a reply's status is a valid HTTP status"),
    };
}

/// What a [`Reply`] can carry: JSON of a schema type, [`RawContent`] or [`NoContent`].
pub trait ReplyBody: Send + Sync + 'static {
    /// The media type and bytes to send.
    fn into_parts(self) -> Result<(Option<String>, dropshot::Body), HttpError>;
    /// The body's metadata, as dropshot's own response type for it describes it.
    fn metadata() -> ApiEndpointResponse;
}

impl<T: Serialize + JsonSchema + Send + Sync + 'static> ReplyBody for T {
    fn into_parts(self) -> Result<(Option<String>, dropshot::Body), HttpError> {
        let json = serde_json::to_vec(&self)
            .map_err(|error| HttpError::for_internal_error(error.to_string()))?;
        Ok((Some(dropshot::CONTENT_TYPE_JSON.to_string()), json.into()))
    }

    fn metadata() -> ApiEndpointResponse {
        <HttpResponseOk<T> as HttpResponse>::response_metadata()
    }
}

/// No body (where the spec documents a status without content).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoContent;

impl ReplyBody for NoContent {
    fn into_parts(self) -> Result<(Option<String>, dropshot::Body), HttpError> {
        Ok((None, dropshot::Body::empty()))
    }

    fn metadata() -> ApiEndpointResponse {
        <HttpResponseUpdatedNoContent as HttpResponse>::response_metadata()
    }
}

/// A body that is not JSON: bytes and their media type (`text/plain`, `image/png`, ...).
/// Dropshot documents it as `*/*`.
pub struct RawContent {
    content_type: String,
    body: dropshot::Body,
}

impl RawContent {
    /// `body`, sent with `Content-Type: content_type`.
    pub fn new(content_type: impl Into<String>, body: impl Into<dropshot::Body>) -> Self {
        Self {
            content_type: content_type.into(),
            body: body.into(),
        }
    }
}

impl fmt::Debug for RawContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawContent")
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

impl ReplyBody for RawContent {
    fn into_parts(self) -> Result<(Option<String>, dropshot::Body), HttpError> {
        Ok((Some(self.content_type), self.body))
    }

    fn metadata() -> ApiEndpointResponse {
        ApiEndpointResponse::default()
    }
}

impl<const CODE: u16, B, H> HttpResponse for Reply<CODE, B, H>
where
    B: ReplyBody,
    H: Serialize + JsonSchema + Send + Sync + 'static,
{
    fn to_result(self) -> Result<http::Response<dropshot::Body>, HttpError> {
        let (content_type, body) = self.body.into_parts()?;
        let mut response = http::Response::builder().status(self.status);
        if let Some(content_type) = content_type {
            response = response.header(http::header::CONTENT_TYPE, content_type);
        }
        let mut response = response
            .body(body)
            .map_err(|error| HttpError::for_internal_error(error.to_string()))?;
        let headers = response.headers_mut();
        for (name, value) in header_values(&self.headers)? {
            let name = http::HeaderName::try_from(name)
                .map_err(|error| HttpError::for_internal_error(error.to_string()))?;
            let value = http::HeaderValue::try_from(value)
                .map_err(|error| HttpError::for_internal_error(error.to_string()))?;
            headers.insert(name, value);
        }
        headers.extend(self.other_headers);
        Ok(response)
    }

    fn response_metadata() -> ApiEndpointResponse {
        let mut metadata = B::metadata();
        metadata.success = Some(Self::STATUS);
        metadata.headers =
            <HttpResponseHeaders<HttpResponseOk<()>, H> as HttpResponse>::response_metadata()
                .headers;
        metadata
    }

    fn status_code(&self) -> StatusCode {
        self.status
    }
}

/// The success type of an operation that documents no success response: whatever response
/// the handler builds. Dropshot documents it as a `default` response of any content.
pub type AnyResponse = http::Response<dropshot::Body>;

/// A header struct's fields as header values: strings as they are, numbers and booleans as
/// their JSON text; `None` fields are left out.
fn header_values<H: Serialize>(headers: &H) -> Result<Vec<(String, String)>, HttpError> {
    let value = serde_json::to_value(headers)
        .map_err(|error| HttpError::for_internal_error(error.to_string()))?;
    let Value::Object(fields) = value else {
        return Ok(Vec::new());
    };
    Ok(fields
        .into_iter()
        .filter_map(|(name, value)| match value {
            Value::Null => None,
            Value::String(text) => Some((name, text)),
            other => Some((name, other.to_string())),
        })
        .collect())
}

/// A response header of any scalar type inside dropshot's `HttpResponseHeaders`, whose header
/// structs take strings only: sent as its text, documented with its own schema.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Header<T>(pub T);

impl<T: fmt::Display> Serialize for Header<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<T: JsonSchema> JsonSchema for Header<T> {
    fn schema_name() -> String {
        T::schema_name()
    }

    fn is_referenceable() -> bool {
        false
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        T::json_schema(generator)
    }
}

impl<T> From<T> for Header<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, JsonSchema)]
    struct Limits {
        #[serde(rename = "X-Rate-Limit")]
        limit: i64,
        #[serde(rename = "X-Open", skip_serializing_if = "Option::is_none")]
        open: Option<bool>,
    }

    #[test]
    fn headers_of_any_scalar_are_sent_as_text() {
        let reply = Reply::<203, _, _>::with_headers(
            serde_json::json!({"a": 1}),
            Limits {
                limit: 60,
                open: None,
            },
        );
        let response = reply.to_result().unwrap();
        assert_eq!(response.status(), StatusCode::NON_AUTHORITATIVE_INFORMATION);
        assert_eq!(response.headers()["x-rate-limit"], "60");
        assert!(response.headers().get("x-open").is_none());
        assert_eq!(response.headers()["content-type"], "application/json");
    }

    #[test]
    fn metadata_has_the_status_the_body_schema_and_the_headers() {
        let metadata = <Reply<302, NoContent, Limits> as HttpResponse>::response_metadata();
        assert_eq!(metadata.success, Some(StatusCode::FOUND));
        let names: Vec<&str> = metadata.headers.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["X-Open", "X-Rate-Limit"]);
        let raw = <Reply<200, RawContent> as HttpResponse>::response_metadata();
        assert!(raw.schema.is_none());
        let header = serde_json::to_value(Header(7)).unwrap();
        assert_eq!(header, serde_json::json!("7"));
    }
}
