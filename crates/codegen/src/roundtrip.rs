//! The round-trip proof: the OpenAPI document dropshot derives from the generated trait is
//! compared with the source document, operation by operation and schema by schema.
//!
//! Both documents are read as plain JSON. Schemas are compared after every `$ref` is resolved,
//! so naming (typify names inline types; the spec may not) does not matter, structure does.
//! What dropshot cannot express is listed in [`ALLOWED`], each entry with the reason; every
//! other difference is reported with the operation (or schema) and the field.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use serde_json::{Map, Value};

use crate::Names;
use crate::pointer::{escape, resolve_local};

/// One disagreement between the source and the derived document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// `listUsers`, or `schema User` for component schemas.
    pub operation: String,
    /// What differs, e.g. `parameter query/limit: schema.maximum`.
    pub field: String,
    /// The value in the source document (`-` when absent).
    pub source: String,
    /// The value in the derived document (`-` when absent).
    pub derived: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: the spec has {}, the generated trait has {}",
            self.operation, self.field, self.source, self.derived
        )
    }
}

/// What dropshot (or schemars, through typify's derives) cannot express, and so is not compared.
/// Each entry: the thing, and why.
pub const ALLOWED: &[(&str, &str)] = &[
    (
        "security",
        "dropshot emits no security schemes or requirements; the server enforces them itself",
    ),
    (
        "error statuses",
        "dropshot documents one error schema for every `4XX` and `5XX` status of an endpoint: it \
         is compared with the operation's error bodies (their `anyOf` when there are several); \
         which status has which body is checked by the conformance suite",
    ),
    (
        "validation fallback body",
        "where the spec's 400 body cannot carry a rejection, the generated error type also \
         documents the fallback body (`Rejection`) beside the spec's bodies; it is set aside",
    ),
    (
        "docs",
        "dropshot reads the first line of a doc comment as the summary and re-flows the rest, so \
         an operation's summary and description are compared as one text, word by word; \
         descriptions of schemas and properties are documentation and are not compared",
    ),
    (
        "annotations",
        "`example`, `title`, `externalDocs`, `discriminator` and `x-` extensions are documentation \
         (a discriminator's mapping is kept for the validator, which uses it to name the branch a \
         rejected value meant)",
    ),
    (
        "integer and number formats and bounds inside schemas",
        "the Rust width (`uint64`, `int32`, ...) is the generator's choice, and typify's integer \
         and number types state no `minimum`, `maximum` or `multipleOf`; request bodies are \
         validated against the spec's own schemas. Parameters' formats and bounds are compared",
    ),
    (
        "string constraints inside schemas",
        "typify's validating newtypes derive `JsonSchema` without `minLength`/`maxLength`/`pattern`/\
         `format` (typify-impl notes it as a TODO), and plain strings lose formats such as `email`; \
         the newtypes enforce them, and request bodies are validated against the spec's own schemas. \
         The formats `uuid`, `date-time` and `date` become `Uuid`, `DateTime` and `NaiveDate`, whose \
         schemas state them, so those are compared",
    ),
    (
        "collection bounds inside schemas",
        "`maxItems`, `uniqueItems`, `minProperties` and `maxProperties` are dropped by schemars' \
         derive for the same reason; request bodies are validated against the spec's own schemas",
    ),
    (
        "`nullable` on optional properties, and required nullable properties",
        "an optional property is an `Option<T>`, which schemars always marks nullable, so \
         `nullable` is compared on required properties only; a required property that may be null \
         is an `Option<T>` too, which schemars documents as optional",
    ),
    (
        "schemas written another way",
        "typify reads schemas by what they mean, and its types document that: an `allOf` of \
         objects is one object, `anyOf` and `oneOf` are one untagged enum (documented as \
         `anyOf`), properties beside a `oneOf` hold in each branch, a tag every branch pins moves \
         into each variant, an object's or array's `type` may be left to `properties` or `items`, \
         `additionalProperties: true` and `items: {}` go without saying, enum values the type \
         cannot have are none, and an `allOf` of two types is `not: {}`; both documents are read \
         in that form. An enum whose values typify would give one Rust name (`a` and `A`) is a \
         string, and `enum: [null]` has no OpenAPI 3.0 type to compare",
    ),
    (
        "additional properties beside declared ones",
        "typify's structs hold the declared properties only; an `additionalProperties` schema \
         beside `properties` is validated on requests but not compared",
    ),
    (
        "components",
        "schemars writes only the schemas the endpoints use, and inlines transparent newtypes; \
         every schema is compared wherever an operation uses it, and components that are written \
         are compared as well",
    ),
    (
        "`default` in body schemas",
        "schemars emits `default` only for some serde defaults; defaults are applied by the generated \
         deserializers and checked by the conformance suite. Parameters' defaults are compared",
    ),
    (
        "request bodies",
        "dropshot marks every body required; of several media types the generator serves one (JSON, \
         then a form, then raw bytes), which is compared; JSON media types (`+json`, `; charset`) \
         are all `application/json` to dropshot, and a raw body is `application/octet-stream`",
    ),
    (
        "success responses",
        "dropshot documents one success status: the first of several with one body (the handler \
         may answer any of them); a body that is not JSON is `*/*`; an operation that documents no \
         success answers with whatever response the handler builds, documented as `default`",
    ),
    (
        "parameters",
        "dropshot admits only scalar parameters, so the generated extractor describes an array's \
         item and keeps the array schema in `x-array`, which this proof reads back; a parameter \
         without a type is read as text, documented as a string",
    ),
    (
        "websockets",
        "a dropshot channel documents the protocol upgrade and dropshot's own errors; its \
         parameters are compared",
    ),
    (
        "callbacks",
        "requests the server makes, not routes it serves: not generated, and named in the trait's \
         docs",
    ),
];

/// Keywords ignored in body schemas, per [`ALLOWED`].
const IGNORED_KEYWORDS: [&str; 17] = [
    "discriminator",
    "description",
    "title",
    "example",
    "examples",
    "externalDocs",
    "deprecated",
    "xml",
    "default",
    "readOnly",
    "writeOnly",
    "minLength",
    "maxLength",
    "pattern",
    "uniqueItems",
    "maxProperties",
    "minProperties",
];

/// Keywords ignored in parameter schemas: dropshot carries the rest (see [`normalize_param`]).
const IGNORED_PARAM_KEYWORDS: [&str; 4] = ["description", "title", "example", "examples"];

