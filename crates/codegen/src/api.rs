//! The dropshot API trait: one endpoint per operation, typed extractors for every parameter,
//! a spec-validated JSON body, the success response as the matching dropshot type and the
//! spec's error schema as the error type.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use serde_json::{Map, Value};

use crate::model::{self, Api, Location, Operation, Param, ParamType};
use crate::{Settings, Spec, SpecError, json_schema};

/// Schema keywords that the Rust type already states, or that do not constrain a value.
const NOT_CONSTRAINTS: [&str; 5] = ["type", "items", "$ref", "example", "description"];

pub fn generate(spec: &Spec, api: &Api, settings: &Settings) -> Result<String, SpecError> {
    let types = path_tokens(&settings.types_crate);
    let trait_name = format_ident!("{}", settings.trait_name);
    let error_type = format_ident!("{}", settings.error_schema.to_upper_camel_case());
    let definitions = raw_string(
        &serde_json::to_string_pretty(&json_schema::definitions(&spec.raw)).expect("JSON"),
    );

    let trait_doc = format!(
        " The API as the spec describes it. Implement it, then serve `{}_mod::api_description::<YourImpl>()`.",
        settings.trait_name.to_snake_case()
    );
    let mut items = Vec::new();
    let mut methods = Vec::new();
    let mut body_types: Vec<String> = Vec::new();
    for op in &api.operations {
        let (op_items, method) = operation(op, &types);
        items.extend(op_items);
        methods.push(method);
        if let Some(body) = &op.body
            && !body_types.contains(&body.schema)
        {
            body_types.push(body.schema.clone());
        }
    }
    body_types.sort();
    let body_impls = body_types.iter().map(|name| {
        let ty = format_ident!("{}", name.to_upper_camel_case());
        let schema = raw_string(&format!("{{\"$ref\": \"#/definitions/{name}\"}}"));
        quote! {
            impl RequestBody for #types::#ty {
                fn validator() -> &'static ::spec_runtime::jsonschema::Validator {
                    static VALIDATOR: ::std::sync::LazyLock<::spec_runtime::jsonschema::Validator> =
                        ::std::sync::LazyLock::new(|| ::spec_runtime::compile_validator(#schema, SCHEMA_DEFINITIONS));
                    &VALIDATOR
                }
            }
        }
    });

    let tokens = quote! {
        /// Every component schema of the spec as JSON Schema (draft 4) `definitions`: what request
        /// bodies and parameters are validated against.
        pub const SCHEMA_DEFINITIONS: &str = #definitions;

        /// The error every endpoint returns: the spec's error body with its HTTP status.
        #[derive(Clone, Debug)]
        pub struct ApiError {
            /// The HTTP status (4xx or 5xx).
            pub status: ::dropshot::ErrorStatusCode,
            /// The body, as the spec's error schema.
            pub body: #types::#error_type,
        }

        impl ApiError {
            /// An error with `status`, a stable `code` and a `message` for people.
            pub fn new(status: ::dropshot::ErrorStatusCode, code: &str, message: impl ::std::string::ToString) -> Self {
                Self::from_parts(status, ::spec_runtime::serde_json::json!({ "code": code, "message": message.to_string() }))
            }

            fn from_parts(status: ::dropshot::ErrorStatusCode, body: ::spec_runtime::serde_json::Value) -> Self {
                let body = ::spec_runtime::serde_json::from_value(body)
                    .expect("the generator checked that the error schema takes code, message and details");
                Self { status, body }
            }
        }

        impl ::std::fmt::Display for ApiError {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{} {}: {}", self.status.as_u16(), self.body.code, self.body.message)
            }
        }

        impl ::std::error::Error for ApiError {}

        impl ::serde::Serialize for ApiError {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                self.body.serialize(serializer)
            }
        }

        /// The response body is the error schema itself; the status travels beside it.
        impl ::schemars::JsonSchema for ApiError {
            fn schema_name() -> ::std::string::String {
                <#types::#error_type as ::schemars::JsonSchema>::schema_name()
            }

            fn json_schema(generator: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                <#types::#error_type as ::schemars::JsonSchema>::json_schema(generator)
            }
        }

        impl ::dropshot::HttpResponseError for ApiError {
            fn status_code(&self) -> ::dropshot::ErrorStatusCode {
                self.status
            }
        }

        /// Errors dropshot raises itself (an unparsable path, an internal failure).
        impl ::std::convert::From<::dropshot::HttpError> for ApiError {
            fn from(error: ::dropshot::HttpError) -> Self {
                let rejection = ::spec_runtime::Rejection::from_http_error(&error);
                let code = match error.status_code.as_u16() {
                    400 | 413 => rejection.code,
                    404 => "not_found".to_string(),
                    status if status >= 500 => "internal".to_string(),
                    _ => error.error_code.clone().unwrap_or_else(|| "error".to_string()),
                };
                Self::new(error.status_code, &code, error.external_message)
            }
        }

        /// Requests rejected by the spec's constraints, before the handler's own logic.
        impl ::std::convert::From<::spec_runtime::Rejection> for ApiError {
            fn from(rejection: ::spec_runtime::Rejection) -> Self {
                let status = ::dropshot::ErrorStatusCode::from_u16(rejection.status)
                    .unwrap_or(::dropshot::ErrorStatusCode::BAD_REQUEST);
                let mut body = ::spec_runtime::serde_json::json!({ "code": rejection.code, "message": rejection.message });
                if !rejection.details.is_empty() {
                    body["details"] = ::spec_runtime::serde_json::json!(rejection.details);
                }
                Self::from_parts(status, body)
            }
        }

        /// A request body type with the validator of its schema.
        pub trait RequestBody: ::serde::de::DeserializeOwned + ::schemars::JsonSchema + Send + Sync + 'static {
            /// The compiled JSON Schema of this body.
            fn validator() -> &'static ::spec_runtime::jsonschema::Validator;
        }

        #(#body_impls)*

        /// A JSON request body, validated against the spec before it is deserialized. The
        /// extractor only reads the bytes and never fails the request: [`JsonBody::into_inner`]
        /// decodes and validates them, so that the handler checks authentication first and an
        /// anonymous request costs no validation.
        #[derive(Debug)]
        pub struct JsonBody<T> {
            raw: ::spec_runtime::RawBody,
            body: ::std::marker::PhantomData<fn() -> T>,
        }

        impl<T: RequestBody> JsonBody<T> {
            /// The body as received; `None` when it could not be read (e.g. too large).
            pub fn bytes(&self) -> ::std::option::Option<&[u8]> {
                self.raw.bytes()
            }

            /// The body, or why it was rejected (malformed, too large, or invalid).
            pub fn into_inner(self) -> ::std::result::Result<T, ::spec_runtime::Rejection> {
                self.raw.decode(T::validator())
            }
        }

        #[::async_trait::async_trait]
        impl<T: RequestBody> ::dropshot::ExclusiveExtractor for JsonBody<T> {
            async fn from_request<C: ::dropshot::ServerContext>(
                rqctx: &::dropshot::RequestContext<C>,
                request: ::http::Request<::dropshot::Body>,
            ) -> ::std::result::Result<Self, ::dropshot::HttpError> {
                let raw = ::spec_runtime::read_body(rqctx, request).await;
                Ok(JsonBody { raw, body: ::std::marker::PhantomData })
            }

            /// Described exactly as dropshot describes a `TypedBody` of the same type.
            fn metadata(content_type: ::dropshot::ApiEndpointBodyContentType) -> ::dropshot::ExtractorMetadata {
                <::dropshot::TypedBody<T> as ::dropshot::ExclusiveExtractor>::metadata(content_type)
            }
        }

        #(#items)*

        #[doc = #trait_doc]
        #[::dropshot::api_description]
        pub trait #trait_name {
            /// State shared by every request.
            type Context: Send + Sync + 'static;

            #(#methods)*
        }
    };
    crate::render(tokens, settings, spec)
}

