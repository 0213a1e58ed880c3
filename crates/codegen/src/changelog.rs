//! An API's changelog, from the versions of its document: per `info.version`, what changed
//! since the version before (operations, parameters, responses, schemas, properties, enum
//! values, constraints), the changes that break callers listed first, as
//! [`crate::breaking`] judges them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value;

use crate::breaking::breaking_changes;

/// One version of a document: its `info.version` and the document (as loaded, JSON).
#[derive(Clone, Debug)]
pub struct Version {
    pub version: String,
    pub doc: Value,
}

/// The changelog section of one API, newest version first. `versions` are oldest first, each
/// the last state of the document under that version.
pub fn render(title: &str, spec: &str, versions: &[Version]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## {title}\n\nFrom `{spec}`.\n");
    for (index, version) in versions.iter().enumerate().rev() {
        let _ = writeln!(out, "### {}\n", version.version);
        let Some(before) = index.checked_sub(1).map(|i| &versions[i]) else {
            let operations = operations(&version.doc);
            let _ = writeln!(
                out,
                "The first version: {} operation(s).\n",
                operations.len()
            );
            for (id, (method, path, _)) in &operations {
                let _ = writeln!(out, "- `{id}`: {method} {path}");
            }
            out.push('\n');
            continue;
        };
        let breaking: BTreeSet<String> = breaking_changes(&before.doc, &version.doc)
            .into_iter()
            .map(|change| {
                format!(
                    "`{}`: {} (`#{}`)",
                    change.operation, change.message, change.pointer
                )
            })
            .collect();
        let facts = facts(&before.doc, &version.doc);
        if breaking.is_empty() && facts.is_empty() {
            let _ = writeln!(out, "No change to what callers see.\n");
            continue;
        }
        if !breaking.is_empty() {
            let _ = writeln!(out, "**Breaking** for callers of {}:\n", before.version);
            for change in &breaking {
                let _ = writeln!(out, "- {change}");
            }
            out.push('\n');
        }
        if !facts.is_empty() {
            let _ = writeln!(out, "Changes:\n");
            for fact in &facts {
                let _ = writeln!(out, "- {fact}");
            }
            out.push('\n');
        }
    }
    out
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Operations by id (or `METHOD path` when they have none): method, path, the operation.
fn operations(doc: &Value) -> BTreeMap<String, (String, String, &Value)> {
    let mut out = BTreeMap::new();
    for (path, item) in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                let method = method.to_ascii_uppercase();
                let id = operation
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("{method} {path}"), str::to_string);
                out.insert(id, (method, path.clone(), operation));
            }
        }
    }
    out
}

/// What changed between two versions, each as a sentence, in a stable order.
fn facts(old: &Value, new: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let (before, after) = (operations(old), operations(new));
    for (id, (method, path, _)) in &after {
        if !before.contains_key(id) {
            out.push(format!("`{id}` added: {method} {path}"));
        }
    }
    for id in before.keys().filter(|id| !after.contains_key(*id)) {
        out.push(format!("`{id}` removed"));
    }
    let webhooks = |doc: &Value| -> BTreeSet<String> {
        doc.get(crate::webhooks::KEY)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, _)| name.clone())
            .filter(|name| !name.starts_with("x-"))
            .collect()
    };
    let (old_hooks, new_hooks) = (webhooks(old), webhooks(new));
    for name in new_hooks.difference(&old_hooks) {
        out.push(format!("webhook `{name}` added"));
    }
    for name in old_hooks.difference(&new_hooks) {
        out.push(format!("webhook `{name}` removed"));
    }
    for (id, (_, _, new_op)) in &after {
        let Some((_, _, old_op)) = before.get(id) else {
            continue;
        };
        let parameters = |doc: &Value, op: &Value| -> BTreeMap<(String, String), Value> {
            op.get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| resolve(doc, p))
                .filter_map(|p| {
                    Some((
                        (
                            p.get("in")?.as_str()?.to_string(),
                            p.get("name")?.as_str()?.to_string(),
                        ),
                        p.clone(),
                    ))
                })
                .collect()
        };
        let (old_params, new_params) = (parameters(old, old_op), parameters(new, new_op));
        for ((place, name), parameter) in &new_params {
            if !old_params.contains_key(&(place.clone(), name.clone())) {
                let required = parameter.get("required") == Some(&Value::Bool(true));
                out.push(format!(
                    "`{id}`: {} {place} parameter `{name}` added",
                    if required { "required" } else { "optional" }
                ));
            }
        }
        for (place, name) in old_params.keys() {
            if !new_params.contains_key(&(place.clone(), name.clone())) {
                out.push(format!("`{id}`: {place} parameter `{name}` removed"));
            }
        }
        let statuses = |op: &Value| -> BTreeSet<String> {
            op.get("responses")
                .and_then(Value::as_object)
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default()
        };
        let (old_statuses, new_statuses) = (statuses(old_op), statuses(new_op));
        for status in new_statuses.difference(&old_statuses) {
            out.push(format!("`{id}`: response {status} documented"));
        }
        for status in old_statuses.difference(&new_statuses) {
            out.push(format!("`{id}`: response {status} no longer documented"));
        }
    }
    let schemas = |doc: &Value| -> BTreeMap<String, Value> {
        doc.pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    let (old_schemas, new_schemas) = (schemas(old), schemas(new));
    for name in new_schemas.keys().filter(|n| !old_schemas.contains_key(*n)) {
        out.push(format!("schema `{name}` added"));
    }
    for name in old_schemas.keys().filter(|n| !new_schemas.contains_key(*n)) {
        out.push(format!("schema `{name}` removed"));
    }
    for (name, new_schema) in &new_schemas {
        if let Some(old_schema) = old_schemas.get(name) {
            schema_facts(name, old_schema, new_schema, &mut out);
        }
    }
    out
}

