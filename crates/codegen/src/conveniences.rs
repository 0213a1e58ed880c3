//! Client conveniences from the spec's conventions (see [`crate::conventions`]): for every
//! operation that takes the idempotency key header, a retry-safe method on `Retrying` (one key
//! per logical call, reused across attempts); for every list that declares `x-paged: true`, a
//! stream over all its pages with its filters as builder methods.
//!
//! The machinery they call (the retry policy, the page walker, the error type) is hand-written
//! in the client crate, which names where it is (`client-conveniences` in the manifest, a Rust
//! path such as `crate`): there `Retrying` (with `write` and `client`), `Retried`,
//! `retry::convert`, `paging::walk`, `paging::Page`, `paging::DEFAULT_PAGE_SIZE` (the page size
//! of a list whose `limit` has neither a default nor a maximum), `RetryPolicy`
//! and `ApiError`. What is generated here names operations; what is written there does not.
//!
//! Each method's parameter types are read from progenitor's builder for the operation, so that
//! the wrappers accept what the builders accept.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;
use syn::{Fields, GenericArgument, Item, PathArguments, ReturnType, Type};

use crate::SpecError;
use crate::api::doc_lines;
use crate::conventions::{Conventions, Paging};
use crate::model::{Api, Location, Operation, ParamType};
use crate::naming;
use crate::normalize::Normalized;
use crate::pointer::Pointer;

/// The extra items of the client, appended to progenitor's: none without `machinery` (the
/// spec's conventions are still checked, so that a spec is refused or accepted alike).
pub fn generate(
    normalized: &Normalized<'_>,
    api: &Api,
    conventions: &Conventions,
    client: &TokenStream,
    machinery: Option<&str>,
) -> Result<TokenStream, SpecError> {
    // Which operations get a convenience, and under which name of the key header.
    let mut keyed = Vec::new();
    let mut paged = Vec::new();
    for op in api.operations.iter().filter(|op| !op.websocket) {
        if let Some(idempotency) = &conventions.idempotency
            && let Some(key) = op
                .params_in(Location::Header)
                .into_iter()
                .find(|p| p.name.eq_ignore_ascii_case(&idempotency.key_header))
        {
            keyed.push((op, key));
        }
        let marker = op.name.pointer().join("x-paged");
        match normalized.doc.pointer(marker.as_str()) {
            None | Some(Value::Bool(false)) => {}
            Some(Value::Bool(true)) => match &conventions.paging {
                Some(paging) => paged.push((op, paging)),
                None => {
                    return Err(SpecError::invalid(
                        normalized,
                        &marker,
                        "`x-paged: true` needs the paging convention, `x-conventions.paging`, \
                         declared at the document's top level",
                    ));
                }
            },
            Some(_) => {
                return Err(SpecError::invalid(
                    normalized,
                    &marker,
                    "`x-paged` must be `true` or `false`",
                ));
            }
        }
    }
    if keyed.is_empty() && paged.is_empty() {
        return Ok(TokenStream::new());
    }
    let m: TokenStream =
        machinery
            .unwrap_or("crate")
            .parse()
            .map_err(|error| SpecError::Generator {
                path: normalized.spec.path.clone(),
                message: format!("client-conveniences `{machinery:?}` is not a Rust path: {error}"),
            })?;
    let file: syn::File = syn::parse2(client.clone()).map_err(|error| SpecError::Generator {
        path: normalized.spec.path.clone(),
        message: format!("progenitor's client does not parse: {error}"),
    })?;
    let builders = Builders::of(&file);
    let builder = |op: &Operation| builders.get(&naming::pascal(&op.name.fn_name));
    let mut writes = Vec::new();
    for (op, key) in keyed {
        if let Some(method) = builder(op).and_then(|builder| write(op, builder, key, &m)) {
            writes.push(method);
        }
    }
    let mut streams = Vec::new();
    for (op, paging) in paged {
        if let Some(builder) = builder(op) {
            streams.extend(stream(normalized, op, builder, paging, &m)?);
        }
    }
    if machinery.is_none() {
        return Ok(TokenStream::new());
    }
    let writes = (!writes.is_empty()).then(|| {
        quote! {
            /// Retry-safe writes: each operation that takes the idempotency key, retried under
            /// one key for all its attempts (see `Retrying`).
            impl<'a> #m::Retrying<'a> {
                #(#writes)*
            }
        }
    });
    Ok(quote! {
        #writes
        #(#streams)*
    })
}

