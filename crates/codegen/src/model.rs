//! The operations of a spec, resolved and checked: what the trait generator and the round-trip
//! proof work from. Every construct the generator cannot express is refused here, with the JSON
//! pointer of the node and a hint.

use std::path::Path;

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::Ident;
use serde_json::Value;

use crate::pointer::Pointer;
use crate::{Settings, Spec, SpecError};

/// The HTTP methods OpenAPI allows in a path item, in document order.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// All operations of a spec.
#[derive(Clone, Debug)]
pub struct Api {
    pub operations: Vec<Operation>,
}

/// One operation, with every `$ref` resolved.
#[derive(Clone, Debug)]
pub struct Operation {
    pub id: String,
    /// snake_case of `id`: the method name on the trait and on the client.
    pub fn_name: String,
    /// Upper case, e.g. `GET`.
    pub method: String,
    pub path: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub params: Vec<Param>,
    pub body: Option<Body>,
    pub success: Success,
    pub pointer: String,
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
    /// The parameter's schema as written (after resolving the parameter's own `$ref`).
    pub schema: Value,
    /// The parameter node, after resolving its `$ref`.
    pub pointer: String,
}

/// The Rust type a parameter parses into.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamType {
    String,
    Uuid,
    DateTime,
    Integer(&'static str),
    Number,
    Boolean,
    /// A component schema (a string enum), by its component name.
    Named(String),
    /// A repeatable query parameter.
    Array(Box<ParamType>),
}

#[derive(Clone, Debug)]
pub struct Body {
    /// Component schema name.
    pub schema: String,
    pub required: bool,
}

#[derive(Clone, Debug)]
pub struct Success {
    pub status: u16,
    /// Component schema name; `None` for 204.
    pub schema: Option<String>,
    pub headers: Vec<ResponseHeader>,
}

#[derive(Clone, Debug)]
pub struct ResponseHeader {
    pub name: String,
    pub required: bool,
    pub description: Option<String>,
}

struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
    raw: &'a Value,
    error_schema: &'a str,
}

impl Api {
    /// Resolves and checks every operation of `spec`.
    pub fn from_spec(spec: &Spec, settings: &Settings) -> Result<Self, SpecError> {
        let ctx = Ctx {
            path: &spec.path,
            text: &spec.text,
            raw: &spec.raw,
            error_schema: &settings.error_schema,
        };
        ctx.check_error_schema()?;
        let mut operations = Vec::new();
        let paths_pointer = Pointer::root().join("paths");
        let paths = spec.raw.get("paths").and_then(Value::as_object);
        for (path, item) in paths.into_iter().flatten() {
            let item_pointer = paths_pointer.join(path);
            if item.get("$ref").is_some() {
                return Err(ctx.unsupported(
                    &item_pointer.join("$ref"),
                    "path items given by `$ref` are not supported",
                    "write the path item inline under `paths`",
                ));
            }
            let shared = item
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for method in METHODS {
                if let Some(op) = item.get(method) {
                    let pointer = item_pointer.join(method);
                    operations.push(ctx.operation(
                        path,
                        method,
                        op,
                        &shared,
                        &item_pointer,
                        pointer,
                    )?);
                }
            }
        }
        for (index, op) in operations.iter().enumerate() {
            if let Some(other) = operations[..index].iter().find(|o| o.fn_name == op.fn_name) {
                return Err(ctx.invalid(
                    &Pointer::parse(&op.pointer).join("operationId"),
                    format!(
                        "operationId `{}` maps to the Rust name `{}`, already used by `{}`",
                        op.id, op.fn_name, other.id
                    ),
                ));
            }
        }
        check_item_names(&ctx, &operations)?;
        // After the operations, whose checks name a missing reference more precisely.
        ctx.check_references(ctx.raw, &Pointer::root(), None)?;
        ctx.require_error_schema()?;
        Ok(Self { operations })
    }
}

