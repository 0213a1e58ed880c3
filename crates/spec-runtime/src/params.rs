//! Path, query and header parameter sets.

use std::borrow::Cow;
use std::collections::BTreeMap;

use dropshot::{
    ApiEndpointBodyContentType, ExtractorMetadata, HttpError, RequestContext, ServerContext,
    SharedExtractor,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use spec_schema::{Definitions, Detail, Rejection, compile_validator, convert, validate};

/// Where a parameter set's values come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamLocation {
    Path,
    Query,
    Header,
}

/// A generated struct holding the path, query or header parameters of one operation (see
/// [`crate::param_set!`]).
///
/// Its `JsonSchema` (one property per parameter) is what dropshot's `Path`/`Query`/`Header`
/// extractors would describe, so the metadata is borrowed from them; parsing is ours, so that
/// every bad parameter is named and array parameters work.
pub trait ParamSet:
    DeserializeOwned + schemars::JsonSchema + Sized + Send + Sync + 'static
{
    /// Where the values come from.
    const LOCATION: ParamLocation;
    /// For path parameters, the operation's path template (`/users/{userId}`), by which the
    /// values are read from the request's path without dropshot's extractor when the path is
    /// plain (see [`plain_path_variables`]); empty otherwise.
    const TEMPLATE: &'static str = "";
    /// Parses the parameters; problems are recorded on the reader, not returned.
    fn parse(reader: &mut ParamReader<'_>) -> Option<Self>;
}

/// Extractor for a [`ParamSet`]. It never fails the request: [`Params::into_inner`] returns
/// the parsed set or a [`Rejection`] naming every bad parameter, so the handler can check
/// authentication first.
#[derive(Debug)]
pub struct Params<T>(Result<T, Rejection>);

impl<T> Params<T> {
    /// The parsed parameters, or why they were rejected.
    pub fn into_inner(self) -> Result<T, Rejection> {
        self.0
    }
}

#[async_trait::async_trait]
impl<T: ParamSet> SharedExtractor for Params<T> {
    async fn from_request<C: ServerContext>(rqctx: &RequestContext<C>) -> Result<Self, HttpError> {
        // The values are read where they are (the headers in the request, the path variables
        // in a plain path, or as dropshot decoded them) and copied only into the parsed set.
        let (variables, pairs): (BTreeMap<String, String>, Vec<(String, String)>);
        let mut plain = [("", ""); MAX_PLAIN_VARIABLES];
        let source = match T::LOCATION {
            ParamLocation::Path => {
                match plain_path_variables(T::TEMPLATE, rqctx.request.uri().path(), &mut plain) {
                    Some(found) => Source::Segments(&plain[..found]),
                    None => {
                        // Dropshot has matched and decoded the path variables; take them as
                        // text.
                        variables = dropshot::Path::from_request(rqctx).await?.into_inner();
                        Source::Variables(&variables)
                    }
                }
            }
            ParamLocation::Query => {
                let query = rqctx.request.uri().query().unwrap_or_default();
                match serde_urlencoded::from_str::<Vec<(String, String)>>(query) {
                    Ok(found) => pairs = found,
                    Err(error) => {
                        return Ok(Params(Err(Rejection::malformed(format!(
                            "query string is not form-urlencoded: {error}"
                        )))));
                    }
                }
                Source::Pairs(&pairs)
            }
            ParamLocation::Header => Source::Headers(rqctx.request.headers()),
        };
        let mut reader = ParamReader {
            source,
            details: Vec::new(),
        };
        let parsed = T::parse(&mut reader);
        Ok(Params(match (parsed, reader.details.is_empty()) {
            (Some(value), true) => Ok(value),
            _ => Err(Rejection::validation(reader.details)),
        }))
    }

    fn metadata(body_content_type: ApiEndpointBodyContentType) -> ExtractorMetadata {
        match T::LOCATION {
            ParamLocation::Path => {
                <dropshot::Path<T> as SharedExtractor>::metadata(body_content_type)
            }
            ParamLocation::Query => {
                <dropshot::Query<T> as SharedExtractor>::metadata(body_content_type)
            }
            ParamLocation::Header => {
                <dropshot::Header<T> as SharedExtractor>::metadata(body_content_type)
            }
        }
    }
}

/// Extractor for a [`ParamSet`] that fails the request (400, with dropshot's error body naming
/// every bad parameter) instead of handing the handler a rejection: for websockets, whose
/// handlers run after the upgrade, when it is too late to refuse.
#[derive(Debug)]
pub struct StrictParams<T>(pub T);

impl<T> StrictParams<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

#[async_trait::async_trait]
impl<T: ParamSet> SharedExtractor for StrictParams<T> {
    async fn from_request<C: ServerContext>(rqctx: &RequestContext<C>) -> Result<Self, HttpError> {
        match Params::<T>::from_request(rqctx).await?.into_inner() {
            Ok(params) => Ok(Self(params)),
            Err(rejection) => {
                let details: Vec<String> = rejection
                    .details
                    .iter()
                    .map(|d| format!("{}: {}", d.property, d.message))
                    .collect();
                let message = match details.is_empty() {
                    true => rejection.message.clone(),
                    false => format!("{} ({})", rejection.message, details.join("; ")),
                };
                Err(HttpError::for_bad_request(Some(rejection.code), message))
            }
        }
    }

    fn metadata(body_content_type: ApiEndpointBodyContentType) -> ExtractorMetadata {
        <Params<T> as SharedExtractor>::metadata(body_content_type)
    }
}

/// Values as they come off the wire, with the problems found so far.
pub struct ParamReader<'a> {
    source: Source<'a>,
    details: Vec<Detail>,
}