/// The string formats typify turns into types whose schemas state them again (`Uuid`,
/// `DateTime<Utc>`, `NaiveDate`); other formats are lost in body schemas.
const TYPED_FORMATS: [&str; 3] = ["uuid", "date-time", "date"];

/// What a schema describes, which decides what the derived document can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Bodies and component schemas, derived through typify's types.
    Body,
    /// Parameters, described by the generated extractors with the spec's constraints.
    Param,
}

impl Kind {
    fn ignores(self, keyword: &str) -> bool {
        match self {
            Self::Body => IGNORED_KEYWORDS.contains(&keyword),
            Self::Param => IGNORED_PARAM_KEYWORDS.contains(&keyword),
        }
    }
}

/// Proves that `derived` (the document dropshot derives from the generated trait of the spec at
/// `spec`) is the spec: `Err` holds the report of every difference.
pub fn prove(spec: &Path, derived: &Value) -> Result<(), String> {
    let source = crate::load(spec).map_err(|error| error.to_string())?;
    // For looking at what dropshot derived: `ROUNDTRIP_DUMP=derived.json cargo test ...`.
    if let Some(dump) = std::env::var_os("ROUNDTRIP_DUMP") {
        let text = serde_json::to_string_pretty(derived).unwrap_or_default();
        std::fs::write(&dump, text).map_err(|error| format!("writing {dump:?}: {error}"))?;
    }
    let what = spec.display().to_string();
    report(&source, derived, &what, "the generated trait")
}

/// Compares the document of `source` with `derived`: `Err` holds the report of every
/// difference between `what` and `generated`.
fn report(
    source: &crate::Spec,
    derived: &Value,
    what: &str,
    generated: &str,
) -> Result<(), String> {
    let names = crate::names(source).map_err(|error| error.to_string())?;
    let differences = compare(&source.raw, &names, derived);
    if differences.is_empty() {
        return Ok(());
    }
    let report: Vec<String> = differences.iter().map(ToString::to_string).collect();
    Err(format!(
        "{} difference(s) between {what} and {generated}:\n{}",
        report.len(),
        report.join("\n")
    ))
}

/// Proves that `derived` (the document dropshot derives from the generated webhook receiver of
/// the spec at `spec`) is the spec's `x-webhooks`, as the webhook document the receiver is
/// generated from ([`crate::webhooks::document`]) states them.
pub fn prove_webhooks(spec: &Path, derived: &Value) -> Result<(), String> {
    let source = crate::load(spec).map_err(|error| error.to_string())?;
    let webhooks = crate::webhooks::document(&source)
        .map_err(|error| error.to_string())?
        .ok_or_else(|| format!("{} has no `x-webhooks`", spec.display()))?;
    // A receiver refuses a delivery as dropshot does (its `Error` body, 4XX and 5XX); the sender
    // retries every answer but the acknowledgement alike, so the spec documents only that.
    let mut derived = derived.clone();
    if let Some(paths) = derived.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            if let Some(responses) = item
                .pointer_mut("/post/responses")
                .and_then(Value::as_object_mut)
            {
                responses.retain(|status, _| !matches!(status.as_str(), "4XX" | "5XX"));
            }
        }
    }
    let what = format!("the x-webhooks of {}", spec.display());
    report(&webhooks, &derived, &what, "the generated receiver")
}

/// The HTTP methods OpenAPI allows in a path item.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Compares the source document with the derived one; `names` says how the generator named
/// the source's schemas and operations.
pub fn compare(source: &Value, names: &Names, derived: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (path, item) in object(source.get("paths")) {
        if path.starts_with("x-") {
            continue;
        }
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let id = op
                .get("operationId")
                .and_then(Value::as_str)
                .filter(|id| !id.trim().is_empty())
                .map(str::to_string)
                .or_else(|| {
                    names
                        .derived_ids
                        .get(&(path.clone(), method.to_string()))
                        .cloned()
                })
                .unwrap_or_else(|| path.clone());
            seen.insert((path.clone(), method));
            match derived.pointer(&format!("/paths/{}/{method}", escape(path))) {
                None => out.push(diff(
                    &id,
                    &format!("{} {path}", method.to_uppercase()),
                    "the operation",
                    "-",
                )),
                Some(derived_op) => {
                    Operation {
                        out: &mut out,
                        name: &id,
                        source,
                        derived,
                    }
                    .compare(op, derived_op, item, &id);
                }
            }
        }
    }
    for (path, item) in object(derived.get("paths")) {
        for method in METHODS {
            if let Some(op) = item.get(method)
                && !seen.contains(&(path.clone(), method))
            {
                let name = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or(path);
                out.push(diff(
                    name,
                    &format!("{} {path}", method.to_uppercase()),
                    "-",
                    "the operation",
                ));
            }
        }
    }
    for (name, schema) in object(source.pointer("/components/schemas")) {
        let label = format!("schema {name}");
        let rust = names.schemas.get(name).unwrap_or(name);
        // Per ALLOWED ("components"): schemars writes only the schemas the endpoints use.
        match derived.pointer(&format!("/components/schemas/{}", escape(rust))) {
            None => {}
            Some(found) => compare_schemas(
                &mut out,
                &label,
                "",
                &normalize(source, schema, 0),
                &normalize(derived, found, 0),
            ),
        }
    }
    out
}

struct Operation<'a> {
    out: &'a mut Vec<Difference>,
    name: &'a str,
    source: &'a Value,
    derived: &'a Value,
}

/// How a body of a media type is read (the generator's order of preference).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Media {
    Json,
    Form,
    Multipart,
    Raw,
}

impl Media {
    fn of(media: &str) -> Self {
        match crate::media::BodyMedia::of(media) {
            crate::media::BodyMedia::Json => Self::Json,
            crate::media::BodyMedia::Form => Self::Form,
            crate::media::BodyMedia::Multipart => Self::Multipart,
            crate::media::BodyMedia::Raw => Self::Raw,
        }
    }

    /// What dropshot writes for a body of this kind.
    fn derived(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Form => "application/x-www-form-urlencoded",
            Self::Multipart => "multipart/form-data",
            Self::Raw => "application/octet-stream",
        }
    }
}

