//! The operations of a spec, resolved and checked: what the trait generator and the round-trip
//! proof work from. Every construct the generator cannot express is refused here, with the JSON
//! pointer of the node and a hint.

use serde_json::Value;

use crate::errors::{self, ErrorKind};
use crate::media::{self, BodyMedia};
use crate::normalize::{Normalized, OperationName};
use crate::pointer::Pointer;
use crate::{Settings, SpecError};

/// All operations of a spec, and the error kinds they share.
#[derive(Clone, Debug)]
pub struct Api {
    pub operations: Vec<Operation>,
    pub kinds: Vec<ErrorKind>,
}

/// One operation, with every `$ref` resolved.
#[derive(Clone, Debug)]
pub struct Operation {
    pub name: OperationName,
    /// Upper case, e.g. `GET`.
    pub method: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub deprecated: bool,
    pub params: Vec<Param>,
    pub body: Option<Body>,
    pub success: Success,
    /// The documented error responses.
    pub errors: Vec<ErrorResponse>,
    /// Index into [`Api::kinds`] (unused for websockets).
    pub kind: usize,
    /// A websocket (`x-dropshot-websocket`): a dropshot channel, which answers with the
    /// protocol upgrade and dropshot's own errors.
    pub websocket: bool,
    /// Media types and statuses the spec documents that the generated code does not serve,
    /// for the docs.
    pub notes: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
    Header,
}

impl Location {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::Query => "query",
            Self::Header => "header",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub location: Location,
    pub required: bool,
    pub description: Option<String>,
    pub ty: ParamType,
    /// The schema the value is checked against and documented with: as written, or, for a
    /// `$ref` to a scalar component, that component's schema.
    pub schema: Value,
    /// For arrays: where each occurrence splits (`,` for `explode: false`), empty when only
    /// repetition separates items.
    pub delimiter: &'static str,
    /// The parameter node, after resolving its `$ref`.
    pub pointer: String,
}

impl Param {
    /// The `components/parameters` entry it is, when it is one (by reference).
    pub fn component(&self) -> Option<String> {
        self.pointer
            .strip_prefix("/components/parameters/")
            .filter(|rest| !rest.contains('/'))
            .map(|name| name.replace("~1", "/").replace("~0", "~"))
    }
}

/// The Rust type a parameter or response header parses into.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamType {
    String,
    Uuid,
    DateTime,
    Date,
    Integer(&'static str),
    Number,
    Boolean,
    /// A component schema (a string enum), by its Rust name.
    Named(String),
    Array(Box<ParamType>),
}

#[derive(Clone, Debug)]
pub struct Body {
    pub media: BodyMedia,
    /// The media type served, as written.
    pub media_type: String,
    /// The body's type: a component schema's Rust name, `None` for any JSON value (no schema),
    /// and for raw bodies.
    pub schema: Option<String>,
    /// For raw bodies: the media types accepted.
    pub accepted: Vec<String>,
    pub required: bool,
}

#[derive(Clone, Debug)]
pub struct Success {
    /// The documented success statuses, the one dropshot documents first; empty when the spec
    /// documents no success response.
    pub statuses: Vec<u16>,
    pub content: Content,
    pub headers: Vec<ResponseHeader>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Content {
    Empty,
    /// JSON of a component schema (by Rust name), or any JSON value.
    Json(Option<String>),
    /// Not JSON: bytes and a media type.
    Raw,
}

#[derive(Clone, Debug)]
pub struct ResponseHeader {
    pub name: String,
    pub required: bool,
    pub description: Option<String>,
    pub ty: ParamType,
    /// The `components/headers` entry it is, when it is one (by reference).
    pub component: Option<String>,
}

/// One documented error response.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorResponse {
    /// `404`, `4XX` or `default`.
    pub status: String,
    /// The body's schema (Rust name), `None` without a body; `Some(None)`-like "any JSON" is
    /// kept as the schema `Value`.
    pub schema: Option<String>,
    /// The response node (resolved).
    pub pointer: String,
}

pub(crate) struct Ctx<'n, 's> {
    pub n: &'n Normalized<'s>,
}

impl Api {
    /// Resolves and checks every operation of the normalized spec, then groups their errors
    /// into kinds (hoisting a `oneOf` body for kinds with several error schemas).
    pub fn from_spec(
        normalized: &mut Normalized<'_>,
        settings: &Settings,
    ) -> Result<Self, SpecError> {
        let mut operations = Vec::new();
        let mut warnings = Vec::new();
        {
            let ctx = Ctx { n: normalized };
            ctx.check_document(&mut warnings)?;
            for name in &normalized.operations {
                operations.push(ctx.operation(name)?);
            }
            ctx.check_references(&ctx.n.doc, &Pointer::root(), None)?;
        }
        normalized.warnings.extend(warnings);
        check_routes(normalized, &operations)?;
        let kinds = errors::kinds(normalized, &mut operations, settings)?;
        let api = Self { operations, kinds };
        check_item_names(normalized, &api)?;
        Ok(api)
    }
}

impl Operation {
    /// The Rust struct of one of this operation's parameter sets (`Path`, `Query`, `Headers`)
    /// or of its success headers (`ResponseHeaders`).
    pub fn item_name(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.name.stem)
    }

    /// The parameters of one location, in order.
    pub fn params_in(&self, location: Location) -> Vec<&Param> {
        self.params
            .iter()
            .filter(|p| p.location == location)
            .collect()
    }

    /// Every top-level Rust item the API generator makes for this operation.
    fn item_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for (location, suffix) in [
            (Location::Path, "Path"),
            (Location::Query, "Query"),
            (Location::Header, "Headers"),
        ] {
            if !self.params_in(location).is_empty() {
                names.push(self.item_name(suffix));
            }
        }
        if !self.success.headers.is_empty() {
            names.push(self.item_name("ResponseHeaders"));
        }
        names
    }
}

