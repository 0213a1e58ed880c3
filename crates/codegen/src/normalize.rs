//! The spec as the emitters need it: every operation named, every schema that becomes a Rust
//! type a named component, and every component named as its Rust type.
//!
//! - Operations without an `operationId` get one from their method and path
//!   ([`naming::derived_operation_id`]); every operation's method name is fixed here.
//! - Component schemas are renamed to their Rust type names ([`naming::unique_type_name`]):
//!   `simple-user` becomes `SimpleUser`, and a second `pagination` beside `Pagination` becomes
//!   `Pagination2`, so that no two schemas make one type. Every `$ref` follows.
//! - Inline schemas of request bodies and responses move to `components/schemas`, named after
//!   their operation (`ListPetsResponse`, `CreatePetBody`, `ListPetsErrorDefault`) or their
//!   component (`components/responses/NotFound` gives `NotFound`).
//!
//! The result is the same API: nothing but names and places change. Every moved node remembers
//! where it was written ([`Normalized::origin`]), so that a problem found later is reported
//! at the node the designer wrote.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Map, Value};

use crate::load::Locate;
use crate::naming;
use crate::pointer::Pointer;
use crate::source::Position;
use crate::{Spec, SpecError};

/// The HTTP methods OpenAPI allows in a path item, in document order.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The names of one operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationName {
    /// The path template, e.g. `/users/{userId}`.
    pub path: String,
    /// Lower case, as in the document.
    pub method: String,
    /// The operation id: the spec's, or one derived from method and path.
    pub id: String,
    /// Whether the spec gave none and `id` was derived.
    pub derived: bool,
    /// The method name on the trait and on the client.
    pub fn_name: String,
    /// The PascalCase stem of the operation's generated items.
    pub stem: String,
}

impl OperationName {
    /// The operation's pointer (the same in the source and in the normalized document).
    pub fn pointer(&self) -> Pointer {
        Pointer::root()
            .join("paths")
            .join(&self.path)
            .join(&self.method)
    }
}

/// The normalized document and how its names relate to the source's.
#[derive(Debug)]
pub struct Normalized<'s> {
    pub spec: &'s Spec,
    pub doc: Value,
    /// Source component schema name to its name here (its Rust type name).
    pub renames: BTreeMap<String, String>,
    pub operations: Vec<OperationName>,
    /// Type names in use: component schemas, and whatever is hoisted later.
    pub taken: BTreeSet<String>,
    /// What is suspect but not wrong, reported beside the output.
    pub warnings: Vec<SpecError>,
    /// Moved nodes: (pointer here, pointer in the source).
    moves: Vec<(String, String)>,
}

impl Locate for Normalized<'_> {
    fn path(&self) -> &Path {
        &self.spec.path
    }

    fn origin(&self, pointer: &Pointer) -> (Pointer, Option<Position>) {
        let source = self.source_pointer(pointer);
        self.spec.origin(&source)
    }
}

impl<'s> Normalized<'s> {
    /// Normalizes `spec` (see the module docs).
    pub fn new(spec: &'s Spec) -> Result<Self, SpecError> {
        let mut this = Self {
            spec,
            doc: spec.raw.clone(),
            renames: BTreeMap::new(),
            operations: Vec::new(),
            taken: BTreeSet::new(),
            warnings: spec
                .notes
                .iter()
                .map(|(pointer, message)| SpecError::invalid(spec, pointer, message.clone()))
                .collect(),
            moves: Vec::new(),
        };
        this.check_paths()?;
        this.rename_components();
        this.name_operations()?;
        this.hoist_component_bodies();
        this.hoist_operation_bodies();
        Ok(this)
    }

    /// The pointer in the source of the node at `pointer` here.
    pub fn source_pointer(&self, pointer: &Pointer) -> Pointer {
        let text = pointer.as_str();
        let found = self
            .moves
            .iter()
            .filter(|(here, _)| text == here || text.starts_with(&format!("{here}/")))
            .max_by_key(|(here, _)| here.len());
        match found {
            Some((here, there)) => Pointer::parse(&format!("{there}{}", &text[here.len()..])),
            None => pointer.clone(),
        }
    }

