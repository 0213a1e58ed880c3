//! The round-trip proof: the OpenAPI document dropshot derives from the generated trait is
//! compared with the source document, operation by operation and schema by schema.
//!
//! Both documents are read as plain JSON. Schemas are compared after every `$ref` is resolved,
//! so naming (typify names inline types; the spec may not) does not matter, structure does.
//! What dropshot cannot express is listed in [`ALLOWED`], each entry with the reason; every
//! other difference is reported with the operation (or schema) and the field.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value};

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
        "dropshot emits no security schemes or requirements; the server enforces the API key itself",
    ),
    (
        "error statuses",
        "dropshot folds every error status into `4XX`/`5XX` responses; the error schema is compared, \
         the per-status list is checked by the conformance suite",
    ),
    (
        "annotations",
        "`example`, `title`, `externalDocs` and `x-` extensions are documentation; descriptions of \
         schemas and properties are compared only where dropshot carries them (operations, parameters)",
    ),
    (
        "integer and number formats",
        "the Rust width (`uint64`, `int32`, ...) is the generator's choice; in body schemas schemars \
         also states `minimum: 0` for every unsigned type, so a zero minimum is compared only for \
         parameters (`i64`/`i32`, with the spec's bounds); other bounds are compared",
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
        "`nullable` on optional properties",
        "an optional property is an `Option<T>`, which schemars always marks nullable, whether the \
         spec lets the property be null or not, so `nullable` cannot be compared there; it is \
         compared on required properties",
    ),
    (
        "line breaks in descriptions",
        "dropshot re-flows doc comments into paragraphs; descriptions are compared word by word",
    ),
    (
        "components that are not objects or enums",
        "schemars inlines transparent newtypes (maps, constrained scalars) instead of naming them; \
         their structure is still compared wherever they are used",
    ),
    (
        "`default` in body schemas",
        "schemars emits `default` only for some serde defaults; defaults are applied by the generated \
         deserializers and checked by the conformance suite. Parameters' defaults are compared",
    ),
    (
        "request body `required`",
        "dropshot marks every body extractor required",
    ),
    (
        "repeatable query parameters",
        "dropshot admits only scalar query parameters, so the generated extractor describes the item \
         and keeps the array schema in `x-array`, which this proof reads back",
    ),
];