/// Dropshot's router takes paths as a tree of whole segments, each either a literal or a
/// variable (`{name}`), and refuses (with a panic, at start-up) a literal beside a variable at
/// the same place, or two names for one variable (dropshot issue #199). Found here instead,
/// with both paths named.
fn check_routes(n: &Normalized<'_>, operations: &[Operation]) -> Result<(), SpecError> {
    #[derive(Default)]
    struct Node {
        literals: std::collections::BTreeMap<String, Node>,
        /// The variable's name, the path that named it first, and what follows it.
        variable: Option<(String, String, Box<Node>)>,
        /// The first path that reached this node through a literal.
        literal_path: Option<String>,
    }
    let mut root = Node::default();
    let mut seen = std::collections::BTreeSet::new();
    for op in operations {
        let path = &op.name.path;
        if !seen.insert(path.clone()) {
            continue;
        }
        let at = Pointer::root().join("paths").join(path);
        let hint = "dropshot routes a path segment either by a literal or by a variable, not \
                    both, and a variable by one name (dropshot issue #199): rename or regroup \
                    one of the paths";
        let mut node = &mut root;
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            let variable = segment.starts_with('{') && segment.ends_with('}') && segment.len() > 2;
            if !variable && (segment.contains('{') || segment.contains('}')) {
                return Err(SpecError::unsupported(
                    n,
                    &at,
                    format!("the path segment `{segment}` mixes a variable with other text"),
                    "dropshot path variables are whole segments (`/files/{name}`, not \
                     `/files/{name}.json`); make the variable its own segment",
                ));
            }
            if variable {
                let name = &segment[1..segment.len() - 1];
                if let Some(other) = &node.literal_path {
                    return Err(SpecError::unsupported(
                        n,
                        &at,
                        format!(
                            "the path `{path}` has the variable `{segment}` where `{other}` has a literal segment"
                        ),
                        hint,
                    ));
                }
                let entry = node
                    .variable
                    .get_or_insert_with(|| (name.to_string(), path.clone(), Box::default()));
                if entry.0 != name {
                    return Err(SpecError::unsupported(
                        n,
                        &at,
                        format!(
                            "the path `{path}` names the variable `{name}` where `{}` names it `{}`",
                            entry.1, entry.0
                        ),
                        hint,
                    ));
                }
                node = &mut entry.2;
            } else {
                if let Some((name, other, _)) = &node.variable {
                    return Err(SpecError::unsupported(
                        n,
                        &at,
                        format!(
                            "the path `{path}` has the literal segment `{segment}` where `{other}` has the variable `{{{name}}}`"
                        ),
                        hint,
                    ));
                }
                node.literal_path.get_or_insert_with(|| path.clone());
                node = node.literals.entry(segment.to_string()).or_default();
            }
        }
    }
    Ok(())
}

/// Names the API generator uses for its own items.
const FIXED_ITEMS: [&str; 1] = ["SCHEMA_DEFINITIONS"];

/// Two operations (or an operation and an error kind) whose generated items would share a
/// name (`getA`'s response headers and `getAResponse`'s header parameters are both
/// `GetAResponseHeaders`).
fn check_item_names(n: &Normalized<'_>, api: &Api) -> Result<(), SpecError> {
    let mut owners: std::collections::HashMap<String, String> = FIXED_ITEMS
        .iter()
        .map(|name| (name.to_string(), "the generator".to_string()))
        .collect();
    for kind in &api.kinds {
        for name in [&kind.alias, &kind.marker] {
            owners.insert(name.clone(), format!("the error type `{}`", kind.alias));
        }
    }
    for op in &api.operations {
        for name in op.item_names() {
            if let Some(owner) = owners.insert(name.clone(), format!("operation `{}`", op.name.id))
            {
                let at = match op.name.derived {
                    true => op.name.pointer(),
                    false => op.name.pointer().join("operationId"),
                };
                return Err(SpecError::unsupported(
                    n,
                    &at,
                    format!(
                        "operation `{}` makes the Rust item `{name}`, which {owner} makes too",
                        op.name.id
                    ),
                    "rename one operationId (or parameter) so that their generated names differ",
                ));
            }
        }
    }
    Ok(())
}

impl Ctx<'_, '_> {
    pub(crate) fn unsupported(
        &self,
        pointer: &Pointer,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> SpecError {
        SpecError::unsupported(self.n, pointer, message, hint)
    }

    pub(crate) fn invalid(&self, pointer: &Pointer, message: impl Into<String>) -> SpecError {
        SpecError::invalid(self.n, pointer, message)
    }

    fn raw(&self) -> &Value {
        &self.n.doc
    }

    /// Follows a local `$ref` (possibly several) to the node it names.
    pub(crate) fn resolve<'v>(
        &'v self,
        node: &'v Value,
        pointer: &Pointer,
    ) -> Result<(&'v Value, Pointer), SpecError> {
        let mut node = node;
        let mut pointer = pointer.clone();
        let mut visited: Vec<Pointer> = Vec::new();
        loop {
            let Some(reference) = node.get("$ref") else {
                return Ok((node, pointer));
            };
            let Some(reference) = reference.as_str().filter(|r| r.starts_with("#/")) else {
                return Err(self.unsupported(
                    &pointer.join("$ref"),
                    "only local references (`#/components/...`) are supported",
                    "move the referenced definition into this document's `components`",
                ));
            };
            let target = Pointer::parse(reference);
            if visited.contains(&target) {
                // Reported at the `$ref` that closes the cycle, with the whole chain.
                let chain: Vec<String> = visited
                    .iter()
                    .chain([&target])
                    .map(|p| self.n.source_pointer(p).to_string())
                    .collect();
                return Err(self.invalid(
                    &pointer.join("$ref"),
                    format!("reference cycle: {}", chain.join(" -> ")),
                ));
            }
            node = self.raw().pointer(target.as_str()).ok_or_else(|| {
                self.invalid(
                    &pointer.join("$ref"),
                    format!("`{}` does not resolve", self.shown_ref(reference)),
                )
            })?;
            visited.push(target.clone());
            pointer = target;
        }
    }