impl Operation {
    /// The Rust struct of one of this operation's parameter sets (`Path`, `Query`, `Headers`)
    /// or of its success headers (`ResponseHeaders`). The API generator names them so.
    pub fn item_name(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.id.to_upper_camel_case())
    }

    /// The Rust function generated for one parameter (`what` is `schema` or `default`).
    pub fn helper_name(&self, location: Location, param: &str, what: &str) -> String {
        let field = field_ident(param)
            .map(|f| f.to_string())
            .unwrap_or_default();
        format!(
            "{}_{}_{}_{what}",
            self.fn_name,
            location.as_str(),
            field.trim_start_matches("r#")
        )
    }

    /// Every top-level Rust item the API generator makes for this operation.
    fn item_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for (location, suffix) in [
            (Location::Path, "Path"),
            (Location::Query, "Query"),
            (Location::Header, "Headers"),
        ] {
            let params: Vec<&Param> = self
                .params
                .iter()
                .filter(|p| p.location == location)
                .collect();
            if !params.is_empty() {
                names.push(self.item_name(suffix));
            }
            for param in params {
                names.push(self.helper_name(location, &param.name, "schema"));
                if !param.required && param.schema.get("default").is_some() {
                    names.push(self.helper_name(location, &param.name, "default"));
                }
            }
        }
        if !self.success.headers.is_empty() {
            names.push(self.item_name("ResponseHeaders"));
        }
        names
    }
}

/// Names the API generator uses for its own items.
const FIXED_ITEMS: [&str; 4] = ["ApiError", "RequestBody", "JsonBody", "SCHEMA_DEFINITIONS"];

/// Two operations whose generated items would share a name (`getA`'s response headers and
/// `getAResponse`'s header parameters are both `GetAResponseHeaders`).
fn check_item_names(ctx: &Ctx<'_>, operations: &[Operation]) -> Result<(), SpecError> {
    let mut owners: std::collections::HashMap<String, &str> = FIXED_ITEMS
        .iter()
        .map(|name| (name.to_string(), "the generator"))
        .collect();
    for op in operations {
        for name in op.item_names() {
            if let Some(owner) = owners.insert(name.clone(), &op.id) {
                return Err(ctx.unsupported(
                    &Pointer::parse(&op.pointer).join("operationId"),
                    format!(
                        "operation `{}` makes the Rust item `{name}`, which {} makes too",
                        op.id,
                        match owner {
                            "the generator" => "the generator".to_string(),
                            other => format!("operation `{other}`"),
                        }
                    ),
                    "rename one operationId (or parameter) so that their generated names differ",
                ));
            }
        }
    }
    Ok(())
}

