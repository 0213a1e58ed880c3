//! Error responses with the bodies the spec documents.
//!
//! Each set of operations whose errors look alike (the same error bodies, rejections answered
//! the same way) gets a generated marker type implementing [`ErrorKind`], and its handlers
//! return [`ErrorResponse`] of that kind: a status and the body the spec documents for it (or
//! none, where the spec documents none).
//!
//! Requests that break the spec's constraints are answered for the handler: the [`Rejection`]
//! becomes the spec's own error body where that body can carry it, through a template the
//! generator derived from the body's schema ([`RejectionBody::Template`]); where it cannot (no
//! such property, no 400 response documented), the rejection itself is the body
//! ([`RejectionBody::Fallback`]), and the generated code says why.
//!
//! Dropshot sends every error body as `application/json`, whatever media type the spec
//! documents (`application/problem+json`, say), and gives every error response a body (`null`
//! where the spec documents none).

use std::fmt;
use std::marker::PhantomData;

use dropshot::{ErrorStatusCode, HttpError, HttpResponseError};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use spec_schema::Rejection;

/// The errors of a set of operations, as the spec documents them. Implemented by a generated
/// marker type (see [`crate::error_kind!`]).
pub trait ErrorKind: Send + Sync + 'static {
    /// Every error body these operations document, as one type: a schema type, or the `oneOf`
    /// of several ([`NoErrorBody`] when they document none).
    type Body: Serialize
        + DeserializeOwned
        + JsonSchema
        + Clone
        + fmt::Debug
        + Send
        + Sync
        + 'static;
    /// How a rejected request is answered, by the status it is answered with (400 for invalid
    /// requests, 408 for bodies too slow to arrive, 413 for oversize ones; another status uses
    /// the entry for 400).
    const REJECTIONS: &'static [(u16, RejectionBody)];
}

/// How a [`Rejection`] becomes an error body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectionBody {
    /// Into the spec's own body: a JSON template whose string values `"{code}"`,
    /// `"{message}"`, `"{reason}"` and `"{status}"` stand for the rejection's code, message, the
    /// status's reason phrase and the status (a number), and whose object
    /// `{"$details": item}` stands for an array holding `item` once per detail, with
    /// `"{property}"`, `"{code}"` and `"{message}"` of that detail (and `"{line}"` for
    /// `"property: message"`); with `"$omit_empty": true` beside it, the member is left out when
    /// there are no details.
    Template(&'static str),
    /// The spec's body cannot carry rejections, for the reason given: the body is the
    /// [`Rejection`] itself (`code`, `message`, `details`).
    Fallback(&'static str),
}

/// The body of an error response.
#[derive(Clone, Debug)]
pub enum ErrorBody<B> {
    /// A body of the spec's error schema(s).
    Spec(B),
    /// A body the generator built from the spec's error schema that does not read back as `B`
    /// (a `oneOf` whose variants overlap); it is valid against the schema.
    Json(Value),
    /// The rejection itself, where the spec's body cannot carry it.
    Rejection(Rejection),
    /// No body, for statuses the spec documents without one. Dropshot gives every error
    /// response a JSON body, so this one is `null`.
    Empty,
}

/// An error response: the status and the body the spec documents for it.
pub struct ErrorResponse<K: ErrorKind> {
    status: ErrorStatusCode,
    body: ErrorBody<K::Body>,
    kind: PhantomData<fn() -> K>,
}

impl<K: ErrorKind> ErrorResponse<K> {
    /// A response with `status` and a body of the spec's error schema.
    pub fn new(status: ErrorStatusCode, body: K::Body) -> Self {
        Self::with_body(status, ErrorBody::Spec(body))
    }

    /// A response with `status` and no body, for statuses the spec documents without one.
    pub fn empty(status: ErrorStatusCode) -> Self {
        Self::with_body(status, ErrorBody::Empty)
    }

    /// A response with `status` and any body.
    pub fn with_body(status: ErrorStatusCode, body: ErrorBody<K::Body>) -> Self {
        Self {
            status,
            body,
            kind: PhantomData,
        }
    }

    /// A response with `status` carrying a stable `code` and a `message`, in the spec's error
    /// body when it can carry them (as it carries rejections), in the fallback body otherwise.
    pub fn with_code(status: ErrorStatusCode, code: &str, message: impl ToString) -> Self {
        Self::from_rejection(Rejection {
            status: status.as_u16(),
            code: code.to_string(),
            message: message.to_string(),
            details: Vec::new(),
        })
    }

    /// The HTTP status.
    pub fn status(&self) -> ErrorStatusCode {
        self.status
    }

    /// The body.
    pub fn body(&self) -> &ErrorBody<K::Body> {
        &self.body
    }

    /// The body, to change (to add a request id, say).
    pub fn body_mut(&mut self) -> &mut ErrorBody<K::Body> {
        &mut self.body
    }

    /// The body of the spec's schema, if this response has one.
    pub fn spec_body(&self) -> Option<&K::Body> {
        match &self.body {
            ErrorBody::Spec(body) => Some(body),
            _ => None,
        }
    }

    /// The body of the spec's schema, to change, if this response has one.
    pub fn spec_body_mut(&mut self) -> Option<&mut K::Body> {
        match &mut self.body {
            ErrorBody::Spec(body) => Some(body),
            _ => None,
        }
    }

    fn from_rejection(rejection: Rejection) -> Self {
        let status =
            ErrorStatusCode::from_u16(rejection.status).unwrap_or(ErrorStatusCode::BAD_REQUEST);
        let strategy = K::REJECTIONS
            .iter()
            .find(|(s, _)| *s == status.as_u16())
            .or_else(|| K::REJECTIONS.iter().find(|(s, _)| *s == 400))
            .map(|(_, body)| *body);
        let body = match strategy {
            Some(RejectionBody::Template(template)) => {
                let template: Value =
                    serde_json::from_str(template).expect("the generator writes templates as JSON");
                let reason = status.as_status().canonical_reason().unwrap_or("Error");
                let value = spec_schema::render_rejection(&template, reason, &rejection);
                match serde_json::from_value::<K::Body>(value.clone()) {
                    Ok(body) => ErrorBody::Spec(body),
                    Err(_) => ErrorBody::Json(value),
                }
            }
            _ => ErrorBody::Rejection(rejection),
        };
        Self::with_body(status, body)
    }
}

impl<K: ErrorKind> Clone for ErrorResponse<K> {
    fn clone(&self) -> Self {
        Self::with_body(self.status, self.body.clone())
    }
}

impl<K: ErrorKind> fmt::Debug for ErrorResponse<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorResponse")
            .field("status", &self.status.as_u16())
            .field("body", &self.body)
            .finish()
    }
}