/// Keywords ignored in body schemas, per [`ALLOWED`].
const IGNORED_KEYWORDS: [&str; 16] = [
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

/// Compares the source document with the derived one.
pub fn compare(source: &Value, derived: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    let methods = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let mut seen = BTreeSet::new();
    for (path, item) in object(source.get("paths")) {
        for method in methods {
            let Some(op) = item.get(method) else { continue };
            let name = op
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or(path)
                .to_string();
            seen.insert((path.clone(), method));
            match derived.pointer(&format!("/paths/{}/{method}", escape(path))) {
                None => out.push(diff(
                    &name,
                    &format!("{} {path}", method.to_uppercase()),
                    "the operation",
                    "-",
                )),
                Some(derived_op) => {
                    Operation {
                        out: &mut out,
                        name: &name,
                        source,
                        derived,
                    }
                    .compare(op, derived_op, item);
                }
            }
        }
    }
    for (path, item) in object(derived.get("paths")) {
        for method in methods {
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
        match derived.pointer(&format!("/components/schemas/{}", escape(name))) {
            None if schema.get("properties").is_none() && schema.get("enum").is_none() => {}
            None => out.push(diff(&label, "the schema", "a definition", "-")),
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

impl Operation<'_> {
    fn push(&mut self, field: &str, source: impl fmt::Display, derived: impl fmt::Display) {
        self.out.push(diff(self.name, field, source, derived));
    }

    fn compare(&mut self, op: &Value, found: &Value, item: &Value) {
        for key in ["operationId", "summary", "description", "tags"] {
            let a = op.get(key).map(trimmed);
            let b = found.get(key).map(trimmed);
            if a != b {
                self.push(key, show(a.as_ref()), show(b.as_ref()));
            }
        }
        self.parameters(op, found, item);
        self.request_body(op, found);
        self.responses(op, found);
    }

    fn parameters(&mut self, op: &Value, found: &Value, item: &Value) {
        let collect = |document: &Value, list: Vec<&Value>| -> Vec<(String, Value)> {
            list.into_iter()
                .flat_map(|l| l.as_array().cloned().unwrap_or_default())
                .map(|p| resolve_local(document, &p).clone())
                .map(|p| (format!("{}/{}", str_of(&p, "in"), str_of(&p, "name")), p))
                .collect()
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
            // A repeatable query parameter: the array schema rides in `x-array`.
            if let Some(array) = derived_schema.get("x-array").cloned() {
                derived_schema = array;
            }
            let a = normalize_param(self.source, param.get("schema").unwrap_or(&Value::Null));
            let b = normalize_param(self.derived, &derived_schema);
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
        match (a, b) {
            (None, None) => {}
            (Some(_), None) => self.push("requestBody", "a body", "-"),
            (None, Some(_)) => self.push("requestBody", "-", "a body"),
            (Some(a), Some(b)) => self.content("requestBody", a, b),
        }
    }

    fn content(&mut self, field: &str, a: &Value, b: &Value) {
        let a_types: Vec<&String> = object(a.get("content")).keys().collect();
        let b_types: Vec<&String> = object(b.get("content")).keys().collect();
        if a_types != b_types {
            self.push(
                &format!("{field}: content types"),
                format!("{a_types:?}"),
                format!("{b_types:?}"),
            );
            return;
        }
        for media in a_types {
            let pointer = format!("/content/{}/schema", escape(media));
            let a = normalize(self.source, a.pointer(&pointer).unwrap_or(&Value::Null), 0);
            let b = normalize(self.derived, b.pointer(&pointer).unwrap_or(&Value::Null), 0);
            compare_schemas(
                self.out,
                self.name,
                &format!("{field}: {media} schema"),
                &a,
                &b,
            );
        }
    }

    fn responses(&mut self, op: &Value, found: &Value) {
        let source_responses = object(op.get("responses"));
        let derived_responses = object(found.get("responses"));
        for (status, response) in source_responses {
            let response = resolve_local(self.source, response);
            let class = status.chars().next().unwrap_or('0');
            if class == '2' {
                let Some(other) = derived_responses.get(status) else {
                    let derived_success: Vec<&String> = derived_responses
                        .keys()
                        .filter(|s| s.starts_with('2'))
                        .collect();
                    self.push("success status", status, format!("{derived_success:?}"));
                    continue;
                };
                let other = resolve_local(self.derived, other);
                self.content(&format!("response {status}"), response, other);
                let a: BTreeSet<String> = object(response.get("headers"))
                    .keys()
                    .map(|h| h.to_ascii_lowercase())
                    .collect();
                let b: BTreeSet<String> = object(other.get("headers"))
                    .keys()
                    .map(|h| h.to_ascii_lowercase())
                    .collect();
                if a != b {
                    self.push(
                        &format!("response {status}: headers"),
                        format!("{a:?}"),
                        format!("{b:?}"),
                    );
                }
            } else {
                // Per ALLOWED ("error statuses"): the schema must match dropshot's folded range.
                let range = format!("{class}XX");
                let Some(other) = derived_responses.get(&range) else {
                    self.push(
                        &format!("response {status}"),
                        "an error response",
                        format!("no {range} response"),
                    );
                    continue;
                };
                let other = resolve_local(self.derived, other);
                self.content(&format!("response {status} (as {range})"), response, other);
            }
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
    normalize_with(document, schema, 0, Kind::Param)
}

/// A schema with every `$ref` inlined and the keywords of [`ALLOWED`] removed.
fn normalize(document: &Value, schema: &Value, depth: usize) -> Value {
    normalize_with(document, schema, depth, Kind::Body)
}

fn normalize_with(document: &Value, schema: &Value, depth: usize, kind: Kind) -> Value {
    if depth > 32 {
        return Value::String("<recursive>".into());
    }
    let schema = resolve_local(document, schema);
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    // dropshot wraps a nullable reference as `allOf: [ref], nullable: true`; read it as the
    // referenced schema made nullable.
    if let (Some(Value::Array(all)), true) = (map.get("allOf"), map.len() <= 3)
        && all.len() == 1
    {
        let mut inner = normalize_with(document, &all[0], depth + 1, kind);
        if map.get("nullable") == Some(&Value::Bool(true))
            && let Value::Object(inner) = &mut inner
        {
            inner.insert("nullable".into(), Value::Bool(true));
        }
        return inner;
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
        if key == "maxItems" && body {
            continue;
        }
        if key == "nullable" && value == &Value::Bool(false) {
            continue;
        }
        // schemars states `minimum: 0` for every unsigned integer, so in a body schema a zero
        // lower bound says nothing about the spec; it is dropped on both sides (see ALLOWED).
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
                            let mut property = normalize_with(document, v, depth + 1, kind);
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
            "items" | "not" => normalize_with(document, value, depth + 1, kind),
            "additionalProperties" => match value {
                Value::Object(_) => normalize_with(document, value, depth + 1, kind),
                other => other.clone(),
            },
            "allOf" | "anyOf" | "oneOf" => Value::Array(
                value
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|v| normalize_with(document, v, depth + 1, kind))
                    .collect(),
            ),
            "required" => {
                let mut names: Vec<Value> = value.as_array().cloned().unwrap_or_default();
                names.sort_by_key(ToString::to_string);
                Value::Array(names)
            }
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

/// Walks two normalized schemas side by side, reporting each differing keyword by its path.
fn compare_schemas(out: &mut Vec<Difference>, operation: &str, field: &str, a: &Value, b: &Value) {
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
        compare(source, derived)
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
        assert_eq!(compare(&doc, &doc), Vec::new());
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
                    "listThings: response 200: application/json schema.properties.id.format",
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
        let differences = compare(&source, &derived);
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
        assert_eq!(
            fields(&source, &derived),
            [
                "listThings: response 200: application/json schema.properties.id.nullable",
                "schema Thing: properties.id.nullable",
            ]
        );
    }
}