    /// The Rust type name of the component schema a `$ref` string names here, if it names one.
    pub fn schema_name(reference: &str) -> Option<&str> {
        reference
            .strip_prefix("#/components/schemas/")
            .filter(|name| !name.contains('/'))
    }

    /// Adds `schema` to `components/schemas` under a new name made from `stem`, recording
    /// that it came from `origin` (a pointer here); returns the name.
    pub fn add_schema(&mut self, stem: &str, schema: Value, origin: &Pointer) -> String {
        let name = naming::unique_type_name(stem, &mut self.taken);
        let source = self.source_pointer(origin);
        self.moves.push((
            Pointer::root()
                .join("components")
                .join("schemas")
                .join(&name)
                .as_str()
                .to_string(),
            source.as_str().to_string(),
        ));
        schemas_mut(&mut self.doc).insert(name.clone(), schema);
        name
    }

    fn check_paths(&self) -> Result<(), SpecError> {
        let Some(paths) = self.spec.raw.get("paths").and_then(Value::as_object) else {
            return Ok(());
        };
        for (path, item) in paths {
            let pointer = Pointer::root().join("paths").join(path);
            if path.starts_with("x-") {
                continue;
            }
            if !path.starts_with('/') {
                return Err(SpecError::invalid(
                    self.spec,
                    &pointer,
                    format!("the path `{path}` does not start with `/`"),
                ));
            }
            if item.get("$ref").is_some() {
                return Err(SpecError::unsupported(
                    self.spec,
                    &pointer.join("$ref"),
                    "path items given by `$ref` are not supported",
                    "write the path item inline under `paths`",
                ));
            }
        }
        Ok(())
    }