impl<K: ErrorKind> fmt::Display for ErrorResponse<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status.as_u16())?;
        match &self.body {
            ErrorBody::Spec(body) => match serde_json::to_string(body) {
                Ok(json) => write!(f, ": {json}"),
                Err(_) => Ok(()),
            },
            ErrorBody::Json(value) => write!(f, ": {value}"),
            ErrorBody::Rejection(rejection) => write!(f, ": {rejection}"),
            ErrorBody::Empty => Ok(()),
        }
    }
}

impl<K: ErrorKind> std::error::Error for ErrorResponse<K> {}

/// Requests rejected by the spec's constraints, before the handler's own logic.
impl<K: ErrorKind> From<Rejection> for ErrorResponse<K> {
    fn from(rejection: Rejection) -> Self {
        Self::from_rejection(rejection)
    }
}

/// Errors dropshot raises itself (an unparsable path, an internal failure).
impl<K: ErrorKind> From<HttpError> for ErrorResponse<K> {
    fn from(error: HttpError) -> Self {
        let rejection = crate::rejection_of(&error);
        let code = match error.status_code.as_u16() {
            400 | 408 | 413 => rejection.code,
            404 => "not_found".to_string(),
            status if status >= 500 => "internal".to_string(),
            _ => error
                .error_code
                .clone()
                .unwrap_or_else(|| "error".to_string()),
        };
        Self::with_code(error.status_code, &code, &error.external_message)
    }
}

/// The body dropshot sends (always as `application/json`: dropshot sets the media type of
/// every error response).
impl<K: ErrorKind> Serialize for ErrorResponse<K> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.body {
            ErrorBody::Spec(body) => body.serialize(serializer),
            ErrorBody::Json(value) => value.serialize(serializer),
            ErrorBody::Rejection(rejection) => rejection.serialize(serializer),
            ErrorBody::Empty => serializer.serialize_unit(),
        }
    }
}

/// What dropshot documents for these errors: the spec's bodies, and the fallback body beside
/// them (`anyOf`) when some rejection is answered with it.
impl<K: ErrorKind> JsonSchema for ErrorResponse<K> {
    fn schema_name() -> String {
        <K::Body as JsonSchema>::schema_name()
    }

    // Inlined where it is used: its name is its body's, which the body's own schema has.
    fn is_referenceable() -> bool {
        false
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        error_schema::<K>(generator)
    }
}

impl<K: ErrorKind> HttpResponseError for ErrorResponse<K> {
    fn status_code(&self) -> ErrorStatusCode {
        self.status
    }
}

/// Whether some rejection is answered with the fallback body.
fn falls_back<K: ErrorKind>() -> bool {
    K::REJECTIONS
        .iter()
        .any(|(_, body)| matches!(body, RejectionBody::Fallback(_)))
        || !K::REJECTIONS.iter().any(|(s, _)| *s == 400)
}

