//! OpenAPI 3.1 documents, read as the OpenAPI 3.0 they can be written as.
//!
//! progenitor, typify and openapiv3 read OpenAPI 3.0 only, and most of what 3.1 documents use
//! has a 3.0 spelling: type arrays with `"null"` are `nullable`, `const` is a one-value `enum`,
//! a numeric `exclusiveMinimum` is `minimum` with `exclusiveMinimum: true`, schema `examples`
//! is `example`, a `{type: "null"}` branch of `anyOf`/`oneOf` is `nullable`, and `webhooks` are
//! this workspace's `x-webhooks`. The document is rewritten in place, every node where it was
//! (so that messages still name the source's lines); what 3.0 cannot say at all is either
//! refused with its pointer (a keyword that shapes the data, such as `prefixItems`) or dropped
//! with a warning naming it (a keyword that only narrows what is valid, such as
//! `unevaluatedProperties`: the generated code does not enforce it).

use serde_json::{Map, Value, json};

use crate::pointer::Pointer;

/// What the rewrite says about the document: warnings, each at a node.
pub type Notes = Vec<(Pointer, String)>;

/// A keyword 3.0 cannot express, where it was.
pub struct Refusal {
    pub pointer: Pointer,
    pub message: String,
    pub hint: String,
}

/// Keywords that narrow what is valid without changing its shape: dropped, with a warning.
const DROPPED: &[&str] = &[
    "unevaluatedProperties",
    "unevaluatedItems",
    "propertyNames",
    "patternProperties",
    "dependentRequired",
    "dependentSchemas",
    "if",
    "then",
    "else",
    "contains",
    "minContains",
    "maxContains",
];

/// Keywords with no meaning for the generated code: dropped silently.
const IGNORED: &[&str] = &["$schema", "$id", "$comment", "$anchor", "contentSchema"];

/// Keywords that change the shape of the data and have no 3.0 spelling.
const REFUSED: &[&str] = &["prefixItems", "$dynamicRef", "$dynamicAnchor", "$defs"];

/// Rewrites a 3.1 document as 3.0.3.
pub fn down(doc: &mut Value) -> Result<Notes, Refusal> {
    let mut notes = Notes::new();
    let root = Pointer::root();
    let Some(object) = doc.as_object_mut() else {
        return Ok(notes);
    };
    object.insert("openapi".into(), json!("3.0.3"));
    object.remove("jsonSchemaDialect");
    if let Some(info) = object.get_mut("info").and_then(Value::as_object_mut) {
        info.remove("summary");
        if let Some(license) = info.get_mut("license").and_then(Value::as_object_mut) {
            license.remove("identifier");
        }
    }
    if let Some(webhooks) = object.remove("webhooks") {
        notes.push((
            root.join("webhooks"),
            "OpenAPI 3.1 `webhooks` are read as `x-webhooks`".to_string(),
        ));
        object.entry("x-webhooks").or_insert(webhooks);
    }
    object.entry("paths").or_insert_with(|| json!({}));
    if let Some(items) = object
        .get("components")
        .and_then(|c| c.get("pathItems"))
        .and_then(Value::as_object)
        && !items.is_empty()
    {
        return Err(Refusal {
            pointer: root.join("components").join("pathItems"),
            message: "OpenAPI 3.1 `components/pathItems` has no OpenAPI 3.0 form".to_string(),
            hint: "write the path items under `paths`".to_string(),
        });
    }
    walk(doc, &root, &mut notes)?;
    Ok(notes)
}

