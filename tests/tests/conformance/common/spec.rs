//! The spec, read from `openapi/connect.yaml` directly: its operations, the statuses each one
//! documents, and validators for every documented response body and header.
//!
//! This is deliberately independent of the generator: the OpenAPI 3.0 schemas are converted to
//! JSON Schema (draft 4) here, with our own few lines, so that a bug in `codegen`'s conversion
//! (which the server's request validation uses) cannot hide the same bug in the check.
//! Two choices make the check stricter than the bare schemas:
//!
//! - Response objects are *closed*: a response property the spec does not declare is a
//!   violation (the spec declares every field a client may rely on; an undeclared one is drift).
//! - Formats are asserted, and an unknown format is an error when the validators are built, so
//!   a new `format` in the spec cannot silently stop being checked. `uuid` and `phone` are
//!   checked by our own functions (draft 4 knows neither).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use serde_json::{Map, Value, json};

/// The source of truth, compiled into the test binary so that a change to it rebuilds the suite.
pub const SPEC_YAML: &str = include_str!("../../../../openapi/connect.yaml");

/// Error codes by status, from the contract (`/work/shared/connect-api.md`, section 1.2, and the
/// `Error.code` description in the spec). Every error answer of every test is checked against it.
pub const ERROR_CODES: &[(u16, &[&str])] = &[
    (400, &["validation_error", "malformed_request"]),
    (401, &["unauthorized"]),
    (404, &["not_found"]),
    (408, &["request_timeout"]),
    (
        409,
        &[
            "conflict",
            "quota_exceeded",
            "idempotency_key_locked",
            "idempotency_key_mismatch",
        ],
    ),
    (413, &["payload_too_large"]),
    (500, &["internal"]),
];

/// The statuses dropshot's router answers by itself, with its own body, for a path or method
/// the API does not have. Such exchanges name no operation of the spec, so the spec has nothing
/// to say about them; they are exempt from the checks (and tests assert on them directly).
pub const ROUTER_STATUSES: [u16; 2] = [404, 405];

/// The parsed spec, shared by every test of the binary (validators compile once).
pub fn spec() -> &'static Spec {
    static SPEC: LazyLock<Spec> =
        LazyLock::new(|| Spec::parse(SPEC_YAML).expect("openapi/connect.yaml loads"));
    &SPEC
}

/// One operation of the spec.
pub struct Operation {
    pub id: String,
    pub method: String,
    pub template: String,
    segments: Vec<Option<String>>,
    pub responses: BTreeMap<u16, ResponseSpec>,
}

/// What the spec documents for one status of one operation.
pub struct ResponseSpec {
    /// The validator of the `application/json` body, when the response has one.
    pub body: Option<jsonschema::Validator>,
    /// Documented headers (lowercase names) with validators of their values.
    pub headers: BTreeMap<String, jsonschema::Validator>,
}

pub struct Spec {
    pub document: Value,
    pub operations: Vec<Operation>,
    /// The webhooks (`x-webhooks`), which the server sends and receivers decode: counted and
    /// checked like operations, their event bodies closed like responses.
    pub webhooks: Vec<WebhookSpec>,
}

/// One webhook of the spec.
pub struct WebhookSpec {
    /// The webhook's name, the last path segment of its delivery (`customer.created`).
    pub name: String,
    pub id: String,
    /// The event body's validator.
    pub event: jsonschema::Validator,
    /// The documented acknowledgement statuses.
    pub acknowledgements: BTreeSet<u16>,
}

/// One request and its answer, as the recording proxy saw them.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub request_body: bytes::Bytes,
    pub status: u16,
    pub response_headers: http::HeaderMap,
    pub response_body: bytes::Bytes,
}

impl Exchange {
    /// The response body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.response_body).unwrap_or(Value::Null)
    }
}

/// What checking one exchange found.
#[derive(Debug, Default)]
pub struct Verdict {
    /// The operation the exchange belongs to (`None`: not an operation of the spec).
    pub operation: Option<String>,
    pub violations: Vec<String>,
}

