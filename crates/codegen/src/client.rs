//! The client: progenitor, builder style, with its own types.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use proc_macro2::TokenStream;
use progenitor_impl::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};
use serde_json::{Map, Value, json};

use crate::errors::ErrorKind;
use crate::media::BodyMedia;
use crate::model::{Api, Location, Operation};
use crate::naming;
use crate::normalize::Normalized;
use crate::pointer::Pointer;
use crate::{Settings, SpecError};

pub fn generate(
    normalized: &Normalized<'_>,
    document: &openapiv3::OpenAPI,
    api: &crate::model::Api,
    settings: &Settings,
) -> Result<String, SpecError> {
    let mut generation = GenerationSettings::new();
    generation
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_map_type("::std::collections::BTreeMap");
    if let Some(inner) = &settings.client_inner_type {
        let inner: TokenStream = inner.parse().map_err(|error| SpecError::Generator {
            path: normalized.spec.path.clone(),
            message: format!("client_inner_type `{inner}` is not a Rust type: {error}"),
        })?;
        generation
            .with_inner_type(inner)
            .with_hooks(HooksMode::Expected);
    }
    let mut generator = Generator::new(&generation);
    let mut tokens = run_progenitor(normalized, document, &mut generator)?;
    let conventions = crate::conventions::read(&normalized.doc, normalized)?;
    let extra = crate::conveniences::generate(
        normalized,
        api,
        &conventions,
        &tokens,
        settings.client_conveniences.as_deref(),
    )?;
    tokens.extend(extra);
    crate::render(
        escape_backslashes_in_paths(tokens),
        settings,
        normalized.spec,
    )
}

/// The document progenitor generates the client (and typify the types) from: the normalized
/// spec with what progenitor and typify cannot read rewritten into what they can, without
/// changing what goes over the wire.
///
/// - Operation ids are the method names, so that progenitor's names are the trait's.
/// - A request body keeps the one media type the server reads. `+json` types are sent as
///   `application/json`; a multipart form as a urlencoded one (the server reads both); a raw
///   body progenitor cannot send as such (an image, say) as `application/octet-stream`.
/// - A `default` response beside a success is the error of the `4XX` and `5XX` ranges; alone,
///   it is the success too. Errors decode into their schema when every error response has the
///   same one, and are raw bodies (with their status) otherwise.
/// - Header and path parameters that are arrays are strings (`a,b`), as they go over the wire;
///   so are parameters whose schema has no type.
/// - typify names types after `title`s, which can clash: titles move into descriptions. Enums
///   whose values typify would give one Rust name (`a` and `A`) are plain strings, and an
///   `anyOf` is a `oneOf` (see `typify_workarounds`).
pub fn document(normalized: &Normalized<'_>, api: &Api) -> (Value, Vec<SpecError>) {
    let mut doc = normalized.doc.clone();
    let mut warnings = Vec::new();
    for op in &api.operations {
        let pointer = op.name.pointer();
        let Some(node) = doc.pointer_mut(pointer.as_str()) else {
            continue;
        };
        let kind = api.kinds.get(op.kind).filter(|_| !op.websocket);
        for dropped in rewrite_operation(node, op, kind, &normalized.doc) {
            warnings.push(SpecError::invalid(
                normalized,
                &Pointer::parse(&dropped.1),
                format!(
                    "the client cannot send the parameter `{}`: its Rust name is another \
                     parameter's (progenitor names parameters by their snake_case)",
                    dropped.0
                ),
            ));
        }
    }
    // Path-item parameters are folded into each operation above.
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            if let Some(item) = item.as_object_mut() {
                item.remove("parameters");
            }
        }
    }
    for section in ["parameters", "requestBodies", "responses", "headers"] {
        if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
            // Everything they held is inlined into the operations.
            components.remove(section);
        }
    }
    typify_workarounds(&mut doc);
    (doc, warnings)
}

