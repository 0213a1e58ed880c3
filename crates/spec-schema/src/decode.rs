//! Decoding request values: validate against the spec's schema, then deserialize.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::{Compiled, Detail, Rejection};

/// A type generated from a component schema, with the compiled validator of that schema (see
/// [`crate::validated!`]).
pub trait Validated: DeserializeOwned + Send + Sync + 'static {
    /// The schema this type was generated from, compiled.
    fn compiled() -> &'static Compiled;

    /// Validates `value` against the spec's schema (every bad property reported, up to
    /// [`crate::MAX_DETAILS`]) and only then deserializes it.
    fn from_json(value: Value) -> Result<Self, Rejection> {
        let details = Self::compiled().validate(&value, "");
        if !details.is_empty() {
            return Err(Rejection::validation(details));
        }
        // The schema accepted the value, so this rarely fails; when it does (a constraint JSON
        // Schema cannot express), the pointer still names the property.
        serde_path_to_error::deserialize(value).map_err(|error| {
            let pointer = error
                .path()
                .iter()
                .map(|segment| match segment {
                    serde_path_to_error::Segment::Seq { index } => format!("/{index}"),
                    serde_path_to_error::Segment::Map { key } => format!("/{key}"),
                    serde_path_to_error::Segment::Enum { variant } => format!("/{variant}"),
                    serde_path_to_error::Segment::Unknown => String::new(),
                })
                .collect::<String>();
            Rejection::validation(vec![Detail {
                property: pointer,
                code: "invalid".to_string(),
                message: error.inner().to_string(),
            }])
        })
    }

    /// Parses JSON text, then [`Validated::from_json`].
    fn from_json_bytes(bytes: &[u8]) -> Result<Self, Rejection> {
        let value: Value = serde_json::from_slice(bytes).map_err(|error| {
            Rejection::malformed(format!("request body is not valid JSON: {error}"))
        })?;
        Self::from_json(value)
    }

    /// Reads an `application/x-www-form-urlencoded` body by the type's schema (see
    /// [`form_to_json`]), then [`Validated::from_json`].
    fn from_form_bytes(bytes: &[u8]) -> Result<Self, Rejection> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(bytes).map_err(|error| {
                Rejection::malformed(format!("request body is not form-urlencoded: {error}"))
            })?;
        Self::from_form_fields(pairs)
    }

    /// Reads form fields (`multipart/form-data` ones, say) by the type's schema (see
    /// [`form_to_json`]), then [`Validated::from_json`].
    fn from_form_fields(fields: Vec<(String, String)>) -> Result<Self, Rejection> {
        let compiled = Self::compiled();
        Self::from_json(form_to_json(
            fields,
            compiled.schema(),
            compiled.definitions(),
        ))
    }
}

/// Any JSON value (a body the spec gives no schema).
impl Validated for Value {
    fn compiled() -> &'static Compiled {
        static NONE: crate::Definitions = crate::Definitions::new("{}");
        static COMPILED: std::sync::OnceLock<Compiled> = std::sync::OnceLock::new();
        COMPILED.get_or_init(|| Compiled::new(Value::Object(Map::new()), &NONE))
    }
}

/// Form fields as the JSON object their schema describes: a field whose property is an integer,
/// number or boolean becomes one when its text spells one (otherwise it stays text, and
/// validation says what is wrong), a field whose property is an array collects every occurrence,
/// any other field is text. A repeated field that is not an array becomes an array of its
/// texts, which validation then refuses.
pub fn form_to_json(pairs: Vec<(String, String)>, schema: &Value, definitions: &Value) -> Value {
    let schema = resolve(schema, definitions);
    let property = |name: &str| {
        schema
            .get("properties")
            .and_then(|p| p.get(name))
            .map(|p| resolve(p, definitions))
    };
    let mut out = Map::new();
    for (name, text) in pairs {
        let schema = property(&name);
        let is_array = schema.is_some_and(|s| type_of(s) == Some("array"));
        let value = match schema {
            Some(s) if is_array => {
                let items = s.get("items").map(|i| resolve(i, definitions));
                scalar(&text, items)
            }
            other => scalar(&text, other),
        };
        match out.get_mut(&name) {
            Some(Value::Array(items)) if is_array => items.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            None if is_array => {
                out.insert(name, Value::Array(vec![value]));
            }
            None => {
                out.insert(name, value);
            }
        }
    }
    Value::Object(out)
}

fn scalar(text: &str, schema: Option<&Value>) -> Value {
    let typed = match schema.and_then(type_of) {
        Some("integer") => text.parse::<i64>().ok().map(Value::from),
        Some("number") => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        Some("boolean") => match text {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => None,
    };
    typed.unwrap_or_else(|| Value::String(text.to_string()))
}

/// The `type` of a schema; the first one of a `["integer", "null"]` list.
fn type_of(schema: &Value) -> Option<&str> {
    match schema.get("type")? {
        Value::String(ty) => Some(ty),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        _ => None,
    }
}

/// Follows `#/definitions/...` references (a few hops; the generator refused cycles of bare
/// references).
fn resolve<'v>(mut schema: &'v Value, definitions: &'v Value) -> &'v Value {
    for _ in 0..8 {
        let Some(name) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/definitions/"))
        else {
            break;
        };
        match definitions.get(name) {
            Some(target) => schema = target,
            None => break,
        }
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn form_fields_take_the_types_their_schema_gives() {
        let definitions = json!({"Tag": {"type": "integer"}});
        let schema = json!({"type": "object", "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "score": {"type": "number"},
            "admin": {"type": "boolean"},
            "tags": {"type": "array", "items": {"$ref": "#/definitions/Tag"}},
        }});
        let pairs = [
            ("name", "Ada"),
            ("age", "36"),
            ("score", "1.5"),
            ("admin", "true"),
            ("tags", "1"),
            ("tags", "2"),
            ("extra", "x"),
            ("age2", "nope"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        assert_eq!(
            form_to_json(pairs.to_vec(), &schema, &definitions),
            json!({"name": "Ada", "age": 36, "score": 1.5, "admin": true, "tags": [1, 2],
                   "extra": "x", "age2": "nope"})
        );
    }

    #[test]
    fn unparsable_and_repeated_fields_are_left_for_validation_to_refuse() {
        let schema = json!({"type": "object", "properties": {"age": {"type": "integer"}}});
        let pairs = [("age", "old"), ("name", "a"), ("name", "b")]
            .map(|(k, v)| (k.to_string(), v.to_string()));
        assert_eq!(
            form_to_json(pairs.to_vec(), &schema, &json!({})),
            json!({"age": "old", "name": ["a", "b"]})
        );
    }
}