/// Where a parameter set's values are.
enum Source<'a> {
    Variables(&'a BTreeMap<String, String>),
    /// Path variables read from a plain path: names and their segments.
    Segments(&'a [(&'a str, &'a str)]),
    /// Query pairs, in order.
    Pairs(&'a [(String, String)]),
    Headers(&'a http::HeaderMap),
}

/// The most variables [`plain_path_variables`] reads; a template with more takes dropshot's
/// extractor.
const MAX_PLAIN_VARIABLES: usize = 8;

/// Reads the variables of `template` (`/users/{userId}`) from `path`, the request's path,
/// into `found`, and returns how many, when `path` is plain: every segment non-empty, neither
/// `.` nor `..`, with no `%` (nothing to decode), and as many segments as the template, its
/// literals equal. Then each value is the segment itself, which is what dropshot's router
/// decodes it to (it drops empty segments, refuses dot-segments and percent-decodes the rest),
/// without the copies its extractor makes. Any other path returns `None`, and the caller asks
/// dropshot's extractor.
fn plain_path_variables<'a>(
    template: &'a str,
    path: &'a str,
    found: &mut [(&'a str, &'a str); MAX_PLAIN_VARIABLES],
) -> Option<usize> {
    let mut template_segments = template.strip_prefix('/')?.split('/');
    let mut path_segments = path.strip_prefix('/')?.split('/');
    let mut count = 0;
    loop {
        match (template_segments.next(), path_segments.next()) {
            (None, None) => return Some(count),
            (Some(pattern), Some(segment)) => {
                if segment.is_empty() || segment == "." || segment == ".." || segment.contains('%')
                {
                    return None;
                }
                match pattern
                    .strip_prefix('{')
                    .and_then(|rest| rest.strip_suffix('}'))
                {
                    // A variable (`{name:.*}`, a wildcard, is dropshot's to read).
                    Some(name) if !name.contains(':') => {
                        *found.get_mut(count)? = (name, segment);
                        count += 1;
                    }
                    Some(_) => return None,
                    None if pattern == segment => {}
                    None => return None,
                }
            }
            _ => return None,
        }
    }
}

/// A parameter's Rust type: parsed from its wire text, checked against its schema as JSON.
pub trait FromParam: Sized {
    /// Parses one occurrence.
    fn from_param(text: &str) -> Result<Self, String>;
}

impl<T: DeserializeOwned> FromParam for T {
    fn from_param(text: &str) -> Result<Self, String> {
        // Strings (and string-like types: uuids, enums, dates) parse from a JSON string;
        // numbers and booleans from their JSON text.
        serde_json::from_value(Value::String(text.to_string())).or_else(|string_error| {
            serde_json::from_str(text).map_err(|_| string_error.to_string())
        })
    }
}

/// One parameter as the spec declares it: its schema (OpenAPI 3.0, references into the spec's
/// definitions), compiled on first use.
pub struct ParamSpec {
    schema: &'static str,
    definitions: &'static Definitions,
    compiled: std::sync::OnceLock<Compiled>,
    /// A header parameter's name, parsed once (looking a header up by its text parses the
    /// name on every request); `None` when the name is not a valid header name, which no
    /// request can then carry.
    header: std::sync::OnceLock<Option<http::HeaderName>>,
}

struct Compiled {
    /// The parameter's value (or, for arrays, each item).
    single: jsonschema::Validator,
    /// What `single` accepts, decided by comparisons, when its schema is that simple.
    quick: Option<Quick>,
    /// For arrays: the array as a whole, items aside.
    array: Option<jsonschema::Validator>,
}

impl ParamSpec {
    /// A parameter with `schema` (JSON text), whose references resolve in `definitions`.
    pub const fn new(schema: &'static str, definitions: &'static Definitions) -> Self {
        Self {
            schema,
            definitions,
            compiled: std::sync::OnceLock::new(),
            header: std::sync::OnceLock::new(),
        }
    }

    fn schema(&self) -> Value {
        serde_json::from_str(self.schema).expect("the generator writes parameter schemas as JSON")
    }

    fn compiled(&self) -> &Compiled {
        self.compiled.get_or_init(|| {
            let schema = convert(&self.schema());
            match (schema.get("type"), schema.get("items")) {
                (Some(Value::String(ty)), Some(items)) if ty == "array" => Compiled {
                    single: compile_validator(&items.to_string(), self.definitions),
                    quick: Quick::of(items),
                    array: Some(compile_validator(
                        &without(&schema, &["items"]).to_string(),
                        self.definitions,
                    )),
                },
                _ => Compiled {
                    single: compile_validator(&schema.to_string(), self.definitions),
                    quick: Quick::of(&schema),
                    array: None,
                },
            }
        })
    }

    /// The schema keywords the Rust type does not state itself (bounds, lengths, patterns,
    /// defaults), as dropshot should document them beside the type's own schema.
    fn constraints(&self) -> Value {
        Self::constraints_of(&self.schema())
    }

    fn constraints_of(schema: &Value) -> Value {
        if schema.get("$ref").is_some() {
            return Value::Object(Map::new());
        }
        let mut constraints = without(schema, &NOT_CONSTRAINTS);
        // schemars reads bounds as JSON Schema does since draft 6 (`exclusiveMinimum: 5`);
        // dropshot writes them back as OpenAPI 3.0 does (`minimum: 5, exclusiveMinimum: true`).
        if let Value::Object(map) = &mut constraints {
            for (bound, exclusive) in [
                ("minimum", "exclusiveMinimum"),
                ("maximum", "exclusiveMaximum"),
            ] {
                match map.remove(exclusive) {
                    Some(Value::Bool(true)) => {
                        if let Some(value) = map.remove(bound) {
                            map.insert(exclusive.to_string(), value);
                        }
                    }
                    Some(Value::Number(number)) => {
                        map.insert(exclusive.to_string(), Value::Number(number));
                    }
                    _ => {}
                }
            }
        }
        constraints
    }
}

/// A parameter schema that comparisons can decide: a type, length and numeric bounds, an
/// `enum`, and keywords that constrain nothing. Only acceptance is decided this way (it is what
/// almost every request needs); a value this does not accept goes to the validator, which says
/// why, so every rejection is the validator's, word for word.
#[derive(Debug)]
struct Quick {
    kind: Option<Kind>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    /// The bound and whether it is exclusive (draft 4: `exclusiveMinimum: true`).
    minimum: Option<(f64, bool)>,
    maximum: Option<(f64, bool)>,
    one_of: Option<Vec<Value>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    String,
    Integer,
    Number,
    Boolean,
}

/// Keywords that do not constrain a value.
const INERT: [&str; 8] = [
    "description",
    "title",
    "example",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
    "externalDocs",
];
/// Formats the validator does not check (the Rust type does: `i32`, `f64`, ...).
const UNCHECKED_FORMATS: [&str; 4] = ["int32", "int64", "float", "double"];

/// Values as large as this or larger are left to the validator: a float cannot hold every
/// integer beyond it.
const EXACT_FLOAT: f64 = 9_007_199_254_740_992.0;

impl Quick {
    /// The quick check of a JSON Schema (draft 4, as converted), when it has one.
    fn of(schema: &Value) -> Option<Self> {
        let Value::Object(keywords) = schema else {
            return None;
        };
        let mut quick = Self {
            kind: None,
            min_length: None,
            max_length: None,
            minimum: None,
            maximum: None,
            one_of: None,
        };
        let exclusive = |key: &str| match keywords.get(key) {
            None | Some(Value::Bool(false)) => Some(false),
            Some(Value::Bool(true)) => Some(true),
            Some(_) => None,
        };
        let bound = |value: &Value| value.as_f64().filter(|b| b.abs() < EXACT_FLOAT);
        for (key, value) in keywords {
            match key.as_str() {
                "type" => {
                    quick.kind = Some(match value.as_str()? {
                        "string" => Kind::String,
                        "integer" => Kind::Integer,
                        "number" => Kind::Number,
                        "boolean" => Kind::Boolean,
                        _ => return None,
                    })
                }
                "minLength" => quick.min_length = Some(value.as_u64()?),
                "maxLength" => quick.max_length = Some(value.as_u64()?),
                "minimum" => quick.minimum = Some((bound(value)?, exclusive("exclusiveMinimum")?)),
                "maximum" => quick.maximum = Some((bound(value)?, exclusive("exclusiveMaximum")?)),
                "exclusiveMinimum" if keywords.contains_key("minimum") => {}
                "exclusiveMaximum" if keywords.contains_key("maximum") => {}
                "enum" => quick.one_of = Some(value.as_array()?.clone()),
                "format" if UNCHECKED_FORMATS.contains(&value.as_str()?) => {}
                key if INERT.contains(&key) => {}
                _ => return None,
            }
        }
        Some(quick)
    }

    /// Whether the validator accepts `value` (`false`: it may, or may not). Decides strings,
    /// numbers and booleans; anything else is left to the validator.
    fn accepts(&self, value: &Value) -> bool {
        let kind = match value {
            Value::String(text) => {
                let length = || text.chars().count() as u64;
                if self.min_length.is_some_and(|min| length() < min)
                    || self.max_length.is_some_and(|max| length() > max)
                {
                    return false;
                }
                Kind::String
            }
            Value::Number(number) => {
                let Some(n) = number.as_f64().filter(|n| n.abs() < EXACT_FLOAT) else {
                    return false;
                };
                let below = |&(min, exclusive): &(f64, bool)| n < min || (exclusive && n == min);
                let above = |&(max, exclusive): &(f64, bool)| n > max || (exclusive && n == max);
                if self.minimum.as_ref().is_some_and(below)
                    || self.maximum.as_ref().is_some_and(above)
                {
                    return false;
                }
                if number.is_i64() || number.is_u64() {
                    Kind::Integer
                } else {
                    Kind::Number
                }
            }
            Value::Bool(_) => Kind::Boolean,
            _ => return false,
        };
        let typed = match self.kind {
            None => true,
            Some(Kind::Number) => matches!(kind, Kind::Integer | Kind::Number),
            Some(expected) => expected == kind,
        };
        typed
            && self
                .one_of
                .as_ref()
                .is_none_or(|values| values.contains(value))
    }
}

/// Schema keywords that the Rust type already states, that do not constrain a value, or that
/// dropshot cannot document for a parameter (the parameter is read as the text it is).
const NOT_CONSTRAINTS: [&str; 9] = [
    "type",
    "items",
    "$ref",
    "example",
    "description",
    "oneOf",
    "anyOf",
    "allOf",
    "not",
];

fn without(schema: &Value, keys: &[&str]) -> Value {
    match schema {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .filter(|(k, _)| !keys.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

impl<'a> ParamReader<'a> {
    /// Calls `each` with every occurrence of the parameter, in order.
    fn occurrences(&self, name: &str, spec: &ParamSpec, mut each: impl FnMut(Cow<'a, str>)) {
        match self.source {
            Source::Headers(headers) => {
                let header = spec
                    .header
                    .get_or_init(|| http::HeaderName::from_bytes(name.as_bytes()).ok());
                if let Some(header) = header {
                    headers
                        .get_all(header)
                        .iter()
                        .for_each(|value| each(String::from_utf8_lossy(value.as_bytes())));
                }
            }
            Source::Variables(variables) => {
                if let Some(value) = variables.get(name) {
                    each(Cow::Borrowed(value));
                }
            }
            Source::Segments(segments) => {
                if let Some((_, value)) = segments.iter().find(|(key, _)| *key == name) {
                    each(Cow::Borrowed(value));
                }
            }
            Source::Pairs(pairs) => pairs
                .iter()
                .filter(|(key, _)| key == name)
                .for_each(|(_, value)| each(Cow::Borrowed(value))),
        }
    }

    fn reject(&mut self, location: &str, name: &str, code: &str, message: String) {
        self.details.push(Detail {
            property: format!("{location}/{name}"),
            code: code.into(),
            message,
        });
    }

    /// Reads a parameter that occurs at most once. `None` when absent (recorded as an error
    /// when `required`) or invalid (recorded).
    pub fn single<T: FromParam + serde::Serialize>(
        &mut self,
        location: &str,
        name: &str,
        required: bool,
        spec: &ParamSpec,
    ) -> Option<T> {
        let (mut first, mut count) = (None, 0);
        self.occurrences(name, spec, |value| {
            count += 1;
            first.get_or_insert(value);
        });
        match (first, count) {
            (None, _) => {
                if required {
                    self.reject(location, name, "required", "is required".into());
                }
                None
            }
            (Some(value), 1) => {
                let compiled = spec.compiled();
                self.parse_one(location, name, &value, compiled)
            }
            _ => {
                self.reject(
                    location,
                    name,
                    "repeated",
                    "must not be given more than once".into(),
                );
                None
            }
        }
    }

    /// Reads an array parameter: repeated (`?id=a&id=b`), and, when `delimiter` is not empty,
    /// each occurrence split at it as well (`?id=a,b`, `style: form, explode: false`, and the
    /// `simple`, `spaceDelimited` and `pipeDelimited` styles). `None` when absent and
    /// `required` (recorded).
    pub fn array<T: FromParam + serde::Serialize>(
        &mut self,
        location: &str,
        name: &str,
        required: bool,
        delimiter: &str,
        spec: &ParamSpec,
    ) -> Option<Vec<T>> {
        let before = self.details.len();
        let mut occurrences = Vec::new();
        self.occurrences(name, spec, |value| occurrences.push(value));
        if occurrences.is_empty() && required {
            self.reject(location, name, "required", "is required".into());
            return None;
        }
        let values: Vec<String> = if delimiter.is_empty() {
            occurrences.into_iter().map(Cow::into_owned).collect()
        } else {
            occurrences
                .iter()
                .flat_map(|text| text.split(delimiter))
                .map(str::to_string)
                .collect()
        };
        let compiled = spec.compiled();
        let items: Vec<T> = values
            .iter()
            .filter_map(|text| self.parse_one(location, name, text, compiled))
            .collect();
        if self.details.len() == before
            && let Some(array_validator) = &compiled.array
        {
            let array = Value::Array(values.into_iter().map(Value::String).collect());
            let prefix = format!("{location}/{name}");
            if let Some(detail) = validate(array_validator, &array, &prefix)
                .into_iter()
                .next()
            {
                self.details.push(Detail {
                    property: prefix,
                    ..detail
                });
            }
        }
        Some(items)
    }

    fn parse_one<T: FromParam + serde::Serialize>(
        &mut self,
        location: &str,
        name: &str,
        text: &str,
        compiled: &Compiled,
    ) -> Option<T> {
        let value = match T::from_param(text) {
            Ok(value) => value,
            Err(error) => {
                self.reject(location, name, "type", format!("cannot be parsed: {error}"));
                return None;
            }
        };
        let json = serde_json::to_value(&value).unwrap_or(Value::Null);
        if compiled
            .quick
            .as_ref()
            .is_some_and(|quick| quick.accepts(&json))
        {
            return Some(value);
        }
        let prefix = format!("{location}/{name}");
        match validate(&compiled.single, &json, &prefix)
            .into_iter()
            .next()
        {
            Some(detail) => {
                self.details.push(Detail {
                    property: prefix,
                    ..detail
                });
                None
            }
            None => Some(value),
        }
    }
}

/// The schema of one parameter, for the `JsonSchema` of its parameter set (dropshot derives
/// parameter metadata from that schema). The type comes from the Rust type `T` (what the
/// generated code really parses); the spec's constraints (bounds, lengths, patterns, defaults)
/// are merged on top. `description` is the parameter's.
///
/// Dropshot accepts only scalar parameters. An array one is therefore described by its item
/// schema, with the whole array schema kept in the `x-array` extension; the round-trip proof
/// reads it back from there.
pub fn param_schema<T: schemars::JsonSchema>(
    generator: &mut schemars::r#gen::SchemaGenerator,
    spec: &ParamSpec,
    array: bool,
    description: &str,
) -> schemars::schema::Schema {
    let mut schema =
        serde_json::to_value(generator.subschema_for::<T>()).expect("schemas serialize");
    let spec_schema = spec.schema();
    if array {
        let items = spec_schema.get("items").cloned().unwrap_or(Value::Null);
        merge(&mut schema, &ParamSpec::constraints_of(&items));
        let mut whole = serde_json::json!({ "type": "array", "items": schema.clone() });
        merge(&mut whole, &spec.constraints());
        object(&mut schema).insert("x-array".into(), whole);
    } else {
        merge(&mut schema, &spec.constraints());
    }
    // Dropshot keeps a parameter schema's metadata (where `default` lives) only when the schema
    // comes wrapped in a one-element `allOf`, which it unwraps; it drops it otherwise.
    let mut wrapped = serde_json::json!({ "allOf": [schema] });
    if !description.is_empty() {
        wrapped["description"] = Value::String(description.to_string());
    }
    serde_json::from_value(wrapped).expect("merged schema is a schema")
}

fn object(schema: &mut Value) -> &mut Map<String, Value> {
    if !schema.is_object() {
        *schema = Value::Object(Map::new());
    }
    schema.as_object_mut().expect("an object")
}

fn merge(schema: &mut Value, constraints: &Value) {
    let Value::Object(extra) = constraints else {
        return;
    };
    let target = object(schema);
    for (key, value) in extra {
        target.insert(key.clone(), value.clone());
    }
}

/// The `JsonSchema` of a parameter set: an object with one property per parameter.
pub fn param_set_schema(
    properties: Vec<(&'static str, bool, schemars::schema::Schema)>,
) -> schemars::schema::Schema {
    let mut object = schemars::schema::ObjectValidation::default();
    for (name, required, schema) in properties {
        if required {
            object.required.insert(name.to_string());
        }
        object.properties.insert(name.to_string(), schema);
    }
    schemars::schema::Schema::Object(schemars::schema::SchemaObject {
        instance_type: Some(schemars::schema::InstanceType::Object.into()),
        object: Some(Box::new(object)),
        ..Default::default()
    })
}

/// Defines a parameter set: a struct with one field per parameter, parsed and checked against
/// the spec by [`Params`], and documented to dropshot with the spec's constraints.
///
/// The input is a struct (so that it reads, and formats, as one): `#[params(Location,
/// DEFINITIONS)]` on it (`#[params(Path, DEFINITIONS, "/users/{userId}")]` for path parameters,
/// with the operation's path template: see [`ParamSet::TEMPLATE`]), and on each field `#[param(how, "wire name", r#"schema"#)]`, where `how`
/// is `required`, `optional`, `default(r#"json"#)` (the spec's default when absent) or
/// `array(required|optional, "delimiter")`, and the schema is the parameter's (JSON text,
/// references into `DEFINITIONS`).
#[macro_export]
macro_rules! param_set {
    (
        $(#[doc = $doc:literal])*
        #[params($location:ident, $definitions:path $(, $template:literal)?)]
        pub struct $name:ident {
            $(
                $(#[doc = $field_doc:literal])*
                #[param($how:ident $(($($arg:tt)*))?, $wire:literal, $schema:literal)]
                pub $field:ident: $ty:ty,
            )*
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug, $crate::serde::Deserialize)]
        #[serde(crate = "::spec_runtime::serde")]
        pub struct $name {
            $(
                $(#[doc = $field_doc])*
                #[serde(rename = $wire)]
                pub $field: $ty,
            )*
        }

        impl $crate::ParamSet for $name {
            const LOCATION: $crate::ParamLocation = $crate::ParamLocation::$location;
            $(const TEMPLATE: &'static str = $template;)?

            fn parse(reader: &mut $crate::ParamReader<'_>) -> ::std::option::Option<Self> {
                let location = $crate::ParamLocation::$location.as_str();
                $(
                    let $field = {
                        static SPEC: $crate::ParamSpec = $crate::ParamSpec::new($schema, &$definitions);
                        $crate::param_set!(@read reader, location, $wire, &SPEC, $how $(($($arg)*))?)
                    };
                )*
                Some(Self { $($field: $crate::param_set!(@take $field, $how $(($($arg)*))?),)* })
            }
        }

        impl $crate::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::string::String {
                stringify!($name).to_string()
            }

            fn json_schema(generator: &mut $crate::schemars::r#gen::SchemaGenerator) -> $crate::schemars::schema::Schema {
                let description = |lines: &[&str]| lines.iter().map(|l| l.trim()).collect::<::std::vec::Vec<_>>().join("\n").trim().to_string();
                $crate::param_set_schema(vec![$({
                    static SPEC: $crate::ParamSpec = $crate::ParamSpec::new($schema, &$definitions);
                    $crate::param_set!(@schema generator, &SPEC, $wire, &description(&[$($field_doc),*]), $ty, $how $(($($arg)*))?)
                }),*])
            }
        }
    };
    (@read $reader:ident, $location:ident, $wire:literal, $spec:expr, required) => {
        $reader.single($location, $wire, true, $spec)
    };
    (@read $reader:ident, $location:ident, $wire:literal, $spec:expr, optional) => {
        $reader.single($location, $wire, false, $spec)
    };
    (@read $reader:ident, $location:ident, $wire:literal, $spec:expr, default($default:literal)) => {
        $reader.single($location, $wire, false, $spec)
    };
    (@read $reader:ident, $location:ident, $wire:literal, $spec:expr, array(required, $delimiter:literal)) => {
        $reader.array($location, $wire, true, $delimiter, $spec)
    };
    (@read $reader:ident, $location:ident, $wire:literal, $spec:expr, array(optional, $delimiter:literal)) => {
        $reader.array($location, $wire, false, $delimiter, $spec)
    };
    (@take $field:ident, required) => { $field? };
    (@take $field:ident, optional) => { $field };
    (@take $field:ident, default($default:literal)) => {
        match $field {
            Some(value) => value,
            None => $crate::params::default_value($default),
        }
    };
    (@take $field:ident, array(required, $delimiter:literal)) => { $field? };
    (@take $field:ident, array(optional, $delimiter:literal)) => { $field.unwrap_or_default() };
    (@schema $generator:ident, $spec:expr, $wire:literal, $description:expr, $ty:ty, required) => {
        ($wire, true, $crate::param_schema::<$ty>($generator, $spec, false, $description))
    };
    (@schema $generator:ident, $spec:expr, $wire:literal, $description:expr, $ty:ty, optional) => {
        ($wire, false, $crate::param_schema::<<$ty as $crate::Optional>::Inner>($generator, $spec, false, $description))
    };
    (@schema $generator:ident, $spec:expr, $wire:literal, $description:expr, $ty:ty, default($default:literal)) => {
        ($wire, false, $crate::param_schema::<$ty>($generator, $spec, false, $description))
    };
    (@schema $generator:ident, $spec:expr, $wire:literal, $description:expr, $ty:ty, array($required:ident, $delimiter:literal)) => {
        ($wire, $crate::param_set!(@required $required), $crate::param_schema::<<$ty as $crate::Optional>::Inner>($generator, $spec, true, $description))
    };
    (@required required) => { true };
    (@required optional) => { false };
}

/// A parameter's default, given as the spec's JSON: a string default (`"12345"` for an
/// integer, say) is read as the parameter's text would be.
///
/// # Panics
/// When the default does not parse: the generator checked that it does.
pub fn default_value<T: FromParam + DeserializeOwned>(json: &str) -> T {
    let value: Value = serde_json::from_str(json).expect("the generator writes defaults as JSON");
    match value {
        Value::String(text) => T::from_param(&text).ok(),
        other => serde_json::from_value(other).ok(),
    }
    .expect("the generator checked that the spec's default parses")
}

/// What an optional parameter (`Option<T>`) or an array parameter (`Vec<T>`) holds: the type
/// dropshot documents.
pub trait Optional {
    type Inner: schemars::JsonSchema;
}

impl<T: schemars::JsonSchema> Optional for Option<T> {
    type Inner = T;
}

impl<T: schemars::JsonSchema> Optional for Vec<T> {
    type Inner = T;
}

impl ParamLocation {
    /// `path`, `query` or `header`: how rejections name the parameter (`query/limit`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::Query => "query",
            Self::Header => "header",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plain(template: &str, path: &str) -> Option<Vec<(String, String)>> {
        let mut found = [("", ""); MAX_PLAIN_VARIABLES];
        let count = plain_path_variables(template, path, &mut found)?;
        Some(
            found[..count]
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
        )
    }

    /// A plain path's variables are its segments; anything dropshot's router would decode or
    /// normalize (percent-escapes, empty segments, dot-segments), a wildcard, or a path that
    /// does not fit the template is left to dropshot's extractor.
    #[test]
    fn plain_paths_are_read_by_the_template_and_others_left_to_dropshot() {
        let pair = |name: &str, value: &str| (name.to_string(), value.to_string());
        assert_eq!(
            plain("/users/{userId}", "/users/rid_abc"),
            Some(vec![pair("userId", "rid_abc")])
        );
        assert_eq!(
            plain("/a/{x}/b/{y}", "/a/1/b/two"),
            Some(vec![pair("x", "1"), pair("y", "two")])
        );
        assert_eq!(plain("/users", "/users"), Some(vec![]));
        for (template, path) in [
            ("/users/{userId}", "/users/a%20b"),
            ("/users/{userId}", "/users//abc"),
            ("/users/{userId}", "//users/abc"),
            ("/users/{userId}", "/users/abc/"),
            ("/users/{userId}", "/users/."),
            ("/users/{userId}", "/users/.."),
            ("/users/{userId}", "/users"),
            ("/users/{userId}", "/users/abc/more"),
            ("/users/{userId}", "/people/abc"),
            ("/files/{path:.*}", "/files/a"),
            ("/users/{userId}", "users/abc"),
            ("/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", "/1/2/3/4/5/6/7/8/9"),
        ] {
            assert_eq!(plain(template, path), None, "{template} {path}");
        }
        assert_eq!(
            plain("/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}", "/1/2/3/4/5/6/7/8").map(|v| v.len()),
            Some(8)
        );
    }

    /// The quick check decides exactly what the validator decides, for every schema it takes:
    /// each value of a grid (strings of several lengths, integers and floats around each bound,
    /// booleans, null, containers) against each schema.
    #[test]
    fn the_quick_check_agrees_with_the_validator() {
        static NONE: Definitions = Definitions::new("{}");
        let schemas = [
            json!({"type": "string"}),
            json!({"type": "string", "maxLength": 3}),
            json!({"type": "string", "minLength": 2, "maxLength": 4, "description": "d"}),
            json!({"type": "string", "enum": ["a", "bc", "é"]}),
            json!({"type": "integer"}),
            json!({"type": "integer", "format": "int32", "minimum": 1, "maximum": 10}),
            json!({"type": "integer", "minimum": 1, "exclusiveMinimum": true}),
            json!({"type": "integer", "maximum": 10, "exclusiveMaximum": true, "default": 5}),
            json!({"type": "integer", "minimum": -3, "exclusiveMinimum": false}),
            json!({"type": "number", "minimum": 0.5, "maximum": 2.5}),
            json!({"type": "number", "format": "double", "example": 1}),
            json!({"type": "boolean"}),
            json!({"enum": [1, "x", true]}),
            json!({"minLength": 1, "minimum": 0}),
            json!({}),
        ];
        let values = [
            json!(""),
            json!("a"),
            json!("bc"),
            json!("é"),
            json!("éé"),
            json!("abc"),
            json!("abcd"),
            json!("abcde"),
            json!("x"),
            json!(-4),
            json!(-3),
            json!(0),
            json!(1),
            json!(2),
            json!(5),
            json!(9),
            json!(10),
            json!(11),
            json!(u64::MAX),
            json!(0.4),
            json!(0.5),
            json!(1.5),
            json!(2.5),
            json!(2.6),
            json!(true),
            json!(false),
            Value::Null,
            json!([1]),
            json!({"a": 1}),
        ];
        for schema in &schemas {
            let quick = Quick::of(schema).unwrap_or_else(|| panic!("no quick check: {schema}"));
            let validator = compile_validator(&schema.to_string(), &NONE);
            for value in &values {
                // Left to the validator: what is not a scalar, and numbers beyond floats.
                let scalar = value.is_string() || value.is_number() || value.is_boolean();
                let beyond = value.as_f64().is_some_and(|n| n.abs() >= EXACT_FLOAT);
                let expected = validator.is_valid(value) && scalar && !beyond;
                assert_eq!(quick.accepts(value), expected, "{value} against {schema}");
            }
        }
    }

    /// What comparisons cannot decide is left to the validator.
    #[test]
    fn schemas_beyond_comparisons_have_no_quick_check() {
        for schema in [
            json!({"type": "string", "pattern": "^a"}),
            json!({"type": "string", "format": "uuid"}),
            json!({"type": "string", "format": "date-time"}),
            json!({"type": ["string", "null"]}),
            json!({"$ref": "#/definitions/Id"}),
            json!({"type": "integer", "multipleOf": 2}),
            json!({"type": "integer", "exclusiveMinimum": true}),
            json!({"type": "integer", "minimum": 1e300}),
            json!({"type": "array"}),
            json!({"anyOf": [{"type": "string"}]}),
            json!(true),
        ] {
            assert!(Quick::of(&schema).is_none(), "{schema}");
        }
    }
}
