//! JSON Schema validation and parameter metadata built from the spec's schemas.

use jsonschema::error::ValidationErrorKind;
use schemars::JsonSchema;
use serde_json::Value;

use crate::Detail;

/// Compiles a JSON Schema (draft 4, as generated from the spec's OpenAPI 3.0 schemas).
///
/// # Panics
/// When `schema` is not valid JSON Schema. Generated code calls this with schemas the generator
/// itself produced and checked, so a failure is a generator bug, caught by the crate's tests.
pub fn compile_validator(schema: &str, definitions: &str) -> jsonschema::Validator {
    let mut schema: Value = serde_json::from_str(schema).expect("generated schema is JSON");
    let definitions: Value =
        serde_json::from_str(definitions).expect("generated definitions are JSON");
    if let Value::Object(object) = &mut schema {
        object.insert("definitions".into(), definitions);
    }
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        // Draft 4 predates the `uuid` format, which OpenAPI documents use freely.
        .with_format("uuid", is_uuid)
        .build(&schema)
        .expect("generated schema compiles")
}

/// The hyphenated form RFC 4122 gives (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, any case).
fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Validates `instance` and returns one [`Detail`] per bad property, pointers prefixed with
/// `prefix` (empty for bodies, `query/limit` style for parameters).
pub fn validate(validator: &jsonschema::Validator, instance: &Value, prefix: &str) -> Vec<Detail> {
    let mut details: Vec<Detail> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    // The cap bounds the answer, not the work: jsonschema gathers every error first. Bodies are
    // validated only for authenticated callers (see `RawBody::decode`), and only up to the
    // body limit.
    for error in validator.iter_errors(instance) {
        let path = error.instance_path().to_string();
        let code = error.kind().keyword().to_string();
        let found: Vec<(String, String)> = match error.kind() {
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                vec![(
                    format!("{path}/{}", escape(name)),
                    "is required".to_string(),
                )]
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
                .iter()
                .map(|name| {
                    (
                        format!("{path}/{}", escape(name)),
                        "is not a known property".to_string(),
                    )
                })
                .collect(),
            _ => vec![(path, error.masked().to_string())],
        };
        for (property, message) in found {
            let property = format!("{prefix}{property}");
            // One entry per property: the first failing keyword is enough to act on.
            if seen.insert(property.clone()) {
                details.push(Detail {
                    property,
                    code: code.clone(),
                    message,
                });
            }
            if details.len() == MAX_DETAILS {
                return details;
            }
        }
    }
    details
}

/// The most details one rejection lists; a request with more problems hears of the first ones.
pub const MAX_DETAILS: usize = 100;

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The schema of one query or header parameter, for `#[schemars(schema_with = ...)]` on the
/// generated parameter struct (dropshot derives parameter metadata from that struct's schema).
/// The type comes from the Rust type `T` (what the generated code really parses);
/// `constraints` holds the spec's keywords (bounds, lengths, patterns, defaults) as a JSON object
/// merged on top.
///
/// Dropshot accepts only scalar query parameters. A repeatable one (`?id=a&id=b`) is therefore
/// described by its item schema, with the whole array schema kept in the `x-array` extension;
/// the round-trip proof reads it back from there.
pub fn param_schema<T: JsonSchema>(
    generator: &mut schemars::r#gen::SchemaGenerator,
    constraints: &str,
    array_of: Option<&str>,
) -> schemars::schema::Schema {
    let mut schema =
        serde_json::to_value(generator.subschema_for::<T>()).expect("schemas serialize");
    merge(&mut schema, constraints);
    if let Some(array_constraints) = array_of {
        let mut array = serde_json::json!({ "type": "array", "items": schema.clone() });
        merge(&mut array, array_constraints);
        schema
            .as_object_mut()
            .expect("object schema")
            .insert("x-array".into(), array);
    }
    // Dropshot keeps a parameter schema's metadata (where `default` lives) only when the schema
    // comes wrapped in a one-element `allOf`, which it unwraps; it drops it otherwise.
    let wrapped = serde_json::json!({ "allOf": [schema] });
    serde_json::from_value(wrapped).expect("merged schema is a schema")
}

fn merge(schema: &mut Value, constraints: &str) {
    let Value::Object(extra) = serde_json::from_str(constraints).expect("constraints are JSON")
    else {
        panic!("constraints must be a JSON object");
    };
    let object = schema.as_object_mut().expect("object schema");
    for (key, value) in extra {
        object.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_checked_even_in_draft_4() {
        assert!(is_uuid("3f0c6a2e-8b1d-4c5e-9a7f-2d4b6e8c0a13"));
        assert!(is_uuid("3F0C6A2E-8B1D-4C5E-9A7F-2D4B6E8C0A13"));
        assert!(!is_uuid("3f0c6a2e8b1d4c5e9a7f2d4b6e8c0a13"));
        assert!(!is_uuid("3f0c6a2e-8b1d-4c5e-9a7f-2d4b6e8c0a1g"));
        let validator = compile_validator(r#"{"type":"string","format":"uuid"}"#, "{}");
        let details = validate(&validator, &serde_json::json!("nope"), "");
        assert_eq!(details.len(), 1);
        assert_eq!(details[0].code, "format");
    }

    #[test]
    fn details_stop_at_the_cap_and_name_each_unknown_property() {
        let validator = compile_validator(
            r#"{"type":"object","additionalProperties":false,"properties":{"ids":{"type":"array","items":{"type":"integer"}}}}"#,
            "{}",
        );
        let many = serde_json::json!({"ids": vec!["x"; 500]});
        assert_eq!(validate(&validator, &many, "").len(), MAX_DETAILS);
        let unknown = validate(&validator, &serde_json::json!({"a": 1, "b": 2}), "");
        let properties: Vec<&str> = unknown.iter().map(|d| d.property.as_str()).collect();
        assert_eq!(properties, ["/a", "/b"]);
    }
}