/// The changes of one schema: its shapes, properties, required ones, enum values and
/// constraints (of the schema and of each property it keeps).
fn schema_facts(name: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    let shapes = |s: &Value| -> Vec<String> {
        s.get("oneOf")
            .or_else(|| s.get("anyOf"))
            .and_then(Value::as_array)
            .map(|list| list.iter().map(shape_name).collect())
            .unwrap_or_default()
    };
    let (old_shapes, new_shapes) = (shapes(old), shapes(new));
    if old_shapes != new_shapes {
        match new_shapes.as_slice() {
            [] => out.push(format!("`{name}` is no longer a union")),
            shapes => {
                let by = new
                    .pointer("/discriminator/propertyName")
                    .and_then(Value::as_str)
                    .map(|p| format!(" (by `{p}`)"))
                    .unwrap_or_default();
                out.push(format!("`{name}` is now one of {}{by}", shapes.join(", ")));
            }
        }
        // Its properties now live in its shapes, which are schemas of their own.
        return;
    }
    let properties = |s: &Value| -> BTreeMap<String, Value> {
        s.get("properties")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    let (old_props, new_props) = (properties(old), properties(new));
    for property in new_props.keys().filter(|p| !old_props.contains_key(*p)) {
        out.push(format!("`{name}`: property `{property}` added"));
    }
    for property in old_props.keys().filter(|p| !new_props.contains_key(*p)) {
        out.push(format!("`{name}`: property `{property}` removed"));
    }
    let required = |s: &Value| -> BTreeSet<String> {
        s.get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    let (old_required, new_required) = (required(old), required(new));
    for property in new_required.difference(&old_required) {
        out.push(format!("`{name}`: `{property}` is now required"));
    }
    for property in old_required.difference(&new_required) {
        if new_props.contains_key(property) {
            out.push(format!("`{name}`: `{property}` is now optional"));
        }
    }
    constraint_facts(name, old, new, out);
    for (property, new_prop) in &new_props {
        if let Some(old_prop) = old_props.get(property) {
            constraint_facts(&format!("{name}.{property}"), old_prop, new_prop, out);
        }
    }
}

fn shape_name(shape: &Value) -> String {
    match shape.get("$ref").and_then(Value::as_str) {
        Some(reference) => format!("`{}`", reference.rsplit('/').next().unwrap_or(reference)),
        None => "an inline shape".to_string(),
    }
}

/// Enum values and bounds that changed on one schema (not below it).
fn constraint_facts(name: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    let values = |s: &Value| -> Vec<Value> {
        s.get("enum")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (old_values, new_values) = (values(old), values(new));
    for value in new_values.iter().filter(|v| !old_values.contains(v)) {
        out.push(format!("`{name}`: enum value {value} added"));
    }
    for value in old_values.iter().filter(|v| !new_values.contains(v)) {
        out.push(format!("`{name}`: enum value {value} removed"));
    }
    for keyword in [
        "type",
        "format",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "nullable",
        "default",
        "$ref",
    ] {
        let (x, y) = (old.get(keyword), new.get(keyword));
        if x != y {
            let show = |v: Option<&Value>| v.map_or("none".to_string(), |v| format!("{v}"));
            out.push(format!("`{name}`: `{keyword}` {} → {}", show(x), show(y)));
        }
    }
}

/// A `$ref`'d node, resolved within `doc` (one level).
fn resolve<'a>(doc: &'a Value, node: &'a Value) -> &'a Value {
    node.get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|pointer| doc.pointer(pointer))
        .unwrap_or(node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(version: &str, extra_param: bool, max: u64) -> Version {
        let mut parameters =
            vec![json!({"in": "query", "name": "limit", "schema": {"type": "integer"}})];
        if extra_param {
            parameters.push(json!({"in": "query", "name": "cursor", "schema": {"type": "string"}}));
        }
        Version {
            version: version.to_string(),
            doc: json!({
                "openapi": "3.0.3",
                "info": {"title": "T", "version": version},
                "paths": {"/things": {"get": {"operationId": "listThings", "parameters": parameters,
                    "responses": {"200": {"description": "ok", "content": {"application/json":
                        {"schema": {"$ref": "#/components/schemas/Thing"}}}}}}}},
                "components": {"schemas": {"Thing": {"type": "object", "required": ["name"],
                    "properties": {"name": {"type": "string", "maxLength": max}}}}}
            }),
        }
    }

    #[test]
    fn versions_list_what_changed_newest_first_breaking_first() {
        let text = render(
            "T",
            "openapi/t.yaml",
            &[
                doc("1.0.0", false, 10),
                doc("1.1.0", true, 10),
                doc("2.0.0", true, 20),
            ],
        );
        let expected = "## T\n\nFrom `openapi/t.yaml`.\n\n### 2.0.0\n\n**Breaking** for callers of 1.1.0:\n\n- `listThings`: `maxLength` loosened from 10 to 20; generated clients check it when they decode (`#/paths/~1things/get/responses/200/content/application~1json/schema/properties/name/maxLength`)\n\nChanges:\n\n- `Thing.name`: `maxLength` 10 → 20\n\n### 1.1.0\n\nChanges:\n\n- `listThings`: optional query parameter `cursor` added\n\n### 1.0.0\n\nThe first version: 1 operation(s).\n\n- `listThings`: GET /things\n\n";
        assert_eq!(text, expected);
    }
}
