//! Server-side schema types: typify (through progenitor's type space), with serde and
//! `schemars::JsonSchema`; the spec's schemas as JSON Schema `definitions`; and the types that
//! arrive as request bodies marked as validated by their schema.

use progenitor_impl::{GenerationSettings, Generator, InterfaceStyle};
use quote::{format_ident, quote};

use crate::api::raw_string;
use crate::model::Api;
use crate::normalize::Normalized;
use crate::{Settings, SpecError};

pub fn generate(
    normalized: &Normalized<'_>,
    document: &openapiv3::OpenAPI,
    api: &Api,
    settings: &Settings,
) -> Result<String, SpecError> {
    let types = type_space(normalized, document)?;

    let definitions = raw_string(
        &serde_json::to_string_pretty(&spec_schema::definitions(&normalized.doc)).expect("JSON"),
    );
    let mut bodies: Vec<&str> = api
        .operations
        .iter()
        .filter_map(|op| op.body.as_ref())
        .filter_map(|body| body.schema.as_deref())
        .collect();
    bodies.sort();
    bodies.dedup();
    let validated = (!bodies.is_empty()).then(|| {
        let entries = bodies.iter().map(|name| {
            let ty = format_ident!("{name}");
            quote! { #ty = #name }
        });
        quote! {
            ::spec_schema::validated!(SCHEMA_DEFINITIONS; #(#entries),*);
        }
    });
    crate::render(
        quote! {
            #types

            ::spec_schema::definitions!(#definitions);

            #validated
        },
        settings,
        normalized.spec,
    )
}

/// The Rust types of the document's schemas (typify, through progenitor's type space), with
/// serde and `schemars::JsonSchema`.
pub fn type_space(
    normalized: &Normalized<'_>,
    document: &openapiv3::OpenAPI,
) -> Result<proc_macro2::TokenStream, SpecError> {
    let mut generation = GenerationSettings::new();
    generation
        .with_interface(InterfaceStyle::Positional)
        .with_derive("schemars::JsonSchema")
        // Maps serialize in key order, so responses are byte-stable.
        .with_map_type("::std::collections::BTreeMap");
    let mut generator = Generator::new(&generation);
    crate::client::run_progenitor(normalized, document, &mut generator)?;
    Ok(generator.get_type_space().to_stream())
}
