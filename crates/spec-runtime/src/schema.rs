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
        .build(&schema)
        .expect("generated schema compiles")
}

/// Validates `instance` and returns one [`Detail`] per bad property, pointers prefixed with
/// `prefix` (empty for bodies, `query/limit` style for parameters).
pub fn validate(validator: &jsonschema::Validator, instance: &Value, prefix: &str) -> Vec<Detail> {
    let mut details: Vec<Detail> = Vec::new();
    for error in validator.iter_errors(instance) {
        let path = error.instance_path().to_string();
        let (property, message) = match error.kind() {
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                (
                    format!("{path}/{}", escape(name)),
                    "is required".to_string(),
                )
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let name = unexpected.first().map(String::as_str).unwrap_or_default();
                (
                    format!("{path}/{}", escape(name)),
                    "is not a known property".to_string(),
                )
            }
            _ => (path, error.masked().to_string()),
        };
        let property = format!("{prefix}{property}");
        // One entry per property: the first failing keyword is enough to act on.
        if !details.iter().any(|d| d.property == property) {
            details.push(Detail {
                property,
                code: error.kind().keyword().to_string(),
                message,
            });
        }
    }
    details
}

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
    serde_json::from_value(schema).expect("merged schema is a schema")
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
