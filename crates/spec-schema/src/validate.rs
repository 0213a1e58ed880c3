//! JSON Schema validation against the spec's own schemas.

use jsonschema::ValidationError;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::Detail;

/// Compiles a JSON Schema (draft 4, as generated from the spec's OpenAPI 3.0 schemas) whose
/// `#/definitions/...` references resolve in `definitions`.
///
/// # Panics
/// When `schema` is not valid JSON Schema. Generated code calls this with schemas the generator
/// itself produced and checked, so a failure is a generator bug, caught by the crate's tests.
pub fn compile_validator(schema: &str, definitions: &Definitions) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(schema).expect("generated schema is JSON");
    compile(schema, definitions)
}

pub(crate) fn compile(schema: Value, definitions: &Definitions) -> jsonschema::Validator {
    build(&document(schema, definitions))
}

/// A schema with the definitions its references resolve in.
fn document(mut schema: Value, definitions: &Definitions) -> Value {
    if let Value::Object(object) = &mut schema {
        object.insert("definitions".into(), definitions.value().clone());
    }
    schema
}

fn build(schema: &Value) -> jsonschema::Validator {
    try_build(schema).expect("generated schema compiles")
}

/// Whether `schema` is a JSON Schema this crate can compile: the JSON pointer (into `schema`)
/// and the reason when it is not (a keyword of the wrong shape, a `pattern` that is no regular
/// expression).
pub fn check(schema: &Value) -> Result<(), (String, String)> {
    try_build(schema)
        .map(drop)
        .map_err(|error| (error.instance_path().to_string(), error.to_string()))
}

/// Whether `schema` has the shape of a draft 4 JSON Schema (its references aside): the JSON
/// pointer and the reason when it has not.
pub fn check_shape(schema: &Value) -> Result<(), (String, String)> {
    jsonschema::draft4::meta::validate(schema)
        .map_err(|error| (error.instance_path().to_string(), error.to_string()))
}

fn try_build(
    schema: &Value,
) -> Result<jsonschema::Validator, jsonschema::ValidationError<'static>> {
    if let Err(error) = jsonschema::draft4::meta::validate(schema) {
        return Err(error.to_owned());
    }
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        // Draft 4 predates the `uuid` format, which OpenAPI documents use freely.
        .with_format("uuid", is_uuid)
        .build(schema)
}

/// Every component schema of a spec as JSON Schema `definitions`, parsed once on first use.
pub struct Definitions {
    text: &'static str,
    value: std::sync::OnceLock<Value>,
}

impl Definitions {
    /// The definitions given as JSON text (generated code passes a literal).
    pub const fn new(text: &'static str) -> Self {
        Self {
            text,
            value: std::sync::OnceLock::new(),
        }
    }

    /// Definitions already parsed (the generator checks its own templates with them).
    pub fn from_value(value: Value) -> Self {
        let this = Self::new("");
        this.value.set(value).expect("a new lock is empty");
        this
    }

    /// The definitions as a JSON object.
    ///
    /// # Panics
    /// When the text is not JSON: generated code passes text the generator wrote.
    pub fn value(&self) -> &Value {
        self.value.get_or_init(|| {
            serde_json::from_str(self.text).expect("generated definitions are JSON")
        })
    }

    /// A validator for the definition `name`.
    pub fn validator(&self, name: &str) -> jsonschema::Validator {
        compile(
            serde_json::json!({ "$ref": format!("#/definitions/{name}") }),
            self,
        )
    }

    /// The definition `name`, compiled, for [`crate::Validated`].
    pub fn compiled(&'static self, name: &str) -> Compiled {
        let document = document(
            serde_json::json!({ "$ref": format!("#/definitions/{name}") }),
            self,
        );
        Compiled {
            schema: self.value().get(name).cloned().unwrap_or(Value::Bool(true)),
            definitions: self,
            validator: build(&document),
            document,
        }
    }
}

impl std::fmt::Debug for Definitions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Definitions").finish_non_exhaustive()
    }
}

/// One schema's compiled validator, and the definitions its references resolve in.
pub struct Compiled {
    schema: Value,
    definitions: &'static Definitions,
    validator: jsonschema::Validator,
    /// The schema with its definitions, as compiled.
    document: Value,
}

