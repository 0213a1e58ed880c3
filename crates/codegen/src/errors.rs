//! Error kinds: operations whose errors look alike share one error type, and each kind says
//! how a rejected request is answered (see `spec_runtime::error`).
//!
//! A rejection goes into the spec's own error body when that body can carry it: the generator
//! maps the body's properties by name and type (a string `code` or `error` takes the rejection's
//! code, a `message` or `detail` its message, an integer `status` the status, an array of
//! `details` or `errors` one entry per bad property) into a template, and checks a sample of it
//! against the body's schema. Where a required property has no counterpart, or the sample does
//! not validate, or no 400 response is documented at all, the rejection itself is the body, and
//! the generated code says why.

use serde_json::{Map, Value, json};
use spec_schema::{Definitions, Detail, Rejection};

use crate::model::Operation;
use crate::normalize::Normalized;
use crate::{Settings, SpecError};

/// The error schema of a response whose JSON has no schema: any value.
pub const ANY_JSON: &str = "::spec_runtime::serde_json::Value";

/// The errors of a set of operations.
#[derive(Clone, Debug)]
pub struct ErrorKind {
    /// The error type handlers return, e.g. `ApiError`.
    pub alias: String,
    /// The marker type implementing `spec_runtime::ErrorKind`, e.g. `ApiErrorKind`.
    pub marker: String,
    pub body: KindBody,
    /// How rejections answered with 400, 408 and 413 look.
    pub rejections: Vec<(u16, Strategy)>,
    /// The operation ids, in document order.
    pub operations: Vec<String>,
}

/// The type of a kind's error bodies.
#[derive(Clone, Debug, PartialEq)]
pub enum KindBody {
    /// The errors have no bodies.
    None,
    /// One schema (its Rust name, or [`ANY_JSON`]).
    One(String),
    /// Several: the `oneOf` of them, hoisted as a component schema of this name.
    OneOf(String, Vec<String>),
}

/// How a rejection becomes an error body.
#[derive(Clone, Debug, PartialEq)]
pub enum Strategy {
    /// Into the spec's body, through this template.
    Template(Value),
    /// As the rejection itself, for this reason.
    Fallback(String),
}

/// Groups the operations' errors into kinds, sets each operation's kind, and hoists the
/// `oneOf` body of every kind with several error schemas.
pub fn kinds(
    n: &mut Normalized<'_>,
    operations: &mut [Operation],
    _settings: &Settings,
) -> Result<Vec<ErrorKind>, SpecError> {
    let definitions = Definitions::from_value(spec_schema::definitions(&n.doc));
    // What makes two operations' errors alike: their error bodies and how they answer
    // rejections; each with its operations, in order of first appearance.
    type Key = (Vec<String>, Vec<(u16, Strategy)>);
    let mut groups: Vec<(Key, Vec<usize>)> = Vec::new();
    for (index, op) in operations.iter().enumerate() {
        // A websocket answers with dropshot's own errors.
        if op.websocket {
            continue;
        }
        let mut bodies: Vec<String> = Vec::new();
        for error in &op.errors {
            if let Some(schema) = &error.schema
                && !bodies.contains(schema)
            {
                bodies.push(schema.clone());
            }
        }
        // 408 answers only a body too slow to arrive, 413 only an oversize one; each like 400
        // where it says nothing else.
        let mut rejections = vec![(400, strategy(n, &definitions, op, 400))];
        for status in [408, 413] {
            if op.body.is_some() && documents(op, status) {
                let body = strategy(n, &definitions, op, status);
                if body != rejections[0].1 {
                    rejections.push((status, body));
                }
            }
        }
        let key = (bodies, rejections);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(index),
            None => groups.push((key, vec![index])),
        }
    }
    // The kind most operations share is `ApiError`; the others are named after their first
    // operation.
    let main = groups
        .iter()
        .enumerate()
        .max_by_key(|(index, (_, members))| (members.len(), std::cmp::Reverse(*index)))
        .map(|(index, _)| index);
    let mut kinds = Vec::new();
    for (index, ((bodies, rejections), members)) in groups.into_iter().enumerate() {
        let first = &operations[members[0]];
        let alias = if Some(index) == main {
            "ApiError".to_string()
        } else {
            format!("{}Error", first.name.stem)
        };
        let body = match bodies.as_slice() {
            [] => KindBody::None,
            [one] => KindBody::One(one.clone()),
            many => {
                let alternatives: Vec<Value> = many
                    .iter()
                    .map(|name| match name.as_str() {
                        ANY_JSON => json!({}),
                        name => json!({ "$ref": format!("#/components/schemas/{name}") }),
                    })
                    .collect();
                let origin = first.name.pointer().join("responses");
                let name = n.add_schema(
                    &format!("{alias}Body"),
                    json!({
                        "description": format!("The error bodies of `{}`.", first.name.id),
                        "oneOf": alternatives,
                    }),
                    &origin,
                );
                KindBody::OneOf(name, many.to_vec())
            }
        };
        for &member in &members {
            operations[member].kind = kinds.len();
        }
        kinds.push(ErrorKind {
            marker: format!("{alias}Kind"),
            alias,
            body,
            rejections,
            operations: members
                .iter()
                .map(|&m| operations[m].name.id.clone())
                .collect(),
        });
    }
    Ok(kinds)
}