impl Operation<'_> {
    fn push(&mut self, field: &str, source: impl fmt::Display, derived: impl fmt::Display) {
        self.out.push(diff(self.name, field, source, derived));
    }

    fn compare(&mut self, op: &Value, found: &Value, item: &Value, id: &str) {
        let found_id = found.get("operationId").and_then(Value::as_str);
        if found_id != Some(id) {
            self.push("operationId", id, show(found.get("operationId")));
        }
        // Per ALLOWED ("docs"): dropshot reads the first line of a doc comment as the summary.
        let text = |node: &Value| -> String {
            ["summary", "description"]
                .iter()
                .filter_map(|key| node.get(*key).and_then(Value::as_str))
                .flat_map(str::split_whitespace)
                .collect::<Vec<_>>()
                .join(" ")
        };
        if text(op) != text(found) {
            self.push(
                "summary and description",
                show(Some(&Value::String(text(op)))),
                show(Some(&Value::String(text(found)))),
            );
        }
        let tags = |node: &Value| {
            node.get("tags")
                .cloned()
                .unwrap_or(Value::Array(Vec::new()))
        };
        if tags(op) != tags(found) {
            self.push("tags", tags(op), tags(found));
        }
        let deprecated = |node: &Value| node.get("deprecated") == Some(&Value::Bool(true));
        if deprecated(op) != deprecated(found) {
            self.push("deprecated", deprecated(op), deprecated(found));
        }
        self.parameters(op, found, item);
        // Per ALLOWED ("websockets"): a dropshot channel documents the upgrade and its errors.
        if op.get("x-dropshot-websocket").is_some() {
            if found.get("x-dropshot-websocket").is_none() {
                self.push("x-dropshot-websocket", "a websocket", "-");
            }
            return;
        }
        self.request_body(op, found);
        self.responses(op, found);
    }

    fn parameters(&mut self, op: &Value, found: &Value, item: &Value) {
        let key = |p: &Value| {
            let location = str_of(p, "in");
            let name = str_of(p, "name");
            match location {
                "header" => format!("{location}/{}", name.to_ascii_lowercase()),
                _ => format!("{location}/{name}"),
            }
        };
        let collect = |document: &Value, list: Vec<&Value>| -> Vec<(String, Value)> {
            let mut out: Vec<(String, Value)> = Vec::new();
            for p in list
                .into_iter()
                .flat_map(|l| l.as_array().cloned().unwrap_or_default())
                .map(|p| resolve_local(document, &p).clone())
            {
                let k = key(&p);
                // An operation's parameter overrides the path item's.
                out.retain(|(other, _)| *other != k);
                out.push((k, p));
            }
            out
        };
        let source_params = collect(
            self.source,
            [item.get("parameters"), op.get("parameters")]
                .into_iter()
                .flatten()
                .collect(),
        );
        let derived_params = collect(self.derived, found.get("parameters").into_iter().collect());
        for (key, param) in &source_params {
            let Some((_, other)) = derived_params.iter().find(|(k, _)| k == key) else {
                self.push(&format!("parameter {key}"), "the parameter", "-");
                continue;
            };
            let field = format!("parameter {key}");
            for attribute in ["required", "description"] {
                let a = param
                    .get(attribute)
                    .map(trimmed)
                    .filter(|v| v != &Value::Bool(false));
                let b = other
                    .get(attribute)
                    .map(trimmed)
                    .filter(|v| v != &Value::Bool(false));
                if a != b {
                    self.push(
                        &format!("{field}: {attribute}"),
                        show(a.as_ref()),
                        show(b.as_ref()),
                    );
                }
            }
            let mut derived_schema = other.get("schema").cloned().unwrap_or(Value::Null);
            // An array parameter: the array schema rides in `x-array`.
            if let Some(array) = derived_schema.get("x-array").cloned() {
                derived_schema = array;
            }
            let source_schema = param.get("schema").unwrap_or(&Value::Null);
            let mut a = normalize_param(self.source, source_schema);
            let mut b = normalize_param(self.derived, &derived_schema);
            untyped_as_text(&mut a, &mut b);
            compare_schemas(self.out, self.name, &format!("{field}: schema"), &a, &b);
        }
        for (key, _) in &derived_params {
            if !source_params.iter().any(|(k, _)| k == key) {
                self.push(&format!("parameter {key}"), "-", "the parameter");
            }
        }
    }

    fn request_body(&mut self, op: &Value, found: &Value) {
        let a = op.get("requestBody").map(|b| resolve_local(self.source, b));
        let b = found
            .get("requestBody")
            .map(|b| resolve_local(self.derived, b));
        // The media type the generator serves (per ALLOWED, "media types").
        let chosen = a.and_then(|a| {
            object(a.get("content"))
                .iter()
                .min_by_key(|(key, _)| Media::of(key))
                .map(|(key, media)| (key.clone(), media.clone()))
        });
        match (chosen, b) {
            (None, None) => {}
            (Some(_), None) => self.push("requestBody", "a body", "-"),
            (None, Some(_)) => self.push("requestBody", "-", "a body"),
            (Some((media_type, media)), Some(b)) => {
                let kind = Media::of(&media_type);
                let derived_types: Vec<&String> = object(b.get("content")).keys().collect();
                if derived_types != [kind.derived()] {
                    self.push(
                        "requestBody: content types",
                        format!("[{media_type:?}]"),
                        format!("{derived_types:?}"),
                    );
                    return;
                }
                if kind == Media::Raw {
                    return;
                }
                let pointer = format!("/content/{}/schema", escape(kind.derived()));
                let any = Value::Object(Map::new());
                let a = normalize(self.source, media.get("schema").unwrap_or(&any), 0);
                let b = normalize(self.derived, b.pointer(&pointer).unwrap_or(&Value::Null), 0);
                compare_schemas(
                    self.out,
                    self.name,
                    &format!("requestBody: {media_type} schema"),
                    &a,
                    &b,
                );
            }
        }
    }

    fn responses(&mut self, op: &Value, found: &Value) {
        let source_responses = object(op.get("responses"));
        let derived_responses = object(found.get("responses"));
        let status_of = |key: &str| -> Option<u16> {
            match key.to_ascii_uppercase().as_str() {
                "2XX" => Some(200),
                "3XX" => Some(300),
                other => other.parse().ok(),
            }
        };
        let mut successes: Vec<(u16, &Value)> = source_responses
            .iter()
            .filter_map(|(k, v)| {
                status_of(k)
                    .filter(|s| (200..300).contains(s))
                    .map(|s| (s, v))
            })
            .collect();
        if successes.is_empty() {
            successes = source_responses
                .iter()
                .filter_map(|(k, v)| {
                    status_of(k)
                        .filter(|s| (300..400).contains(s))
                        .map(|s| (s, v))
                })
                .collect();
        }
        let mut errors: Vec<(&String, &Value)> = source_responses
            .iter()
            .filter(|(k, _)| {
                k.starts_with('4') || k.starts_with('5') || k.eq_ignore_ascii_case("default")
            })
            .collect();
        if successes.is_empty()
            && let Some(default) = source_responses.get("default")
        {
            successes.push((200, default));
        }
        successes.sort_by_key(|(s, _)| *s);
        errors.sort_by_key(|(k, _)| k.eq_ignore_ascii_case("default"));
        match successes.first() {
            // Per ALLOWED ("undocumented success"): dropshot documents a `default` of any content.
            None => {}
            Some((status, response)) => {
                let response = resolve_local(self.source, response);
                let key = status.to_string();
                let Some(other) = derived_responses.get(&key) else {
                    let derived_success: Vec<&String> = derived_responses
                        .keys()
                        .filter(|s| s.starts_with('2') || s.starts_with('3'))
                        .collect();
                    self.push("success status", status, format!("{derived_success:?}"));
                    return;
                };
                let other = resolve_local(self.derived, other);
                self.response_content(&format!("response {status}"), response, other);
                let names = |r: &Value| -> BTreeSet<String> {
                    object(r.get("headers"))
                        .keys()
                        .map(|h| h.to_ascii_lowercase())
                        .filter(|h| h != "content-type")
                        .collect()
                };
                let (a, b) = (names(response), names(other));
                if a != b {
                    self.push(
                        &format!("response {status}: headers"),
                        format!("{a:?}"),
                        format!("{b:?}"),
                    );
                }
            }
        }
        self.errors(&errors, derived_responses);
    }

    /// A success response's body: JSON compared by schema, other bodies by kind (per ALLOWED,
    /// "media types").
    fn response_content(&mut self, field: &str, a: &Value, b: &Value) {
        let kind = |r: &Value| -> (&'static str, Option<Value>) {
            let content = object(r.get("content"));
            if content.is_empty() {
                return ("no content", None);
            }
            match content
                .iter()
                .find(|(k, _)| crate::media::is_json(&crate::media::essence(k)))
            {
                Some((_, media)) => (
                    "JSON",
                    Some(
                        media
                            .get("schema")
                            .cloned()
                            .unwrap_or(Value::Object(Map::new())),
                    ),
                ),
                None => ("a raw body", None),
            }
        };
        let (a_kind, a_schema) = kind(a);
        let (b_kind, b_schema) = kind(b);
        if a_kind != b_kind {
            self.push(&format!("{field}: content"), a_kind, b_kind);
            return;
        }
        if let (Some(x), Some(y)) = (a_schema, b_schema) {
            let x = normalize(self.source, &x, 0);
            let y = normalize(self.derived, &y, 0);
            compare_schemas(self.out, self.name, &format!("{field}: schema"), &x, &y);
        }
    }

    /// Per ALLOWED ("error statuses"): dropshot documents one schema for every error status;
    /// it must be the operation's error bodies (their `anyOf` when there are several), with the
    /// fallback rejection body beside them when rejections fall back to it.
    fn errors(&mut self, errors: &[(&String, &Value)], derived_responses: &Map<String, Value>) {
        let mut bodies: Vec<Value> = Vec::new();
        for (_, response) in errors {
            let response = resolve_local(self.source, response);
            let json = object(response.get("content"))
                .iter()
                .find(|(k, _)| crate::media::is_json(&crate::media::essence(k)))
                .map(|(_, media)| {
                    media
                        .get("schema")
                        .cloned()
                        .unwrap_or(Value::Object(Map::new()))
                });
            if let Some(schema) = json {
                let schema = normalize(self.source, &schema, 0);
                if !bodies.contains(&schema) {
                    bodies.push(schema);
                }
            }
        }
        let derived = ["4XX", "5XX"]
            .iter()
            .find_map(|range| derived_responses.get(*range))
            .map(|r| resolve_local(self.derived, r))
            .and_then(|r| r.pointer("/content/application~1json/schema"))
            .cloned();
        let mut alternatives: Vec<Value> = match &derived {
            None => Vec::new(),
            Some(schema) => match schema.get("anyOf").and_then(Value::as_array) {
                Some(any)
                    if schema.as_object().is_some_and(|m| {
                        m.keys()
                            .all(|k| k == "anyOf" || ANNOTATIONS.contains(&k.as_str()))
                    }) =>
                {
                    any.clone()
                }
                _ => vec![schema.clone()],
            },
        };
        // The fallback body (per ALLOWED, "validation fallback body").
        if alternatives
            .last()
            .and_then(|a| a.get("$ref"))
            .and_then(Value::as_str)
            .is_some_and(|r| r.ends_with("/Rejection"))
        {
            alternatives.pop();
        }
        // Several error bodies are one `oneOf` type, which schemars derives as `anyOf`.
        if bodies.len() > 1
            && let [single] = alternatives.as_slice()
        {
            let resolved = resolve_local(self.derived, single);
            if let Some(any) = resolved
                .get("anyOf")
                .or_else(|| resolved.get("oneOf"))
                .and_then(Value::as_array)
            {
                alternatives = any.clone();
            }
        }
        let alternatives: Vec<Value> = alternatives
            .iter()
            .map(|a| normalize(self.derived, a, 0))
            .collect();
        if bodies.len() != alternatives.len() {
            self.push(
                "error bodies",
                format!("{} schema(s)", bodies.len()),
                format!("{} schema(s)", alternatives.len()),
            );
            return;
        }
        for (index, (a, b)) in bodies.iter().zip(&alternatives).enumerate() {
            let field = match bodies.len() {
                1 => "error body".to_string(),
                _ => format!("error body {index}"),
            };
            compare_schemas(self.out, self.name, &field, a, b);
        }
    }
}

