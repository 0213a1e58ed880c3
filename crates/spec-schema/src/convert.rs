//! OpenAPI 3.0 schema objects as JSON Schema (draft 4), for validators that read the spec.
//!
//! OpenAPI 3.0's schema dialect is draft 4 (well, draft-wright-00) plus a few keywords:
//! `nullable` becomes a `"null"` alternative, references move from `#/components/schemas/X` to
//! `#/definitions/X`, and annotation-only keywords (`example`, `xml`, `x-*` ...) go.

use serde_json::{Map, Value};

/// OpenAPI-only keywords with no effect on validation.
const DROPPED: [&str; 6] = [
    "nullable",
    "example",
    "xml",
    "externalDocs",
    "readOnly",
    "writeOnly",
];

/// Converts one schema object (and everything below it).
pub fn convert(schema: &Value) -> Value {
    match schema {
        Value::Object(object) => Value::Object(convert_object(object)),
        other => other.clone(),
    }
}

fn convert_object(object: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in object {
        if DROPPED.contains(&key.as_str()) || key.starts_with("x-") {
            continue;
        }
        let value = match key.as_str() {
            "$ref" => Value::String(
                value
                    .as_str()
                    .unwrap_or_default()
                    .replace("#/components/schemas/", "#/definitions/"),
            ),
            // Kept (validators ignore it) so that a rejection can say which branch of a `oneOf`
            // the value meant; its mapping names schemas.
            "discriminator" => {
                let mut discriminator = value.clone();
                if let Some(Value::Object(mapping)) = discriminator.get_mut("mapping") {
                    for target in mapping.values_mut() {
                        if let Value::String(reference) = target {
                            *reference =
                                reference.replace("#/components/schemas/", "#/definitions/");
                        }
                    }
                }
                discriminator
            }
            // Maps from names to schemas.
            "properties" | "patternProperties" | "definitions" => match value {
                Value::Object(map) => {
                    Value::Object(map.iter().map(|(k, v)| (k.clone(), convert(v))).collect())
                }
                other => other.clone(),
            },
            // Schemas, or arrays of schemas.
            "items" | "additionalProperties" | "not" | "allOf" | "anyOf" | "oneOf" => match value {
                Value::Array(list) => Value::Array(list.iter().map(convert).collect()),
                other => convert(other),
            },
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    if object.get("nullable").and_then(Value::as_bool) == Some(true) {
        if let Some(Value::String(ty)) = out.get("type").cloned() {
            out.insert(
                "type".into(),
                Value::Array(vec![Value::String(ty), Value::String("null".into())]),
            );
        }
        if let Some(Value::Array(values)) = out.get_mut("enum")
            && !values.contains(&Value::Null)
        {
            values.push(Value::Null);
        }
    }
    out
}

/// Every component schema of a document, converted, as a `definitions` object.
pub fn definitions(document: &Value) -> Value {
    let schemas = document
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    Value::Object(
        schemas
            .map(|schemas| {
                schemas
                    .iter()
                    .map(|(name, schema)| (name.clone(), convert(schema)))
                    .collect()
            })
            .unwrap_or_default(),
    )
}

/// A self-contained JSON Schema for `schema`: converted, with every component schema of
/// `document` under `definitions` so that references resolve.
pub fn standalone(document: &Value, schema: &Value) -> Value {
    let mut root = match convert(schema) {
        Value::Object(object) => object,
        other => return other,
    };
    root.insert("definitions".into(), definitions(document));
    Value::Object(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nullable_becomes_a_null_alternative() {
        let converted =
            convert(&json!({"type": "string", "nullable": true, "enum": ["a"], "example": "a"}));
        assert_eq!(
            converted,
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
    }

    #[test]
    fn references_move_to_definitions_at_every_depth() {
        let converted = convert(&json!({
            "type": "object",
            "properties": {"a": {"$ref": "#/components/schemas/A"}},
            "additionalProperties": {"type": "array", "items": {"$ref": "#/components/schemas/B"}},
            "x-extension": 1
        }));
        assert_eq!(
            converted,
            json!({
                "type": "object",
                "properties": {"a": {"$ref": "#/definitions/A"}},
                "additionalProperties": {"type": "array", "items": {"$ref": "#/definitions/B"}}
            })
        );
    }
}