/// Rewrites one operation (see [`document`]); returns the parameters left out (name and
/// pointer), whose Rust names progenitor would give another parameter too.
fn rewrite_operation(
    node: &mut Value,
    op: &Operation,
    kind: Option<&ErrorKind>,
    source: &Value,
) -> Vec<(String, String)> {
    let resolved = |node: &Value| crate::pointer::resolve_local(source, node).clone();
    node["operationId"] = Value::String(op.name.fn_name.clone());
    node.as_object_mut()
        .expect("an operation is a mapping")
        .remove("callbacks");
    // Parameters, resolved, as the client sends them.
    let mut names = std::collections::BTreeSet::new();
    let mut dropped = Vec::new();
    let params: Vec<Value> = op
        .params
        .iter()
        .filter(|param| {
            let fresh = names.insert(naming::snake(&param.name));
            if !fresh {
                dropped.push((param.name.clone(), param.pointer.clone()));
            }
            fresh
        })
        .map(|param| {
            let mut p = json!({
                "name": param.name,
                "in": param.location.as_str(),
                "required": param.required,
                "schema": param.schema,
            });
            if let Some(description) = &param.description {
                p["description"] = Value::String(description.clone());
            }
            let array = matches!(param.ty, crate::model::ParamType::Array(_));
            let untyped = param.schema.get("type").is_none() && param.schema.get("$ref").is_none();
            if (array && param.location != Location::Query) || untyped {
                let mut schema = json!({"type": "string"});
                if let Some(description) = param.schema.get("description") {
                    schema["description"] = description.clone();
                }
                p["schema"] = schema;
            }
            p
        })
        .collect();
    if params.is_empty() {
        node.as_object_mut()
            .expect("a mapping")
            .remove("parameters");
    } else {
        node["parameters"] = Value::Array(params);
    }
    // The body, in the one media type the server reads.
    if let Some(body) = &op.body {
        let request = resolved(&node["requestBody"]);
        let media = request
            .pointer(&format!(
                "/content/{}",
                crate::pointer::escape(&body.media_type)
            ))
            .cloned()
            .unwrap_or_else(|| json!({}));
        let schema = media.get("schema").cloned();
        let (media_type, schema) = match body.media {
            BodyMedia::Json => ("application/json", schema.unwrap_or_else(|| json!({}))),
            BodyMedia::Form | BodyMedia::Multipart => (
                "application/x-www-form-urlencoded",
                schema.unwrap_or_else(|| json!({"type": "object"})),
            ),
            BodyMedia::Raw if crate::media::essence(&body.media_type).starts_with("text/") => {
                ("text/plain", json!({"type": "string"}))
            }
            BodyMedia::Raw => (
                "application/octet-stream",
                json!({"type": "string", "format": "binary"}),
            ),
        };
        let mut new = json!({
            "required": body.required,
            "content": { media_type: { "schema": schema } },
        });
        if let Some(description) = request.get("description") {
            new["description"] = description.clone();
        }
        node["requestBody"] = new;
    } else {
        node.as_object_mut()
            .expect("a mapping")
            .remove("requestBody");
    }
    // A websocket: the upgrade, as progenitor expects it.
    if op.websocket {
        node["responses"] = json!({"101": {"description": "Switching to the websocket"}});
        return dropped;
    }
    // Responses: the success as documented, errors as one type or raw.
    let responses = node
        .get("responses")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut out = Map::new();
    let typed_errors = match kind.map(|k| &k.body) {
        Some(crate::errors::KindBody::One(_)) => op.errors.iter().all(|e| e.schema.is_some()),
        Some(crate::errors::KindBody::None) | None => true,
        Some(crate::errors::KindBody::OneOf(..)) => false,
    };
    for (status, response) in &responses {
        if status.starts_with("x-") {
            continue;
        }
        let response = resolved(response);
        let upper = status.to_ascii_uppercase();
        let success = op
            .success
            .statuses
            .iter()
            .any(|code| code.to_string() == *status || (upper == "2XX" && *code == 200));
        let default_success = upper == "DEFAULT"
            && op.success.statuses.first() == Some(&200)
            && !responses.keys().any(|s| s.starts_with('2'));
        if success || default_success {
            let key = if default_success {
                "200".to_string()
            } else {
                status.clone()
            };
            out.insert(key, client_response(&response, true));
        }
        if upper == "DEFAULT" || upper.starts_with('4') || upper.starts_with('5') {
            let error = if typed_errors {
                client_response(&response, false)
            } else {
                let mut raw = response.clone();
                raw["content"] = json!({"*/*": {}});
                raw
            };
            if upper == "DEFAULT" {
                for range in ["4XX", "5XX"] {
                    if !responses.keys().any(|s| s.eq_ignore_ascii_case(range)) {
                        out.insert(range.to_string(), error.clone());
                    }
                }
            } else {
                out.insert(status.clone(), error);
            }
        }
        if upper.starts_with('3') && !success {
            out.insert(status.clone(), client_response(&response, false));
        }
    }
    node["responses"] = Value::Object(out);
    dropped
}