/// What progenitor's builder of one operation takes.
struct Builder {
    /// Each setter's field and the type it holds (`T` of `Result<T, String>`).
    fields: Vec<(String, Type)>,
    /// The body's type (what `body` converts into), when the operation has one.
    body: Option<Type>,
    /// `T` of `send`'s `ResponseValue<T>`.
    success: Type,
}

struct Builders(Vec<(String, Builder)>);

impl Builders {
    fn of(file: &syn::File) -> Self {
        let mut structs: Vec<(String, Vec<(String, Type)>)> = Vec::new();
        let mut out = Vec::new();
        for item in &file.items {
            let Item::Mod(module) = item else { continue };
            if module.ident != "builder" {
                continue;
            }
            let Some((_, items)) = &module.content else {
                continue;
            };
            for item in items {
                if let Item::Struct(item) = item
                    && let Fields::Named(fields) = &item.fields
                {
                    let fields = fields
                        .named
                        .iter()
                        .filter_map(|f| {
                            let name = f.ident.as_ref()?.to_string();
                            Some((name, first_argument(&f.ty)?))
                        })
                        .collect();
                    structs.push((item.ident.to_string(), fields));
                }
            }
            for item in items {
                let Item::Impl(block) = item else { continue };
                let Type::Path(path) = &*block.self_ty else {
                    continue;
                };
                let Some(name) = path.path.segments.last().map(|s| s.ident.to_string()) else {
                    continue;
                };
                let Some((_, fields)) = structs.iter().find(|(n, _)| *n == name) else {
                    continue;
                };
                let mut body = None;
                let mut success = None;
                for entry in &block.items {
                    let syn::ImplItem::Fn(method) = entry else {
                        continue;
                    };
                    if method.sig.ident == "body" {
                        body = method
                            .sig
                            .generics
                            .where_clause
                            .as_ref()
                            .and_then(|clause| {
                                clause
                                    .predicates
                                    .iter()
                                    .find_map(|predicate| match predicate {
                                        syn::WherePredicate::Type(bound) => {
                                            bound.bounds.iter().find_map(|b| match b {
                                                syn::TypeParamBound::Trait(t) => {
                                                    let last = t.path.segments.last()?;
                                                    (last.ident == "TryInto")
                                                        .then(|| generic_type(&last.arguments))
                                                        .flatten()
                                                }
                                                _ => None,
                                            })
                                        }
                                        _ => None,
                                    })
                            });
                    }
                    if method.sig.ident == "send"
                        && let ReturnType::Type(_, ty) = &method.sig.output
                    {
                        // Result<ResponseValue<T>, Error<E>>
                        success = first_argument(ty).and_then(|value| first_argument(&value));
                    }
                }
                if let Some(success) = success {
                    out.push((
                        name,
                        Builder {
                            fields: fields
                                .iter()
                                .filter(|(n, _)| n != "client")
                                .cloned()
                                .collect(),
                            body,
                            success,
                        },
                    ));
                }
            }
        }
        Self(out)
    }

    fn get(&self, name: &str) -> Option<&Builder> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, b)| b)
    }
}

impl Builder {
    /// The type a field holds, without the `Option` of an optional parameter.
    fn field(&self, name: &str) -> Option<(Type, bool)> {
        let (_, ty) = self.fields.iter().find(|(n, _)| n == name)?;
        match option_of(ty) {
            Some(inner) => Some((inner, true)),
            None => Some((ty.clone(), false)),
        }
    }
}

/// `T` of `Name<T, ...>`.
fn first_argument(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    generic_type(&path.path.segments.last()?.arguments)
}

fn generic_type(arguments: &PathArguments) -> Option<Type> {
    let PathArguments::AngleBracketed(arguments) = arguments else {
        return None;
    };
    arguments.args.iter().find_map(|a| match a {
        GenericArgument::Type(ty) => Some(ty.clone()),
        _ => None,
    })
}