impl Ctx<'_> {
    fn unsupported(
        &self,
        pointer: &Pointer,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> SpecError {
        SpecError::unsupported(self.path, self.text, pointer, message, hint)
    }

    fn invalid(&self, pointer: &Pointer, message: impl Into<String>) -> SpecError {
        SpecError::invalid(self.path, self.text, pointer, message)
    }

    /// Follows a local `$ref` (possibly several) to the node it names.
    fn resolve<'v>(
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
                    .map(ToString::to_string)
                    .collect();
                return Err(self.invalid(
                    &pointer.join("$ref"),
                    format!("reference cycle: {}", chain.join(" -> ")),
                ));
            }
            node = self.raw.pointer(target.as_str()).ok_or_else(|| {
                self.invalid(
                    &pointer.join("$ref"),
                    format!("`{reference}` does not resolve"),
                )
            })?;
            visited.push(target.clone());
            pointer = target;
        }
    }

    /// The component name a schema `$ref`s, refusing inline schemas where a name is needed.
    fn schema_ref(
        &self,
        schema: &Value,
        pointer: &Pointer,
        what: &str,
    ) -> Result<String, SpecError> {
        let reference = schema.get("$ref").and_then(Value::as_str);
        match reference.and_then(|r| r.strip_prefix("#/components/schemas/")) {
            Some(name)
                if self
                    .raw
                    .pointer(&format!("/components/schemas/{name}"))
                    .is_some() =>
            {
                // The generated trait names the type as typify does, in UpperCamelCase.
                let type_name = name.to_upper_camel_case();
                if !is_plain_ident(&type_name) {
                    return Err(self.unsupported(
                        &Pointer::parse(reference.unwrap_or_default()),
                        format!("schema `{name}` does not make a Rust type name (`{type_name}`)"),
                        "start the schema's name with a letter (PascalCase, e.g. `TwoFactorCode`): \
                         it becomes a Rust type",
                    ));
                }
                Ok(name.to_string())
            }
            Some(_) => Err(self.invalid(
                &pointer.join("$ref"),
                format!("`{}` does not resolve", reference.unwrap_or_default()),
            )),
            None => Err(self.unsupported(
                pointer,
                format!("inline {what} schemas are not supported"),
                "define the schema under `components/schemas` and `$ref` it here, so that the \
                 server, the client and the docs share one named type",
            )),
        }
    }

    /// The generated API's error type wraps the error schema, so it must exist even when no
    /// operation documents an error response.
    fn require_error_schema(&self) -> Result<(), SpecError> {
        let schemas = Pointer::root().join("components").join("schemas");
        if self
            .raw
            .pointer(schemas.join(self.error_schema).as_str())
            .is_some()
        {
            return Ok(());
        }
        let at = [schemas, Pointer::root().join("components")]
            .into_iter()
            .find(|p| self.raw.pointer(p.as_str()).is_some())
            .unwrap_or_else(Pointer::root);
        Err(self.unsupported(
            &at,
            format!("the error schema `{}` is missing", self.error_schema),
            format!(
                "define `components/schemas/{}` with `code` and `message` strings: the generated \
                 API's error type is made from it",
                self.error_schema
            ),
        ))
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
                    let data =
                        key.starts_with("x-") || matches!(key.as_str(), "example" | "examples");
                    if !data || parent == Some("properties") {
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

    fn check_error_schema(&self) -> Result<(), SpecError> {
        let pointer = Pointer::root()
            .join("components")
            .join("schemas")
            .join(self.error_schema);
        let Some(schema) = self.raw.pointer(pointer.as_str()) else {
            // Reported by `require_error_schema`, after the operations' own checks.
            return Ok(());
        };
        let properties = schema.get("properties").and_then(Value::as_object);
        for field in ["code", "message"] {
            let ty = properties
                .and_then(|p| p.get(field))
                .and_then(|p| p.get("type"))
                .and_then(Value::as_str);
            if ty != Some("string") {
                return Err(self.unsupported(
                    &pointer.join("properties").join(field),
                    format!(
                        "the error schema `{}` needs a string property `{field}`",
                        self.error_schema
                    ),
                    "error bodies carry `code` and `message` strings (and optionally `details`: \
                     an array of { property, code, message })",
                ));
            }
        }
        // Rejected requests carry `details`; the generated code builds the error body from
        // JSON, so the schema must take them (or at least ignore them).
        let details_hint = "give the error schema `details: {type: array, items: {$ref: ...}}` whose \
             items have string `property`, `code` and `message`";
        match properties.and_then(|p| p.get("details")) {
            None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                return Err(self.unsupported(
                    &pointer.join("additionalProperties"),
                    "the error schema refuses unknown properties but has no `details`",
                    details_hint,
                ));
            }
            None => {}
            Some(details) => {
                let details_pointer = pointer.join("properties").join("details");
                let items = details
                    .get("items")
                    .filter(|_| details.get("type").and_then(Value::as_str) == Some("array"));
                let Some(items) = items else {
                    return Err(self.unsupported(
                        &details_pointer,
                        "`details` of the error schema must be an array",
                        details_hint,
                    ));
                };
                let (items, items_pointer) = self.resolve(items, &details_pointer.join("items"))?;
                for field in ["property", "code", "message"] {
                    let ty = items
                        .pointer(&format!("/properties/{field}/type"))
                        .and_then(Value::as_str);
                    if ty != Some("string") {
                        return Err(self.unsupported(
                            &items_pointer.join("properties").join(field),
                            format!("error details need a string property `{field}`"),
                            details_hint,
                        ));
                    }
                }
            }
        }
        let required = schema
            .get("required")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (index, name) in required.iter().enumerate() {
            if !matches!(name.as_str(), Some("code" | "message")) {
                return Err(self.unsupported(
                    &pointer.join("required").join(index),
                    format!("the error schema may require only `code` and `message`, not {name}"),
                    "make the property optional: the server fills it when it can",
                ));
            }
        }
        Ok(())
    }

    fn operation(
        &self,
        path: &str,
        method: &str,
        op: &Value,
        shared: &[Value],
        item_pointer: &Pointer,
        pointer: Pointer,
    ) -> Result<Operation, SpecError> {
        let Some(id) = op.get("operationId").and_then(Value::as_str) else {
            return Err(self.unsupported(
                &pointer,
                "operation has no `operationId`",
                "add `operationId: verbNoun` (camelCase); it becomes the snake_case method name \
                 on the server trait and on the client",
            ));
        };
        let fn_name = id.to_snake_case();
        // The method is named `fn_name`; the parameter structs start with the UpperCamelCase.
        if !is_plain_ident(&fn_name) || !is_plain_ident(&id.to_upper_camel_case()) {
            return Err(self.unsupported(
                &pointer.join("operationId"),
                format!(
                    "operationId `{id}` does not make a Rust method name ({})",
                    snake_case_shown(id)
                ),
                "start the operationId with a letter and keep its snake_case clear of Rust \
                 keywords: it becomes the method name on the server trait and on the client",
            ));
        }
        if op.get("callbacks").is_some() {
            return Err(self.unsupported(
                &pointer.join("callbacks"),
                "callbacks are not supported",
                "remove them",
            ));
        }
        let text = |key: &str| op.get(key).and_then(Value::as_str).map(str::to_string);
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

        let mut params: Vec<Param> = Vec::new();
        let own = op
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let shared_pointer = item_pointer.join("parameters");
        let own_pointer = pointer.join("parameters");
        let all = shared
            .iter()
            .enumerate()
            .map(|(i, p)| (p, shared_pointer.join(i)))
            .chain(
                own.iter()
                    .enumerate()
                    .map(|(i, p)| (p, own_pointer.join(i))),
            );
        for (param, param_pointer) in all {
            let param = self.param(param, &param_pointer)?;
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
            params.retain(|p| !(p.name == param.name && p.location == param.location));
            params.push(param);
        }
        // The parameters of one location are the fields of one struct.
        for (index, param) in params.iter().enumerate() {
            let field = field_ident(&param.name).map(|f| f.to_string());
            if let Some(other) = params[..index].iter().find(|other| {
                other.location == param.location
                    && field_ident(&other.name).map(|f| f.to_string()) == field
            }) {
                return Err(self.unsupported(
                    &Pointer::parse(&param.pointer).join("name"),
                    format!(
                        "{} parameters `{}` and `{}` both become the Rust field `{}`",
                        param.location.as_str(),
                        other.name,
                        param.name,
                        field.unwrap_or_default()
                    ),
                    "rename one of them: the parameters of one location are fields of one struct, \
                     named by the snake_case of the parameter name",
                ));
            }
        }
        for segment in path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
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

        let body = match op.get("requestBody") {
            None => None,
            Some(body) => Some(self.body(body, &pointer.join("requestBody"))?),
        };
        let success = self.responses(op, &pointer.join("responses"))?;
        if method == "get" && body.is_some() {
            return Err(self.unsupported(
                &pointer.join("requestBody"),
                "GET operations cannot take a body",
                "move the fields to query parameters",
            ));
        }
        Ok(Operation {
            id: id.to_string(),
            fn_name,
            method: method.to_uppercase(),
            path: path.to_string(),
            summary: text("summary"),
            description: text("description"),
            tags,
            params,
            body,
            success,
            pointer: pointer.as_str().to_string(),
        })
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
        if field_ident(&name).is_none() {
            return Err(self.unsupported(
                &pointer.join("name"),
                format!(
                    "{} parameter `{name}` does not make a Rust field name ({})",
                    location.as_str(),
                    snake_case_shown(&name)
                ),
                "give the parameter a name whose snake_case starts with a letter and is not \
                 `self`, `super` or `crate`: it becomes a field of the operation's parameter struct",
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
        let ty = self.param_type(schema, &schema_pointer, location)?;
        // The generated code parses the default when the parameter is absent, so a default of
        // the wrong shape would fail every such request.
        if let Some(default) = schema.get("default")
            && let Some(problem) = self.default_problem(default, schema, &ty)
        {
            return Err(self.invalid(
                &schema_pointer.join("default"),
                format!("the default {default} of parameter `{name}` {problem}"),
            ));
        }
        if let ParamType::Array(_) = ty {
            let style = param.get("style").and_then(Value::as_str).unwrap_or("form");
            let explode = param
                .get("explode")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            if location != Location::Query || style != "form" || !explode {
                return Err(self.unsupported(
                    &pointer,
                    format!("array parameter `{name}` must be a query parameter with `style: form, explode: true`"),
                    "repeat the query parameter (`?id=a&id=b`); other serializations are not generated",
                ));
            }
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
            schema: schema.clone(),
            pointer: pointer.as_str().to_string(),
        })
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

    fn param_type(
        &self,
        schema: &Value,
        pointer: &Pointer,
        location: Location,
    ) -> Result<ParamType, SpecError> {
        if schema.get("$ref").is_some() {
            let name = self.schema_ref(schema, pointer, "parameter")?;
            let (target, target_pointer) = self.resolve(schema, pointer)?;
            if target.get("type").and_then(Value::as_str) != Some("string")
                || target.get("enum").is_none()
            {
                return Err(self.unsupported(
                    &target_pointer,
                    format!("parameter schema `{name}` must be a string enum to be referenced from a parameter"),
                    "reference only string enums from parameters; write scalar schemas inline",
                ));
            }
            return Ok(ParamType::Named(name));
        }
        let format = schema.get("format").and_then(Value::as_str);
        let scalar_only = |ty: &str| {
            self.unsupported(
                &pointer.join("type"),
                format!("parameters of type `{ty}` are not supported"),
                "use a string, integer, number or boolean (or an array of them for a repeatable query parameter)",
            )
        };
        Ok(match schema.get("type").and_then(Value::as_str) {
            Some("string") => match format {
                Some("uuid") => ParamType::Uuid,
                Some("date-time") => ParamType::DateTime,
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
            Some("array") if location == Location::Query => {
                let items = schema
                    .get("items")
                    .ok_or_else(|| self.invalid(pointer, "array schema has no `items`"))?;
                match self.param_type(items, &pointer.join("items"), Location::Header)? {
                    ParamType::Array(_) => return Err(scalar_only("array of arrays")),
                    item => ParamType::Array(Box::new(item)),
                }
            }
            Some(other) => return Err(scalar_only(other)),
            None => return Err(self.invalid(pointer, "parameter schema has no `type`")),
        })
    }

    fn body(&self, body: &Value, pointer: &Pointer) -> Result<Body, SpecError> {
        let (body, pointer) = self.resolve(body, pointer)?;
        let content = body
            .get("content")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let keys: Vec<&String> = content.keys().collect();
        if keys.as_slice() != ["application/json"] {
            return Err(self.unsupported(
                &pointer.join("content"),
                format!("request bodies must have exactly one media type, `application/json` (found {keys:?})"),
                "offer one JSON representation; dropshot endpoints take one body type",
            ));
        }
        let media_pointer = pointer.join("content").join("application/json");
        let schema = content["application/json"]
            .get("schema")
            .ok_or_else(|| self.invalid(&media_pointer, "media type has no `schema`"))?;
        Ok(Body {
            schema: self.schema_ref(schema, &media_pointer.join("schema"), "request body")?,
            required: body
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    fn responses(&self, op: &Value, pointer: &Pointer) -> Result<Success, SpecError> {
        let Some(responses) = op.get("responses").and_then(Value::as_object) else {
            return Err(self.invalid(pointer, "operation has no `responses`"));
        };
        let mut success: Option<Success> = None;
        for (status, response) in responses {
            let response_pointer = pointer.join(status);
            let (response, resolved_pointer) = self.resolve(response, &response_pointer)?;
            let code = status.parse::<u16>().ok();
            match code {
                Some(200..=299) => {
                    if let Some(first) = &success {
                        return Err(self.unsupported(
                            &response_pointer,
                            format!(
                                "a second success response ({status} after {})",
                                first.status
                            ),
                            "document exactly one 2xx response: dropshot endpoints and progenitor \
                             clients have one success type",
                        ));
                    }
                    success = Some(self.success(
                        code.unwrap_or(200),
                        response,
                        &resolved_pointer,
                        &response_pointer,
                    )?);
                }
                Some(400..=599) => self.error_response(response, &resolved_pointer)?,
                _ if status == "default" => {
                    // progenitor counts `default` as a possible success too, and asserts that an
                    // operation has one success type, so even `default: Error` fails there.
                    return Err(self.unsupported(
                        &response_pointer,
                        "`default` responses are not supported",
                        "list the error statuses explicitly (`400`, `404`, ...): the client would \
                         read `default` as a second success type",
                    ));
                }
                _ => {
                    return Err(self.unsupported(
                        &response_pointer,
                        format!("response `{status}` is not supported"),
                        "use explicit status codes: one 2xx and any 4xx/5xx",
                    ));
                }
            }
        }
        success.ok_or_else(|| {
            self.unsupported(
                pointer,
                "operation has no 2xx response",
                "document the success response",
            )
        })
    }

    fn success(
        &self,
        status: u16,
        response: &Value,
        pointer: &Pointer,
        at: &Pointer,
    ) -> Result<Success, SpecError> {
        let content = response.get("content").and_then(Value::as_object);
        let schema = match (status, content) {
            (204, None) => None,
            (204, Some(_)) => {
                return Err(self.invalid(&pointer.join("content"), "a 204 response has no content"));
            }
            (200..=202, Some(content)) => {
                let keys: Vec<&String> = content.keys().collect();
                if keys.as_slice() != ["application/json"] {
                    return Err(self.unsupported(
                        &pointer.join("content"),
                        format!("success responses must have exactly one media type, `application/json` (found {keys:?})"),
                        "offer one JSON representation",
                    ));
                }
                let media = pointer.join("content").join("application/json");
                let schema = content["application/json"]
                    .get("schema")
                    .ok_or_else(|| self.invalid(&media, "media type has no `schema`"))?;
                Some(self.schema_ref(schema, &media.join("schema"), "response")?)
            }
            (200..=202, None) => {
                return Err(self.unsupported(
                    at,
                    format!("a {status} response without a body"),
                    "return 204 when there is nothing to say",
                ));
            }
            _ => {
                return Err(self.unsupported(
                    at,
                    format!("success status {status} is not supported"),
                    "use 200, 201, 202 or 204",
                ));
            }
        };
        let mut headers: Vec<ResponseHeader> = Vec::new();
        if let Some(map) = response.get("headers").and_then(Value::as_object) {
            for (name, header) in map {
                let header_pointer = pointer.join("headers").join(name);
                // The headers are the fields of one struct.
                let hint = "rename the header: the success response's headers are fields of one \
                            struct, named by the snake_case of the header name";
                let Some(field) = field_ident(name) else {
                    return Err(self.unsupported(
                        &header_pointer,
                        format!(
                            "response header `{name}` does not make a Rust field name ({})",
                            snake_case_shown(name)
                        ),
                        hint,
                    ));
                };
                if let Some(other) = headers
                    .iter()
                    .find(|h| field_ident(&h.name).is_some_and(|f| f == field))
                {
                    return Err(self.unsupported(
                        &header_pointer,
                        format!(
                            "response headers `{}` and `{name}` both become the Rust field `{field}`",
                            other.name
                        ),
                        hint,
                    ));
                }
                let (header, header_pointer) = self.resolve(header, &header_pointer)?;
                if header.pointer("/schema/type").and_then(Value::as_str) != Some("string") {
                    return Err(self.unsupported(
                        &header_pointer.join("schema"),
                        "response headers must be strings",
                        "declare `schema: {type: string}`",
                    ));
                }
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
                });
            }
        }
        Ok(Success {
            status,
            schema,
            headers,
        })
    }

    fn error_response(&self, response: &Value, pointer: &Pointer) -> Result<(), SpecError> {
        let schema = response.pointer("/content/application~1json/schema");
        let name = schema
            .and_then(|s| s.get("$ref"))
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"));
        let only_json = response
            .get("content")
            .and_then(Value::as_object)
            .is_some_and(|c| c.len() == 1);
        if name == Some(self.error_schema) && only_json {
            return Ok(());
        }
        Err(self.unsupported(
            &pointer.join("content"),
            format!(
                "error responses must be `application/json` with `$ref: '#/components/schemas/{}'`",
                self.error_schema
            ),
            "dropshot endpoints have one error type, so every 4xx/5xx shares the error schema",
        ))
    }
}

/// Keywords of the 2024 edition that syn, which parses every edition, takes for identifiers.
const KEYWORDS_2024: [&str; 1] = ["gen"];

/// Whether `text` is a Rust identifier that is neither a keyword nor raw.
pub(crate) fn is_plain_ident(text: &str) -> bool {
    !KEYWORDS_2024.contains(&text)
        && !text.starts_with("r#")
        && syn::parse_str::<Ident>(text).is_ok()
}

/// The Rust field a parameter or header named `name` becomes: its snake_case, raw (`r#type`)
/// when that is a keyword. `None` when no identifier spells it: an empty snake_case, one that
/// starts with a digit, and `self`, `super`, `crate` and `_`, which cannot be raw.
pub(crate) fn field_ident(name: &str) -> Option<Ident> {
    let snake = name.to_snake_case();
    if is_plain_ident(&snake) {
        return syn::parse_str(&snake).ok();
    }
    syn::parse_str(&format!("r#{snake}")).ok()
}

/// The snake_case of `name` for a message: quoted, or said to be empty.
fn snake_case_shown(name: &str) -> String {
    match name.to_snake_case() {
        snake if snake.is_empty() => "its snake_case is empty".to_string(),
        snake => format!("`{snake}`"),
    }
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
    fn field_names_are_snake_case_and_raw_for_keywords() {
        let field = |name: &str| field_ident(name).map(|f| f.to_string());
        assert_eq!(field("userId").as_deref(), Some("user_id"));
        assert_eq!(field("X-Request-Id").as_deref(), Some("x_request_id"));
        assert_eq!(field("type").as_deref(), Some("r#type"));
        assert_eq!(field("gen").as_deref(), Some("r#gen"));
        for name in [
            "self", "Self", "super", "crate", "_", "", "-", "2fa", "a\u{b2}",
        ] {
            assert_eq!(field(name), None, "{name:?}");
        }
    }

    #[test]
    fn plain_idents_exclude_keywords_and_digits() {
        assert!(is_plain_ident("list_users"));
        for text in ["type", "gen", "self", "123list", "", "a b", "r#type"] {
            assert!(!is_plain_ident(text), "{text:?}");
        }
    }

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