/// Whether `op` documents a response for `status` (exactly, by its range, or by `default`).
fn documents(op: &Operation, status: u16) -> bool {
    let exact = status.to_string();
    let range = format!("{}XX", status / 100);
    op.errors.iter().any(|e| {
        e.status == exact || e.status.eq_ignore_ascii_case(&range) || e.status == "default"
    })
}

/// How `op` answers a rejection with `status`.
fn strategy(
    n: &Normalized<'_>,
    definitions: &Definitions,
    op: &Operation,
    status: u16,
) -> Strategy {
    let exact = status.to_string();
    let range = format!("{}XX", status / 100);
    let response = [exact.as_str(), range.as_str(), "default"]
        .iter()
        .find_map(|key| {
            op.errors
                .iter()
                .find(|e| e.status.eq_ignore_ascii_case(key))
        });
    let Some(response) = response else {
        return Strategy::Fallback(format!("the operation documents no {status} response"));
    };
    let Some(schema) = &response.schema else {
        return Strategy::Fallback(format!("its {} response has no JSON body", response.status));
    };
    if schema == ANY_JSON {
        return Strategy::Template(rejection_object());
    }
    let component = n
        .doc
        .pointer(&format!(
            "/components/schemas/{}",
            crate::pointer::escape(schema)
        ))
        .unwrap_or(&Value::Null);
    let resolved = resolve(&n.doc, component);
    let template = match template(&n.doc, resolved) {
        Ok(template) => template,
        Err(reason) => {
            return Strategy::Fallback(format!(
                "its {} body (`{}`) {reason}",
                response.status,
                source_name(n, schema)
            ));
        }
    };
    // The template must make bodies the schema accepts, with details and without.
    let validator = definitions.validator(schema);
    for details in [1, 0] {
        let sample = sample(status, details);
        let body = spec_schema::render_rejection(&template, "Bad Request", &sample);
        let problems = spec_schema::validate(&validator, &body, "");
        if let Some(problem) = problems.first() {
            return Strategy::Fallback(format!(
                "its {} body (`{}`) cannot carry a rejection: {} {}",
                response.status,
                source_name(n, schema),
                match problem.property.as_str() {
                    "" => "the body".to_string(),
                    property => format!("`{property}`"),
                },
                problem.message
            ));
        }
    }
    Strategy::Template(template)
}

/// The schema's name as the designer wrote it.
fn source_name(n: &Normalized<'_>, rust: &str) -> String {
    n.renames
        .iter()
        .find(|(_, to)| *to == rust)
        .map(|(from, _)| from.clone())
        .unwrap_or_else(|| rust.to_string())
}

/// The body a rejection is where the spec says nothing of the body's shape.
fn rejection_object() -> Value {
    json!({
        "code": "{code}",
        "message": "{message}",
        "details": {"$details": {"property": "{property}", "code": "{code}", "message": "{message}"}, "$omit_empty": true}
    })
}

fn sample(status: u16, details: usize) -> Rejection {
    let mut rejection = Rejection::validation(
        (0..details)
            .map(|_| Detail {
                property: "/name".to_string(),
                code: "maxLength".to_string(),
                message: "is longer than 64 characters".to_string(),
            })
            .collect(),
    );
    rejection.status = status;
    if details == 0 {
        rejection.message = "invalid request".to_string();
    }
    rejection
}

