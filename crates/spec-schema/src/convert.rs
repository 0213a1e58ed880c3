//! OpenAPI 3.0 schema objects as JSON Schema (draft 4), for validators that read the spec.
//!
//! OpenAPI 3.0's schema dialect is draft 4 (well, draft-wright-00) plus a few keywords:
//! `nullable` becomes a `"null"` alternative, references move from `#/components/schemas/X` to
//! `#/definitions/X`, and annotation-only keywords (`example`, `xml`, `x-*` ...) go.

use serde_json::{Map, Value, json};

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
            // ECMA-262 (the dialect OpenAPI patterns are written in) takes a `{` that starts no
            // quantifier as itself; the validator's engine wants it escaped.
            "pattern" => match value {
                Value::String(pattern) => Value::String(strict_pattern(pattern)),
                other => other.clone(),
            },
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
        // Without a `type` to widen (`allOf: [ref], nullable: true`, as dropshot writes a
        // nullable reference), null is an alternative to the whole.
        if !out.contains_key("type")
            && ["allOf", "anyOf", "oneOf", "$ref"]
                .iter()
                .any(|k| out.contains_key(*k))
        {
            let mut wrapped = Map::new();
            wrapped.insert(
                "anyOf".into(),
                Value::Array(vec![json!({"type": "null"}), Value::Object(out)]),
            );
            return wrapped;
        }
    }
    out
}

/// `pattern` with every brace that is no quantifier's escaped (ECMA-262's Annex B reads
/// `/a{b/` as the three characters; stricter engines refuse it).
pub fn strict_pattern(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len());
    let mut in_class = false;
    let mut index = 0;
    // Whether the previous token can take a quantifier.
    let mut quantifiable = false;
    while index < chars.len() {
        let c = chars[index];
        match c {
            '\\' => {
                out.push(c);
                if let Some(next) = chars.get(index + 1) {
                    out.push(*next);
                    index += 1;
                }
                quantifiable = true;
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
                quantifiable = true;
            }
            '{' if !in_class => {
                let rest: String = chars[index + 1..].iter().collect();
                let quantifier = rest.find('}').is_some_and(|end| {
                    let inner = &rest[..end];
                    let (low, high) = inner.split_once(',').unwrap_or((inner, "0"));
                    !low.is_empty()
                        && low.chars().all(|d| d.is_ascii_digit())
                        && high.chars().all(|d| d.is_ascii_digit())
                });
                if quantifier && quantifiable {
                    let end = index + 1 + rest.find('}').unwrap_or(0);
                    out.extend(&chars[index..=end]);
                    index = end;
                    quantifiable = false;
                } else {
                    out.push_str("\\{");
                    quantifiable = true;
                }
            }
            '}' if !in_class => {
                out.push_str("\\}");
                quantifiable = true;
            }
            '(' | '|' if !in_class => {
                out.push(c);
                quantifiable = false;
            }
            _ => {
                out.push(c);
                quantifiable = !in_class || quantifiable;
            }
        }
        index += 1;
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
    fn braces_that_quantify_nothing_are_escaped() {
        assert_eq!(strict_pattern("^[a-z]{2,3}$"), "^[a-z]{2,3}$");
        assert_eq!(
            strict_pattern("^(?:{[0-9a-f]{4}})$"),
            "^(?:\\{[0-9a-f]{4}\\})$"
        );
        assert_eq!(strict_pattern("a{b"), "a\\{b");
        assert_eq!(strict_pattern("[{}]x{1}"), "[{}]x{1}");
        assert_eq!(strict_pattern("\\{1}"), "\\{1\\}");
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
