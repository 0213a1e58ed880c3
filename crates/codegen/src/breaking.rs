//! Breaking changes between two versions of a spec, as a generated client or an existing
//! caller would feel them.
//!
//! Requests: the new version must accept everything the old one accepted (no new required
//! parameter, property or body, no tightened bound, no removed enum value, no removed property
//! where unknown ones are refused). Responses: the new version must only say what the old one
//! could (no removed or newly optional property, no new enum value, no loosened or removed
//! bound, no changed or removed `pattern` or `format`, since generated clients check all of
//! these when they decode; no new `nullable`, no changed success status). Operations are
//! matched by `operationId`; a path item's `parameters` apply to each of its operations.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value};

use crate::pointer::{escape, resolve_local};

/// One breaking change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The operation (`createUser`), or `-` for document-wide changes.
    pub operation: String,
    /// Where, as a JSON pointer into the new document (or the old one for removals).
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (#{})",
            self.operation, self.message, self.pointer
        )
    }
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every breaking change from `old` to `new`.
pub fn breaking_changes(old: &Value, new: &Value) -> Vec<Change> {
    let old_ops = operations(old);
    let new_ops = operations(new);
    let mut out = Vec::new();
    for (id, (old_path, old_method, old_item, old_op)) in &old_ops {
        let mut diff = Diff {
            out: &mut out,
            operation: id.clone(),
            old,
            new,
        };
        let Some((path, method, item, op)) = new_ops
            .iter()
            .find(|(new_id, _)| new_id == id)
            .map(|(_, v)| v)
        else {
            diff.push(
                &format!("/paths/{}/{old_method}", escape(old_path)),
                "the operation was removed".into(),
            );
            continue;
        };
        let at = format!("/paths/{}/{method}", escape(path));
        if (path, method) != (old_path, old_method) {
            diff.push(
                &at,
                format!(
                    "moved from {} {old_path} to {} {path}",
                    old_method.to_uppercase(),
                    method.to_uppercase()
                ),
            );
        }
        diff.parameters((old_path, old_item, old_op), (path, item, op), &at);
        if let (Some(a), Some(b)) = (old_op.get("requestBody"), op.get("requestBody")) {
            let (a, b) = (resolve_local(old, a), resolve_local(new, b));
            let required = |body: &Value| body.get("required") == Some(&Value::Bool(true));
            if required(b) && !required(a) {
                diff.push(
                    &format!("{at}/requestBody/required"),
                    "the request body is now required".into(),
                );
            }
            diff.request(
                schema_of(a),
                schema_of(b),
                &format!("{at}/requestBody/content/application~1json/schema"),
            );
        } else if old_op.get("requestBody").is_none()
            && op
                .get("requestBody")
                .is_some_and(|b| b.get("required") == Some(&Value::Bool(true)))
        {
            diff.push(
                &format!("{at}/requestBody"),
                "a required request body was added".into(),
            );
        }
        diff.responses(old_op, op, &at);
    }
    webhooks(old, new, &mut out);
    out
}

/// Webhooks (`x-webhooks`) are matched by name. Their consumers decode the event, so an event
/// is held to the rules of a response: it must only say what it could; a removed webhook
/// breaks the receivers that wait for it.
fn webhooks(old: &Value, new: &Value, out: &mut Vec<Change>) {
    let key = crate::webhooks::KEY;
    for (name, old_item) in object(old.get(key)) {
        if name.starts_with("x-") {
            continue;
        }
        let mut diff = Diff {
            out,
            operation: format!("webhook {name}"),
            old,
            new,
        };
        let at = format!("/{key}/{}/post", escape(&name));
        let Some(item) = new.get(key).and_then(|map| map.get(&name)) else {
            diff.push(&at, "the webhook was removed".into());
            continue;
        };
        let body = |doc: &Value, item: &Value| {
            item.pointer("/post/requestBody")
                .map(|body| schema_of(resolve_local(doc, body)).clone())
                .unwrap_or(Value::Null)
        };
        let (a, b) = (body(old, &old_item), body(new, item));
        diff.schema(
            &a,
            &b,
            &format!("{at}/requestBody/content/application~1json/schema"),
            Direction::Response,
            0,
        );
    }
}