impl Spec {
    pub fn parse(yaml: &str) -> Result<Self, String> {
        let document: Value =
            serde_yaml::from_str(yaml).map_err(|error| format!("not YAML: {error}"))?;
        let mut operations = Vec::new();
        let paths = document
            .get("paths")
            .and_then(Value::as_object)
            .ok_or("no paths")?;
        for (template, item) in paths {
            let item = item.as_object().ok_or("a path item is not an object")?;
            for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
                let Some(operation) = item.get(method) else {
                    continue;
                };
                let id = operation
                    .get("operationId")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{method} {template} has no operationId"))?;
                let mut responses = BTreeMap::new();
                let documented = operation
                    .get("responses")
                    .and_then(Value::as_object)
                    .ok_or_else(|| format!("{id} has no responses"))?;
                for (status, response) in documented {
                    let status: u16 = status.parse().map_err(|_| {
                        format!(
                            "{id}: response {status:?} is not a status code (no `default` here)"
                        )
                    })?;
                    let response = resolve(&document, response)?;
                    responses.insert(status, ResponseSpec::parse(&document, response, id)?);
                }
                operations.push(Operation {
                    id: id.to_string(),
                    method: method.to_ascii_uppercase(),
                    template: template.clone(),
                    segments: segments(template),
                    responses,
                });
            }
        }
        let mut webhooks = Vec::new();
        let declared = document.get("x-webhooks").and_then(Value::as_object);
        for (name, item) in declared.into_iter().flatten() {
            let delivery = item
                .get("post")
                .ok_or_else(|| format!("webhook {name} has no post"))?;
            let id = delivery
                .get("operationId")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("webhook {name} has no operationId"))?;
            let schema = delivery
                .pointer("/requestBody/content/application~1json/schema")
                .ok_or_else(|| format!("webhook {name} has no JSON event body"))?;
            let acknowledgements = delivery
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(status, _)| status.parse::<u16>())
                .collect::<Result<_, _>>()
                .map_err(|_| format!("webhook {name}: a response is not a status code"))?;
            webhooks.push(WebhookSpec {
                name: name.clone(),
                id: id.to_string(),
                event: validator(&document, schema, Closed::Yes)?,
                acknowledgements,
            });
        }
        Ok(Self {
            document,
            operations,
            webhooks,
        })
    }

    /// Checks one delivery of the webhook `name` (its body as received, and the status the
    /// receiver answered): a webhook of the spec, an event its schema accepts, whose `type` is
    /// the webhook's name. Returns the webhook's operationId and the violations.
    pub fn check_delivery(
        &self,
        name: &str,
        body: &[u8],
        status: u16,
    ) -> (Option<String>, Vec<String>) {
        let label = format!("webhook {name} -> {status}");
        let Some(webhook) = self.webhooks.iter().find(|w| w.name == name) else {
            return (None, vec![format!("{label}: the spec has no such webhook")]);
        };
        let mut violations = Vec::new();
        if !webhook.acknowledgements.contains(&status) {
            violations.push(format!(
                "{label}: the spec documents no acknowledgement {status}"
            ));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(event) => {
                for error in webhook.event.iter_errors(&event) {
                    violations.push(format!(
                        "{label}: the event does not match the schema at {:?}: {error}",
                        error.instance_path().to_string()
                    ));
                }
                violations.extend(
                    contract_problems(&event["data"], "/data")
                        .into_iter()
                        .map(|problem| format!("{label}: {problem}")),
                );
                if event["type"] != name {
                    violations.push(format!("{label}: the event's type is {}", event["type"]));
                }
            }
            Err(error) => violations.push(format!("{label}: the event is not JSON ({error})")),
        }
        (Some(webhook.id.clone()), violations)
    }

    /// Every (operationId, status) pair the spec documents.
    /// Every (operationId, status) pair the spec documents, the webhooks' acknowledgements
    /// included.
    pub fn documented_pairs(&self) -> BTreeSet<(String, u16)> {
        let operations = self
            .operations
            .iter()
            .flat_map(|op| op.responses.keys().map(|status| (op.id.clone(), *status)));
        let webhooks = self.webhooks.iter().flat_map(|webhook| {
            webhook
                .acknowledgements
                .iter()
                .map(|status| (webhook.id.clone(), *status))
        });
        operations.chain(webhooks).collect()
    }

    /// The operation a request is for, by method and path template; `Err(true)` when the path
    /// matches a template but not the method.
    pub fn find(&self, method: &str, path: &str) -> Result<&Operation, bool> {
        let mut path_known = false;
        for op in &self.operations {
            if op.matches(path) {
                if op.method == method {
                    return Ok(op);
                }
                path_known = true;
            }
        }
        Err(path_known)
    }

    /// Checks one exchange against the spec: the status is documented for the operation, the
    /// body validates against the declared schema, error bodies carry a code the contract maps
    /// to that status, and documented headers have valid values.
    pub fn check(&self, exchange: &Exchange) -> Verdict {
        let mut verdict = Verdict::default();
        let label = format!(
            "{} {}{} -> {}",
            exchange.method,
            exchange.path,
            exchange
                .query
                .as_deref()
                .map(|q| format!("?{q}"))
                .unwrap_or_default(),
            exchange.status
        );
        let sent = String::from_utf8_lossy(&exchange.request_body);
        let sent: String = sent.chars().take(300).collect();
        let mut violation = |text: String| {
            verdict
                .violations
                .push(format!("{label}: {text} (request body: {sent:?})"))
        };
        let operation = match self.find(&exchange.method, &exchange.path) {
            Ok(operation) => operation,
            Err(_) if ROUTER_STATUSES.contains(&exchange.status) => return verdict,
            Err(_) => {
                violation("no operation of the spec has this method and path".into());
                return verdict;
            }
        };
        let Some(response) = operation.responses.get(&exchange.status) else {
            violation(format!(
                "{} does not document status {} (documented: {:?})",
                operation.id,
                exchange.status,
                operation.responses.keys().collect::<Vec<_>>()
            ));
            let id = operation.id.clone();
            verdict.operation = Some(id);
            return verdict;
        };
        match &response.body {
            Some(validator) => {
                let content_type = exchange
                    .response_headers
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                if content_type.split(';').next().map(str::trim) != Some("application/json") {
                    violation(format!(
                        "content type is {content_type:?}, not application/json"
                    ));
                }
                match serde_json::from_slice::<Value>(&exchange.response_body) {
                    Ok(body) => {
                        for error in validator.iter_errors(&body) {
                            violation(format!(
                                "body does not match the schema at {:?}: {}",
                                error.instance_path().to_string(),
                                error
                            ));
                        }
                        for problem in contract_problems(&body, "") {
                            violation(problem);
                        }
                        if exchange.status >= 400 {
                            let code = body.get("code").and_then(Value::as_str).unwrap_or("");
                            let allowed = ERROR_CODES
                                .iter()
                                .find(|(status, _)| *status == exchange.status)
                                .map(|(_, codes)| *codes)
                                .unwrap_or_default();
                            if !allowed.contains(&code) {
                                violation(format!(
                                    "error code {code:?} is not one the contract maps to {} ({allowed:?})",
                                    exchange.status
                                ));
                            }
                        }
                    }
                    Err(error) => violation(format!(
                        "body is not JSON ({error}): {:?}",
                        String::from_utf8_lossy(&exchange.response_body)
                    )),
                }
            }
            None => {
                if !exchange.response_body.is_empty() {
                    violation(format!(
                        "the spec documents no body, but one came: {:?}",
                        String::from_utf8_lossy(&exchange.response_body)
                    ));
                }
            }
        }
        for (name, validator) in &response.headers {
            for value in exchange.response_headers.get_all(name.as_str()) {
                let text = Value::String(String::from_utf8_lossy(value.as_bytes()).into_owned());
                for error in validator.iter_errors(&text) {
                    violation(format!("header {name} {text}: {error}"));
                }
            }
        }
        // The contract: `Idempotent-Replayed` is `true` on a replay and absent otherwise.
        for value in exchange.response_headers.get_all("idempotent-replayed") {
            if value.as_bytes() != b"true" {
                violation(format!("Idempotent-Replayed is {value:?}, not \"true\""));
            }
        }
        verdict.operation = Some(operation.id.clone());
        verdict
    }
}