/// A parameter without a type is read as text, which dropshot documents as a string (and
/// without the `oneOf` or `allOf` the spec gives it, which dropshot cannot document for a
/// parameter).
fn untyped_as_text(source: &mut Value, derived: &mut Value) {
    if source.get("type").is_none()
        && derived.get("type") == Some(&Value::String("string".into()))
        && let (Value::Object(source), Value::Object(derived)) = (source, derived)
    {
        derived.remove("type");
        for key in ["oneOf", "anyOf", "allOf", "not"] {
            source.remove(key);
        }
    }
}

fn diff(
    operation: &str,
    field: &str,
    source: impl fmt::Display,
    derived: impl fmt::Display,
) -> Difference {
    Difference {
        operation: operation.to_string(),
        field: field.to_string(),
        source: source.to_string(),
        derived: derived.to_string(),
    }
}

fn show(value: Option<&Value>) -> String {
    match value {
        None => "-".to_string(),
        Some(Value::String(s)) if s.len() > 80 => format!(
            "{:?}...",
            &s[..s.char_indices().nth(77).map_or(s.len(), |(i, _)| i)]
        ),
        Some(value) => value.to_string(),
    }
}

/// Text with runs of white space folded to one space (see ALLOWED: line breaks).
fn trimmed(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.split_whitespace().collect::<Vec<_>>().join(" ")),
        other => other.clone(),
    }
}