    /// A `$ref` as the designer wrote it (component schemas carry their source names).
    fn shown_ref(&self, reference: &str) -> String {
        self.n
            .source_pointer(&Pointer::parse(reference))
            .to_string()
    }

    /// Checks that hold for the document as a whole; what is suspect but not wrong becomes a
    /// warning.
    fn check_document(&self, warnings: &mut Vec<SpecError>) -> Result<(), SpecError> {
        // Security requirements name schemes of `components/securitySchemes`.
        let schemes = self
            .raw()
            .pointer("/components/securitySchemes")
            .and_then(Value::as_object);
        let mut requirements: Vec<(Pointer, &Value)> = Vec::new();
        if let Some(list) = self.raw().get("security") {
            requirements.push((Pointer::root().join("security"), list));
        }
        for name in &self.n.operations {
            if let Some(list) = self.raw().pointer(name.pointer().join("security").as_str()) {
                requirements.push((name.pointer().join("security"), list));
            }
        }
        for (pointer, list) in requirements {
            for (index, requirement) in list.as_array().into_iter().flatten().enumerate() {
                for scheme in requirement
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k)
                {
                    if !schemes.is_some_and(|s| s.contains_key(scheme)) {
                        return Err(self.invalid(
                            &pointer.join(index).join(scheme),
                            format!(
                                "the security requirement names `{scheme}`, which \
                                 `components/securitySchemes` does not define"
                            ),
                        ));
                    }
                }
            }
        }
        self.check_schemas(warnings);
        self.check_json_schemas()
    }

    /// Every component schema is a JSON Schema the server can compile (its requests are
    /// validated against them): a keyword of the wrong shape (`required: []` in draft 4, a
    /// negative `maxLength`) or a `pattern` that is no regular expression is an error here,
    /// not a panic when the first request comes.
    fn check_json_schemas(&self) -> Result<(), SpecError> {
        let document = serde_json::json!({ "definitions": spec_schema::definitions(self.raw()) });
        if let Err((pointer, message)) = spec_schema::check(&document) {
            let pointer = match pointer.strip_prefix("/definitions/") {
                Some(rest) => format!("/components/schemas/{rest}"),
                None => pointer,
            };
            return Err(self.invalid(
                &Pointer::parse(&pointer),
                format!("not a valid schema: {message}"),
            ));
        }
        Ok(())
    }

    /// Every component schema (hoisted ones included): `required` should name declared
    /// properties. JSON Schema allows it (the property must be there, with any value), the
    /// generated types cannot check it, and it is more often a typo: a warning.
    fn check_schemas(&self, warnings: &mut Vec<SpecError>) {
        let Some(schemas) = self
            .raw()
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        else {
            return;
        };
        for (name, schema) in schemas {
            let pointer = Pointer::root()
                .join("components")
                .join("schemas")
                .join(name);
            self.check_schema(schema, &pointer, 0, warnings);
        }
    }

    fn check_schema(
        &self,
        schema: &Value,
        pointer: &Pointer,
        depth: usize,
        warnings: &mut Vec<SpecError>,
    ) {
        let Some(map) = schema.as_object() else {
            return;
        };
        if depth > 64 || map.contains_key("$ref") {
            return;
        }
        let combined = ["allOf", "anyOf", "oneOf"]
            .iter()
            .any(|k| map.contains_key(*k));
        if let (Some(required), Some(properties)) = (
            map.get("required").and_then(Value::as_array),
            map.get("properties").and_then(Value::as_object),
        ) && !combined
            && map.get("additionalProperties") != Some(&Value::Bool(true))
        {
            for (index, name) in required.iter().enumerate() {
                if let Some(name) = name.as_str()
                    && !properties.contains_key(name)
                {
                    warnings.push(self.invalid(
                        &pointer.join("required").join(index),
                        format!(
                            "`required` names `{name}`, which is not one of the `properties`: \
                             the generated types cannot check it"
                        ),
                    ));
                }
            }
        }
        for (key, child) in map {
            match key.as_str() {
                "properties" | "patternProperties" => {
                    for (name, property) in child.as_object().into_iter().flatten() {
                        self.check_schema(
                            property,
                            &pointer.join(key).join(name),
                            depth + 1,
                            warnings,
                        );
                    }
                }
                "items" | "additionalProperties" | "not" => {
                    self.check_schema(child, &pointer.join(key), depth + 1, warnings);
                }
                "allOf" | "anyOf" | "oneOf" => {
                    for (index, part) in child.as_array().into_iter().flatten().enumerate() {
                        self.check_schema(
                            part,
                            &pointer.join(key).join(index),
                            depth + 1,
                            warnings,
                        );
                    }
                }
                _ => {}
            }
        }
    }

    /// Every `$ref` in the document (examples and extensions aside) names a node of this
    /// document. typify would otherwise fail on a schema's reference without saying where.
    fn check_references(
        &self,
        node: &Value,
        pointer: &Pointer,
        parent: Option<&str>,
    ) -> Result<(), SpecError> {
        match node {
            Value::Object(map) => {
                // (A map of properties may have one called `$ref`.)
                if let Some(reference) = map.get("$ref").filter(|_| parent != Some("properties")) {
                    if !reference.is_string() {
                        return Err(self.invalid(&pointer.join("$ref"), "`$ref` must be a string"));
                    }
                    self.resolve(node, pointer)?;
                }
                for (key, child) in map {
                    // Under `properties` every key names a schema, even `example`.
                    if !crate::normalize::is_data(key, parent) || parent == Some("properties") {
                        self.check_references(child, &pointer.join(key), Some(key))?;
                    }
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    self.check_references(child, &pointer.join(index), None)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn operation(&self, name: &OperationName) -> Result<Operation, SpecError> {
        let pointer = name.pointer();
        let item_pointer = Pointer::root().join("paths").join(&name.path);
        let item = self
            .raw()
            .pointer(item_pointer.as_str())
            .expect("the path item exists");
        let op = &item[name.method.as_str()];
        if !op.is_object() {
            return Err(self.invalid(&pointer, "an operation must be a mapping"));
        }
        let mut notes = Vec::new();
        if let Some(callbacks) = op.get("callbacks").and_then(Value::as_object) {
            // Requests the server makes, not routes it serves: nothing to generate here.
            notes.push(format!(
                "the spec documents callbacks ({}): requests the server makes, which are not generated.",
                callbacks
                    .keys()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let websocket = op.get("x-dropshot-websocket").is_some();
        if websocket && op.get("requestBody").is_some() {
            return Err(self.unsupported(
                &pointer.join("requestBody"),
                "a websocket operation cannot take a request body",
                "send the data over the websocket once it is open",
            ));
        }
        let text = |key: &str| {
            op.get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
                .filter(|text| !text.trim().is_empty())
        };
        let tags = op
            .get("tags")
            .and_then(Value::as_array)
            .map(|tags| {
                tags.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let params = self.params(name, item, op, &item_pointer, &pointer)?;
        let body = match op.get("requestBody") {
            None => None,
            Some(body) => self.body(body, &pointer.join("requestBody"), &mut notes)?,
        };
        let (success, errors) = match websocket {
            // The upgrade and dropshot's own errors: nothing of the spec's to read.
            true => (
                Success {
                    statuses: Vec::new(),
                    content: Content::Empty,
                    headers: Vec::new(),
                },
                Vec::new(),
            ),
            false => self.responses(op, &pointer.join("responses"), &mut notes)?,
        };
        Ok(Operation {
            name: name.clone(),
            method: name.method.to_uppercase(),
            summary: text("summary"),
            description: text("description"),
            tags,
            deprecated: op.get("deprecated") == Some(&Value::Bool(true)),
            params,
            body,
            success,
            errors,
            kind: 0,
            websocket,
            notes,
        })
    }

    fn params(
        &self,
        name: &OperationName,
        item: &Value,
        op: &Value,
        item_pointer: &Pointer,
        pointer: &Pointer,
    ) -> Result<Vec<Param>, SpecError> {
        let path = &name.path;
        let list = |node: &Value, at: Pointer| -> Vec<(Value, Pointer)> {
            node.get("parameters")
                .and_then(Value::as_array)
                .map(|params| {
                    params
                        .iter()
                        .enumerate()
                        .map(|(i, p)| (p.clone(), at.join("parameters").join(i)))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut params: Vec<Param> = Vec::new();
        for (param, param_pointer) in list(item, item_pointer.clone())
            .into_iter()
            .chain(list(op, pointer.clone()))
        {
            let param = self.param(&param, &param_pointer)?;
            if param.location == Location::Path && !path.contains(&format!("{{{}}}", param.name)) {
                return Err(self.invalid(
                    &param_pointer,
                    format!(
                        "path parameter `{}` is not in the path `{path}` (add `{{{}}}` to the path \
                         or remove the parameter)",
                        param.name, param.name
                    ),
                ));
            }
            // An operation's parameter overrides a path item's one of the same name and place.
            params.retain(|p| {
                !(p.location == param.location
                    && match param.location {
                        Location::Header => p.name.eq_ignore_ascii_case(&param.name),
                        _ => p.name == param.name,
                    })
            });
            params.push(param);
        }
        for segment in path
            .split('/')
            .flat_map(|s| s.split('{').skip(1))
            .filter_map(|s| s.split('}').next())
        {
            if !params
                .iter()
                .any(|p| p.location == Location::Path && p.name == segment)
            {
                // Point at the operation's `parameters` if it has them, else at the operation.
                let at = match op.get("parameters") {
                    Some(_) => pointer.join("parameters"),
                    None => pointer.clone(),
                };
                return Err(self.invalid(
                    &at,
                    format!(
                        "path parameter `{segment}` of `{path}` is not declared (declare it under \
                         `parameters` with `in: path` and `required: true`)"
                    ),
                ));
            }
        }
        Ok(params)
    }

    fn param(&self, param: &Value, pointer: &Pointer) -> Result<Param, SpecError> {
        let (param, pointer) = self.resolve(param, pointer)?;
        let name = param
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let location = match param.get("in").and_then(Value::as_str) {
            Some("path") => Location::Path,
            Some("query") => Location::Query,
            Some("header") => Location::Header,
            Some("cookie") => {
                return Err(self.unsupported(
                    &pointer.join("in"),
                    format!("cookie parameter `{name}` is not supported"),
                    "dropshot has no cookie extractor; pass the value in a header or query parameter",
                ));
            }
            other => {
                return Err(self.invalid(
                    &pointer.join("in"),
                    format!("unknown parameter location {other:?}"),
                ));
            }
        };
        if name.is_empty() {
            return Err(self.invalid(&pointer.join("name"), "a parameter needs a `name`"));
        }
        if location == Location::Header && http_header_name(&name).is_none() {
            return Err(self.invalid(
                &pointer.join("name"),
                format!("`{name}` is not a valid HTTP header name"),
            ));
        }
        if param.get("content").is_some() {
            return Err(self.unsupported(
                &pointer.join("content"),
                format!("parameter `{name}` uses `content`"),
                "describe the parameter with `schema` instead",
            ));
        }
        let Some(schema) = param.get("schema") else {
            return Err(self.invalid(&pointer, format!("parameter `{name}` has no `schema`")));
        };
        let required = param
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if location == Location::Path && !required {
            return Err(self.invalid(
                &pointer.join("required"),
                format!("path parameter `{name}` must be `required: true`"),
            ));
        }
        let schema_pointer = pointer.join("schema");
        let (ty, checked) = self.param_type(schema, &schema_pointer, true)?;
        // (Its references point at component schemas, checked with them.)
        if let Err((at, message)) = spec_schema::check_shape(&spec_schema::convert(schema)) {
            return Err(self.invalid(
                &Pointer::parse(&format!("{}{at}", schema_pointer.as_str())),
                format!("not a valid schema: {message}"),
            ));
        }
        // The generated code parses the default when the parameter is absent, so a default of
        // the wrong shape would fail every such request.
        if let Some(default) = checked.get("default")
            && let Some(problem) = self.default_problem(default, &checked, &ty)
        {
            return Err(self.invalid(
                &schema_pointer.join("default"),
                format!("the default {default} of parameter `{name}` {problem}"),
            ));
        }
        let mut delimiter = "";
        if let ParamType::Array(_) = ty {
            let style = param.get("style").and_then(Value::as_str);
            let explode = param.get("explode").and_then(Value::as_bool);
            delimiter = match (
                location,
                style.unwrap_or(match location {
                    Location::Query => "form",
                    _ => "simple",
                }),
            ) {
                (Location::Query, "form") if explode.unwrap_or(true) => "",
                (Location::Query, "form") => ",",
                (Location::Query, "spaceDelimited") => " ",
                (Location::Query, "pipeDelimited") => "|",
                (Location::Path | Location::Header, "simple") => ",",
                (_, style) => {
                    return Err(self.unsupported(
                        &pointer.join("style"),
                        format!(
                            "array parameter `{name}` in {} has the style `{style}`",
                            location.as_str()
                        ),
                        "use `form` (query), `spaceDelimited` or `pipeDelimited` (query), or \
                         `simple` (path and header); `label` and `matrix` are not generated",
                    ));
                }
            };
        }
        Ok(Param {
            name,
            location,
            required,
            description: param
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
            ty,
            schema: checked,
            delimiter,
            pointer: pointer.as_str().to_string(),
        })
    }

    /// The Rust type of a parameter (or header) schema, and the schema to check values against:
    /// the schema itself, or, for a `$ref` to a scalar component, the component's schema.
    fn param_type(
        &self,
        schema: &Value,
        pointer: &Pointer,
        arrays: bool,
    ) -> Result<(ParamType, Value), SpecError> {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let (target, target_pointer) = self.resolve(schema, pointer)?;
            if let Some(name) = Normalized::schema_name(reference)
                && target.get("type").and_then(Value::as_str) == Some("string")
                && target.get("enum").is_some()
            {
                return Ok((ParamType::Named(name.to_string()), schema.clone()));
            }
            return self.param_type(&target.clone(), &target_pointer, arrays);
        }
        let format = schema.get("format").and_then(Value::as_str);
        let scalar_only = |ty: &str| {
            self.unsupported(
                &pointer.join("type"),
                format!("parameters of type `{ty}` are not supported"),
                "use a string, integer, number or boolean (or an array of them); object \
                 parameters (`deepObject`, exploded forms) are not generated",
            )
        };
        let ty = match schema.get("type").and_then(Value::as_str) {
            Some("string") => match format {
                Some("uuid") => ParamType::Uuid,
                Some("date-time") => ParamType::DateTime,
                Some("date") => ParamType::Date,
                _ => ParamType::String,
            },
            Some("integer") => {
                // The format's width, signed as the format says (`int64` stops at i64::MAX even
                // when the minimum is 0); a non-negative bound is checked like any other.
                ParamType::Integer(match format {
                    Some("int32") => "i32",
                    _ => "i64",
                })
            }
            Some("number") => ParamType::Number,
            Some("boolean") => ParamType::Boolean,
            Some("array") if arrays => {
                let items = schema
                    .get("items")
                    .ok_or_else(|| self.invalid(pointer, "array schema has no `items`"))?;
                let (item, item_schema) = self.param_type(items, &pointer.join("items"), false)?;
                let mut schema = schema.clone();
                schema["items"] = item_schema;
                return Ok((ParamType::Array(Box::new(item)), schema));
            }
            Some("array") => return Err(scalar_only("array of arrays")),
            Some(other) => return Err(scalar_only(other)),
            // No type (`schema: {}`, an `enum` alone, a `oneOf`): the text as it is.
            None => ParamType::String,
        };
        Ok((ty, schema.clone()))
    }

    fn body(
        &self,
        body: &Value,
        pointer: &Pointer,
        notes: &mut Vec<String>,
    ) -> Result<Option<Body>, SpecError> {
        let (body, pointer) = self.resolve(body, pointer)?;
        let content = body
            .get("content")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let required = body
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        // JSON first, then forms, then anything else.
        let Some((media_type, media)) = content
            .iter()
            .min_by_key(|(key, _)| BodyMedia::of(key))
            .map(|(key, value)| (key.clone(), value.clone()))
        else {
            return Ok(None);
        };
        let kind = BodyMedia::of(&media_type);
        let media_pointer = pointer.join("content").join(&media_type);
        let schema = match media.get("schema") {
            None => None,
            Some(schema) => match schema.get("$ref").and_then(Value::as_str) {
                Some(reference) => match Normalized::schema_name(reference) {
                    Some(name) => Some(name.to_string()),
                    None => {
                        return Err(self.unsupported(
                            &media_pointer.join("schema").join("$ref"),
                            "a body schema must be a component schema or written inline",
                            "reference `#/components/schemas/...`",
                        ));
                    }
                },
                None => None,
            },
        };
        let mut accepted = Vec::new();
        match kind {
            BodyMedia::Raw => {
                for key in content.keys() {
                    accepted.push(media::essence(key));
                }
            }
            _ => {
                for key in content.keys().filter(|k| **k != media_type) {
                    if BodyMedia::of(key) != kind {
                        notes.push(format!(
                            "The request body is also documented as `{key}`; only `{media_type}` is generated."
                        ));
                    }
                }
            }
        }
        if kind == BodyMedia::Multipart && schema.is_none() {
            return Err(self.unsupported(
                &media_pointer,
                "a multipart body without a schema",
                "describe the form's fields with an object schema",
            ));
        }
        Ok(Some(Body {
            media: kind,
            media_type,
            schema,
            accepted,
            required,
        }))
    }

    fn responses(
        &self,
        op: &Value,
        pointer: &Pointer,
        notes: &mut Vec<String>,
    ) -> Result<(Success, Vec<ErrorResponse>), SpecError> {
        let Some(responses) = op.get("responses").and_then(Value::as_object) else {
            return Err(self.invalid(pointer, "operation has no `responses`"));
        };
        if responses.is_empty() {
            notes.push(
                "The spec documents no response: the handler answers with any response it builds."
                    .to_string(),
            );
        }
        let mut successes: Vec<(u16, Pointer, Value, Pointer)> = Vec::new();
        let mut redirects = Vec::new();
        let mut errors = Vec::new();
        let mut default = None;
        for (status, response) in responses {
            if status.starts_with("x-") {
                continue;
            }
            let at = pointer.join(status);
            let (resolved, resolved_at) = self.resolve(response, &at)?;
            let upper = status.to_ascii_uppercase();
            let code = match upper.as_str() {
                "2XX" => Some(200),
                "3XX" => Some(300),
                "DEFAULT" => None,
                "1XX" | "4XX" | "5XX" => Some(upper.as_bytes()[0] as u16 - b'0' as u16),
                _ => match status.parse::<u16>() {
                    Ok(code) if (100..=599).contains(&code) => Some(code),
                    _ => {
                        return Err(self.invalid(
                            &at,
                            format!(
                                "`{status}` is not a response status (a code from 100 to 599, `1XX` \
                                 to `5XX`, or `default`)"
                            ),
                        ));
                    }
                },
            };
            match code {
                None => default = Some((resolved.clone(), resolved_at, at)),
                Some(1..=5) => match upper.as_bytes()[0] {
                    b'4' | b'5' => errors.push((upper.clone(), resolved.clone(), resolved_at)),
                    _ => notes.push(informational(status)),
                },
                // HTTP sends informational responses before the final one; a handler answers
                // with the final one.
                Some(100..=199) => notes.push(informational(status)),
                Some(code @ 200..=299) => {
                    successes.push((code, resolved_at.clone(), resolved.clone(), at));
                }
                Some(code @ 300..=399) => redirects.push((code, resolved_at, resolved.clone(), at)),
                Some(_) => errors.push((status.clone(), resolved.clone(), resolved_at)),
            }
        }
        // A `default` beside a success is the error response; alone, it is the success too.
        // Redirects beside successes are other statuses of the success when they have its
        // body (none, usually).
        let mut chosen = if successes.is_empty() {
            redirects
        } else {
            let first = self.content(&successes[0].2, &successes[0].1)?;
            for redirect in redirects {
                if self.content(&redirect.2, &redirect.1)? == first {
                    successes.push(redirect);
                } else {
                    notes.push(format!(
                        "the redirect {} has another body than the success: it is not generated.",
                        redirect.0
                    ));
                }
            }
            successes
        };
        if chosen.is_empty()
            && let Some((resolved, resolved_at, at)) = &default
        {
            chosen.push((200, resolved_at.clone(), resolved.clone(), at.clone()));
        }
        if let Some((resolved, resolved_at, _)) = default {
            errors.push(("default".to_string(), resolved, resolved_at));
        }
        chosen.sort_by_key(|(code, ..)| *code);
        let mut success = Success {
            statuses: Vec::new(),
            content: Content::Empty,
            headers: Vec::new(),
        };
        for (index, (code, resolved_at, resolved, at)) in chosen.iter().enumerate() {
            let content = self.content(resolved, resolved_at)?;
            if index == 0 {
                success.content = content;
                success.headers = self.headers(resolved, resolved_at)?;
            } else if content != success.content {
                return Err(self.unsupported(
                    at,
                    format!(
                        "the success responses {} and {code} have different bodies",
                        chosen[0].0
                    ),
                    "give an operation one success body: dropshot endpoints and progenitor \
                     clients have one success type (split the operation, or document one status)",
                ));
            }
            success.statuses.push(*code);
        }
        let errors = errors
            .into_iter()
            .map(|(status, resolved, resolved_at)| {
                let schema = match self.content(&resolved, &resolved_at)? {
                    Content::Json(Some(name)) => Some(name),
                    Content::Json(None) => Some(errors::ANY_JSON.to_string()),
                    Content::Raw => {
                        notes.push(format!(
                            "The {status} response is documented with a body that is not JSON; its \
                             errors are sent as JSON."
                        ));
                        None
                    }
                    Content::Empty => None,
                };
                Ok(ErrorResponse {
                    status,
                    schema,
                    pointer: resolved_at.as_str().to_string(),
                })
            })
            .collect::<Result<Vec<_>, SpecError>>()?;
        Ok((success, errors))
    }

    /// What a response's `content` holds: JSON (the first JSON media type), something else,
    /// or nothing.
    fn content(&self, response: &Value, pointer: &Pointer) -> Result<Content, SpecError> {
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            return Ok(Content::Empty);
        };
        if content.is_empty() {
            return Ok(Content::Empty);
        }
        let json = content
            .iter()
            .find(|(key, _)| media::is_json(&media::essence(key)));
        let Some((key, media)) = json else {
            return Ok(Content::Raw);
        };
        match media.get("schema") {
            None => Ok(Content::Json(None)),
            Some(schema) => match schema.get("$ref").and_then(Value::as_str) {
                Some(reference) => match Normalized::schema_name(reference) {
                    Some(name) => Ok(Content::Json(Some(name.to_string()))),
                    None => Err(self.unsupported(
                        &pointer
                            .join("content")
                            .join(key)
                            .join("schema")
                            .join("$ref"),
                        "a response schema must be a component schema or written inline",
                        "reference `#/components/schemas/...`",
                    )),
                },
                // An inline schema that was not hoisted is not an object: `true`, say.
                None => Ok(Content::Json(None)),
            },
        }
    }

    fn headers(
        &self,
        response: &Value,
        pointer: &Pointer,
    ) -> Result<Vec<ResponseHeader>, SpecError> {
        let mut headers: Vec<ResponseHeader> = Vec::new();
        let Some(map) = response.get("headers").and_then(Value::as_object) else {
            return Ok(headers);
        };
        for (name, header) in map {
            let header_pointer = pointer.join("headers").join(name);
            if http_header_name(name).is_none() {
                return Err(self.invalid(
                    &header_pointer,
                    format!("`{name}` is not a valid HTTP header name"),
                ));
            }
            // `Content-Type` is the body's own (OpenAPI says to ignore it here).
            if name.eq_ignore_ascii_case("content-type") {
                continue;
            }
            if headers.iter().any(|h| h.name.eq_ignore_ascii_case(name)) {
                return Err(self.invalid(
                    &header_pointer,
                    format!("the header `{name}` is declared twice (header names ignore case)"),
                ));
            }
            let (header, header_pointer) = self.resolve(header, &header_pointer)?;
            let component = header_pointer
                .as_str()
                .strip_prefix("/components/headers/")
                .filter(|rest| !rest.contains('/'))
                .map(|name| name.replace("~1", "/").replace("~0", "~"));
            let schema = header.get("schema").cloned().unwrap_or(Value::Null);
            let (ty, _) = match schema {
                Value::Null => (ParamType::String, Value::Null),
                schema => self.param_type(&schema, &header_pointer.join("schema"), false)?,
            };
            headers.push(ResponseHeader {
                name: name.clone(),
                required: header
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                description: header
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                ty,
                component,
            });
        }
        Ok(headers)
    }

    /// Why `value` cannot be a value of a parameter with schema `schema` parsed as `ty`, if it
    /// cannot: the JSON type the Rust type parses, and the schema's `enum` and bounds (not its
    /// `pattern`, which would take a regex engine).
    fn default_problem(&self, value: &Value, schema: &Value, ty: &ParamType) -> Option<String> {
        // A `$ref`'d enum: its values are in the component. Bad references were refused by
        // `param_type`.
        let schema = self
            .resolve(schema, &Pointer::root())
            .map_or(schema, |(schema, _)| schema);
        let shape = match ty {
            ParamType::String | ParamType::Named(_) => (!value.is_string()).then_some("a string"),
            ParamType::Uuid => (!value.as_str().is_some_and(is_uuid))
                .then_some("a UUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hexadecimal)"),
            ParamType::DateTime => (!value.as_str().is_some_and(is_date_time))
                .then_some("an RFC 3339 date-time (`2024-01-31T09:30:00Z`)"),
            ParamType::Date => (!value.as_str().is_some_and(is_date))
                .then_some("an RFC 3339 full date (`2024-01-31`)"),
            // A default written as text (`"12345"`) is read as the parameter's text would be.
            ParamType::Integer(_) | ParamType::Number | ParamType::Boolean if value.is_string() => {
                let text = value.as_str().unwrap_or_default();
                let parsed: Option<Value> = serde_json::from_str(text).ok();
                return match parsed.filter(|v| v.is_number() || v.is_boolean()) {
                    Some(parsed) => self.default_problem(&parsed, schema, ty),
                    None => Some(format!(
                        "is not {}",
                        match ty {
                            ParamType::Boolean => "a boolean",
                            ParamType::Number => "a number",
                            _ => "an integer",
                        }
                    )),
                };
            }
            ParamType::Integer(width) => {
                if value.is_u64() && !value.is_i64() {
                    return Some(format!("does not fit the parameter's Rust type `{width}`"));
                }
                match value.as_i64() {
                    Some(v) if *width == "i32" && i32::try_from(v).is_err() => {
                        return Some(format!("does not fit the parameter's Rust type `{width}`"));
                    }
                    Some(_) => None,
                    None => Some("an integer"),
                }
            }
            ParamType::Number => (!value.is_number()).then_some("a number"),
            ParamType::Boolean => (!value.is_boolean()).then_some("a boolean"),
            ParamType::Array(item) => match value.as_array() {
                None => Some("an array"),
                Some(values) => {
                    let items = schema.get("items").unwrap_or(&Value::Null);
                    if let Some(problem) = values
                        .iter()
                        .find_map(|v| self.default_problem(v, items, item).map(|p| (v, p)))
                    {
                        return Some(format!("has an item {} that {}", problem.0, problem.1));
                    }
                    None
                }
            },
        };
        if let Some(shape) = shape {
            return Some(format!("is not {shape}"));
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array)
            && !values.contains(value)
        {
            return Some(format!(
                "is not one of the enum values {}",
                Value::Array(values.clone())
            ));
        }
        let bound = |keyword: &str| schema.get(keyword).and_then(Value::as_f64);
        let exclusive = |keyword: &str| schema.get(keyword) == Some(&Value::Bool(true));
        if let Some(number) = value.as_f64() {
            if let Some(minimum) = bound("minimum")
                && (number < minimum || (number == minimum && exclusive("exclusiveMinimum")))
            {
                return Some(format!("is below the minimum {}", schema["minimum"]));
            }
            if let Some(maximum) = bound("maximum")
                && (number > maximum || (number == maximum && exclusive("exclusiveMaximum")))
            {
                return Some(format!("is above the maximum {}", schema["maximum"]));
            }
        }
        // JSON Schema counts characters (code points) and items.
        let length = match value {
            Value::String(text) => Some((text.chars().count(), "Length")),
            Value::Array(items) => Some((items.len(), "Items")),
            _ => None,
        };
        if let Some((length, unit)) = length {
            let min = format!("min{unit}");
            let max = format!("max{unit}");
            if bound(&min).is_some_and(|min| (length as f64) < min) {
                return Some(format!("is shorter than its `{min}` {}", schema[&min]));
            }
            if bound(&max).is_some_and(|max| (length as f64) > max) {
                return Some(format!("is longer than its `{max}` {}", schema[&max]));
            }
        }
        None
    }
}

fn informational(status: &str) -> String {
    format!(
        "The spec documents the informational response {status}, which the server's HTTP layer \
         sends, not the handler."
    )
}

/// Whether `name` is an HTTP header name (an RFC 9110 token).
fn http_header_name(name: &str) -> Option<&str> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    (!name.is_empty() && name.bytes().all(token)).then_some(name)
}

/// An RFC 3339 full date (`2024-01-31`) with the calendar checked.
fn is_date(text: &str) -> bool {
    text.len() == 10 && is_date_time(&format!("{text}T00:00:00Z"))
}

/// A UUID as `uuid` parses it (the hyphenated form only; it also reads others).
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// An RFC 3339 date-time that chrono parses (`2024-01-31T09:30:00.5+01:00`): strict, with
/// the calendar checked and no leap second, so a subset of what chrono reads.
fn is_date_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = bytes.get(range)?;
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let at = |index: usize, expected: &[u8]| bytes.get(index).is_some_and(|b| expected.contains(b));
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        number(0..4),
        number(5..7),
        number(8..10),
        number(11..13),
        number(14..16),
        number(17..19),
    ) else {
        return false;
    };
    let separators = at(4, b"-") && at(7, b"-") && at(10, b"Tt") && at(13, b":") && at(16, b":");
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !separators
        || !(1..=12).contains(&month)
        || !(1..=days).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return false;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if !(1..=9).contains(&digits) {
            return false;
        }
        rest = &fraction[digits..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit())
                && (h1 - b'0') * 10 + (h2 - b'0') <= 23
                && (m1 - b'0') * 10 + (m2 - b'0') <= 59
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_hyphenated_hex() {
        assert!(is_uuid("0b6f5a8e-3c1d-4e2f-9a7b-1c2d3e4f5a6b"));
        for text in [
            "",
            "abc",
            "0b6f5a8e3c1d4e2f9a7b1c2d3e4f5a6b",
            "0b6f5a8e-3c1d-4e2f-9a7b-1c2d3e4f5a6g",
        ] {
            assert!(!is_uuid(text), "{text:?}");
        }
    }

    #[test]
    fn date_times_are_strict_rfc_3339() {
        for text in [
            "2024-01-31T09:30:00Z",
            "2024-02-29T23:59:59.123456789+01:00",
            "2000-02-29t00:00:00-23:59",
        ] {
            assert!(is_date_time(text), "{text:?}");
        }
        for text in [
            "",
            "2024-01-31",
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-31 09:30:00Z",
            "2024-01-31T24:00:00Z",
            "2024-01-31T09:30:60Z",
            "2024-01-31T09:30:00",
            "2024-01-31T09:30:00.Z",
            "2024-01-31T09:30:00.1234567890Z",
            "2024-01-31T09:30:00+24:00",
            "2024-01-31T09:30:00+0100",
            "２024-01-31T09:30:00Z",
        ] {
            assert!(!is_date_time(text), "{text:?}");
        }
    }
}
