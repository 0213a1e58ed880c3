//! The generator: an OpenAPI 3.0 document in, Rust source out.
//!
//! - [`load`] reads and checks a document (JSON or YAML), reporting syntax errors with line and
//!   column and everything else with the JSON pointer of the offending node and its line
//!   ([`SpecError`]).
//! - [`generate`] produces three files: schema types (typify, serde + `schemars::JsonSchema`), a
//!   `#[dropshot::api_description]` trait over those types, and a progenitor client with its own
//!   types.
//! - [`roundtrip`] compares the document dropshot derives from the generated trait with the
//!   source, operation by operation.
//! - [`files`] writes generated files only when they change, or reports drift as a diff.
//!
//! This crate knows nothing about any particular API. It must not depend on generated crates.

mod api;
pub mod breaking;
pub mod changelog;
mod client;
mod conveniences;
mod conventions;
pub mod docs;
mod errors;
pub mod files;
mod load;
mod locate;
mod media;
mod model;
pub mod naming;
mod normalize;
mod openapi31;
mod pointer;
pub mod roundtrip;
mod source;
mod types;
pub mod webhooks;
pub mod workspace;

pub use load::{Spec, SpecError, load, load_str};
pub use source::{Format, Position};

/// What the generated code is called and where it finds its neighbours.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The spec's path as shown in headers and messages, e.g. `openapi/connect.yaml`.
    pub source_label: String,
    /// Name of the generated dropshot trait, e.g. `ConnectApi`.
    pub trait_name: String,
    /// Rust path of the generated types crate, as the API crate names it.
    pub types_crate: String,
    /// Rust path of per-client state the generated client carries (progenitor's inner type),
    /// e.g. `crate::auth::ClientState`. When set, the client crate must implement
    /// `progenitor_client::ClientHooks<ThatType>` for `Client` (its hooks see the state), and
    /// the generated constructors take the state as their last argument.
    pub client_inner_type: Option<String>,
    /// Where the client crate has the machinery the spec's conventions need (a Rust path, such
    /// as `crate` for `connect-client`: its `Retrying`, page walker and error type). When set,
    /// the generated client gets a retry-safe method for every keyed write and a stream for
    /// every paged list (see `conveniences`).
    pub client_conveniences: Option<String>,
}

/// The generated files' contents.
#[derive(Clone, Debug)]
pub struct Output {
    /// `src/generated.rs` of the types crate.
    pub types: String,
    /// `src/generated.rs` of the API crate.
    pub api: String,
    /// `src/generated.rs` of the client crate.
    pub client: String,
    /// `src/generated.rs` of the webhook receiver crate, when the spec has `x-webhooks`
    /// ([`webhooks`]).
    pub webhooks: Option<String>,
    /// `src/docs.html` of the API crate: the API reference page ([`docs::html`]).
    pub docs: String,
    /// What is suspect in the spec but did not stop generation, as `file:line (#/pointer):
    /// message`.
    pub warnings: Vec<String>,
}

/// Generates all three files from a loaded spec.
pub fn generate(spec: &Spec, settings: &Settings) -> Result<Output, SpecError> {
    let mut normalized = normalize::Normalized::new(spec)?;
    let api = model::Api::from_spec(&mut normalized, settings)?;
    let (client_doc, client_warnings) = client::document(&normalized, &api);
    normalized.warnings.extend(client_warnings);
    let document: openapiv3::OpenAPI =
        serde_json::from_value(client_doc).map_err(|error| SpecError::Generator {
            path: spec.path.clone(),
            message: format!("the document prepared for progenitor does not read back: {error}"),
        })?;
    Ok(Output {
        types: types::generate(&normalized, &document, &api, settings)?,
        api: api::generate(spec, &api, settings)?,
        client: client::generate(&normalized, &document, &api, settings)?,
        webhooks: webhooks::receiver(spec, settings)?,
        docs: docs::html(&spec.raw, &settings.source_label),
        warnings: normalized
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect(),
    })
}