fn object(value: Option<&Value>) -> &Map<String, Value> {
    static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
    value.and_then(Value::as_object).unwrap_or(&EMPTY)
}

fn str_of<'v>(value: &'v Value, key: &str) -> &'v str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// A parameter schema: like [`normalize`], but string and collection constraints, formats, a
/// zero minimum and `default` count (the generated extractors state them for parameters, so
/// they are not allowlisted here).
fn normalize_param(document: &Value, schema: &Value) -> Value {
    normalize_with(document, schema, &mut Vec::new(), Kind::Param)
}

/// A schema with every `$ref` inlined and the keywords of [`ALLOWED`] removed.
fn normalize(document: &Value, schema: &Value, _depth: usize) -> Value {
    normalize_with(document, schema, &mut Vec::new(), Kind::Body)
}

/// Keywords that only annotate.
const ANNOTATIONS: [&str; 3] = ["title", "description", "example"];

/// `schema` normalized; `stack` holds the references being inlined, so that a schema that
/// refers to itself (through any chain) is inlined once and then stands as `<recursive>`.
fn normalize_with(document: &Value, schema: &Value, stack: &mut Vec<String>, kind: Kind) -> Value {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        if stack.iter().any(|r| r == reference) || stack.len() > 64 {
            return Value::String("<recursive>".into());
        }
        let Some(target) = reference
            .strip_prefix('#')
            .and_then(|pointer| document.pointer(pointer))
        else {
            return schema.clone();
        };
        stack.push(reference.to_string());
        let out = normalize_with(document, target, stack, kind);
        stack.pop();
        return out;
    }
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    // dropshot wraps a nullable reference as `allOf: [ref], nullable: true`; read it as the
    // referenced schema made nullable.
    if let (Some(Value::Array(all)), true) = (map.get("allOf"), map.len() <= 3)
        && all.len() == 1
    {
        let mut inner = normalize_with(document, &all[0], stack, kind);
        if map.get("nullable") == Some(&Value::Bool(true))
            && let Value::Object(inner) = &mut inner
        {
            inner.insert("nullable".into(), Value::Bool(true));
        }
        return inner;
    }
    // typify makes one struct of an `allOf` of objects, and one array of an `allOf` of arrays;
    // read both sides so.
    if let Some(merged) = merge_all_of_arrays(document, map) {
        return normalize_with(document, &Value::Object(merged), stack, kind);
    }
    if let Some(merged) = merge_all_of(document, map) {
        return normalize_with(document, &Value::Object(merged), stack, kind);
    }
    // Schemas that say the same thing another way, in the way typify's types say it.
    if let Some(canonical) = canonical(document, map) {
        return normalize_with(document, &Value::Object(canonical), stack, kind);
    }
    // schemars writes the untagged enums typify makes of `anyOf` and `oneOf` as `anyOf`.
    if let Some(any) = map.get("anyOf").filter(|_| !map.contains_key("oneOf")) {
        let mut map = map.clone();
        map.remove("anyOf");
        map.insert("oneOf".into(), any.clone());
        return normalize_with(document, &Value::Object(map), stack, kind);
    }
    // An object schema without `type` (typify reads it as an object), and names `required`
    // lists without declaring them (any value, which typify gives the property).
    if (map.contains_key("properties") || map.get("required").is_some_and(Value::is_array))
        && (!map.contains_key("type") || map.get("type") == Some(&Value::String("object".into())))
        && !["oneOf", "anyOf", "allOf"]
            .iter()
            .any(|k| map.contains_key(*k))
    {
        let mut properties = map
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut changed = !map.contains_key("type");
        for name in map
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = name.as_str()
                && !properties.contains_key(name)
            {
                properties.insert(name.to_string(), Value::Object(Map::new()));
                changed = true;
            }
        }
        if changed {
            let mut map = map.clone();
            map.insert("type".into(), Value::String("object".into()));
            map.insert("properties".into(), Value::Object(properties));
            return normalize_with(document, &Value::Object(map), stack, kind);
        }
    }
    // Per ALLOWED ("required nullable properties"): a required property that may be null is
    // an `Option`, which schemars documents as optional.
    if kind == Kind::Body
        && let (Some(required), Some(properties)) = (
            map.get("required").and_then(Value::as_array),
            map.get("properties").and_then(Value::as_object),
        )
    {
        let nullable: Vec<&String> = properties
            .iter()
            .filter(|(_, p)| {
                let p = resolve_local(document, p);
                p.get("nullable") == Some(&Value::Bool(true))
            })
            .map(|(name, _)| name)
            .collect();
        if required
            .iter()
            .any(|r| nullable.iter().any(|n| r == n.as_str()))
        {
            let mut map = map.clone();
            let kept: Vec<Value> = required
                .iter()
                .filter(|r| !nullable.iter().any(|n| *r == n.as_str()))
                .cloned()
                .collect();
            match kept.is_empty() {
                true => map.remove("required"),
                false => map.insert("required".into(), Value::Array(kept)),
            };
            return normalize_with(document, &Value::Object(map), stack, kind);
        }
    }
    let is_number = matches!(
        map.get("type").and_then(Value::as_str),
        Some("integer" | "number")
    );
    let mut out = Map::new();
    for (key, value) in map {
        let body = kind == Kind::Body;
        if kind.ignores(key) || key.starts_with("x-") {
            continue;
        }
        if key == "format"
            && (is_number || (body && !value.as_str().is_some_and(|f| TYPED_FORMATS.contains(&f))))
        {
            continue;
        }
        if body && NUMBER_BOUNDS.contains(&key.as_str()) {
            continue;
        }
        if key == "maxItems" && body {
            continue;
        }
        // Per ALLOWED ("enums typify cannot name"): they are strings in the types.
        if key == "enum"
            && body
            && value
                .as_array()
                .is_some_and(|values| !crate::client::enum_names_unique(values))
        {
            continue;
        }
        if key == "nullable" && value == &Value::Bool(false) {
            continue;
        }
        if key == "minimum" && body && is_number && value.as_f64() == Some(0.0) {
            continue;
        }
        let value = match key.as_str() {
            "properties" => {
                let required = map.get("required").and_then(Value::as_array);
                let is_required =
                    |name: &str| required.is_some_and(|r| r.iter().any(|v| v == name));
                Value::Object(
                    object(Some(value))
                        .iter()
                        .map(|(k, v)| {
                            let mut property = normalize_with(document, v, stack, kind);
                            if !is_required(k)
                                && let Value::Object(property) = &mut property
                            {
                                property.remove("nullable");
                            }
                            (k.clone(), property)
                        })
                        .collect(),
                )
            }
            "items" | "not" => normalize_with(document, value, stack, kind),
            "additionalProperties" => match value {
                Value::Object(_) => normalize_with(document, value, stack, kind),
                other => other.clone(),
            },
            "allOf" | "anyOf" | "oneOf" => Value::Array(
                value
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|v| normalize_with(document, v, stack, kind))
                    .collect(),
            ),
            "required" => {
                let mut names: Vec<Value> = value.as_array().cloned().unwrap_or_default();
                names.sort_by_key(ToString::to_string);
                Value::Array(names)
            }
            // `1.0` and `1` are one number (schemars writes enum values of a float as floats).
            "enum" | "default" => integral(value),
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

/// `value` with every whole float written as an integer.
fn integral(value: &Value) -> Value {
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(integral).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), integral(v))).collect())
        }
        other => other.clone(),
    }
}

