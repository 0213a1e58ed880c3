//! Server-side schema types: typify (through progenitor's type space), with serde and
//! `schemars::JsonSchema`, and nothing else.

use progenitor_impl::{GenerationSettings, Generator, InterfaceStyle};

use crate::{Settings, Spec, SpecError};

pub fn generate(spec: &Spec, settings: &Settings) -> Result<String, SpecError> {
    let mut generation = GenerationSettings::new();
    generation
        .with_interface(InterfaceStyle::Positional)
        .with_derive("schemars::JsonSchema")
        // Maps serialize in key order, so responses are byte-stable.
        .with_map_type("::std::collections::BTreeMap");
    let mut generator = Generator::new(&generation);
    crate::client::run_progenitor(spec, &mut generator)?;
    crate::render(generator.get_type_space().to_stream(), settings, spec)
}