/// How the generator names what the spec names: what the round-trip proof needs to find each
/// source schema and operation in the document dropshot derives.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Component schema name in the spec to its Rust type name.
    pub schemas: std::collections::BTreeMap<String, String>,
    /// `(path, method)` of every operation without an `operationId` to the one derived.
    pub derived_ids: std::collections::BTreeMap<(String, String), String>,
}

/// The names the generator gives `spec`'s schemas and operations.
pub fn names(spec: &Spec) -> Result<Names, SpecError> {
    let normalized = normalize::Normalized::new(spec)?;
    Ok(Names {
        schemas: normalized.renames.clone(),
        derived_ids: normalized
            .operations
            .iter()
            .filter(|op| op.derived)
            .map(|op| ((op.path.clone(), op.method.clone()), op.id.clone()))
            .collect(),
    })
}

/// Formats a token stream the same way on every machine (prettyplease is pinned by Cargo.lock),
/// behind the `@generated` header. The body of a macro invocation that reads as items (the
/// `spec_runtime` macros take struct- and alias-shaped input) is formatted as items too.
pub(crate) fn render(
    tokens: proc_macro2::TokenStream,
    settings: &Settings,
    spec: &Spec,
) -> Result<String, SpecError> {
    let file: syn::File = syn::parse2(raw_gen(tokens)).map_err(|error| SpecError::Generator {
        path: spec.path.clone(),
        message: format!("generated code does not parse: {error}"),
    })?;
    let mut out = format!(
        "// @generated by cargo xtask generate from {}. DO NOT EDIT.\n\n",
        settings.source_label
    );
    let mut plain: Vec<syn::Item> = Vec::new();
    let mut template = file.clone();
    template.items.clear();
    let flush = |plain: &mut Vec<syn::Item>, out: &mut String| {
        if !plain.is_empty() {
            let mut part = template.clone();
            part.items = std::mem::take(plain);
            out.push_str(&prettyplease::unparse(&part));
        }
    };
    for item in file.items {
        let body = match &item {
            syn::Item::Macro(mac) if mac.mac.delimiter_is_brace() => {
                syn::parse2::<syn::File>(mac.mac.tokens.clone()).ok()
            }
            _ => None,
        };
        match (body, &item) {
            (Some(body), syn::Item::Macro(mac)) => {
                flush(&mut plain, &mut out);
                let path = quote::ToTokens::to_token_stream(&mac.mac.path)
                    .to_string()
                    .replace(' ', "");
                out.push_str(&format!("{path}! {{\n"));
                for line in prettyplease::unparse(&body).lines() {
                    if line.is_empty() {
                        out.push('\n');
                    } else {
                        out.push_str(&format!("    {line}\n"));
                    }
                }
                out.push_str("}\n");
            }
            _ => plain.push(item),
        }
    }
    flush(&mut plain, &mut out);
    Ok(out)
}

/// typify and progenitor write 2021-edition code, where `gen` is an identifier (schemars'
/// module, a variable); in the 2024 edition it is reserved, and `r#gen` says the same in both.
fn raw_gen(tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    use proc_macro2::{Group, Ident, TokenTree};
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Ident(ident) if ident == "gen" => {
                TokenTree::Ident(Ident::new_raw("gen", ident.span()))
            }
            TokenTree::Group(group) => {
                let mut rebuilt = Group::new(group.delimiter(), raw_gen(group.stream()));
                rebuilt.set_span(group.span());
                TokenTree::Group(rebuilt)
            }
            other => other,
        })
        .collect()
}

/// Whether a macro invocation is `name! { ... }`.
trait BraceDelimited {
    fn delimiter_is_brace(&self) -> bool;
}

impl BraceDelimited for syn::Macro {
    fn delimiter_is_brace(&self) -> bool {
        matches!(self.delimiter, syn::MacroDelimiter::Brace(_))
    }
}