/// Numeric bounds inside body schemas: typify's integer and number types do not state them
/// (see [`ALLOWED`]).
const NUMBER_BOUNDS: [&str; 5] = [
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
];

/// `map` in the form typify's types document it, when that differs: `additionalProperties:
/// true` and `items: {}` said or not; enum values the type cannot have; a type left to be inferred (`items` makes an array, an
/// `enum` of one JSON type that type, `enum: [true, false]` any boolean); the `type` beside a
/// `oneOf`, which its branches say; an `allOf` of different types, which nothing fits; and the
/// tag of a discriminated union, which typify moves into each variant.
fn canonical(document: &Value, map: &Map<String, Value>) -> Option<Map<String, Value>> {
    let mut out = map.clone();
    if out.get("additionalProperties") == Some(&Value::Bool(true)) {
        out.remove("additionalProperties");
    }
    // Per ALLOWED ("additional properties beside declared ones").
    if out
        .get("properties")
        .is_some_and(|p| p.as_object().is_some_and(|p| !p.is_empty()))
        && out
            .get("additionalProperties")
            .is_some_and(Value::is_object)
    {
        out.remove("additionalProperties");
    }
    if out
        .get("items")
        .is_some_and(|i| i.as_object().is_some_and(Map::is_empty))
    {
        out.remove("items");
    }
    if !out.contains_key("type") && out.contains_key("items") {
        out.insert("type".into(), Value::String("array".into()));
    }
    // Per ALLOWED ("null"): OpenAPI 3.0 has no `null` type, and dropshot documents the unit
    // type typify makes of `enum: [null]` as a string.
    if out.get("enum") == Some(&Value::Array(vec![Value::Null])) && !out.contains_key("type") {
        let mut null = Map::new();
        null.insert(NULL.into(), Value::Bool(true));
        return Some(null);
    }
    crate::client::tidy_enum(&mut out);
    if let Some(Value::Array(values)) = out.get("enum").cloned() {
        let kinds: BTreeSet<&str> = values.iter().map(json_type).collect();
        if let [only] = kinds.iter().copied().collect::<Vec<_>>().as_slice()
            && !out.contains_key("type")
            && *only != "null"
        {
            out.insert("type".into(), Value::String((*only).to_string()));
        }
        if out.get("type") == Some(&Value::String("boolean".into()))
            && values.contains(&Value::Bool(true))
            && values.contains(&Value::Bool(false))
        {
            out.remove("enum");
        }
    }
    if out.contains_key("oneOf") || out.contains_key("anyOf") {
        out.remove("type");
    }
    if let Some(Value::Array(parts)) = out.get("allOf") {
        let types: BTreeSet<String> = parts
            .iter()
            .filter_map(|p| {
                resolve_local(document, p)
                    .get("type")
                    .and_then(Value::as_str)
            })
            .map(str::to_string)
            .collect();
        if types.len() > 1 {
            let mut never = Map::new();
            never.insert("not".into(), Value::Object(Map::new()));
            return Some(never);
        }
    }
    distribute(document, &mut out);
    untag(document, &mut out);
    (out != *map).then_some(out)
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Properties beside a `oneOf` hold in every branch: typify gives each variant them.
fn distribute(document: &Value, map: &mut Map<String, Value>) {
    let Some(Value::Object(outer)) = map.get("properties").cloned() else {
        return;
    };
    let Some(Value::Array(branches)) = map.get("oneOf").cloned() else {
        return;
    };
    let outer_required: Vec<Value> = map
        .get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut merged = Vec::new();
    for branch in &branches {
        let Some(mut branch) = resolve_local(document, branch).as_object().cloned() else {
            return;
        };
        let properties = branch
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(properties) = properties.as_object_mut() else {
            return;
        };
        for (name, schema) in &outer {
            properties
                .entry(name.clone())
                .or_insert_with(|| schema.clone());
        }
        if !outer_required.is_empty() {
            let required = branch
                .entry("required")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Some(required) = required.as_array_mut() {
                for name in &outer_required {
                    if !required.contains(name) {
                        required.push(name.clone());
                    }
                }
            }
        }
        merged.push(Value::Object(branch));
    }
    map.insert("oneOf".into(), Value::Array(merged));
    map.remove("properties");
    map.remove("required");
}

/// Takes the tag out of a tagged union's branches (and its properties beside the `oneOf`): a
/// property every branch requires and pins to one string, which typify moves into each variant.
fn untag(document: &Value, map: &mut Map<String, Value>) {
    let Some(Value::Array(branches)) = map.get("oneOf").cloned() else {
        return;
    };
    // typify tags only inline object branches (a `$ref` branch keeps its named struct, and the
    // enum is untagged), with no open or bounded property maps.
    let inline_objects = branches.iter().all(|branch| {
        branch.get("$ref").is_none()
            && branch
                .get("additionalProperties")
                .is_none_or(|a| a == &Value::Bool(false))
            && branch.get("maxProperties").is_none()
            && branch.get("minProperties").is_none()
    });
    if !inline_objects {
        return;
    }
    let resolved: Vec<Map<String, Value>> = branches
        .iter()
        .filter_map(|b| resolve_local(document, b).as_object().cloned())
        .collect();
    if resolved.len() != branches.len() || resolved.is_empty() {
        return;
    }
    // The tag: a property every branch pins to one string (the discriminator's property, when
    // the branches say its values; typify makes a tagged enum of those).
    // (Required in every branch: typify tags an enum only by a property each variant has.)
    let pinned = |branch: &Map<String, Value>, name: &str| {
        let required = branch
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|list| list.iter().any(|r| r == name));
        required
            && branch
                .get("properties")
                .and_then(|p| p.get(name))
                .map(|p| resolve_local(document, p))
                .and_then(|p| p.get("enum"))
                .and_then(Value::as_array)
                .is_some_and(|values| values.len() == 1 && values[0].is_string())
    };
    let Some(first) = resolved[0].get("properties").and_then(Value::as_object) else {
        return;
    };
    let Some(tag) = first
        .keys()
        .find(|name| resolved.iter().all(|branch| pinned(branch, name)))
        .cloned()
    else {
        return;
    };
    let untagged: Vec<Value> = resolved
        .into_iter()
        .map(|mut branch| {
            if let Some(Value::Object(properties)) = branch.get_mut("properties") {
                properties.remove(&tag);
            }
            if let Some(Value::Array(required)) = branch.get_mut("required") {
                required.retain(|r| r != &Value::String(tag.clone()));
                if required.is_empty() {
                    branch.remove("required");
                }
            }
            Value::Object(branch)
        })
        .collect();
    map.insert("oneOf".into(), Value::Array(untagged));
    map.remove("discriminator");
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        properties.remove(&tag);
        if properties.is_empty() {
            map.remove("properties");
        }
    }
    if let Some(Value::Array(required)) = map.get_mut("required") {
        required.retain(|r| r != &Value::String(tag.clone()));
        if required.is_empty() {
            map.remove("required");
        }
    }
}

