//! The dropshot API trait: one endpoint per operation, typed extractors for every parameter,
//! a spec-validated body, the success response as the matching dropshot (or `spec_runtime`)
//! type and the operation's error kind as the error type.
//!
//! Everything every API would repeat lives in `spec_runtime`; this file holds what the spec
//! determines, mostly as invocations of its macros.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::errors::{self, KindBody, Strategy};
use crate::media::BodyMedia;
use crate::model::{Api, Content, Location, Operation, Param, ParamType};
use crate::naming;
use crate::{Settings, Spec, SpecError};

pub fn generate(spec: &Spec, api: &Api, settings: &Settings) -> Result<String, SpecError> {
    let types = path_tokens(&settings.types_crate);
    let trait_name = format_ident!("{}", settings.trait_name);
    let definitions = quote! { #types::SCHEMA_DEFINITIONS };

    let kinds = api.kinds.iter().map(|kind| {
        let alias = format_ident!("{}", kind.alias);
        let marker = format_ident!("{}", kind.marker);
        let body = match &kind.body {
            KindBody::None => quote! { ::spec_runtime::NoErrorBody },
            KindBody::One(name) | KindBody::OneOf(name, _) => type_path(name, &types),
        };
        let rejections = kind.rejections.iter().map(|(status, strategy)| {
            let status = proc_macro2::Literal::u16_unsuffixed(*status);
            match strategy {
                Strategy::Template(template) => {
                    let text = raw_string(&template.to_string());
                    quote! { #status = Template(#text) }
                }
                Strategy::Fallback(reason) => quote! { #status = Fallback(#reason) },
            }
        });
        let docs = doc_lines(&errors::describe(kind).join("\n"));
        quote! {
            ::spec_runtime::error_kind! {
                #docs
                #[body(#body)]
                #[rejections(#(#rejections),*)]
                pub type #alias = #marker;
            }
        }
    });

    let shared = Shared::of(api);
    let mut emitted = std::collections::BTreeSet::new();
    let mut items = Vec::new();
    let mut methods = Vec::new();
    for op in &api.operations {
        let (op_items, method) = operation(op, api, &shared, &mut emitted, &types, &definitions);
        items.extend(op_items);
        methods.push(method);
    }

    // The trait's doc, not the methods': dropshot serves a method's doc as its description.
    let mut trait_doc = format!(
        "The API as the spec describes it. Implement it, then serve \
         `{}_mod::api_description::<YourImpl>()`.",
        naming::snake(&settings.trait_name)
    );
    let notes: Vec<String> = api
        .operations
        .iter()
        .flat_map(|op| {
            notes(op)
                .into_iter()
                .map(move |note| format!("- `{}`: {note}", op.name.fn_name))
        })
        .collect();
    if !notes.is_empty() {
        trait_doc.push_str("\n\n# What the spec says that the generated code does not\n\n");
        trait_doc.push_str(&notes.join("\n"));
    }
    let trait_doc = doc_lines(&trait_doc);
    let tokens = quote! {
        #(#kinds)*

        #(#items)*

        #trait_doc
        #[::dropshot::api_description]
        pub trait #trait_name {
            /// State shared by every request.
            type Context: Send + Sync + 'static;

            #(#methods)*
        }
    };
    crate::render(tokens, settings, spec)
}

/// Header parameter sets and response header sets made only of components, each one struct for
/// every operation that has it, named after its components (`IdempotencyKeyHeaders`), not
/// after an operation: what the spec says once exists once.
struct Shared {
    /// Operation id to the name of its header parameter set, and the operations sharing it.
    params: std::collections::BTreeMap<String, (String, Vec<String>)>,
    /// Operation id to the name of its success response's header set, and who shares it.
    responses: std::collections::BTreeMap<String, (String, Vec<String>)>,
}

impl Shared {
    fn of(api: &Api) -> Self {
        // Names an operation's own items have: a shared name must be none of them.
        let mut taken: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for op in &api.operations {
            for suffix in [
                "Path",
                "Query",
                "Headers",
                "ResponseHeaders",
                "Error",
                "ErrorBody",
            ] {
                taken.insert(op.item_name(suffix));
            }
        }
        taken.extend(api.kinds.iter().map(|kind| kind.alias.clone()));
        let name_of = |components: &[Option<String>], suffix: &str| -> Option<String> {
            let names: Option<Vec<String>> = components
                .iter()
                .map(|c| c.as_deref().map(naming::pascal))
                .collect();
            let name = format!("{}{suffix}", names?.concat());
            (!taken.contains(&name)).then_some(name)
        };
        let mut params = std::collections::BTreeMap::new();
        let mut responses = std::collections::BTreeMap::new();
        for op in &api.operations {
            let headers = op.params_in(Location::Header);
            if !headers.is_empty() {
                let components: Vec<Option<String>> =
                    headers.iter().map(|p| p.component()).collect();
                if let Some(name) = name_of(&components, "Headers") {
                    params.insert(op.name.id.clone(), (name, Vec::new()));
                }
            }
            let headers = &op.success.headers;
            if !headers.is_empty() {
                let components: Vec<Option<String>> =
                    headers.iter().map(|h| h.component.clone()).collect();
                if let Some(name) = name_of(&components, "ResponseHeaders") {
                    responses.insert(op.name.id.clone(), (name, Vec::new()));
                }
            }
        }
        // Who shares each set, for its doc.
        for map in [&mut params, &mut responses] {
            let by_name: Vec<(String, String)> = map
                .iter()
                .map(|(op, (name, _))| (name.clone(), op.clone()))
                .collect();
            for (_, (name, sharers)) in map.iter_mut() {
                *sharers = api
                    .operations
                    .iter()
                    .map(|op| op.name.id.clone())
                    .filter(|id| by_name.iter().any(|(n, op)| n == name && op == id))
                    .collect();
            }
        }
        Self { params, responses }
    }
}

/// The items (parameter sets, response headers) and the trait method of one operation.
fn operation(
    op: &Operation,
    api: &Api,
    shared: &Shared,
    emitted: &mut std::collections::BTreeSet<String>,
    types: &TokenStream,
    definitions: &TokenStream,
) -> (Vec<TokenStream>, TokenStream) {
    let mut items = Vec::new();
    let mut args = Vec::new();

    for (location, suffix, arg) in [
        (Location::Path, "Path", "path"),
        (Location::Query, "Query", "query"),
        (Location::Header, "Headers", "headers"),
    ] {
        let params = op.params_in(location);
        if params.is_empty() {
            continue;
        }
        let shared_set = (location == Location::Header)
            .then(|| shared.params.get(&op.name.id))
            .flatten();
        let name = match shared_set {
            Some((name, sharers)) => {
                let ident = format_ident!("{name}");
                if emitted.insert(name.clone()) {
                    let doc = format!(
                        " The header parameters {} (components of the spec), of {}.",
                        components_of(&params),
                        quoted(sharers)
                    );
                    items.push(param_set(
                        &doc,
                        &ident,
                        location,
                        None,
                        &params,
                        types,
                        definitions,
                    ));
                }
                ident
            }
            None => {
                let ident = format_ident!("{}", op.item_name(suffix));
                let doc = format!(" The {} parameters of `{}`.", location.as_str(), op.name.id);
                items.push(param_set(
                    &doc,
                    &ident,
                    location,
                    (location == Location::Path).then_some(op.name.path.as_str()),
                    &params,
                    types,
                    definitions,
                ));
                ident
            }
        };
        let arg = format_ident!("{arg}");
        // A websocket's handler runs after the upgrade, too late to refuse: its parameters
        // are checked before.
        args.push(match op.websocket {
            true => quote! { #arg: ::spec_runtime::StrictParams<#name> },
            false => quote! { #arg: ::spec_runtime::Params<#name> },
        });
    }
    let mut content_type = None;
    if let Some(body) = &op.body {
        let ty = match &body.schema {
            Some(name) => type_path(name, types),
            None => quote! { ::spec_runtime::serde_json::Value },
        };
        args.push(match body.media {
            BodyMedia::Json => quote! { body: ::spec_runtime::JsonBody<#ty> },
            BodyMedia::Form => {
                content_type = Some("application/x-www-form-urlencoded");
                quote! { body: ::spec_runtime::FormBody<#ty> }
            }
            BodyMedia::Multipart => {
                content_type = Some("multipart/form-data");
                quote! { body: ::spec_runtime::FormBody<#ty> }
            }
            BodyMedia::Raw => {
                let name = format_ident!(
                    "{}_MEDIA_TYPES",
                    naming::snake(&op.name.stem).to_uppercase()
                );
                // The generated client sends what is not text as `application/octet-stream`
                // (progenitor sends no other binary media type).
                let mut accepted = body.accepted.clone();
                let text = crate::media::essence(&body.media_type).starts_with("text/");
                if !text && !accepted.iter().any(|m| m == "application/octet-stream") {
                    accepted.push("application/octet-stream".to_string());
                }
                let doc = format!(
                    " The media types the body of `{}` may have: the spec's, and \
                     `application/octet-stream`, as the generated client sends bytes. Pass them \
                     to `RawBody::into_inner`.",
                    op.name.id
                );
                items.push(quote! {
                    #[doc = #doc]
                    pub const #name: &[&str] = &[#(#accepted),*];
                });
                quote! { body: ::spec_runtime::RawBody }
            }
        });
    }

    let method = Ident::new(&op.method, Span::call_site());
    let path = &op.name.path;
    let id = &op.name.id;
    let tags = &op.tags;
    let fn_name = format_ident!("{}", op.name.fn_name);
    let deprecated = op.deprecated.then(|| quote! { deprecated = true, });
    if op.websocket {
        let doc_lines = doc_lines(&docs(op));
        let method = quote! {
            #doc_lines
            #[channel { protocol = WEBSOCKETS, path = #path, operation_id = #id, tags = [#(#tags),*], #deprecated }]
            async fn #fn_name(
                rqctx: ::dropshot::RequestContext<Self::Context>,
                #(#args,)*
                upgraded: ::dropshot::WebsocketConnection,
            ) -> ::dropshot::WebsocketChannelResult;
        };
        return (items, method);
    }
    let (response, header_item) = success_type(op, shared.responses.get(&op.name.id), types);
    // A shared header set is emitted with its first operation.
    if let (Some(item), Some((name, _))) = (&header_item, shared.responses.get(&op.name.id)) {
        if emitted.insert(name.clone()) {
            items.push(item.clone());
        }
    } else {
        items.extend(header_item);
    }
    let error = format_ident!("{}", api.kinds[op.kind].alias);

    let doc_lines = doc_lines(&docs(op));
    let content_type = content_type.map(|c| quote! { content_type = #c, });
    let method = quote! {
        #doc_lines
        #[endpoint { method = #method, path = #path, operation_id = #id, tags = [#(#tags),*], #content_type #deprecated }]
        async fn #fn_name(
            rqctx: ::dropshot::RequestContext<Self::Context>,
            #(#args,)*
        ) -> ::std::result::Result<#response, #error>;
    };
    (items, method)
}

/// An operation's summary and description, as dropshot reads them back: the first line is the
/// summary.
pub(crate) fn docs(op: &Operation) -> String {
    match (&op.summary, &op.description) {
        (Some(summary), Some(description)) => format!("{summary}\n\n{}", description.trim_end()),
        (Some(text), None) | (None, Some(text)) => text.trim_end().to_string(),
        (None, None) => String::new(),
    }
}

/// What an operation's implementer should know beyond its docs.
fn notes(op: &Operation) -> Vec<String> {
    let mut notes = op.notes.clone();
    if op.name.derived {
        notes.push(format!(
            "the spec gives no `operationId`; `{}` is derived from the method and path.",
            op.name.id
        ));
    }
    if op.body.as_ref().is_some_and(|b| b.media == BodyMedia::Raw) {
        notes.push(format!(
            "the body is bytes: `body.into_inner({}_MEDIA_TYPES)` checks their media type.",
            naming::snake(&op.name.stem).to_uppercase()
        ));
    }
    if op.success.statuses.len() > 1 {
        notes.push(format!(
            "the spec documents the success statuses {}; choose one with `Reply::with_status`.",
            op.success
                .statuses
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    notes
}

/// The success type of an operation, and the struct of its response headers if it has any
/// (named `shared`'s name when the set is shared).
fn success_type(
    op: &Operation,
    shared: Option<&(String, Vec<String>)>,
    types: &TokenStream,
) -> (TokenStream, Option<TokenStream>) {
    let success = &op.success;
    let Some(&status) = success.statuses.first() else {
        return (quote! { ::spec_runtime::AnyResponse }, None);
    };
    let body = match &success.content {
        Content::Empty => None,
        Content::Json(Some(name)) => Some(type_path(name, types)),
        Content::Json(None) => Some(quote! { ::spec_runtime::serde_json::Value }),
        Content::Raw => Some(quote! { ::spec_runtime::RawContent }),
    };
    let headers = (!success.headers.is_empty()).then(|| {
        let name = match shared {
            Some((name, _)) => format_ident!("{name}"),
            None => format_ident!("{}", op.item_name("ResponseHeaders")),
        };
        let fields = naming::field_idents(success.headers.iter().map(|h| h.name.as_str()));
        let fields = success.headers.iter().zip(fields).map(|(h, field)| {
            let wire = &h.name;
            let doc = doc_lines(h.description.as_deref().unwrap_or_default());
            let ty = match &h.ty {
                ParamType::String => quote! { ::std::string::String },
                other => {
                    let inner = rust_type(other, types);
                    quote! { ::spec_runtime::Header<#inner> }
                }
            };
            if h.required {
                quote! { #doc #[serde(rename = #wire)] pub #field: #ty, }
            } else {
                quote! { #doc #[serde(rename = #wire, skip_serializing_if = "Option::is_none")] pub #field: ::std::option::Option<#ty>, }
            }
        });
        let doc = match shared {
            Some((_, sharers)) => format!(
                " Headers of the success responses of {} (components of the spec).",
                quoted(sharers)
            ),
            None => format!(" Headers of the success response of `{}`.", op.name.id),
        };
        (
            quote! { #name },
            quote! {
                #[doc = #doc]
                #[derive(Clone, Debug, Default, ::serde::Serialize, ::schemars::JsonSchema)]
                pub struct #name { #(#fields)* }
            },
        )
    });
    let dropshot_status = success.statuses.len() == 1
        && matches!((status, body.is_some()), (200..=202, true) | (204, false))
        && !matches!(success.content, Content::Raw);
    let (header_name, header_item) = match headers {
        Some((name, item)) => (Some(name), Some(item)),
        None => (None, None),
    };
    let response = if dropshot_status {
        let plain = match (status, &body) {
            (200, Some(ty)) => quote! { ::dropshot::HttpResponseOk<#ty> },
            (201, Some(ty)) => quote! { ::dropshot::HttpResponseCreated<#ty> },
            (202, Some(ty)) => quote! { ::dropshot::HttpResponseAccepted<#ty> },
            _ if op.method == "DELETE" => quote! { ::dropshot::HttpResponseDeleted },
            _ => quote! { ::dropshot::HttpResponseUpdatedNoContent },
        };
        match &header_name {
            Some(headers) => quote! { ::dropshot::HttpResponseHeaders<#plain, #headers> },
            None => plain,
        }
    } else {
        let body = body.unwrap_or_else(|| quote! { ::spec_runtime::NoContent });
        match &header_name {
            Some(headers) => quote! { ::spec_runtime::Reply<#status, #body, #headers> },
            None => quote! { ::spec_runtime::Reply<#status, #body> },
        }
    };
    (response, header_item)
}

/// A parameter set: one invocation of `spec_runtime::param_set!`.
fn param_set(
    doc: &str,
    name: &Ident,
    location: Location,
    path: Option<&str>,
    params: &[&Param],
    types: &TokenStream,
    definitions: &TokenStream,
) -> TokenStream {
    let location_variant = match location {
        Location::Path => quote! { Path },
        Location::Query => quote! { Query },
        Location::Header => quote! { Header },
    };
    let fields = naming::field_idents(params.iter().map(|p| p.name.as_str()));
    let fields = params.iter().zip(fields).map(|(param, field)| {
        let wire = &param.name;
        let doc = doc_lines(param.description.as_deref().unwrap_or_default());
        let schema = raw_string(&param.schema.to_string());
        let (ty, how) = match &param.ty {
            ParamType::Array(item) => {
                let item = rust_type(item, types);
                let required = if param.required {
                    quote! { required }
                } else {
                    quote! { optional }
                };
                let delimiter = param.delimiter;
                (
                    quote! { ::std::vec::Vec<#item> },
                    quote! { array(#required, #delimiter) },
                )
            }
            ty => {
                let inner = rust_type(ty, types);
                match param.schema.get("default").filter(|_| !param.required) {
                    _ if param.required => (inner, quote! { required }),
                    Some(default) => {
                        let default = raw_string(&default.to_string());
                        (inner, quote! { default(#default) })
                    }
                    None => (
                        quote! { ::std::option::Option<#inner> },
                        quote! { optional },
                    ),
                }
            }
        };
        quote! {
            #doc
            #[param(#how, #wire, #schema)]
            pub #field: #ty,
        }
    });
    // Path parameters come with the operation's path template, by which they are read from
    // a plain path directly.
    let template = path.map(|path| quote! { , #path });
    quote! {
        ::spec_runtime::param_set! {
            #[doc = #doc]
            #[params(#location_variant, #definitions #template)]
            pub struct #name {
                #(#fields)*
            }
        }
    }
}

/// `` `a`, `b` and `c` ``.
fn quoted(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The wire names of a shared set's parameters.
fn components_of(params: &[&Param]) -> String {
    let names: Vec<String> = params.iter().map(|p| p.name.clone()).collect();
    quoted(&names)
}

/// The Rust type a parameter or header parses into.
fn rust_type(ty: &ParamType, types: &TokenStream) -> TokenStream {
    match ty {
        ParamType::String => quote! { ::std::string::String },
        ParamType::Uuid => quote! { ::uuid::Uuid },
        ParamType::DateTime => quote! { ::chrono::DateTime<::chrono::Utc> },
        ParamType::Date => quote! { ::chrono::NaiveDate },
        ParamType::Integer(name) => {
            let ident = format_ident!("{name}");
            quote! { #ident }
        }
        ParamType::Number => quote! { f64 },
        ParamType::Boolean => quote! { bool },
        ParamType::Named(name) => type_path(name, types),
        ParamType::Array(item) => {
            let item = rust_type(item, types);
            quote! { ::std::vec::Vec<#item> }
        }
    }
}

/// The path of a types-crate type (or of `serde_json::Value` for any JSON).
fn type_path(name: &str, types: &TokenStream) -> TokenStream {
    if name == errors::ANY_JSON {
        return quote! { ::spec_runtime::serde_json::Value };
    }
    let ident = format_ident!("{name}");
    quote! { #types::#ident }
}

/// `#[doc]` attributes, one per line of `text`.
pub(crate) fn doc_lines(text: &str) -> TokenStream {
    let lines = text.trim_end().lines().map(|line| {
        let line = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        quote! { #[doc = #line] }
    });
    if text.trim().is_empty() {
        return quote! {};
    }
    quote! { #(#lines)* }
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