/// By `operationId`: the path, the method, the path item and the operation.
type Operations<'v> = Vec<(String, (String, &'static str, &'v Value, &'v Value))>;

fn operations(doc: &Value) -> Operations<'_> {
    let mut out = Vec::new();
    for (path, item) in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                let id = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or(path)
                    .to_string();
                out.push((id, (path.clone(), method, item, op)));
            }
        }
    }
    out
}

fn schema_of(body: &Value) -> &Value {
    body.pointer("/content/application~1json/schema")
        .unwrap_or(&Value::Null)
}

fn object(value: Option<&Value>) -> Map<String, Value> {
    value
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn names(value: Option<&Value>) -> BTreeSet<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

struct Diff<'a> {
    out: &'a mut Vec<Change>,
    operation: String,
    old: &'a Value,
    new: &'a Value,
}

/// Which way data flows: what a request must keep accepting, what a response must not start
/// saying.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Request,
    Response,
}

impl Diff<'_> {
    fn push(&mut self, pointer: &str, message: String) {
        self.out.push(Change {
            operation: self.operation.clone(),
            pointer: pointer.to_string(),
            message,
        });
    }

    /// `old` and `new` are each the path, the path item and the operation.
    fn parameters(&mut self, old: (&str, &Value, &Value), new: (&str, &Value, &Value), at: &str) {
        let key = |p: &Value| {
            format!(
                "{}/{}",
                p["in"].as_str().unwrap_or_default(),
                p["name"].as_str().unwrap_or_default()
            )
        };
        // The path item's parameters, then the operation's, which override those of the same
        // location and name; each with its pointer.
        let list = |doc: &Value, (path, item, op): (&str, &Value, &Value)| {
            let mut out: Vec<(Value, String)> = Vec::new();
            for (node, pointer) in [
                (item, format!("/paths/{}/parameters", escape(path))),
                (op, format!("{at}/parameters")),
            ] {
                let params = node.get("parameters").and_then(Value::as_array);
                for (index, param) in params.into_iter().flatten().enumerate() {
                    let param = resolve_local(doc, param).clone();
                    out.retain(|(p, _)| key(p) != key(&param));
                    out.push((param, format!("{pointer}/{index}")));
                }
            }
            out
        };
        let (old_params, new_params) = (list(self.old, old), list(self.new, new));
        for (param, pointer) in &new_params {
            let required = param.get("required") == Some(&Value::Bool(true));
            match old_params.iter().find(|(p, _)| key(p) == key(param)) {
                None if required => {
                    self.push(pointer, format!("new required parameter {}", key(param)))
                }
                None => {}
                Some((before, _)) => {
                    if required && before.get("required") != Some(&Value::Bool(true)) {
                        self.push(pointer, format!("parameter {} is now required", key(param)));
                    }
                    let (a, b) = (
                        before.get("schema").unwrap_or(&Value::Null),
                        param.get("schema").unwrap_or(&Value::Null),
                    );
                    self.schema(a, b, &format!("{pointer}/schema"), Direction::Request, 0);
                }
            }
        }
        for (param, _) in &old_params {
            if !new_params.iter().any(|(p, _)| key(p) == key(param)) {
                self.push(at, format!("parameter {} was removed", key(param)));
            }
        }
    }

    fn request(&mut self, a: &Value, b: &Value, pointer: &str) {
        self.schema(a, b, pointer, Direction::Request, 0);
    }

    fn responses(&mut self, old_op: &Value, op: &Value, at: &str) {
        let success = |op: &Value| {
            object(op.get("responses"))
                .into_iter()
                .find(|(status, _)| status.starts_with('2'))
        };
        let (Some((old_status, old_response)), Some((status, response))) =
            (success(old_op), success(op))
        else {
            return;
        };
        let pointer = format!("{at}/responses/{status}");
        if old_status != status {
            self.push(
                &pointer,
                format!("the success status changed from {old_status} to {status}"),
            );
        }
        let (a, b) = (
            resolve_local(self.old, &old_response).clone(),
            resolve_local(self.new, &response).clone(),
        );
        self.schema(
            schema_of(&a),
            schema_of(&b),
            &format!("{pointer}/content/application~1json/schema"),
            Direction::Response,
            0,
        );
    }

    fn schema(&mut self, a: &Value, b: &Value, pointer: &str, direction: Direction, depth: usize) {
        if depth > 24 {
            return;
        }
        let (a, b) = (resolve_local(self.old, a), resolve_local(self.new, b));
        if self.union(a, b, pointer, direction, depth) {
            return;
        }
        let ty = |s: &Value| s.get("type").and_then(Value::as_str).map(str::to_string);
        if ty(a) != ty(b) {
            self.push(
                pointer,
                format!(
                    "type changed from {} to {}",
                    ty(a).unwrap_or("any".into()),
                    ty(b).unwrap_or("any".into())
                ),
            );
            return;
        }
        let request = direction == Direction::Request;
        // Bounds: a request's may only loosen, or a value the old version accepted is refused;
        // a response's may only tighten, or generated clients, which check the bounds they
        // know when they decode, refuse a value the new version sends.
        for (keyword, upper) in [
            ("maxLength", true),
            ("maxItems", true),
            ("maxProperties", true),
            ("maximum", true),
            ("minLength", false),
            ("minItems", false),
            ("minProperties", false),
            ("minimum", false),
        ] {
            // What typify builds into the types it generates: string newtypes check the
            // lengths (and `pattern`), integer bounds choose the Rust type (`minimum: 1` makes
            // a `NonZeroU64`), `format` chooses `Uuid` or `DateTime`. `maxItems` is counted
            // too, conservatively: typify 0.8 enforces it only for fixed-size arrays.
            let checked_by_clients = matches!(
                keyword,
                "maxLength" | "minLength" | "maximum" | "minimum" | "maxItems"
            );
            if !request && !checked_by_clients {
                continue;
            }
            let (x, y) = (
                a.get(keyword).and_then(Value::as_f64),
                b.get(keyword).and_then(Value::as_f64),
            );
            let tightened = match (x, y) {
                (None, Some(_)) => true,
                (Some(x), Some(y)) => {
                    if upper {
                        y < x
                    } else {
                        y > x
                    }
                }
                _ => false,
            };
            let loosened = match (x, y) {
                (Some(_), None) => true,
                (Some(x), Some(y)) => {
                    if upper {
                        y > x
                    } else {
                        y < x
                    }
                }
                _ => false,
            };
            if request && tightened {
                self.push(
                    &format!("{pointer}/{keyword}"),
                    format!("`{keyword}` tightened from {} to {}", show(x), show(y)),
                );
            }
            if !request && loosened {
                self.push(
                    &format!("{pointer}/{keyword}"),
                    format!(
                        "`{keyword}` loosened from {} to {}; generated clients check it when \
                         they decode",
                        show(x),
                        show(y)
                    ),
                );
            }
        }
        for keyword in ["pattern", "format"] {
            let (x, y) = (a.get(keyword), b.get(keyword));
            if x == y {
                continue;
            }
            // A new pattern or format refuses values in a request; a changed or removed one
            // lets a response say what generated clients refuse.
            match (x, y) {
                (_, Some(y)) if request => self.push(
                    &format!("{pointer}/{keyword}"),
                    format!("`{keyword}` changed to {y}"),
                ),
                (Some(x), y) if !request => self.push(
                    &format!("{pointer}/{keyword}"),
                    format!(
                        "`{keyword}` changed from {x} to {}; generated clients check it when \
                         they decode",
                        y.map_or("none".to_string(), ToString::to_string)
                    ),
                ),
                _ => {}
            }
        }
        let (a_enum, b_enum) = (
            a.get("enum").and_then(Value::as_array),
            b.get("enum").and_then(Value::as_array),
        );
        match (a_enum, b_enum) {
            (Some(x), Some(y)) if request => {
                for value in x.iter().filter(|v| !y.contains(v)) {
                    self.push(
                        &format!("{pointer}/enum"),
                        format!("enum value {value} is no longer accepted"),
                    );
                }
            }
            (Some(x), Some(y)) => {
                for value in y.iter().filter(|v| !x.contains(v)) {
                    self.push(&format!("{pointer}/enum"), format!("enum value {value} may now be returned; generated clients reject unknown values"));
                }
            }
            (None, Some(_)) if request => self.push(
                &format!("{pointer}/enum"),
                "values are now restricted to an enum".into(),
            ),
            _ => {}
        }
        let nullable = |s: &Value| s.get("nullable") == Some(&Value::Bool(true));
        if request && nullable(a) && !nullable(b) {
            self.push(pointer, "null is no longer accepted".into());
        }
        if !request && !nullable(a) && nullable(b) {
            self.push(pointer, "may now be null".into());
        }

        let (a_required, b_required) = (names(a.get("required")), names(b.get("required")));
        let (a_props, b_props) = (object(a.get("properties")), object(b.get("properties")));
        if request {
            for name in b_required.difference(&a_required) {
                self.push(
                    &format!("{pointer}/required"),
                    format!("new required property `{name}`"),
                );
            }
            if b.get("additionalProperties") == Some(&Value::Bool(false)) {
                for name in a_props.keys().filter(|n| !b_props.contains_key(*n)) {
                    self.push(
                        &format!("{pointer}/properties"),
                        format!("property `{name}` was removed and unknown properties are refused"),
                    );
                }
            }
        } else {
            for name in a_required.difference(&b_required) {
                self.push(
                    &format!("{pointer}/required"),
                    format!("property `{name}` is no longer always present"),
                );
            }
            for name in a_props.keys().filter(|n| !b_props.contains_key(*n)) {
                self.push(
                    &format!("{pointer}/properties"),
                    format!("property `{name}` was removed"),
                );
            }
        }
        for (name, b_prop) in &b_props {
            if let Some(a_prop) = a_props.get(name) {
                self.schema(
                    a_prop,
                    b_prop,
                    &format!("{pointer}/properties/{}", escape(name)),
                    direction,
                    depth + 1,
                );
            }
        }
        for keyword in ["items", "additionalProperties"] {
            if let (Some(x @ Value::Object(_)), Some(y @ Value::Object(_))) =
                (a.get(keyword), b.get(keyword))
            {
                self.schema(x, y, &format!("{pointer}/{keyword}"), direction, depth + 1);
            }
        }
    }
}