/// An `allOf` whose parts are all objects (and the schema around it) as one object: the
/// properties and `required` of every part, closed (`additionalProperties: false`) when a part
/// is. `None` for anything else.
fn merge_all_of(document: &Value, map: &Map<String, Value>) -> Option<Map<String, Value>> {
    let parts = map.get("allOf")?.as_array()?;
    if parts.len() < 2
        || ["anyOf", "oneOf", "not"]
            .iter()
            .any(|k| map.contains_key(*k))
    {
        return None;
    }
    let mut resolved: Vec<Map<String, Value>> = Vec::new();
    for part in parts {
        let part = resolve_local(document, part).as_object()?;
        // A part that is itself an `allOf` of objects is that object.
        let part = match part.contains_key("allOf") {
            true => merge_all_of(document, part)?,
            false => part.clone(),
        };
        let object = part.get("type").and_then(Value::as_str) == Some("object")
            || part.contains_key("properties");
        if !object
            || ["allOf", "anyOf", "oneOf", "not"]
                .iter()
                .any(|k| part.contains_key(*k))
        {
            return None;
        }
        resolved.push(part);
    }
    let mut merged = map.clone();
    merged.remove("allOf");
    merged.insert("type".into(), Value::String("object".into()));
    let mut properties = map
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut required: Vec<Value> = map
        .get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // A closed part allows only its own properties.
    let closed: Vec<Vec<&String>> = resolved
        .iter()
        .filter(|part| part.get("additionalProperties") == Some(&Value::Bool(false)))
        .map(|part| {
            part.get("properties")
                .and_then(Value::as_object)
                .map(|p| p.keys().collect())
                .unwrap_or_default()
        })
        .collect();
    for part in resolved.iter() {
        for (name, property) in part
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if closed.iter().all(|allowed| allowed.contains(&name)) {
                // A property several parts describe is all of their descriptions, as typify
                // merges them.
                match properties.get_mut(name) {
                    Some(existing) => *existing = combine(existing, property),
                    None => {
                        properties.insert(name.clone(), property.clone());
                    }
                }
            }
        }
        for name in part
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !required.contains(name) {
                required.push(name.clone());
            }
        }
        if part.get("additionalProperties") == Some(&Value::Bool(false)) {
            merged.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
    if !properties.is_empty() {
        merged.insert("properties".into(), Value::Object(properties));
    }
    if !required.is_empty() {
        merged.insert("required".into(), Value::Array(required));
    }
    Some(merged)
}

/// Two descriptions of one value as one: either, when the other says nothing or the same;
/// their keywords together, when they share none and neither composes; an `allOf` otherwise.
fn combine(a: &Value, b: &Value) -> Value {
    let empty = |v: &Value| v.as_object().is_some_and(Map::is_empty);
    if a == b || empty(b) {
        return a.clone();
    }
    if empty(a) {
        return b.clone();
    }
    let composes = |m: &Map<String, Value>| {
        [
            "allOf",
            "anyOf",
            "oneOf",
            "not",
            "$ref",
            "properties",
            "items",
        ]
        .iter()
        .any(|k| m.contains_key(*k))
    };
    if let (Some(x), Some(y)) = (a.as_object(), b.as_object())
        && !composes(x)
        && !composes(y)
        && x.iter().all(|(k, v)| y.get(k).is_none_or(|w| w == v))
    {
        let mut both = x.clone();
        both.extend(y.iter().map(|(k, v)| (k.clone(), v.clone())));
        return Value::Object(both);
    }
    serde_json::json!({ "allOf": [a, b] })
}