/// What a property of an error body can carry.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Code,
    Message,
    Reason,
    Status,
    Details,
    Property,
    /// RFC 9457's `type`, a URI: `about:blank`.
    Blank,
}

/// The role of a property by its name (case, `_` and `-` aside) and type.
fn role(name: &str, schema: &Value, item: bool) -> Option<Role> {
    let key: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    let ty = schema.get("type").and_then(Value::as_str);
    let uri = matches!(
        schema.get("format").and_then(Value::as_str),
        Some("uri" | "uri-reference" | "url")
    );
    Some(match (key.as_str(), ty) {
        ("type", Some("string")) if uri => Role::Blank,
        (
            "property" | "field" | "path" | "pointer" | "name" | "param" | "parameter" | "location"
            | "loc" | "source" | "target",
            Some("string"),
        ) if item => Role::Property,
        (
            "code" | "errorcode" | "error" | "errortype" | "kind" | "reason" | "errorkey" | "type"
            | "rule" | "keyword",
            Some("string"),
        ) => Role::Code,
        ("title", Some("string")) if !item => Role::Reason,
        (
            "message" | "detail" | "details" | "description" | "errormessage" | "msg"
            | "errordescription" | "text" | "title",
            Some("string"),
        ) => Role::Message,
        (
            "code" | "status" | "statuscode" | "httpstatus" | "errorcode" | "httpcode"
            | "httpstatuscode",
            Some("integer" | "number"),
        ) if !item => Role::Status,
        (
            "details" | "errors" | "violations" | "invalidparams" | "issues" | "fielderrors"
            | "validationerrors" | "problems" | "causes",
            Some("array"),
        ) if !item => Role::Details,
        _ => return None,
    })
}

/// The template for a body of `schema` (resolved), or why a rejection cannot fill one.
fn template(doc: &Value, schema: &Value) -> Result<Value, String> {
    let (properties, required) = object_shape(doc, schema);
    match schema.get("type").and_then(Value::as_str) {
        Some("string") if properties.is_empty() => return Ok(Value::String("{message}".into())),
        Some("object") | None if !properties.is_empty() => {}
        _ => return Err("is not an object with properties".to_string()),
    }
    let mut out = Map::new();
    let mut seen = Vec::new();
    for (name, property) in &properties {
        let property = resolve(doc, property);
        let is_required = required.contains(name);
        let Some(role) = role(name, property, false) else {
            if is_required {
                return Err(format!(
                    "requires `{name}`, which a rejection has nothing for"
                ));
            }
            continue;
        };
        // One property per role (the first), unless more are required.
        if seen.contains(&role) && !is_required {
            continue;
        }
        seen.push(role);
        let value = match role {
            Role::Code => json!("{code}"),
            Role::Message => json!("{message}"),
            Role::Reason => json!("{reason}"),
            Role::Status => json!("{status}"),
            Role::Blank => json!("about:blank"),
            Role::Property => continue,
            Role::Details => {
                let items = resolve(doc, property.get("items").unwrap_or(&Value::Null));
                match item_template(doc, items) {
                    Ok(item) => json!({"$details": item, "$omit_empty": !is_required}),
                    Err(reason) if is_required => {
                        return Err(format!("requires `{name}`, whose items {reason}"));
                    }
                    Err(_) => continue,
                }
            }
        };
        out.insert(name.clone(), value);
    }
    if !seen
        .iter()
        .any(|r| matches!(r, Role::Code | Role::Message | Role::Reason))
    {
        return Err("has no property for a code or a message".to_string());
    }
    // Without a list for the details, the message carries them.
    if !seen.contains(&Role::Details) {
        for value in out.values_mut() {
            if value == "{message}" {
                *value = json!("{summary}");
            }
        }
    }
    Ok(Value::Object(out))
}