impl Diff<'_> {
    /// `oneOf`/`anyOf` on either side, compared shape by shape; false when neither side is one.
    ///
    /// A shape is paired with the old shape (or the whole old schema) its discriminator value
    /// names, or by position. A request may gain shapes and may not lose one, and each shape
    /// must accept what its old counterpart accepted; a response may lose shapes and may not
    /// gain one, and each shape must say only what its old counterpart said. An object split
    /// into shapes is compared with each shape, its discriminator narrowed to that shape's.
    fn union(
        &mut self,
        a: &Value,
        b: &Value,
        pointer: &str,
        direction: Direction,
        depth: usize,
    ) -> bool {
        let shapes = |s: &Value| {
            s.get("oneOf")
                .or_else(|| s.get("anyOf"))
                .and_then(Value::as_array)
                .cloned()
        };
        let request = direction == Direction::Request;
        let keyword = if b.get("anyOf").is_some() {
            "anyOf"
        } else {
            "oneOf"
        };
        match (shapes(a), shapes(b)) {
            (None, None) => false,
            (Some(old), Some(new)) => {
                let tag = tag_of(b).or_else(|| tag_of(a));
                for (index, y) in new.iter().enumerate() {
                    let at = format!("{pointer}/{keyword}/{index}");
                    let value = tag.as_deref().and_then(|t| pinned(self.new, y, t));
                    let x = match (&tag, &value) {
                        (Some(t), Some(v)) => old
                            .iter()
                            .find(|x| pinned(self.old, x, t).as_ref() == Some(v)),
                        _ => old.get(index),
                    };
                    match x {
                        Some(x) => self.schema(x, y, &at, direction, depth + 1),
                        None if !request => self.push(
                            &at,
                            "a new shape may be returned; generated clients reject it".into(),
                        ),
                        None => {}
                    }
                }
                if request {
                    for (index, x) in old.iter().enumerate() {
                        let value = tag.as_deref().and_then(|t| pinned(self.old, x, t));
                        let kept = match (&tag, &value) {
                            (Some(t), Some(v)) => new
                                .iter()
                                .any(|y| pinned(self.new, y, t).as_ref() == Some(v)),
                            _ => index < new.len(),
                        };
                        if !kept {
                            self.push(
                                &format!("{pointer}/{keyword}"),
                                format!("a shape is no longer accepted (was {keyword}/{index})"),
                            );
                        }
                    }
                }
                true
            }
            (None, Some(new)) => {
                let tag = tag_of(b);
                for (index, y) in new.iter().enumerate() {
                    let mut x = a.clone();
                    // The old schema's discriminator, as this shape pins it.
                    if let Some(t) = &tag
                        && let Some(value) = pinned(self.new, y, t)
                        && let Some(properties) =
                            x.get_mut("properties").and_then(Value::as_object_mut)
                        && properties.contains_key(t)
                    {
                        let old = resolve_local(self.old, &properties[t]).clone();
                        let mut narrowed = serde_json::json!({ "enum": [value] });
                        if let Some(ty) = old.get("type") {
                            narrowed["type"] = ty.clone();
                        }
                        properties.insert(t.clone(), narrowed);
                    }
                    self.schema(
                        &x,
                        y,
                        &format!("{pointer}/{keyword}/{index}"),
                        direction,
                        depth + 1,
                    );
                }
                true
            }
            (Some(old), None) => {
                if request {
                    for (index, x) in old.iter().enumerate() {
                        self.schema(
                            x,
                            b,
                            &format!("{pointer}/{keyword}/{index}"),
                            direction,
                            depth + 1,
                        );
                    }
                } else {
                    self.push(pointer, "shapes were merged into one".into());
                }
                true
            }
        }
    }
}