/// The items (parameter structs) and the trait method for one operation.
fn operation(op: &Operation, types: &TokenStream) -> (Vec<TokenStream>, TokenStream) {
    let mut items = Vec::new();
    let mut args = Vec::new();

    for (location, suffix, arg) in [
        (Location::Path, "Path", "path"),
        (Location::Query, "Query", "query"),
        (Location::Header, "Headers", "headers"),
    ] {
        let params: Vec<&Param> = op
            .params
            .iter()
            .filter(|p| p.location == location)
            .collect();
        if params.is_empty() {
            continue;
        }
        let name = format_ident!("{}", op.item_name(suffix));
        items.push(param_set(op, &name, location, &params, types));
        let arg = format_ident!("{arg}");
        args.push(quote! { #arg: ::spec_runtime::Params<#name> });
    }
    if let Some(body) = &op.body {
        let ty = format_ident!("{}", body.schema.to_upper_camel_case());
        args.push(quote! { body: JsonBody<#types::#ty> });
    }

    let success = &op.success;
    let content = success.schema.as_ref().map(|s| {
        let ty = format_ident!("{}", s.to_upper_camel_case());
        quote! { #types::#ty }
    });
    let mut response = match (success.status, content) {
        (200, Some(ty)) => quote! { ::dropshot::HttpResponseOk<#ty> },
        (201, Some(ty)) => quote! { ::dropshot::HttpResponseCreated<#ty> },
        (202, Some(ty)) => quote! { ::dropshot::HttpResponseAccepted<#ty> },
        _ if op.method == "DELETE" => quote! { ::dropshot::HttpResponseDeleted },
        _ => quote! { ::dropshot::HttpResponseUpdatedNoContent },
    };
    if !success.headers.is_empty() {
        let name = format_ident!("{}", op.item_name("ResponseHeaders"));
        let fields = success.headers.iter().map(|h| {
            let field = field_ident(&h.name);
            let wire = &h.name;
            let doc = doc_attr(h.description.as_deref());
            if h.required {
                quote! { #doc #[serde(rename = #wire)] pub #field: ::std::string::String, }
            } else {
                quote! { #doc #[serde(rename = #wire, skip_serializing_if = "Option::is_none")] pub #field: ::std::option::Option<::std::string::String>, }
            }
        });
        let doc = format!("Headers of the success response of `{}`.", op.id);
        items.push(quote! {
            #[doc = #doc]
            #[derive(Clone, Debug, Default, ::serde::Serialize, ::schemars::JsonSchema)]
            pub struct #name { #(#fields)* }
        });
        response = quote! { ::dropshot::HttpResponseHeaders<#response, #name> };
    }

    let method = Ident::new(&op.method, Span::call_site());
    let path = &op.path;
    let id = &op.id;
    let tags = &op.tags;
    let fn_name = format_ident!("{}", op.fn_name);
    let doc = match (&op.summary, &op.description) {
        (Some(summary), Some(description)) => format!("{summary}\n\n{}", description.trim_end()),
        (Some(text), None) | (None, Some(text)) => text.trim_end().to_string(),
        (None, None) => String::new(),
    };
    let doc_lines = doc.lines().map(|line| {
        let line = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        quote! { #[doc = #line] }
    });
    let method = quote! {
        #(#doc_lines)*
        #[endpoint { method = #method, path = #path, operation_id = #id, tags = [#(#tags),*] }]
        async fn #fn_name(
            rqctx: ::dropshot::RequestContext<Self::Context>,
            #(#args,)*
        ) -> ::std::result::Result<#response, ApiError>;
    };
    (items, method)
}

/// A query or header parameter struct with its `ParamSet` impl and validators.
///
/// The struct's `JsonSchema` is what dropshot describes in the derived document: each field's
/// schema comes from its Rust type with the spec's constraints merged on top (`schema_with`).
fn param_set(
    op: &Operation,
    name: &Ident,
    location: Location,
    params: &[&Param],
    types: &TokenStream,
) -> TokenStream {
    let loc = location.as_str();
    let loc_variant = match location {
        Location::Path => quote! { ::spec_runtime::ParamLocation::Path },
        Location::Query => quote! { ::spec_runtime::ParamLocation::Query },
        Location::Header => quote! { ::spec_runtime::ParamLocation::Header },
    };
    let mut fields = Vec::new();
    let mut reads = Vec::new();
    let mut inits = Vec::new();
    let mut helpers = Vec::new();
    for param in params {
        let field = field_ident(&param.name);
        let schema_fn = format_ident!("{}", op.helper_name(location, &param.name, "schema"));
        let schema_fn_path = schema_fn.to_string();
        let wire = &param.name;
        let doc = doc_attr(param.description.as_deref());
        let required = param.required;
        match &param.ty {
            ParamType::Array(item) => {
                let item_ty = rust_type(item, types);
                let items_schema = param.schema.get("items").cloned().unwrap_or(Value::Null);
                let item_validator = raw_string(&json_schema::convert(&items_schema).to_string());
                let array_only = without(&param.schema, &["items"]);
                let array_validator = raw_string(&json_schema::convert(&array_only).to_string());
                let item_constraints = raw_string(&constraints(&items_schema).to_string());
                let array_constraints = raw_string(&constraints(&param.schema).to_string());
                fields.push(quote! {
                    #doc
                    #[serde(rename = #wire, default)]
                    #[schemars(schema_with = #schema_fn_path)]
                    pub #field: ::std::vec::Vec<#item_ty>,
                });
                helpers.push(quote! {
                    fn #schema_fn(generator: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                        ::spec_runtime::param_schema::<#item_ty>(generator, #item_constraints, Some(#array_constraints))
                    }
                });
                reads.push(quote! {
                    let #field = {
                        static ITEM: ::std::sync::LazyLock<::spec_runtime::jsonschema::Validator> =
                            ::std::sync::LazyLock::new(|| ::spec_runtime::compile_validator(#item_validator, SCHEMA_DEFINITIONS));
                        static ARRAY: ::std::sync::LazyLock<::spec_runtime::jsonschema::Validator> =
                            ::std::sync::LazyLock::new(|| ::spec_runtime::compile_validator(#array_validator, SCHEMA_DEFINITIONS));
                        reader.repeated::<#item_ty>(#loc, #wire, &ITEM, &ARRAY)
                    };
                });
                inits.push(quote! { #field, });
            }
            ty => {
                let inner = rust_type(ty, types);
                let validator = raw_string(&json_schema::convert(&param.schema).to_string());
                let param_constraints = raw_string(&constraints(&param.schema).to_string());
                helpers.push(quote! {
                    fn #schema_fn(generator: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                        ::spec_runtime::param_schema::<#inner>(generator, #param_constraints, None)
                    }
                });
                reads.push(quote! {
                    let #field = {
                        static VALIDATOR: ::std::sync::LazyLock<::spec_runtime::jsonschema::Validator> =
                            ::std::sync::LazyLock::new(|| ::spec_runtime::compile_validator(#validator, SCHEMA_DEFINITIONS));
                        reader.single::<#inner>(#loc, #wire, #required, &VALIDATOR)
                    };
                });
                let default = param
                    .schema
                    .get("default")
                    .filter(|_| !required)
                    .map(|d| raw_string(&d.to_string()));
                match default {
                    _ if required => {
                        fields.push(quote! {
                            #doc
                            #[serde(rename = #wire)]
                            #[schemars(schema_with = #schema_fn_path)]
                            pub #field: #inner,
                        });
                        inits.push(quote! { #field: #field?, });
                    }
                    Some(default) => {
                        let default_fn =
                            format_ident!("{}", op.helper_name(location, &param.name, "default"));
                        let default_fn_path = default_fn.to_string();
                        helpers.push(quote! {
                            fn #default_fn() -> #inner {
                                ::spec_runtime::serde_json::from_str(#default).expect("the spec's default parses")
                            }
                        });
                        fields.push(quote! {
                            #doc
                            #[serde(rename = #wire, default = #default_fn_path)]
                            #[schemars(schema_with = #schema_fn_path)]
                            pub #field: #inner,
                        });
                        inits.push(quote! { #field: #field.unwrap_or_else(#default_fn), });
                    }
                    None => {
                        fields.push(quote! {
                            #doc
                            #[serde(rename = #wire, default)]
                            #[schemars(schema_with = #schema_fn_path)]
                            pub #field: ::std::option::Option<#inner>,
                        });
                        inits.push(quote! { #field, });
                    }
                }
            }
        }
    }
    let doc = format!("The {loc} parameters of `{}`.", op.id);
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, ::serde::Deserialize, ::schemars::JsonSchema)]
        pub struct #name { #(#fields)* }

        impl ::spec_runtime::ParamSet for #name {
            const LOCATION: ::spec_runtime::ParamLocation = #loc_variant;

            fn parse(reader: &mut ::spec_runtime::ParamReader) -> ::std::option::Option<Self> {
                #(#reads)*
                Some(Self { #(#inits)* })
            }
        }

        #(#helpers)*
    }
}

/// The Rust type a parameter parses into.
fn rust_type(ty: &ParamType, types: &TokenStream) -> TokenStream {
    match ty {
        ParamType::String => quote! { ::std::string::String },
        ParamType::Uuid => quote! { ::uuid::Uuid },
        ParamType::DateTime => quote! { ::chrono::DateTime<::chrono::Utc> },
        ParamType::Integer(name) => {
            let ident = format_ident!("{name}");
            quote! { #ident }
        }
        ParamType::Number => quote! { f64 },
        ParamType::Boolean => quote! { bool },
        ParamType::Named(name) => {
            let ident = format_ident!("{}", name.to_upper_camel_case());
            quote! { #types::#ident }
        }
        ParamType::Array(item) => {
            let item = rust_type(item, types);
            quote! { ::std::vec::Vec<#item> }
        }
    }
}

/// The schema keywords the Rust type does not already state, as a JSON object.
fn constraints(schema: &Value) -> Value {
    if schema.get("$ref").is_some() {
        return Value::Object(Map::new());
    }
    without(schema, &NOT_CONSTRAINTS)
}

fn without(schema: &Value, keys: &[&str]) -> Value {
    match schema {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .filter(|(k, _)| !keys.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn doc_attr(text: Option<&str>) -> TokenStream {
    match text {
        Some(text) => {
            let lines = text.trim_end().lines().map(|line| {
                let line = if line.is_empty() {
                    String::new()
                } else {
                    format!(" {line}")
                };
                quote! { #[doc = #line] }
            });
            quote! { #(#lines)* }
        }
        None => quote! {},
    }
}

/// The struct field of a parameter or response header.
fn field_ident(name: &str) -> Ident {
    model::field_ident(name).expect("model.rs refuses names that make no Rust field")
}

fn path_tokens(path: &str) -> TokenStream {
    path.parse().expect("a Rust path")
}

/// A raw string literal, with enough `#`s that `text` cannot end it.
pub(crate) fn raw_string(text: &str) -> TokenStream {
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{text}\"{hashes}")
        .parse()
        .expect("a raw string literal")
}