impl Operation {
    fn matches(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        parts.len() == self.segments.len()
            && parts
                .iter()
                .zip(&self.segments)
                .all(|(part, segment)| match segment {
                    Some(literal) => literal == part,
                    None => !part.is_empty(),
                })
    }
}

impl ResponseSpec {
    fn parse(document: &Value, response: &Value, id: &str) -> Result<Self, String> {
        let body = match response.get("content").and_then(Value::as_object) {
            None => None,
            Some(content) => {
                let media = content.get("application/json").ok_or_else(|| {
                    format!("{id}: a response has content other than application/json")
                })?;
                let schema = media
                    .get("schema")
                    .ok_or_else(|| format!("{id}: application/json without a schema"))?;
                Some(validator(document, schema, Closed::Yes)?)
            }
        };
        let mut headers = BTreeMap::new();
        if let Some(documented) = response.get("headers").and_then(Value::as_object) {
            for (name, header) in documented {
                let header = resolve(document, header)?;
                let schema = header.get("schema").cloned().unwrap_or(json!({}));
                headers.insert(
                    name.to_ascii_lowercase(),
                    validator(document, &schema, Closed::Yes)?,
                );
            }
        }
        Ok(Self { body, headers })
    }
}

fn segments(template: &str) -> Vec<Option<String>> {
    template
        .split('/')
        .map(|segment| {
            (!(segment.starts_with('{') && segment.ends_with('}'))).then(|| segment.to_string())
        })
        .collect()
}