/// The schema dropshot documents for these errors: the spec's bodies, and the fallback body
/// beside them (`anyOf`) when some rejection is answered with it.
fn error_schema<K: ErrorKind>(
    generator: &mut schemars::r#gen::SchemaGenerator,
) -> schemars::schema::Schema {
    let body = generator.subschema_for::<K::Body>();
    if !falls_back::<K>() {
        return body;
    }
    let rejection = generator.subschema_for::<Rejection>();
    if <K::Body as JsonSchema>::schema_name() == NoErrorBody::schema_name() {
        return rejection;
    }
    schemars::schema::Schema::Object(schemars::schema::SchemaObject {
        subschemas: Some(Box::new(schemars::schema::SubschemaValidation {
            any_of: Some(vec![body, rejection]),
            ..Default::default()
        })),
        ..Default::default()
    })
}

/// The body type of errors the spec documents without bodies: no value has it.
#[derive(Clone, Debug)]
pub enum NoErrorBody {}

impl Serialize for NoErrorBody {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        match *self {}
    }
}

impl<'de> serde::Deserialize<'de> for NoErrorBody {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(serde::de::Error::custom("these errors have no body"))
    }
}

impl JsonSchema for NoErrorBody {
    fn schema_name() -> String {
        "NoErrorBody".to_string()
    }

    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::Schema::Bool(false)
    }
}

/// Defines an alias of [`ErrorResponse`] and the marker type implementing its [`ErrorKind`].
/// The input reads (and formats) as a type alias:
///
/// ```text
/// spec_runtime::error_kind! {
///     /// The errors of `listPets` and `getPet`.
///     #[body(types::Error)]
///     #[rejections(400 = Template(r#"{"code": "{code}", "message": "{message}"}"#))]
///     pub type ApiError = ApiErrorKind;
/// }
/// ```
#[macro_export]
macro_rules! error_kind {
    (
        $(#[doc = $doc:literal])*
        #[body($body:ty)]
        #[rejections($($status:literal = $strategy:ident($text:expr)),* $(,)?)]
        pub type $alias:ident = $kind:ident;
    ) => {
        $(#[doc = $doc])*
        pub type $alias = $crate::ErrorResponse<$kind>;

        #[doc = concat!("The [`", stringify!($alias), "`] kind: how these operations' errors look.")]
        pub enum $kind {}

        impl $crate::ErrorKind for $kind {
            type Body = $body;
            const REJECTIONS: &'static [(u16, $crate::RejectionBody)] =
                &[$(($status, $crate::RejectionBody::$strategy($text))),*];
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use spec_schema::Detail;

    #[derive(Clone, Debug, Serialize, serde::Deserialize, JsonSchema)]
    pub struct Problem {
        pub status: u16,
        pub title: String,
        pub detail: String,
        pub errors: Vec<String>,
    }

    crate::error_kind! {
        #[body(Problem)]
        #[rejections(400 = Template(r#"{"status": "{status}", "title": "{reason}", "detail": "{message}", "errors": {"$details": "{line}"}}"#))]
        pub type ProblemError = ProblemKind;
    }

    crate::error_kind! {
        #[body(NoErrorBody)]
        #[rejections(400 = Fallback("the spec documents no 400 body"))]
        pub type Bare = BareKind;
    }

    fn rejection() -> Rejection {
        Rejection::validation(vec![Detail {
            property: "/name".into(),
            code: "maxLength".into(),
            message: "is too long".into(),
        }])
    }

    #[test]
    fn rejections_fill_the_spec_body_through_its_template() {
        let error = ProblemError::from(rejection());
        assert_eq!(error.status().as_u16(), 400);
        let body = error.spec_body().expect("a spec body");
        assert_eq!(body.status, 400);
        assert_eq!(body.title, "Bad Request");
        assert_eq!(body.errors, ["/name: is too long"]);
    }

    #[test]
    fn without_a_body_to_carry_them_rejections_are_the_body() {
        let error = Bare::from(rejection());
        let ErrorBody::Rejection(rejection) = error.body() else {
            panic!("{error:?}")
        };
        assert_eq!(rejection.details.len(), 1);
        let json = serde_json::to_value(rejection).unwrap();
        assert_eq!(json["details"][0]["property"], "/name");
        assert!(json.get("status").is_none(), "{json}");
        let coded = Bare::with_code(ErrorStatusCode::NOT_FOUND, "not_found", "no such pet");
        assert_eq!(coded.status().as_u16(), 404);
        assert!(coded.to_string().contains("no such pet"), "{coded}");
    }

    #[test]
    fn the_documented_schema_names_the_fallback_beside_the_spec_body() {
        let mut generator = schemars::r#gen::SchemaGenerator::default();
        let bare = serde_json::to_value(error_schema::<BareKind>(&mut generator)).unwrap();
        assert_eq!(bare, json!({"$ref": "#/definitions/Rejection"}));
        let problem = serde_json::to_value(error_schema::<ProblemKind>(&mut generator)).unwrap();
        assert_eq!(problem, json!({"$ref": "#/definitions/Problem"}));
    }
}