/// The discriminator property of a union, if it names one.
fn tag_of(schema: &Value) -> Option<String> {
    schema
        .pointer("/discriminator/propertyName")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The one value a shape pins its property `tag` to (`enum` of one value).
fn pinned(document: &Value, shape: &Value, tag: &str) -> Option<Value> {
    let shape = resolve_local(document, shape);
    let property = resolve_local(document, shape.get("properties")?.get(tag)?);
    match property.get("enum")?.as_array()?.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

fn show(value: Option<f64>) -> String {
    value.map_or("none".to_string(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(request: Value, response: Value, params: Value) -> Value {
        json!({
            "openapi": "3.0.3",
            "paths": {"/things": {"post": {
                "operationId": "createThing",
                "parameters": params,
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Req"}}}},
                "responses": {"201": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}
            }}},
            "components": {"schemas": {"Req": request, "Thing": response}}
        })
    }

    fn base() -> Value {
        spec(
            json!({"type": "object", "additionalProperties": false, "required": ["name"], "properties": {
                "name": {"type": "string", "maxLength": 10}, "kind": {"type": "string", "enum": ["A", "B"]}, "note": {"type": "string"}}}),
            json!({"type": "object", "required": ["id", "name"], "properties": {
                "id": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string", "enum": ["A", "B"]}}}),
            json!([{"in": "query", "name": "dryRun", "schema": {"type": "boolean"}}]),
        )
    }

    fn messages(new: &Value) -> Vec<String> {
        breaking_changes(&base(), new)
            .iter()
            .map(|c| c.message.clone())
            .collect()
    }

    #[test]
    fn compatible_changes_are_not_breaking() {
        let mut new = base();
        // Loosen a request bound, add an optional request property, a response property, an
        // accepted enum value, an optional parameter.
        new["components"]["schemas"]["Req"]["properties"]["name"]["maxLength"] = json!(20);
        new["components"]["schemas"]["Req"]["properties"]["extra"] = json!({"type": "string"});
        new["components"]["schemas"]["Req"]["properties"]["kind"]["enum"] = json!(["A", "B", "C"]);
        new["components"]["schemas"]["Thing"]["properties"]["createdAt"] =
            json!({"type": "string"});
        new["paths"]["/things"]["post"]["parameters"]
            .as_array_mut()
            .unwrap()
            .push(json!({"in": "query", "name": "trace", "schema": {"type": "boolean"}}));
        assert_eq!(messages(&new), Vec::<String>::new());
        assert!(breaking_changes(&base(), &base()).is_empty());
    }

    #[test]
    fn request_side_breaks_are_found() {
        let mut new = base();
        let req = &mut new["components"]["schemas"]["Req"];
        req["properties"]["name"]["maxLength"] = json!(5);
        req["required"] = json!(["name", "note"]);
        req["properties"]["kind"]["enum"] = json!(["A"]);
        req["properties"].as_object_mut().unwrap().remove("note");
        new["paths"]["/things"]["post"]["parameters"][0]["required"] = json!(true);
        assert_eq!(
            messages(&new),
            [
                "parameter query/dryRun is now required",
                "new required property `note`",
                "property `note` was removed and unknown properties are refused",
                "`maxLength` tightened from 10 to 5",
                "enum value \"B\" is no longer accepted",
            ]
        );
    }

    #[test]
    fn response_side_breaks_are_found() {
        let mut new = base();
        let thing = &mut new["components"]["schemas"]["Thing"];
        thing["required"] = json!(["id"]);
        thing["properties"]["kind"]["enum"] = json!(["A", "B", "C"]);
        thing["properties"]["id"]["nullable"] = json!(true);
        let responses = new["paths"]["/things"]["post"]["responses"]
            .as_object_mut()
            .unwrap();
        let created = responses.remove("201").unwrap();
        responses.insert("200".into(), created);
        let found = breaking_changes(&base(), &new);
        let messages: Vec<&str> = found.iter().map(|c| c.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "the success status changed from 201 to 200",
                "property `name` is no longer always present",
                "may now be null",
                "enum value \"C\" may now be returned; generated clients reject unknown values",
            ]
        );
        assert_eq!(found[0].pointer, "/paths/~1things/post/responses/200");
    }

    /// A webhook's event is decoded by its consumers: a property it may now omit, an enum value
    /// it may now send, and a removed webhook break them; a new property does not.
    #[test]
    fn webhook_events_are_held_to_the_rules_of_responses() {
        let with_webhook = |event: Value| {
            let mut doc = base();
            doc["x-webhooks"] = json!({"thing.made": {"post": {
                "operationId": "thingMade",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Event"}}}},
                "responses": {"204": {"description": "Acknowledged"}}
            }}});
            doc["components"]["schemas"]["Event"] = event;
            doc
        };
        let event = json!({"type": "object", "required": ["id", "kind"], "properties": {
            "id": {"type": "string"}, "kind": {"type": "string", "enum": ["A"]}}});
        let old = with_webhook(event.clone());
        let mut compatible = event.clone();
        compatible["properties"]["extra"] = json!({"type": "string"});
        assert!(breaking_changes(&old, &with_webhook(compatible)).is_empty());

        let mut breaking = event;
        breaking["required"] = json!(["id"]);
        breaking["properties"]["kind"]["enum"] = json!(["A", "B"]);
        let found = breaking_changes(&old, &with_webhook(breaking));
        let messages: Vec<&str> = found.iter().map(|c| c.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "property `kind` is no longer always present",
                "enum value \"B\" may now be returned; generated clients reject unknown values",
            ]
        );
        assert_eq!(found[0].operation, "webhook thing.made");

        let removed = breaking_changes(&old, &base());
        assert_eq!(removed.len(), 1);
        assert_eq!(removed[0].message, "the webhook was removed");
        assert_eq!(removed[0].pointer, "/x-webhooks/thing.made/post");
    }

    #[test]
    fn removed_and_moved_operations_are_breaking() {
        let mut moved = base();
        let item = moved["paths"]
            .as_object_mut()
            .unwrap()
            .remove("/things")
            .unwrap();
        moved["paths"]["/items"] = item;
        assert_eq!(messages(&moved), ["moved from POST /things to POST /items"]);
        let mut removed = base();
        removed["paths"]["/things"]["post"]["operationId"] = json!("makeThing");
        assert_eq!(messages(&removed), ["the operation was removed"]);
    }

    #[test]
    fn loosened_or_removed_response_bounds_are_breaking() {
        let mut base = base();
        let thing = &mut base["components"]["schemas"]["Thing"];
        thing["properties"]["name"] = json!({"type": "string", "minLength": 1, "maxLength": 10,
            "pattern": "^[a-z]+$"});
        thing["properties"]["id"] = json!({"type": "string", "format": "uuid"});
        thing["properties"]["count"] = json!({"type": "integer", "minimum": 0, "maximum": 100});
        thing["properties"]["tags"] = json!({"type": "array", "maxItems": 5,
            "items": {"type": "string"}});

        // Tightened and added bounds say less than before: not breaking.
        let mut tightened = base.clone();
        let thing = &mut tightened["components"]["schemas"]["Thing"];
        thing["properties"]["name"]["maxLength"] = json!(5);
        thing["properties"]["name"]["minLength"] = json!(2);
        thing["properties"]["count"]["maximum"] = json!(50);
        thing["properties"]["count"]["minimum"] = json!(1);
        thing["properties"]["tags"]["maxItems"] = json!(3);
        thing["properties"]["tags"]["items"]["maxLength"] = json!(8);
        assert_eq!(
            breaking_changes(&base, &tightened),
            Vec::<Change>::new(),
            "tightened response bounds"
        );

        let mut loosened = base.clone();
        let thing = &mut loosened["components"]["schemas"]["Thing"];
        thing["properties"]["name"]["maxLength"] = json!(20);
        thing["properties"]["name"]["pattern"] = json!("^[a-z0-9]+$");
        thing["properties"]["name"]
            .as_object_mut()
            .unwrap()
            .remove("minLength");
        thing["properties"]["id"]
            .as_object_mut()
            .unwrap()
            .remove("format");
        thing["properties"]["count"]["minimum"] = json!(-1);
        thing["properties"]["count"]
            .as_object_mut()
            .unwrap()
            .remove("maximum");
        thing["properties"]["tags"]["maxItems"] = json!(10);
        let found = breaking_changes(&base, &loosened);
        let messages: Vec<&str> = found.iter().map(|c| c.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`format` changed from \"uuid\" to none; generated clients check it when they decode",
                "`maxLength` loosened from 10 to 20; generated clients check it when they decode",
                "`minLength` loosened from 1 to none; generated clients check it when they decode",
                "`pattern` changed from \"^[a-z]+$\" to \"^[a-z0-9]+$\"; generated clients check it when they decode",
                "`maximum` loosened from 100 to none; generated clients check it when they decode",
                "`minimum` loosened from 0 to -1; generated clients check it when they decode",
                "`maxItems` loosened from 5 to 10; generated clients check it when they decode",
            ]
        );
        let schema = "/paths/~1things/post/responses/201/content/application~1json/schema";
        assert_eq!(
            found[1].pointer,
            format!("{schema}/properties/name/maxLength")
        );
    }

    #[test]
    fn path_item_parameters_are_compared() {
        let with_shared = |shared: Value| {
            let mut doc = base();
            doc["paths"]["/things"]["parameters"] = shared;
            doc
        };
        let old = with_shared(json!([
            {"in": "header", "name": "X-Tenant", "schema": {"type": "string", "maxLength": 64}},
            {"in": "query", "name": "verbose", "schema": {"type": "boolean"}}
        ]));
        // A path-item parameter tightened and made required; one removed (but redeclared by the
        // operation, which overrides it, so nothing is lost).
        let mut new = with_shared(json!([
            {"in": "header", "name": "X-Tenant", "required": true,
             "schema": {"type": "string", "maxLength": 32}}
        ]));
        new["paths"]["/things"]["post"]["parameters"]
            .as_array_mut()
            .unwrap()
            .push(json!({"in": "query", "name": "verbose", "schema": {"type": "boolean"}}));
        let found = breaking_changes(&old, &new);
        let messages: Vec<&str> = found.iter().map(|c| c.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "parameter header/X-Tenant is now required",
                "`maxLength` tightened from 64 to 32",
            ]
        );
        assert_eq!(found[0].pointer, "/paths/~1things/parameters/0");

        // Removing the path item's parameters removes them from the operation.
        let removed: Vec<String> = breaking_changes(&old, &base())
            .iter()
            .map(|c| c.message.clone())
            .collect();
        assert!(
            removed.contains(&"parameter header/X-Tenant was removed".to_string()),
            "{removed:?}"
        );

        // An operation's parameter overrides the path item's of the same location and name.
        let mut overridden = old.clone();
        overridden["paths"]["/things"]["post"]["parameters"]
            .as_array_mut()
            .unwrap()
            .push(json!({"in": "header", "name": "X-Tenant", "required": true,
                         "schema": {"type": "string"}}));
        let found = breaking_changes(&old, &overridden);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].message,
            "parameter header/X-Tenant is now required"
        );
        assert_eq!(found[0].pointer, "/paths/~1things/post/parameters/1");
    }

    #[test]
    fn an_optional_request_body_made_required_is_breaking() {
        let mut old = base();
        old["paths"]["/things"]["post"]["requestBody"]["required"] = json!(false);
        let mut absent = base();
        absent["paths"]["/things"]["post"]["requestBody"]
            .as_object_mut()
            .unwrap()
            .remove("required");
        for old in [old, absent] {
            let found = breaking_changes(&old, &base());
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].message, "the request body is now required");
            assert_eq!(
                found[0].pointer,
                "/paths/~1things/post/requestBody/required"
            );
            // The other way round is compatible.
            assert!(breaking_changes(&base(), &old).is_empty());
        }
    }
    #[test]
    fn an_object_split_into_shapes_is_compared_shape_by_shape() {
        let shape = |kind: &str, required: &str| {
            json!({"type": "object", "required": ["name", required], "properties": {
                "name": {"type": "string", "maxLength": 10},
                "kind": {"type": "string", "enum": [kind]},
                "note": {"type": "string"}, "id": {"type": "string"}}})
        };
        let union = |shapes: Vec<Value>| {
            let mapping: serde_json::Map<String, Value> = shapes
                .iter()
                .map(|s| {
                    (
                        s["properties"]["kind"]["enum"][0]
                            .as_str()
                            .unwrap()
                            .to_string(),
                        json!(""),
                    )
                })
                .collect();
            json!({"oneOf": shapes, "discriminator": {"propertyName": "kind", "mapping": mapping}})
        };
        // Requests: each shape requires what only it needs; responses: each says less.
        let mut new = base();
        new["components"]["schemas"]["Req"] = union(vec![shape("A", "note"), shape("B", "name")]);
        new["components"]["schemas"]["Thing"] = union(vec![shape("A", "id"), shape("B", "id")]);
        assert_eq!(messages(&new), ["new required property `note`"]);
        // A response that may return a new shape breaks clients; a request that loses one
        // breaks callers.
        let mut more = new.clone();
        more["components"]["schemas"]["Thing"]["oneOf"]
            .as_array_mut()
            .unwrap()
            .push(shape("C", "id"));
        more["components"]["schemas"]["Thing"]["oneOf"][2]["properties"]["kind"]["enum"] =
            json!(["C"]);
        let fewer_request = {
            let mut fewer = more.clone();
            fewer["components"]["schemas"]["Req"]["oneOf"]
                .as_array_mut()
                .unwrap()
                .pop();
            fewer
        };
        let changes = breaking_changes(&new, &fewer_request);
        let said: Vec<&str> = changes.iter().map(|c| c.message.as_str()).collect();
        assert!(
            said.iter()
                .any(|m| m.starts_with("a new shape may be returned")),
            "{said:?}"
        );
        assert!(
            said.iter()
                .any(|m| m.starts_with("a shape is no longer accepted")),
            "{said:?}"
        );
    }
}