/// What the contract says of values that the schemas leave open (section 1 of the contract):
/// ids are UUID v4 (the schemas say `uuid`), timestamps are in UTC (the schemas say
/// `date-time`). Every response body is walked for them.
pub fn contract_problems(body: &Value, pointer: &str) -> Vec<String> {
    const IDS: [&str; 3] = ["userId", "customerId", "contactPersonUserId"];
    const TIMES: [&str; 2] = ["createdAt", "updatedAt"];
    let mut problems = Vec::new();
    let v4 = |text: &str| uuid::Uuid::parse_str(text).is_ok_and(|id| id.get_version_num() == 4);
    match body {
        Value::Object(object) => {
            for (key, value) in object {
                let at = format!("{pointer}/{key}");
                match (key.as_str(), value) {
                    (key, Value::String(id)) if IDS.contains(&key) && !v4(id) => {
                        problems.push(format!("{at} is not a UUID v4: {id}"));
                    }
                    ("customerIds", Value::Array(ids)) => {
                        for id in ids.iter().filter_map(Value::as_str).filter(|id| !v4(id)) {
                            problems.push(format!("{at} holds a non-v4 id: {id}"));
                        }
                    }
                    (key, Value::String(time)) if TIMES.contains(&key) => {
                        let utc = chrono::DateTime::parse_from_rfc3339(time)
                            .is_ok_and(|t| t.offset().local_minus_utc() == 0);
                        if !utc || !time.ends_with('Z') {
                            problems.push(format!("{at} is not an RFC 3339 UTC time: {time}"));
                        }
                    }
                    _ => problems.extend(contract_problems(value, &at)),
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                problems.extend(contract_problems(item, &format!("{pointer}/{index}")));
            }
        }
        _ => {}
    }
    problems
}

/// Follows a local `$ref` (`#/components/...`) once, if there is one.
pub fn resolve<'a>(document: &'a Value, node: &'a Value) -> Result<&'a Value, String> {
    match node.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference
                .strip_prefix('#')
                .ok_or_else(|| format!("non-local $ref {reference}"))?;
            document
                .pointer(pointer)
                .ok_or_else(|| format!("dangling $ref {reference}"))
        }
        None => Ok(node),
    }
}

/// Whether object schemas that declare `properties` but say nothing of
/// `additionalProperties` accept undeclared ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// As written in the spec (for request bodies).
    No,
    /// Closed (for responses: an undeclared property is drift).
    Yes,
}