impl Compiled {
    /// A schema given as JSON (`{}` takes anything).
    pub fn new(schema: Value, definitions: &'static Definitions) -> Self {
        let document = document(schema.clone(), definitions);
        Self {
            schema,
            definitions,
            validator: build(&document),
            document,
        }
    }

    /// Validates `instance` (see [`validate_in`]).
    pub fn validate(&self, instance: &Value, prefix: &str) -> Vec<Detail> {
        validate_in(&self.validator, Some(&self.document), instance, prefix)
    }

    pub fn validator(&self) -> &jsonschema::Validator {
        &self.validator
    }

    /// The schema (converted to JSON Schema).
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Every definition, for following the schema's references.
    pub fn definitions(&self) -> &Value {
        self.definitions.value()
    }
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
    validate_in(validator, None, instance, prefix)
}

/// [`validate`], with the schema document the validator was compiled from, so that a value
/// that fits no branch of a `oneOf` (or `anyOf`) is told what is wrong with the branch it
/// meant: the one its discriminator names, or else the one it comes closest to.
pub fn validate_in(
    validator: &jsonschema::Validator,
    document: Option<&Value>,
    instance: &Value,
    prefix: &str,
) -> Vec<Detail> {
    // Most values are valid: answering that short-circuits and builds no error (gathering
    // errors first costs several times as much for a valid value).
    if validator.is_valid(instance) {
        return Vec::new();
    }
    let mut details: Vec<Detail> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    // The cap bounds the answer, not the work: jsonschema gathers every error first. Bodies are
    // validated only for authenticated callers (see `RawBody::decode`), and only up to the
    // body limit.
    let errors: Vec<ValidationError<'_>> = validator.iter_errors(instance).collect();
    let mut pending: Vec<ValidationError<'_>> = errors;
    pending.reverse();
    let mut expanded = 0;
    while let Some(mut error) = pending.pop() {
        if let Some(Meant::Tag {
            pointer,
            present,
            allowed,
        }) = branch_index(&error, document)
        {
            let property = format!("{prefix}{pointer}");
            if seen.insert(property.clone()) {
                details.push(Detail {
                    property,
                    code: if present { "enum" } else { "required" }.to_string(),
                    message: if present {
                        format!("must be one of {}", allowed.join(", "))
                    } else {
                        format!("is required (one of {})", allowed.join(", "))
                    },
                });
            }
            if details.len() == MAX_DETAILS {
                return details;
            }
            continue;
        }
        if expanded < 64 {
            match meant_branch(error, document) {
                Ok(branch) => {
                    expanded += 1;
                    for inner in branch.into_iter().rev() {
                        pending.push(inner);
                    }
                    continue;
                }
                Err(unchanged) => error = unchanged,
            }
        }
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

/// What a value that fits no branch of a `oneOf` or `anyOf` meant.
enum Meant {
    /// The branch its discriminator names, or the one it comes closest to (by index).
    Branch(usize),
    /// Its discriminator property is missing, or names no branch: that property is the detail.
    Tag {
        pointer: String,
        present: bool,
        allowed: Vec<String>,
    },
}

/// The errors of the branch a value that fits no branch of a `oneOf` or `anyOf` meant, if one
/// can be told: the branch the schema's discriminator maps the value's tag to, or else the one
/// branch with the fewest errors, none of them about the value's type as a whole. A value whose
/// discriminator property is missing or unknown is told about that property.
fn meant_branch<'a>(
    error: ValidationError<'a>,
    document: Option<&Value>,
) -> Result<Vec<ValidationError<'static>>, ValidationError<'a>> {
    match branch_index(&error, document) {
        Some(Meant::Branch(index)) => match error.into_parts().kind {
            ValidationErrorKind::OneOfNotValid { mut context }
            | ValidationErrorKind::AnyOf { mut context } => Ok(context.swap_remove(index)),
            _ => unreachable!("branch_index answers for oneOf and anyOf only"),
        },
        _ => Err(error),
    }
}

/// The schema node a keyword location (the path through the schema validation took, `$ref`s
/// included) names in `document`.
fn schema_at<'a>(document: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = document;
    for segment in path.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment == "$ref" {
            let target = node.get("$ref")?.as_str()?;
            node = document.pointer(target.strip_prefix('#')?)?;
            continue;
        }
        node = match node {
            Value::Object(map) => map.get(&segment)?,
            Value::Array(list) => list.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// See [`meant_branch`].
fn branch_index(error: &ValidationError<'_>, document: Option<&Value>) -> Option<Meant> {
    let context = match error.kind() {
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            context
        }
        _ => return None,
    };
    if context.is_empty() {
        return None;
    }
    // The discriminator, beside the `oneOf` in the schema.
    if let Some(document) = document {
        let location = error.schema_path().to_string();
        let parent = location.rsplit_once('/').map_or("", |(parent, _)| parent);
        // (A value that is not even an object is told so by the `oneOf` itself.)
        if error.instance().is_object()
            && let Some(schema) = schema_at(document, parent)
            && let Some(discriminator) = schema.get("discriminator")
            && let Some(property) = discriminator.get("propertyName").and_then(Value::as_str)
            && let Some(branches) = schema
                .get("oneOf")
                .or_else(|| schema.get("anyOf"))
                .and_then(Value::as_array)
        {
            let mapping = discriminator.get("mapping").and_then(Value::as_object);
            let tag = error.instance().get(property).and_then(Value::as_str);
            let index = tag.and_then(|tag| {
                let target = mapping
                    .and_then(|m| m.get(tag))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("#/definitions/{tag}"));
                branches
                    .iter()
                    .position(|b| b.get("$ref").and_then(Value::as_str) == Some(target.as_str()))
                    .filter(|index| *index < context.len())
            });
            return Some(match index {
                Some(index) => Meant::Branch(index),
                None => Meant::Tag {
                    pointer: format!("{}/{}", error.instance_path(), escape(property)),
                    present: error.instance().get(property).is_some(),
                    allowed: mapping
                        .map(|m| m.keys().cloned().collect())
                        .unwrap_or_default(),
                },
            });
        }
    }
    // The closest branch, if one is closest: the fewest problems with the value as a whole
    // (a wrong type, a missing or unknown property), then the fewest problems.
    let instance_path = error.instance_path().to_string();
    let score = |errors: &Vec<ValidationError<'static>>| {
        let whole = errors
            .iter()
            .filter(|e| e.instance_path().to_string() == instance_path)
            .count();
        (whole, errors.len())
    };
    let scores: Vec<(usize, (usize, usize))> = context
        .iter()
        .enumerate()
        .map(|(index, errors)| (index, score(errors)))
        .collect();
    let best = scores.iter().map(|(_, score)| *score).min()?;
    let mut closest = scores.iter().filter(|(_, score)| *score == best);
    match (closest.next(), closest.next()) {
        (Some((index, (whole, count))), None) if *count > 0 && *whole < *count => {
            Some(Meant::Branch(*index))
        }
        _ => None,
    }
}

/// The most details one rejection lists; a request with more problems hears of the first ones.
pub const MAX_DETAILS: usize = 100;

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
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
        static NONE: Definitions = Definitions::new("{}");
        let validator = compile_validator(r#"{"type":"string","format":"uuid"}"#, &NONE);
        let details = validate(&validator, &serde_json::json!("nope"), "");
        assert_eq!(details.len(), 1);
        assert_eq!(details[0].code, "format");
    }

    #[test]
    fn details_stop_at_the_cap_and_name_each_unknown_property() {
        static NONE: Definitions = Definitions::new("{}");
        let validator = compile_validator(
            r#"{"type":"object","additionalProperties":false,"properties":{"ids":{"type":"array","items":{"type":"integer"}}}}"#,
            &NONE,
        );
        let many = serde_json::json!({"ids": vec!["x"; 500]});
        assert_eq!(validate(&validator, &many, "").len(), MAX_DETAILS);
        let unknown = validate(&validator, &serde_json::json!({"a": 1, "b": 2}), "");
        let properties: Vec<&str> = unknown.iter().map(|d| d.property.as_str()).collect();
        assert_eq!(properties, ["/a", "/b"]);
    }
}