/// `T` of `Option<T>`.
fn option_of(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    (last.ident == "Option")
        .then(|| generic_type(&last.arguments))
        .flatten()
}

/// `T` of `Vec<T>`.
fn vec_of(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    (last.ident == "Vec")
        .then(|| generic_type(&last.arguments))
        .flatten()
}

/// Whether a parameter is text in the spec (whatever newtype its constraints give it in the
/// client): the conveniences take any text for it and let the builder check it.
fn is_text(param: &crate::model::Param) -> bool {
    param.ty == ParamType::String
}

/// The last segment's name of a type (`NonZeroU64` of `::std::num::NonZeroU64`).
fn type_name(ty: &Type) -> String {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// A page size (`u32`, bound `limit`) as what the builder's `limit` setter converts from.
fn page_size_as(ty: &Type, limit: &syn::Ident) -> TokenStream {
    match type_name(ty).as_str() {
        "NonZeroU32" | "u32" => quote! { #limit },
        "NonZeroI64" => quote! { i64::from(#limit) },
        "f64" | "f32" => quote! { f64::from(#limit) },
        _ => quote! { u64::from(#limit) },
    }
}

/// Names the generated code binds itself, which a parameter's local name must not shadow.
const RESERVED: &[&str] = &[
    "body",
    "client",
    "cursor",
    "fetch",
    "key",
    "limit",
    "offset",
    "page",
    "page_size",
    "policy",
    "request",
    "retry_policy",
    "stream",
    "value",
    "values",
];

/// One parameter of a convenience, and the builder setter it goes to.
struct Arg {
    /// Its name in the convenience (the setter's, unless that is [`RESERVED`]).
    local: syn::Ident,
    /// progenitor's setter (and field) for it.
    setter: syn::Ident,
    /// What the builder holds, without the `Option` of an optional parameter.
    ty: Type,
    /// Text in the spec: taken as any text (see [`is_text`]).
    text: bool,
}

impl Arg {
    /// The argument of `param`, when progenitor's builder has a setter for it.
    fn of(param: &crate::model::Param, builder: &Builder) -> Option<Self> {
        let snake = naming::snake(&param.name);
        // progenitor suffixes keywords and other reserved words with `_`.
        let (field, (ty, _)) = [snake.clone(), format!("{snake}_")]
            .into_iter()
            .find_map(|name| Some((name.clone(), builder.field(&name)?)))?;
        let local = match RESERVED.contains(&field.as_str()) {
            true => format!("{field}_param"),
            false => field.clone(),
        };
        Some(Self {
            local: format_ident!("{local}"),
            setter: format_ident!("{field}"),
            ty,
            text: is_text(param),
        })
    }

    /// The convenience's parameter.
    fn parameter(&self) -> TokenStream {
        let Self { local, ty, .. } = self;
        match self.text {
            // Anything with a text form (an id as a `Uuid`, say).
            true => quote! { #local: impl ::std::string::ToString },
            false => quote! { #local: #ty },
        }
    }

    /// What the convenience keeps of it, as a struct field.
    fn field(&self) -> TokenStream {
        let Self { local, ty, .. } = self;
        match self.text {
            true => quote! { #local: ::std::string::String },
            false => quote! { #local: #ty },
        }
    }

    /// Turns the parameter into what it keeps.
    fn prepare(&self) -> TokenStream {
        let local = &self.local;
        match self.text {
            true => quote! { let #local = #local.to_string(); },
            false => quote! {},
        }
    }

    /// The builder call that passes it, on every attempt.
    fn call(&self) -> TokenStream {
        let Self { local, setter, .. } = self;
        match self.text {
            true => quote! { .#setter(#local.as_str()) },
            false => quote! { .#setter(#local.clone()) },
        }
    }
}

/// The arguments of a convenience: an operation's path parameters and its other required
/// parameters but `except` (the key header, which the convenience sets); none when
/// progenitor's builder lacks a setter for one.
fn arguments(op: &Operation, builder: &Builder, except: Option<&str>) -> Option<Vec<Arg>> {
    op.params
        .iter()
        .filter(|p| p.location == Location::Path || p.required)
        .filter(|p| except.is_none_or(|name| !p.name.eq_ignore_ascii_case(name)))
        .map(|param| Arg::of(param, builder))
        .collect()
}

/// The retry-safe method of one keyed write.
fn write(
    op: &Operation,
    builder: &Builder,
    key: &crate::model::Param,
    m: &TokenStream,
) -> Option<TokenStream> {
    let method = format_ident!("{}", op.name.fn_name);
    let arguments = arguments(op, builder, Some(&key.name))?;
    let key = Arg::of(key, builder)?.setter;
    let success = &builder.success;
    let mut args: Vec<TokenStream> = arguments.iter().map(Arg::parameter).collect();
    let prepare = arguments.iter().map(Arg::prepare);
    let calls = arguments.iter().map(Arg::call);
    let doc = format!(" `{}`, retried under one idempotency key.", op.name.id);
    let (generics, bounds, body_prepare, body_call) = match &builder.body {
        Some(body) => {
            let name = quote!(#body).to_string().replace(' ', "");
            let name = name.rsplit("::").next().unwrap_or(&name).to_string();
            args.push(quote! { body: B });
            (
                quote! { <B> },
                quote! {
                    where
                        B: ::std::convert::TryInto<#body>,
                        B::Error: ::std::fmt::Display,
                },
                quote! { let body = #m::retry::convert(body, #name)?; },
                quote! { .body(body.clone()) },
            )
        }
        None => (quote! {}, quote! {}, quote! {}, quote! {}),
    };
    Some(quote! {
        #[doc = #doc]
        pub async fn #method #generics(&self, #(#args),*) -> #m::Retried<#success>
        #bounds
        {
            #body_prepare
            #(#prepare)*
            let client = self.client();
            self.write(|key| {
                client
                    .#method()
                    #(#calls)*
                    .#key(key)
                    #body_call
                    .send()
            })
            .await
        }
    })
}

/// A JSON pointer into a page's body as the Rust field path typify gives it.
fn field_path(pointer: &str) -> TokenStream {
    let fields = Pointer::parse(pointer)
        .segments()
        .into_iter()
        .map(|segment| format_ident!("{}", naming::snake(&segment)))
        .collect::<Vec<_>>();
    quote! { #(.#fields)* }
}

/// The stream (and its builder) of one paged list.
fn stream(
    normalized: &Normalized<'_>,
    op: &Operation,
    builder: &Builder,
    paging: &Paging,
    m: &TokenStream,
) -> Result<Option<TokenStream>, SpecError> {
    let at = op.name.pointer().join("x-paged");
    let missing = |what: &str| {
        SpecError::invalid(
            normalized,
            &at,
            format!("a paged list needs the query parameter `{what}` the paging convention names"),
        )
    };
    let has = |name: &str| {
        op.params
            .iter()
            .any(|p| p.location == Location::Query && p.name == name)
    };
    for name in [&paging.limit, &paging.offset] {
        if !has(name) {
            return Err(missing(name));
        }
    }
    let cursor = paging.cursor.as_ref().filter(|c| has(c));
    // The item type: the `items` of the 200 body's schema, an array of one named schema.
    let item = item_type(normalized, op, &paging.items).ok_or_else(|| {
        SpecError::invalid(
            normalized,
            &at,
            format!(
                "a paged list's 200 body must have, at `{}`, an array of a named schema",
                paging.items
            ),
        )
    })?;
    let item = format_ident!("{item}");
    let name = op.name.fn_name.strip_prefix("list_").map_or_else(
        || format!("all_{}", op.name.fn_name),
        |rest| format!("all_{rest}"),
    );
    let method = format_ident!("{name}");
    let builder_name = format_ident!("{}", naming::pascal(&name));
    let list = format_ident!("{}", op.name.fn_name);
    let Some(arguments) = arguments(op, builder, None) else {
        return Ok(None);
    };
    let args: Vec<TokenStream> = arguments.iter().map(Arg::parameter).collect();
    let prepare: Vec<TokenStream> = arguments.iter().map(Arg::prepare).collect();
    let calls: Vec<TokenStream> = arguments.iter().map(Arg::call).collect();
    let arg_fields: Vec<TokenStream> = arguments.iter().map(Arg::field).collect();
    let bind_args: Vec<&syn::Ident> = arguments.iter().map(|a| &a.local).collect();
    // The filters: every other optional query parameter, each a method of the stream's builder
    // (named as the parameter, unless that name is taken).
    let skip = [Some(&paging.limit), Some(&paging.offset), cursor];
    let mut filter_fields = Vec::new();
    let mut filter_inits = Vec::new();
    let mut setters = Vec::new();
    let mut applies = Vec::new();
    let mut names = Vec::new();
    for param in op
        .params
        .iter()
        .filter(|p| p.location == Location::Query && !p.required)
        .filter(|p| !skip.contains(&Some(&p.name)))
    {
        let Some(Arg {
            local: ident,
            setter,
            ty,
            text,
        }) = Arg::of(param, builder)
        else {
            continue;
        };
        let doc = doc_lines(&match &param.description {
            Some(description) => format!("`{}`: {}", param.name, description.trim()),
            None => format!("Only the items `{}` selects.", param.name),
        });
        names.push(ident.clone());
        match vec_of(&ty) {
            Some(element) => {
                let field = ident.to_string();
                let plural = if field.ends_with('s') {
                    format_ident!("{field}_all")
                } else {
                    format_ident!("{field}s")
                };
                filter_fields.push(quote! { #ident: #ty });
                filter_inits.push(quote! { #ident: ::std::vec::Vec::new() });
                setters.push(quote! {
                    #doc
                    pub fn #ident(mut self, value: impl ::std::convert::Into<#element>) -> Self {
                        self.#ident.push(value.into());
                        self
                    }
                    #doc
                    pub fn #plural<V: ::std::convert::Into<#element>>(mut self, values: impl ::std::iter::IntoIterator<Item = V>) -> Self {
                        self.#ident.extend(values.into_iter().map(::std::convert::Into::into));
                        self
                    }
                });
                applies.push(quote! {
                    if !#ident.is_empty() {
                        request = request.#setter(#ident.clone());
                    }
                });
            }
            None => {
                let (held, pass) = match text {
                    true => (quote! { ::std::string::String }, quote! { value.as_str() }),
                    false => (quote! { #ty }, quote! { value.clone() }),
                };
                filter_fields.push(quote! { #ident: ::std::option::Option<#held> });
                filter_inits.push(quote! { #ident: ::std::option::Option::None });
                setters.push(quote! {
                    #doc
                    pub fn #ident(mut self, value: impl ::std::convert::Into<#held>) -> Self {
                        self.#ident = ::std::option::Option::Some(value.into());
                        self
                    }
                });
                applies.push(quote! {
                    if let ::std::option::Option::Some(value) = &#ident {
                        request = request.#setter(#pass);
                    }
                });
            }
        }
    }
    let query = |name: &str| {
        op.params
            .iter()
            .find(|p| p.location == Location::Query && p.name == name)
            .and_then(|param| Arg::of(param, builder))
    };
    let (Some(limit), Some(offset)) = (query(&paging.limit), query(&paging.offset)) else {
        return Ok(None);
    };
    let page_size = page_size_as(&limit.ty, &format_ident!("limit"));
    let (limit, offset) = (limit.setter, offset.setter);
    let cursor_setter = cursor.and_then(|c| query(c)).map(|arg| arg.setter);
    let apply_cursor = cursor_setter.map(|c| {
        quote! {
            if let ::std::option::Option::Some(cursor) = cursor {
                request = request.#c(cursor);
            }
        }
    });
    let items = field_path(&paging.items);
    let total = field_path(&paging.total);
    let position = match &paging.position {
        Some(p) => {
            let p = field_path(p);
            quote! { ::std::option::Option::Some(page #p as i64) }
        }
        None => quote! { ::std::option::Option::None },
    };
    let next_cursor = match (&paging.next_cursor, cursor) {
        (Some(p), Some(_)) => {
            let p = field_path(p);
            quote! { page #p.map(|cursor| cursor.to_string()) }
        }
        _ => quote! { ::std::option::Option::None },
    };
    // The default page size: the spec's default `limit`, else its largest, else the machinery's.
    let limit_schema = op
        .params
        .iter()
        .find(|p| p.location == Location::Query && p.name == paging.limit)
        .map(|p| &p.schema);
    let spec_page_size = limit_schema.and_then(|schema| {
        ["default", "maximum"].iter().find_map(|key| {
            let value = schema.get(key)?.as_u64()?;
            u32::try_from(value).ok().filter(|v| *v > 0)
        })
    });
    let (default_page_size, default_doc) = match spec_page_size {
        Some(size) => (quote! { #size }, size.to_string()),
        None => (
            quote! { #m::paging::DEFAULT_PAGE_SIZE },
            "`paging::DEFAULT_PAGE_SIZE`".to_string(),
        ),
    };
    let page_size_doc = doc_lines(&format!(
        "Items per request (the `{}` of each page; default {default_doc}).",
        paging.limit
    ));
    let doc_method = format!(
        " Every item of `{}` (optionally filtered, as it filters), as a stream: see `{}`.",
        op.name.id, builder_name
    );
    let doc_struct = doc_lines(&format!(
        "The items of `{}` to stream: made by `Client::{name}`, consumed by `stream`.\n\n\
         Pages after the first are asked for by the cursor the one before gave (by offset when\n\
         it gave none); the stream yields the items that existed when it started, each once.",
        op.name.id
    ));
    Ok(Some(quote! {
        impl Client {
            #[doc = #doc_method]
            pub fn #method(&self, #(#args),*) -> #builder_name<'_> {
                #(#prepare)*
                #builder_name {
                    client: self,
                    #(#bind_args,)*
                    #(#filter_inits,)*
                    page_size: #default_page_size,
                    policy: #m::RetryPolicy::default(),
                }
            }
        }

        #doc_struct
        #[derive(Clone, Debug)]
        #[must_use = "call .stream() to read the items"]
        pub struct #builder_name<'a> {
            client: &'a Client,
            #(#arg_fields,)*
            #(#filter_fields,)*
            page_size: u32,
            policy: #m::RetryPolicy,
        }

        impl<'a> #builder_name<'a> {
            #(#setters)*

            #page_size_doc
            pub fn page_size(mut self, page_size: u32) -> Self {
                self.page_size = page_size;
                self
            }

            /// How page requests are retried (default: `RetryPolicy::default`).
            pub fn retry_policy(mut self, policy: #m::RetryPolicy) -> Self {
                self.policy = policy;
                self
            }

            /// The items, each once, in list order.
            pub fn stream(
                self,
            ) -> ::futures::stream::BoxStream<'a, ::std::result::Result<types::#item, #m::ApiError>> {
                let Self { client, #(#bind_args,)* #(#names,)* page_size, policy } = self;
                let fetch = move |offset: i64, limit: u32, cursor: ::std::option::Option<::std::string::String>| {
                    let mut request = client
                        .#list()
                        #(#calls)*
                        .#offset(offset)
                        .#limit(#page_size);
                    #apply_cursor
                    #(#applies)*
                    async move {
                        let page = request.send().await?.into_inner();
                        ::std::result::Result::Ok(#m::paging::Page {
                            position: #position,
                            next_cursor: #next_cursor,
                            total: page #total as i64,
                            items: page #items,
                        })
                    }
                };
                #m::paging::walk(fetch, page_size, policy)
            }
        }
    }))
}

/// The Rust name of the items of a list's 200 body, at `pointer`: an array of a named schema.
fn item_type(normalized: &Normalized<'_>, op: &Operation, pointer: &str) -> Option<String> {
    let doc = &normalized.doc;
    let resolve = |node: &Value| -> Value {
        let mut node = node.clone();
        for _ in 0..8 {
            match node
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
            {
                Some(target) => node = doc.pointer(target).cloned().unwrap_or(Value::Null),
                None => break,
            }
        }
        node
    };
    let schema = doc.pointer(
        op.name
            .pointer()
            .join("responses")
            .join("200")
            .join("content")
            .join("application/json")
            .join("schema")
            .as_str(),
    )?;
    let mut node = resolve(schema);
    for segment in Pointer::parse(pointer).segments() {
        node = resolve(node.get("properties")?.get(&segment)?);
    }
    let items = node.get("items")?;
    let reference = items.get("$ref")?.as_str()?;
    Some(reference.rsplit('/').next()?.to_string())
}