/// Converts an OpenAPI 3.0 schema object to JSON Schema draft 4: `nullable` becomes a `null`
/// alternative, `#/components/schemas/X` becomes `#/definitions/X`, annotation-only keywords go.
pub fn to_json_schema(schema: &Value, closed: Closed) -> Value {
    const DROPPED: [&str; 8] = [
        "nullable",
        "example",
        "xml",
        "externalDocs",
        "discriminator",
        "readOnly",
        "writeOnly",
        "deprecated",
    ];
    let Value::Object(object) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in object {
        if DROPPED.contains(&key.as_str()) || key.starts_with("x-") {
            continue;
        }
        let converted = match key.as_str() {
            "$ref" => Value::String(
                value
                    .as_str()
                    .unwrap_or_default()
                    .replace("#/components/schemas/", "#/definitions/"),
            ),
            "properties" => Value::Object(
                value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, schema)| (name.clone(), to_json_schema(schema, closed)))
                    .collect(),
            ),
            "items" | "additionalProperties" | "not" => to_json_schema(value, closed),
            "allOf" | "anyOf" | "oneOf" => Value::Array(
                value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|schema| to_json_schema(schema, closed))
                    .collect(),
            ),
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    if closed == Closed::Yes
        && out.contains_key("properties")
        && !out.contains_key("additionalProperties")
    {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    if object.get("nullable").and_then(Value::as_bool) == Some(true) {
        if let Some(Value::String(ty)) = out.get("type").cloned() {
            out.insert("type".into(), json!([ty, "null"]));
        }
        if let Some(Value::Array(values)) = out.get_mut("enum")
            && !values.contains(&Value::Null)
        {
            values.push(Value::Null);
        }
    }
    Value::Object(out)
}

/// A standalone JSON Schema for `schema`, with every component schema under `definitions`.
pub fn standalone(document: &Value, schema: &Value, closed: Closed) -> Value {
    let definitions: Map<String, Value> = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, schema)| (name.clone(), to_json_schema(schema, closed)))
        .collect();
    let mut root = match to_json_schema(schema, closed) {
        Value::Object(object) => object,
        other => return other,
    };
    root.insert("definitions".into(), Value::Object(definitions));
    Value::Object(root)
}

/// A draft 4 validator with formats asserted and unknown formats refused.
pub fn validator(
    document: &Value,
    schema: &Value,
    closed: Closed,
) -> Result<jsonschema::Validator, String> {
    let schema = standalone(document, schema, closed);
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .with_format("uuid", is_uuid)
        .with_format("phone", is_e164)
        .with_format("int64", |text: &str| text.parse::<i64>().is_ok())
        .build(&schema)
        .map_err(|error| format!("schema does not compile: {error}"))
}

/// The validator of a component schema, as written (request bodies are closed by the spec).
pub fn component_validator(name: &str) -> jsonschema::Validator {
    let spec = spec();
    validator(
        &spec.document,
        &json!({ "$ref": format!("#/components/schemas/{name}") }),
        Closed::No,
    )
    .unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// A UUID in its hyphenated form (what the API's ids are).
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::parse_str(text).is_ok()
}