    fn rename_components(&mut self) {
        let names: Vec<String> = self
            .doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|schemas| schemas.keys().cloned().collect())
            .unwrap_or_default();
        // A name that is already its own Rust name keeps it; the others follow in order.
        for name in &names {
            if naming::pascal(name) == *name && !self.taken.contains(name) {
                self.taken.insert(name.clone());
                self.renames.insert(name.clone(), name.clone());
            }
        }
        for name in &names {
            if !self.renames.contains_key(name) {
                let rust = naming::unique_type_name(name, &mut self.taken);
                self.renames.insert(name.clone(), rust);
            }
        }
        if self.renames.iter().all(|(from, to)| from == to) {
            return;
        }
        let schemas = schemas_mut(&mut self.doc);
        let old = std::mem::take(schemas);
        for (name, schema) in old {
            let rust = self.renames[&name].clone();
            if rust != name {
                let base = Pointer::root().join("components").join("schemas");
                self.moves.push((
                    base.join(&rust).as_str().to_string(),
                    base.join(&name).as_str().to_string(),
                ));
            }
            schemas.insert(rust, schema);
        }
        let renames = self.renames.clone();
        rewrite_refs(&mut self.doc, &|reference| {
            let rest = reference.strip_prefix("#/components/schemas/")?;
            let (name, tail) = match rest.split_once('/') {
                Some((name, tail)) => (name, format!("/{tail}")),
                None => (rest, String::new()),
            };
            let name = name.replace("~1", "/").replace("~0", "~");
            let rust = renames.get(&name)?;
            Some(format!("#/components/schemas/{rust}{tail}"))
        });
    }

    fn name_operations(&mut self) -> Result<(), SpecError> {
        let paths = self
            .doc
            .get("paths")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut used: BTreeMap<String, usize> = BTreeMap::new();
        for (path, item) in &paths {
            if path.starts_with("x-") {
                continue;
            }
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let explicit = op.get("operationId").and_then(Value::as_str);
                let (id, derived) = match explicit {
                    Some(id) if !id.trim().is_empty() => (id.to_string(), false),
                    _ => (naming::derived_operation_id(method, path), true),
                };
                let fn_name = naming::method_name(&id);
                let stem = naming::operation_type_stem(&fn_name);
                let name = OperationName {
                    path: path.clone(),
                    method: method.to_string(),
                    id,
                    derived,
                    fn_name,
                    stem,
                };
                if let Some(&other) = used.get(&name.fn_name) {
                    let other = &self.operations[other];
                    let at = match name.derived {
                        true => name.pointer(),
                        false => name.pointer().join("operationId"),
                    };
                    let hint = "give one of them another `operationId`: both would be the same Rust \
                                method on the server trait and on the client";
                    return Err(SpecError::unsupported(
                        self.spec,
                        &at,
                        format!(
                            "{} `{}` makes the Rust method `{}`, which `{}` ({} {}) makes too",
                            if name.derived {
                                "the operation id derived from the path"
                            } else {
                                "operationId"
                            },
                            name.id,
                            name.fn_name,
                            other.id,
                            other.method.to_uppercase(),
                            other.path
                        ),
                        hint,
                    ));
                }
                used.insert(name.fn_name.clone(), self.operations.len());
                self.operations.push(name);
            }
        }
        Ok(())
    }

    /// Inline schemas of `components/requestBodies` and `components/responses`, named after
    /// their component, so that every operation using one shares its type.
    fn hoist_component_bodies(&mut self) {
        for (section, suffix) in [("requestBodies", "Body"), ("responses", "")] {
            let names: Vec<String> = self
                .doc
                .pointer(&format!("/components/{section}"))
                .and_then(Value::as_object)
                .map(|map| map.keys().cloned().collect())
                .unwrap_or_default();
            for name in names {
                let at = Pointer::root().join("components").join(section).join(&name);
                let stem = format!("{}{suffix}", naming::pascal(&name));
                self.hoist_content(&at, &stem);
            }
        }
    }

    fn hoist_operation_bodies(&mut self) {
        for index in 0..self.operations.len() {
            let op = self.operations[index].clone();
            let pointer = op.pointer();
            let body = pointer.join("requestBody");
            if self.node(&body).is_some_and(|b| b.get("$ref").is_none()) {
                self.hoist_content(&body, &format!("{}Body", op.stem));
            }
            let responses = pointer.join("responses");
            let statuses: Vec<String> = self
                .node(&responses)
                .and_then(Value::as_object)
                .map(|map| map.keys().cloned().collect())
                .unwrap_or_default();
            let successes = statuses.iter().filter(|s| s.starts_with('2')).count();
            for status in statuses {
                let response = responses.join(&status);
                if self.node(&response).is_none_or(|r| r.get("$ref").is_some()) {
                    continue;
                }
                let stem = match status.as_str() {
                    s if s.starts_with('2') && successes == 1 => format!("{}Response", op.stem),
                    s if s.starts_with('2') => format!("{}Response{s}", op.stem),
                    "default" if successes == 0 => format!("{}Response", op.stem),
                    "default" => format!("{}ErrorDefault", op.stem),
                    s => format!("{}Error{}", op.stem, s.to_ascii_lowercase()),
                };
                self.hoist_content(&response, &stem);
            }
        }
    }

    /// Moves the inline schemas of the media types of the body or response at `at` (JSON,
    /// forms) into `components/schemas`, named after `stem`.
    fn hoist_content(&mut self, at: &Pointer, stem: &str) {
        let media_types: Vec<String> = self
            .node(&at.join("content"))
            .and_then(Value::as_object)
            .map(|map| map.keys().cloned().collect())
            .unwrap_or_default();
        let mut hoisted: Vec<(Value, String)> = Vec::new();
        for media in media_types {
            if !typed_media_type(&media) {
                continue;
            }
            let schema_at = at.join("content").join(&media).join("schema");
            let Some(schema) = self.node(&schema_at).cloned() else {
                continue;
            };
            if !schema.is_object()
                || schema
                    .get("$ref")
                    .and_then(Value::as_str)
                    .is_some_and(|r| Self::schema_name(r).is_some())
            {
                continue;
            }
            // Several media types with one inline schema share its type.
            let name = match hoisted.iter().find(|(s, _)| *s == schema) {
                Some((_, name)) => name.clone(),
                None => {
                    let name = self.add_schema(stem, schema.clone(), &schema_at);
                    hoisted.push((schema, name.clone()));
                    name
                }
            };
            if let Some(node) = self.doc.pointer_mut(schema_at.as_str()) {
                *node = serde_json::json!({ "$ref": format!("#/components/schemas/{name}") });
            }
        }
    }

    fn node(&self, pointer: &Pointer) -> Option<&Value> {
        self.doc.pointer(pointer.as_str())
    }
}