/// An `allOf` whose parts are all arrays as one array of the `allOf` of their items (the other
/// keywords of the parts kept, the first part's where they differ). `None` for anything else.
fn merge_all_of_arrays(document: &Value, map: &Map<String, Value>) -> Option<Map<String, Value>> {
    let parts = map.get("allOf")?.as_array()?;
    if parts.len() < 2 {
        return None;
    }
    let mut merged = map.clone();
    merged.remove("allOf");
    let mut items = Vec::new();
    for part in parts {
        let part = resolve_local(document, part).as_object()?;
        if part.get("type").and_then(Value::as_str) != Some("array") {
            return None;
        }
        for (key, value) in part {
            match key.as_str() {
                "items" => items.push(value.clone()),
                _ => {
                    merged.entry(key.clone()).or_insert_with(|| value.clone());
                }
            }
        }
    }
    match items.len() {
        0 => {}
        1 => {
            merged.insert("items".into(), items.remove(0));
        }
        _ => {
            merged.insert("items".into(), serde_json::json!({ "allOf": items }));
        }
    }
    Some(merged)
}

/// The normalized form of a schema whose only value is `null` (see [`canonical`]).
const NULL: &str = "$null";

/// Walks two normalized schemas side by side, reporting each differing keyword by its path.
fn compare_schemas(out: &mut Vec<Difference>, operation: &str, field: &str, a: &Value, b: &Value) {
    if a.get(NULL).is_some() {
        return;
    }
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let path = if field.is_empty() {
                    key.clone()
                } else {
                    format!("{field}.{key}")
                };
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => compare_schemas(out, operation, &path, x, y),
                    (x, y) => out.push(diff(operation, &path, show(x), show(y))),
                }
            }
        }
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => {}
        (a, b) if a != b => out.push(diff(operation, field, show(Some(a)), show(Some(b)))),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A document with one operation: `GET /things` with the query parameter `limit` and a
    /// `Thing` in the response.
    fn document(limit: Value, thing: Value) -> Value {
        json!({
            "openapi": "3.0.3",
            "paths": {"/things": {"get": {
                "operationId": "listThings",
                "parameters": [{"in": "query", "name": "limit", "schema": limit}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Thing"}}}}}
            }}},
            "components": {"schemas": {"Thing": thing}}
        })
    }

    fn limit() -> Value {
        json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": 100, "default": 20})
    }

    fn thing(properties: Value) -> Value {
        json!({"type": "object", "required": ["id"], "properties": properties})
    }

    /// The differences between `source` and `derived`, as `operation: field`.
    fn fields(source: &Value, derived: &Value) -> Vec<String> {
        compare(source, &Names::default(), derived)
            .iter()
            .map(|d| format!("{}: {}", d.operation, d.field))
            .collect()
    }

    #[test]
    fn identical_documents_agree() {
        let doc = document(
            limit(),
            thing(json!({"id": {"type": "string", "format": "uuid"}})),
        );
        assert_eq!(compare(&doc, &Names::default(), &doc), Vec::new());
    }

    #[test]
    fn typed_string_formats_are_compared_in_bodies() {
        for format in TYPED_FORMATS {
            let source = document(
                limit(),
                thing(json!({"id": {"type": "string", "format": format}})),
            );
            let derived = document(limit(), thing(json!({"id": {"type": "string"}})));
            assert_eq!(
                fields(&source, &derived),
                [
                    "listThings: response 200: schema.properties.id.format",
                    "schema Thing: properties.id.format",
                ],
                "{format}"
            );
        }
        // Other formats are lost by typify's types, so they are not compared.
        let source = document(
            limit(),
            thing(json!({"id": {"type": "string", "format": "email"}})),
        );
        let derived = document(limit(), thing(json!({"id": {"type": "string"}})));
        assert_eq!(fields(&source, &derived), Vec::<String>::new());
    }

    #[test]
    fn parameter_defaults_are_compared() {
        let source = document(limit(), thing(json!({"id": {"type": "string"}})));
        let mut derived = source.clone();
        derived["paths"]["/things"]["get"]["parameters"][0]["schema"]["default"] = json!(10);
        assert_eq!(
            fields(&source, &derived),
            ["listThings: parameter query/limit: schema.default"]
        );
        let differences = compare(&source, &Names::default(), &derived);
        assert_eq!(
            (
                differences[0].source.as_str(),
                differences[0].derived.as_str()
            ),
            ("20", "10")
        );
        // Missing altogether.
        let mut derived = source.clone();
        derived["paths"]["/things"]["get"]["parameters"][0]["schema"]
            .as_object_mut()
            .unwrap()
            .remove("default");
        assert_eq!(
            fields(&source, &derived),
            ["listThings: parameter query/limit: schema.default"]
        );
    }

    #[test]
    fn a_zero_minimum_is_compared_for_parameters_only() {
        let source = document(
            limit(),
            thing(json!({"id": {"type": "string"}, "count": {"type": "integer", "minimum": 0}})),
        );
        let mut derived = source.clone();
        derived["paths"]["/things"]["get"]["parameters"][0]["schema"]
            .as_object_mut()
            .unwrap()
            .remove("minimum");
        assert_eq!(
            fields(&source, &derived),
            ["listThings: parameter query/limit: schema.minimum"]
        );
        // In a body schema, schemars states `minimum: 0` for every unsigned type.
        let mut derived = source.clone();
        derived["components"]["schemas"]["Thing"]["properties"]["count"]
            .as_object_mut()
            .unwrap()
            .remove("minimum");
        assert_eq!(fields(&source, &derived), Vec::<String>::new());
    }

    #[test]
    fn nullable_is_compared_on_required_properties_only() {
        let source = document(
            limit(),
            thing(json!({"id": {"type": "string"}, "note": {"type": "string"}})),
        );
        let derived = document(
            limit(),
            thing(json!({"id": {"type": "string", "nullable": true},
                         "note": {"type": "string", "nullable": true}})),
        );
        // A required property that may be null is an `Option`, documented as optional (see
        // ALLOWED), so the required `id` made nullable shows as no longer required.
        assert_eq!(
            fields(&source, &derived),
            [
                "listThings: response 200: schema.required",
                "schema Thing: required",
            ]
        );
    }
}