/// The template of one detail: a string (`property: message`) or an object.
fn item_template(doc: &Value, items: &Value) -> Result<Value, String> {
    let (properties, required) = object_shape(doc, items);
    if items.get("type").and_then(Value::as_str) == Some("string") && properties.is_empty() {
        return Ok(json!("{line}"));
    }
    if properties.is_empty() {
        return Err("are neither strings nor objects with properties".to_string());
    }
    let mut out = Map::new();
    for (name, property) in &properties {
        let property = resolve(doc, property);
        let value = match role(name, property, true) {
            Some(Role::Property) => json!("{property}"),
            Some(Role::Code) => json!("{code}"),
            Some(Role::Message | Role::Reason) => json!("{message}"),
            _ if required.contains(name) => {
                return Err(format!("require `{name}`, which a detail has nothing for"));
            }
            _ => continue,
        };
        if !out.values().any(|v| v == &value) || required.contains(name) {
            out.insert(name.clone(), value);
        }
    }
    if !out.values().any(|v| v == "{message}") {
        return Err("have no property for a message".to_string());
    }
    Ok(Value::Object(out))
}

/// The properties and required names of an object schema, `allOf` parts merged.
fn object_shape(doc: &Value, schema: &Value) -> (Vec<(String, Value)>, Vec<String>) {
    let mut properties: Vec<(String, Value)> = Vec::new();
    let mut required: Vec<String> = Vec::new();
    let mut parts = vec![schema];
    let mut seen = 0;
    while let Some(part) = parts.pop() {
        seen += 1;
        if seen > 32 {
            break;
        }
        let part = resolve(doc, part);
        for (name, property) in part
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if !properties.iter().any(|(n, _)| n == name) {
                properties.push((name.clone(), property.clone()));
            }
        }
        for name in part
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = name.as_str() {
                required.push(name.to_string());
            }
        }
        for sub in part
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .rev()
        {
            parts.push(sub);
        }
    }
    (properties, required)
}

/// Follows `#/...` references within the document (a few hops).
fn resolve<'v>(doc: &'v Value, mut schema: &'v Value) -> &'v Value {
    for _ in 0..16 {
        let Some(target) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| doc.pointer(p))
        else {
            break;
        };
        schema = target;
    }
    schema
}

/// A kind's documentation: which operations, and how rejections are answered.
pub fn describe(kind: &ErrorKind) -> Vec<String> {
    let mut lines = vec![format!(
        "The errors of {}.",
        kind.operations
            .iter()
            .map(|id| format!("`{id}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )];
    lines.push(String::new());
    for (status, strategy) in &kind.rejections {
        lines.push(match strategy {
            Strategy::Template(_) => format!(
                "A request rejected with {status} gets the spec's own error body, filled from the rejection."
            ),
            Strategy::Fallback(reason) => format!(
                "A request rejected with {status} gets the fallback body `spec_runtime::Rejection` \
                 (`code`, `message`, `details`): {reason}."
            ),
        });
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template_of(schema: Value) -> Result<Value, String> {
        template(&json!({}), &schema)
    }

    #[test]
    fn code_message_and_details_map_by_name() {
        let template = template_of(json!({
            "type": "object", "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"}, "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object", "properties": {
                    "property": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}}}},
                "requestId": {"type": "string"}
            }
        }))
        .unwrap();
        assert_eq!(
            template,
            json!({"code": "{code}", "message": "{message}", "details": {"$details":
                {"property": "{property}", "code": "{code}", "message": "{message}"}, "$omit_empty": true}})
        );
    }

    #[test]
    fn integer_codes_and_problem_details_are_understood() {
        let petstore = template_of(json!({"type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "integer"}, "message": {"type": "string"}}}));
        // No list for the details: the message carries them.
        assert_eq!(
            petstore.unwrap(),
            json!({"code": "{status}", "message": "{summary}"})
        );
        let problem = template_of(json!({"type": "object", "properties": {
            "type": {"type": "string", "format": "uri"}, "title": {"type": "string"},
            "status": {"type": "integer"}, "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "string"}}}}));
        assert_eq!(
            problem.unwrap(),
            json!({"type": "about:blank", "title": "{reason}", "status": "{status}", "detail": "{message}",
                   "errors": {"$details": "{line}", "$omit_empty": true}})
        );
    }

    #[test]
    fn a_required_property_without_a_counterpart_falls_back() {
        let error = template_of(json!({"type": "object", "required": ["traceId", "message"],
            "properties": {"traceId": {"type": "string"}, "message": {"type": "string"}}}));
        assert_eq!(
            error.unwrap_err(),
            "requires `traceId`, which a rejection has nothing for"
        );
        assert!(template_of(json!({"type": "array"})).is_err());
    }
}