/// Whether a media type's schema becomes a Rust type: JSON and form bodies.
pub fn typed_media_type(media: &str) -> bool {
    let essence = media.split(';').next().unwrap_or_default().trim();
    crate::media::is_json(essence)
        || essence == "application/x-www-form-urlencoded"
        || essence == "multipart/form-data"
}

fn schemas_mut(doc: &mut Value) -> &mut Map<String, Value> {
    let root = doc.as_object_mut().expect("the document is a mapping");
    let components = root
        .entry("components")
        .or_insert_with(|| Value::Object(Map::new()));
    if !components.is_object() {
        *components = Value::Object(Map::new());
    }
    let schemas = components
        .as_object_mut()
        .expect("an object")
        .entry("schemas")
        .or_insert_with(|| Value::Object(Map::new()));
    if !schemas.is_object() {
        *schemas = Value::Object(Map::new());
    }
    schemas.as_object_mut().expect("an object")
}

/// Rewrites every `$ref` of the document (data such as examples, defaults and enums aside) that
/// `rewrite` maps.
pub fn rewrite_refs(node: &mut Value, rewrite: &dyn Fn(&str) -> Option<String>) {
    rewrite_refs_below(node, rewrite, None);
}

fn rewrite_refs_below(
    node: &mut Value,
    rewrite: &dyn Fn(&str) -> Option<String>,
    parent: Option<&str>,
) {
    match node {
        Value::Object(map) => {
            let naming_keys = matches!(parent, Some("properties" | "patternProperties"));
            if !naming_keys
                && let Some(Value::String(reference)) = map.get_mut("$ref")
                && let Some(new) = rewrite(reference)
            {
                *reference = new;
            }
            for (key, child) in map.iter_mut() {
                if naming_keys || !is_data(key, parent) {
                    rewrite_refs_below(child, rewrite, Some(key));
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                rewrite_refs_below(item, rewrite, None);
            }
        }
        _ => {}
    }
}

/// Whether the member `key` of a mapping found under `parent` holds data (examples, defaults,
/// enum values, extensions) rather than OpenAPI nodes. Under `responses`, `default` is the
/// default response.
pub fn is_data(key: &str, parent: Option<&str>) -> bool {
    key.starts_with("x-")
        || matches!(key, "example" | "examples" | "enum" | "const")
        || (key == "default" && parent != Some("responses"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(yaml: &str) -> Value {
        let spec = crate::load_str(Path::new("spec.yaml"), yaml).unwrap();
        Normalized::new(&spec).unwrap().doc
    }

    #[test]
    fn inline_schemas_become_components_named_after_their_operation() {
        let doc = normalized(
            r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /pets:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/pet'}}
        default:
          description: error
          content:
            application/json:
              schema: {type: object, properties: {code: {type: integer}}}
components:
  schemas:
    pet: {type: object}
    Pet: {type: string}
",
        );
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let names: Vec<&String> = schemas.keys().collect();
        assert_eq!(
            names,
            ["Pet2", "Pet", "GetPetsResponse", "GetPetsErrorDefault"]
        );
        assert_eq!(
            schemas["GetPetsResponse"]["items"]["$ref"],
            "#/components/schemas/Pet2"
        );
        let ok = &doc["paths"]["/pets"]["get"]["responses"]["200"]["content"]["application/json"];
        assert_eq!(ok["schema"]["$ref"], "#/components/schemas/GetPetsResponse");
    }
}
