//! The real spec's examples are valid against their schemas: every `example` (and every
//! `examples/*/value`) of a media type, in operations' request bodies and responses and in the
//! components they share. Examples end up in docs and SDKs; a wrong one teaches a wrong API.

use serde_json::Value;

/// The methods a path item may hold (the other keys are `parameters`, `summary`, ...).
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One example and the schema it must satisfy.
struct Example {
    /// JSON pointer of the example value.
    pointer: String,
    schema: Value,
    value: Value,
}

/// The spec as a JSON value, from `openapi/connect.yaml`.
fn connect_spec() -> Value {
    let path = crate::common::crate_dir().join("../../openapi/connect.yaml");
    codegen::load(&path)
        .unwrap_or_else(|error| panic!("{error}"))
        .raw
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn entries(value: Option<&Value>) -> impl Iterator<Item = (&String, &Value)> {
    value.and_then(Value::as_object).into_iter().flatten()
}

/// Every example under a media type of `document`, where the media type has a schema.
fn examples(document: &Value) -> Vec<Example> {
    // Request bodies and responses (not `$ref`s: those are visited in `components`), by pointer.
    let mut holders: Vec<(String, &Value)> = Vec::new();
    for (path, item) in entries(document.get("paths")) {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let at = format!("/paths/{}/{method}", escape(path));
            if let Some(body) = operation.get("requestBody") {
                holders.push((format!("{at}/requestBody"), body));
            }
            for (status, response) in entries(operation.get("responses")) {
                holders.push((format!("{at}/responses/{}", escape(status)), response));
            }
        }
    }
    for kind in ["requestBodies", "responses"] {
        for (name, holder) in entries(document.pointer(&format!("/components/{kind}"))) {
            holders.push((format!("/components/{kind}/{}", escape(name)), holder));
        }
    }

    let mut out = Vec::new();
    for (at, holder) in holders {
        for (media, media_type) in entries(holder.get("content")) {
            let at = format!("{at}/content/{}", escape(media));
            let Some(schema) = media_type.get("schema") else {
                continue;
            };
            if let Some(value) = media_type.get("example") {
                out.push(Example {
                    pointer: format!("{at}/example"),
                    schema: schema.clone(),
                    value: value.clone(),
                });
            }
            for (name, example) in entries(media_type.get("examples")) {
                // An Example object, or a `$ref` to one in `components/examples`.
                let example = match example.get("$ref").and_then(Value::as_str) {
                    Some(reference) => document
                        .pointer(reference.trim_start_matches('#'))
                        .unwrap_or(&Value::Null),
                    None => example,
                };
                if let Some(value) = example.get("value") {
                    let pointer = format!("{at}/examples/{}/value", escape(name));
                    out.push(Example {
                        pointer,
                        schema: schema.clone(),
                        value: value.clone(),
                    });
                }
            }
        }
    }
    out
}

/// Why each example of `document` is invalid, one line per problem.
fn invalid_examples(document: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for example in examples(document) {
        let schema = spec_schema::standalone(document, &example.schema);
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|error| {
                panic!(
                    "the schema of {} does not compile: {error}",
                    example.pointer
                )
            });
        for error in validator.iter_errors(&example.value) {
            problems.push(format!(
                "{}{}: {error}",
                example.pointer,
                error.instance_path()
            ));
        }
    }
    problems
}

#[test]
fn spec_examples_are_valid() {
    let document = connect_spec();
    let found = examples(&document);
    // The spec has examples on every operation; finding none means the walk is broken.
    assert!(found.len() >= 10, "found only {} examples", found.len());
    let problems = invalid_examples(&document);
    assert!(
        problems.is_empty(),
        "invalid examples in openapi/connect.yaml:\n{}",
        problems.join("\n")
    );
}

/// The check fails on a bad example: a copy of the spec with one example broken (a string
/// property given a wrong value for its `format`, so the schema is followed through `$ref`s,
/// into properties, and formats are checked) has exactly that one problem.
#[test]
fn a_broken_example_is_reported() {
    let mut document = connect_spec();
    let (pointer, format) = examples(&document)
        .iter()
        .find_map(|example| {
            let schema = resolve(&document, &example.schema);
            entries(Some(&example.value)).find_map(|(key, value)| {
                let property = resolve(
                    &document,
                    schema.pointer(&format!("/properties/{}", escape(key)))?,
                );
                let format = property.get("format").and_then(Value::as_str)?;
                let checked = matches!(format, "email" | "uuid" | "date-time");
                (value.is_string() && checked).then(|| {
                    (
                        format!("{}/{}", example.pointer, escape(key)),
                        format.to_string(),
                    )
                })
            })
        })
        .expect("some example has a property with a checked `format`");
    *document
        .pointer_mut(&pointer)
        .expect("the example property") = Value::String("not-valid".into());

    let problems = invalid_examples(&document);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with(&format!("{pointer}: ")),
        "{}",
        problems[0]
    );
    assert!(
        problems[0].contains(&format!("is not a \"{format}\"")),
        "{}",
        problems[0]
    );
}

/// Follows a local `$ref` (the generator refuses any other kind).
fn resolve<'v>(document: &'v Value, schema: &'v Value) -> &'v Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => document
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or(schema),
        None => schema,
    }
}