/// Finds the schemas of the document (wherever `schema`, `schemas` or a `content` media type
/// holds them) and rewrites each.
fn walk(node: &mut Value, at: &Pointer, notes: &mut Notes) -> Result<(), Refusal> {
    match node {
        Value::Object(object) => {
            for (key, value) in object.iter_mut() {
                let here = at.join(key);
                // Extensions and example values are data, not OpenAPI.
                if key.starts_with("x-") || key == "example" || key == "examples" {
                    continue;
                }
                if key == "schema" {
                    schema(value, &here, notes)?;
                } else if key == "schemas" && at.as_str() == "/components" {
                    if let Some(schemas) = value.as_object_mut() {
                        for (name, value) in schemas.iter_mut() {
                            schema(value, &here.join(name), notes)?;
                        }
                    }
                } else {
                    walk(value, &here, notes)?;
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                walk(item, &at.join(index), notes)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Rewrites one schema and its subschemas.
fn schema(node: &mut Value, at: &Pointer, notes: &mut Notes) -> Result<(), Refusal> {
    let Some(object) = node.as_object_mut() else {
        // `true` and `false` schemas: 3.0 has `{}` and `{not: {}}`.
        if let Value::Bool(accept) = node {
            *node = if *accept {
                json!({})
            } else {
                json!({ "not": {} })
            };
        }
        return Ok(());
    };
    for keyword in REFUSED {
        if object.contains_key(*keyword) {
            return Err(Refusal {
                pointer: at.join(keyword),
                message: format!(
                    "`{keyword}` (JSON Schema 2020-12, OpenAPI 3.1) has no OpenAPI 3.0 form"
                ),
                hint: match *keyword {
                    "prefixItems" => "describe the array with one `items` schema".to_string(),
                    "$defs" => {
                        "move the definitions to `components/schemas` and `$ref` them".to_string()
                    }
                    _ => "use `$ref` to a component schema".to_string(),
                },
            });
        }
    }
    for keyword in DROPPED {
        if object.remove(*keyword).is_some() {
            notes.push((
                at.join(keyword),
                format!(
                    "`{keyword}` has no OpenAPI 3.0 form and is dropped: the generated code does not enforce it"
                ),
            ));
        }
    }
    for keyword in IGNORED {
        object.remove(*keyword);
    }
    types(object);
    if let Some(value) = object.remove("const") {
        object.insert("enum".into(), json!([value]));
    }
    if let Some(Value::Array(examples)) = object.remove("examples")
        && let Some(first) = examples.into_iter().next()
    {
        object.entry("example").or_insert(first);
    }
    for (exclusive, inclusive) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(bound) = object.get(exclusive).filter(|v| v.is_number()).cloned() {
            object.insert(inclusive.into(), bound);
            object.insert(exclusive.into(), json!(true));
        }
    }
    match object
        .remove("contentEncoding")
        .as_ref()
        .and_then(Value::as_str)
    {
        Some("base64" | "base64url") => {
            object.entry("format").or_insert(json!("byte"));
        }
        Some(_) => {
            object.entry("format").or_insert(json!("binary"));
        }
        None => {}
    }
    if object.remove("contentMediaType").is_some() {
        object.entry("format").or_insert(json!("binary"));
    }
    null_branches(object);
    // A `$ref` with siblings: 3.0 ignores the siblings, 3.1 applies them. Keep the reference
    // and what narrows it by wrapping it in `allOf` (annotations stay beside it).
    if object.contains_key("$ref") && object.keys().any(|k| !is_annotation(k) && k != "$ref") {
        let reference = object.remove("$ref").expect("just seen");
        let all_of = object
            .entry("allOf")
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .map(|list| list.insert(0, json!({ "$ref": reference })));
        if all_of.is_none() {
            notes.push((
                at.clone(),
                "`$ref` beside a non-list `allOf` is dropped".to_string(),
            ));
        }
    }
    for (key, value) in object.iter_mut() {
        let here = at.join(key);
        match key.as_str() {
            "properties" => {
                if let Some(properties) = value.as_object_mut() {
                    for (name, value) in properties.iter_mut() {
                        schema(value, &here.join(name), notes)?;
                    }
                }
            }
            "items" | "not" => schema(value, &here, notes)?,
            // `true` and `false` are 3.0 too here.
            "additionalProperties" if value.is_object() => schema(value, &here, notes)?,
            "allOf" | "anyOf" | "oneOf" => {
                if let Some(list) = value.as_array_mut() {
                    for (index, value) in list.iter_mut().enumerate() {
                        schema(value, &here.join(index), notes)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn is_annotation(keyword: &str) -> bool {
    matches!(
        keyword,
        "description" | "title" | "example" | "examples" | "deprecated" | "readOnly" | "writeOnly"
    ) || keyword.starts_with("x-")
}

/// `type: [T, "null"]` is `type: T` with `nullable: true`; several types are an `anyOf`.
fn types(object: &mut Map<String, Value>) {
    match object.get("type") {
        Some(Value::String(name)) if name == "null" => {
            object.remove("type");
            object.insert("nullable".into(), json!(true));
            object.insert("enum".into(), json!([null]));
        }
        Some(Value::Array(list)) => {
            let names: Vec<String> = list
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            let nullable = names.iter().any(|n| n == "null");
            let rest: Vec<&String> = names.iter().filter(|n| *n != "null").collect();
            object.remove("type");
            match rest.as_slice() {
                [] => {
                    object.insert("enum".into(), json!([null]));
                }
                [one] => {
                    object.insert("type".into(), json!(one));
                }
                many => {
                    let branches: Vec<Value> = many.iter().map(|t| json!({ "type": t })).collect();
                    object.insert("anyOf".into(), json!(branches));
                }
            }
            if nullable {
                object.insert("nullable".into(), json!(true));
            }
        }
        _ => {}
    }
}

/// A branch `{type: "null"}` of `anyOf` or `oneOf` is `nullable: true` on the whole; a list
/// left with one branch is that branch (wrapped in `allOf` when it is a `$ref`).
fn null_branches(object: &mut Map<String, Value>) {
    for keyword in ["anyOf", "oneOf"] {
        let Some(Value::Array(list)) = object.get_mut(keyword) else {
            continue;
        };
        let before = list.len();
        list.retain(|branch| {
            !(branch.get("type").and_then(Value::as_str) == Some("null")
                && branch.as_object().is_some_and(|b| b.len() == 1))
        });
        if list.len() == before {
            continue;
        }
        object.insert("nullable".into(), json!(true));
        let Some(Value::Array(list)) = object.get(keyword) else {
            continue;
        };
        if list.len() == 1 {
            let only = list[0].clone();
            object.remove(keyword);
            match only.as_object() {
                Some(branch) if branch.contains_key("$ref") => {
                    object.insert("allOf".into(), json!([only]));
                }
                Some(branch) => {
                    for (key, value) in branch {
                        object.entry(key.clone()).or_insert(value.clone());
                    }
                }
                None => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn converted(schema: Value) -> (Value, Notes) {
        let mut doc = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1", "summary": "s", "license": {"name": "MIT", "identifier": "MIT"}},
            "components": {"schemas": {"S": schema}},
        });
        let notes = down(&mut doc).map_err(|r| r.message).unwrap();
        assert_eq!(doc["openapi"], "3.0.3");
        assert_eq!(doc["paths"], json!({}));
        assert!(doc["info"].get("summary").is_none());
        (doc["components"]["schemas"]["S"].clone(), notes)
    }

    #[test]
    fn the_3_1_spellings_become_3_0_ones() {
        let (schema, notes) = converted(json!({
            "type": "object",
            "properties": {
                "name": {"type": ["string", "null"], "maxLength": 5, "examples": ["Ada"]},
                "kind": {"const": "card"},
                "amount": {"type": "number", "exclusiveMinimum": 0},
                "either": {"type": ["string", "integer"]},
                "parent": {"anyOf": [{"$ref": "#/components/schemas/S"}, {"type": "null"}]},
                "blob": {"type": "string", "contentEncoding": "base64"},
                "open": true,
            },
            "additionalProperties": false,
            "unevaluatedProperties": false,
        }));
        let p = &schema["properties"];
        assert_eq!(
            p["name"],
            json!({"type": "string", "nullable": true, "maxLength": 5, "example": "Ada"})
        );
        assert_eq!(p["kind"], json!({"enum": ["card"]}));
        assert_eq!(
            p["amount"],
            json!({"type": "number", "minimum": 0, "exclusiveMinimum": true})
        );
        assert_eq!(
            p["either"],
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]})
        );
        assert_eq!(
            p["parent"],
            json!({"allOf": [{"$ref": "#/components/schemas/S"}], "nullable": true})
        );
        assert_eq!(p["blob"], json!({"type": "string", "format": "byte"}));
        assert_eq!(p["open"], json!({}));
        assert!(schema.get("unevaluatedProperties").is_none());
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(notes.len(), 1);
        assert_eq!(
            notes[0].0.as_str(),
            "/components/schemas/S/unevaluatedProperties"
        );
    }

    #[test]
    fn webhooks_are_x_webhooks_and_shape_keywords_are_refused() {
        let mut doc = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
            "webhooks": {"ping": {"post": {"responses": {"200": {"description": "ok"}}}}}});
        down(&mut doc).map_err(|r| r.message).unwrap();
        assert!(doc.get("webhooks").is_none());
        assert!(doc["x-webhooks"]["ping"].is_object());

        let mut doc = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {},
            "components": {"schemas": {"Pair": {"type": "array", "prefixItems": [{"type": "string"}]}}}});
        let refusal = down(&mut doc).map(|_| ()).expect_err("refused");
        assert_eq!(
            refusal.pointer.as_str(),
            "/components/schemas/Pair/prefixItems"
        );
    }
}