/// E.164: `+`, a non-zero digit, then 1 to 14 digits.
pub fn is_e164(text: &str) -> bool {
    let Some(digits) = text.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(method: &str, path: &str, status: u16, body: Value) -> Exchange {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            "application/json".parse().unwrap(),
        );
        Exchange {
            method: method.into(),
            path: path.into(),
            query: None,
            request_body: bytes::Bytes::new(),
            status,
            response_headers: headers,
            response_body: if body.is_null() {
                bytes::Bytes::new()
            } else {
                serde_json::to_vec(&body).unwrap().into()
            },
        }
    }

    fn user() -> Value {
        json!({
            "userId": "3f0c6a2e-8b1d-4c5e-9a7f-2d4b6e8c0a13",
            "name": "Ada",
            "customerIds": [],
            "customers": [],
            "createdAt": "2026-01-15T09:30:00Z",
            "updatedAt": "2026-01-15T09:30:00Z",
            "metadata": {}
        })
    }

    #[test]
    fn the_spec_has_the_twelve_operations_of_the_contract() {
        let ids: BTreeSet<&str> = spec().operations.iter().map(|op| op.id.as_str()).collect();
        assert_eq!(ids.len(), 12, "{ids:?}");
        assert!(ids.contains("removeUserFromCustomer"));
    }

    #[test]
    fn a_conforming_exchange_passes() {
        let verdict = spec().check(&exchange("GET", "/users/abc", 200, user()));
        assert_eq!(verdict.operation.as_deref(), Some("getUser"));
        assert!(verdict.violations.is_empty(), "{:?}", verdict.violations);
    }

    #[test]
    fn the_checker_catches_each_kind_of_violation() {
        let spec = spec();
        let cases = [
            // An undocumented status.
            exchange(
                "GET",
                "/users/abc",
                409,
                json!({"code": "conflict", "message": "x"}),
            ),
            // A body that breaks its schema (format of userId).
            exchange("GET", "/users/abc", 200, {
                let mut user = user();
                user["userId"] = json!("not-a-uuid");
                user
            }),
            // An undeclared property in a response (responses are closed).
            exchange("GET", "/users/abc", 200, {
                let mut user = user();
                user["password"] = json!("x");
                user
            }),
            // A code the contract does not map to the status.
            exchange(
                "GET",
                "/users/abc",
                404,
                json!({"code": "conflict", "message": "x"}),
            ),
            // A body where the spec documents none.
            exchange("DELETE", "/customers/abc/users", 204, json!({"ok": true})),
            // A 500 is never documented.
            exchange(
                "GET",
                "/users",
                500,
                json!({"code": "internal", "message": "x"}),
            ),
            // A path outside the spec answered with something other than the router's 404/405.
            exchange("GET", "/nowhere", 200, json!({})),
        ];
        for case in cases {
            let verdict = spec.check(&case);
            assert!(
                !verdict.violations.is_empty(),
                "not caught: {} {} {}",
                case.method,
                case.path,
                case.status
            );
        }
        // Contract checks the schema leaves open: a v1 id, a time not in UTC.
        let mut not_v4 = user();
        not_v4["userId"] = json!("3f0c6a2e-8b1d-1c5e-9a7f-2d4b6e8c0a13");
        let mut not_utc = user();
        not_utc["createdAt"] = json!("2026-01-15T10:30:00+01:00");
        for body in [not_v4, not_utc] {
            let verdict = spec.check(&exchange("GET", "/users/abc", 200, body));
            assert!(!verdict.violations.is_empty());
        }
        let mut bad_header = exchange("POST", "/users", 201, user());
        bad_header
            .response_headers
            .insert("idempotent-replayed", "yes".parse().unwrap());
        assert!(!spec.check(&bad_header).violations.is_empty());
        let mut not_json = exchange("GET", "/users/abc", 200, user());
        not_json
            .response_headers
            .insert(http::header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(!spec.check(&not_json).violations.is_empty());
    }

    #[test]
    fn router_answers_outside_the_spec_are_exempt() {
        for (method, path, status) in [
            ("GET", "/nowhere", 404),
            ("DELETE", "/users/abc", 405),
            ("GET", "/users/abc/extra", 404),
        ] {
            let verdict = spec().check(&exchange(method, path, status, json!({"message": "x"})));
            assert!(verdict.violations.is_empty(), "{:?}", verdict.violations);
            assert_eq!(verdict.operation, None);
        }
    }

    #[test]
    fn nullable_and_references_convert() {
        let converted = to_json_schema(
            &json!({"type": "string", "nullable": true, "example": "x",
                    "items": {"$ref": "#/components/schemas/A"}}),
            Closed::No,
        );
        assert_eq!(
            converted,
            json!({"type": ["string", "null"], "items": {"$ref": "#/definitions/A"}})
        );
    }

    #[test]
    fn formats_are_checked() {
        assert!(is_uuid("3f0c6a2e-8b1d-4c5e-9a7f-2d4b6e8c0a13"));
        assert!(!is_uuid("3f0c6a2e8b1d4c5e9a7f2d4b6e8c0a13"));
        assert!(is_e164("+15551234567"));
        for bad in ["15551234567", "+0555", "+1", "+1234567890123456", "+1a"] {
            assert!(!is_e164(bad), "{bad}");
        }
        let unknown = validator(
            &json!({}),
            &json!({"type": "string", "format": "nope"}),
            Closed::No,
        );
        assert!(unknown.is_err(), "an unknown format must not pass silently");
    }
}