/// A response as progenitor reads it: JSON as `application/json` with a schema, any other
/// body raw, response headers left to `ResponseValue::headers`.
fn client_response(response: &Value, _success: bool) -> Value {
    let mut out = json!({
        "description": response.get("description").cloned().unwrap_or_else(|| json!("")),
    });
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return out;
    };
    if content.is_empty() {
        return out;
    }
    let json = content
        .iter()
        .find(|(key, _)| crate::media::is_json(&crate::media::essence(key)));
    out["content"] = match json {
        Some((_, media)) => json!({
            "application/json": {"schema": media.get("schema").cloned().unwrap_or_else(|| json!({}))}
        }),
        None => json!({"*/*": {}}),
    };
    out
}

/// Rewrites what typify reads badly (see [`document`]).
fn typify_workarounds(doc: &mut Value) {
    let definitions = spec_schema::Definitions::from_value(spec_schema::definitions(doc));
    let fix = |node: &mut Value| walk(node, 0, None, &definitions);
    fn walk(
        node: &mut Value,
        depth: usize,
        parent: Option<&str>,
        definitions: &spec_schema::Definitions,
    ) {
        if depth > 256 {
            return;
        }
        match node {
            Value::Object(map) => {
                // A mapping of property names is no schema: its keys are names.
                let names = matches!(parent, Some("properties" | "patternProperties"));
                if !names
                    && let Some(Value::String(title)) = map.remove("title")
                    && !map.contains_key("description")
                {
                    map.insert("description".into(), Value::String(title));
                }
                // typify refuses enum values of another type than the schema's, which no
                // value can match anyway, and repeated ones.
                if !names {
                    tidy_enum(map);
                }
                if !names
                    && let Some(Value::Array(values)) = map.get("enum")
                    && !enum_names_unique(values)
                {
                    map.remove("enum");
                }

                // typify makes a struct of optional flattened parts of an `anyOf`, which cannot
                // hold a string, say; as a `oneOf` it is an untagged enum, whose first fitting
                // variant takes the value. (The server validates against the spec's `anyOf`.)
                if !names
                    && !map.contains_key("oneOf")
                    && let Some(any) = map.remove("anyOf")
                {
                    map.insert("oneOf".into(), any);
                }
                // typify refuses a default its schema does not accept: one written as text
                // (`"10"` for an integer) is read as what it spells, any other goes. (Defaults
                // are the spec's business on the server, which reads them from the spec.)
                if !names && map.contains_key("default") {
                    fix_default(map, definitions);
                }
                for (key, child) in map.iter_mut() {
                    if names || !crate::normalize::is_data(key, parent) {
                        walk(child, depth + 1, Some(key), definitions);
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    walk(item, depth + 1, None, definitions);
                }
            }
            _ => {}
        }
    }
    if let Some(components) = doc.get_mut("components") {
        fix(components);
    }
    if let Some(paths) = doc.get_mut("paths") {
        fix(paths);
    }
}

/// The enum values of a schema that its `type` admits, each once (see [`document`]).
pub(crate) fn tidy_enum(map: &mut Map<String, Value>) {
    let Some(Value::Array(values)) = map.get("enum") else {
        return;
    };
    let ty = map.get("type").and_then(Value::as_str);
    let nullable = map.get("nullable") == Some(&Value::Bool(true));
    let fits = |value: &Value| match (ty, value) {
        (None, _) => true,
        (_, Value::Null) => nullable,
        (Some("string"), Value::String(_)) => true,
        (Some("number"), Value::Number(_)) => true,
        (Some("integer"), Value::Number(n)) => n.is_i64() || n.is_u64(),
        (Some("boolean"), Value::Bool(_)) => true,
        (Some("array"), Value::Array(_)) => true,
        (Some("object"), Value::Object(_)) => true,
        _ => false,
    };
    let mut kept: Vec<Value> = Vec::new();
    for value in values {
        if fits(value) && !kept.contains(value) {
            kept.push(value.clone());
        }
    }
    if kept.len() != values.len() {
        match kept.is_empty() {
            true => map.remove("enum"),
            false => map.insert("enum".into(), Value::Array(kept)),
        };
    }
}

/// Makes a schema's `default` one its schema accepts, or removes it.
fn fix_default(map: &mut Map<String, Value>, definitions: &spec_schema::Definitions) {
    let Some(default) = map.remove("default") else {
        return;
    };
    let schema = spec_schema::convert(&Value::Object(map.clone()));
    let validator = spec_schema::compile_validator(&schema.to_string(), definitions);
    let mut candidates = vec![default.clone()];
    if let Some(text) = default.as_str()
        && let Ok(parsed) = serde_json::from_str::<Value>(text)
    {
        candidates.push(parsed);
    }
    if let Some(fitting) = candidates
        .into_iter()
        .find(|candidate| validator.is_valid(candidate))
    {
        map.insert("default".into(), fitting);
    }
}

/// Whether typify can name every value of a string enum: it tries the PascalCase of each
/// value, then the same with `_` and other non-identifier characters spelled `X`.
pub(crate) fn enum_names_unique(values: &[Value]) -> bool {
    let strings: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
    if strings.len() != values.iter().filter(|v| !v.is_null()).count() {
        return true;
    }
    let unique = |names: Vec<String>| {
        let mut seen = std::collections::BTreeSet::new();
        names.into_iter().all(|name| seen.insert(name))
    };
    unique(strings.iter().map(|s| naming::pascal(s)).collect())
        || unique(
            strings
                .iter()
                .map(|s| {
                    naming::pascal(&s.replace(
                        |c: char| c == '_' || !unicode_ident::is_xid_continue(c),
                        "X",
                    ))
                })
                .collect(),
        )
}

/// progenitor-client 0.15's `encode_path` leaves `\` as it is, and URL parsers read a `\` in
/// an http URL as `/`: a path parameter holding a backslash would name another resource. Every
/// `encode_path(..)` call becomes `encode_path(..).replace('\\', "%5C")`; `encode_path` never
/// produces a backslash of its own, and has already escaped `%`, so nothing is encoded twice.
/// The calls sit inside `format!` arguments, so this works on tokens rather than on syntax.
fn escape_backslashes_in_paths(tokens: TokenStream) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    let mut out = Vec::new();
    let mut trees = tokens.into_iter().peekable();
    while let Some(tree) = trees.next() {
        match tree {
            TokenTree::Ident(ident) if ident == "encode_path" => {
                let is_call = matches!(trees.peek(), Some(TokenTree::Group(g)) if g.delimiter() == proc_macro2::Delimiter::Parenthesis);
                out.push(TokenTree::Ident(ident));
                if is_call {
                    let Some(TokenTree::Group(args)) = trees.next() else {
                        unreachable!()
                    };
                    let args =
                        Group::new(args.delimiter(), escape_backslashes_in_paths(args.stream()));
                    out.push(TokenTree::Group(args));
                    out.extend(quote::quote! { .replace('\\', "%5C") });
                }
            }
            TokenTree::Group(group) => {
                let mut rebuilt = Group::new(
                    group.delimiter(),
                    escape_backslashes_in_paths(group.stream()),
                );
                rebuilt.set_span(group.span());
                out.push(TokenTree::Group(rebuilt));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

/// Runs progenitor, turning its errors and its panics into a [`SpecError`] that names the
/// schema or operation that caused them (found by generating from parts of the document).
pub(crate) fn run_progenitor(
    normalized: &Normalized<'_>,
    document: &openapiv3::OpenAPI,
    generator: &mut Generator,
) -> Result<TokenStream, SpecError> {
    match attempt(generator, document) {
        Ok(tokens) => Ok(tokens),
        Err(message) => Err(locate_failure(normalized, document, message)),
    }
}

/// One progenitor run: its tokens, or what went wrong.
fn attempt(
    generator: &mut Generator,
    document: &openapiv3::OpenAPI,
) -> Result<TokenStream, String> {
    match quietly(|| generator.generate_tokens(document)) {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(error)) => Err(error.to_string()),
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic".to_string())),
    }
}

/// Which part of the document progenitor fails on: each operation alone (with every schema),
/// then the schemas alone, halving until one is left.
fn locate_failure(
    normalized: &Normalized<'_>,
    document: &openapiv3::OpenAPI,
    message: String,
) -> SpecError {
    let fails = |doc: &openapiv3::OpenAPI| {
        attempt(&mut Generator::new(&GenerationSettings::new()), doc).err()
    };
    let hint = "rewrite the construct the message names (or simplify the schema); the generator \
                could not derive Rust types from it";
    // The schemas alone.
    let mut schemas_only = document.clone();
    schemas_only.paths.paths.clear();
    if let Some(why) = fails(&schemas_only) {
        let names: Vec<String> = schemas_only
            .components
            .as_ref()
            .map(|c| c.schemas.keys().cloned().collect())
            .unwrap_or_default();
        // Blank out halves (a blank schema takes anything, so references still resolve).
        let mut suspects = names;
        let mut why = why;
        while suspects.len() > 1 {
            let (left, _right) = suspects.split_at(suspects.len() / 2);
            let left = left.to_vec();
            let mut trial = schemas_only.clone();
            if let Some(components) = trial.components.as_mut() {
                for (name, schema) in components.schemas.iter_mut() {
                    if !left.contains(name) {
                        *schema = openapiv3::ReferenceOr::Item(blank_schema());
                    }
                }
            }
            match fails(&trial) {
                Some(found) => {
                    why = found;
                    suspects = left;
                }
                None => suspects = suspects[suspects.len() / 2..].to_vec(),
            }
        }
        if let Some(name) = suspects.first() {
            let pointer = Pointer::root()
                .join("components")
                .join("schemas")
                .join(name);
            return SpecError::unsupported(
                normalized,
                &pointer,
                format!(
                    "typify cannot make a Rust type of this schema: {}",
                    first_line(&why)
                ),
                hint,
            );
        }
    }
    // Each operation alone.
    for (path, item) in &document.paths.paths {
        let mut trial = document.clone();
        trial.paths.paths.clear();
        trial.paths.paths.insert(path.clone(), item.clone());
        if let Some(why) = fails(&trial) {
            let pointer = Pointer::root().join("paths").join(path);
            return SpecError::unsupported(
                normalized,
                &pointer,
                format!(
                    "progenitor cannot generate this path's operations: {}",
                    first_line(&why)
                ),
                hint,
            );
        }
    }
    SpecError::Generator {
        path: normalized.spec.path.clone(),
        message: format!(
            "progenitor failed on a construct the generator does not check for yet: {}",
            first_line(&message)
        ),
    }
}

fn blank_schema() -> openapiv3::Schema {
    openapiv3::Schema {
        schema_data: Default::default(),
        schema_kind: openapiv3::SchemaKind::Any(Default::default()),
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(300) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None => line.to_string(),
    }
}

thread_local! {
    /// Whether a panic on this thread is being caught by [`quietly`].
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, catching a panic without printing it. The panic hook is process-wide, so it is
/// wrapped once rather than swapped per call: swapping races with other threads (tests run in
/// parallel) and can leave every later panic, a failing assertion's message included, silenced.
fn quietly<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    static WRAP_HOOK: Once = Once::new();
    WRAP_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|quiet| quiet.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|quiet| quiet.set(false));
    result
}
