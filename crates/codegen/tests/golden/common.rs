//! The harness: the corpus, the settings it is generated with, and running the generator.

use std::path::{Path, PathBuf};

use codegen::{Output, Settings, Spec, SpecError};

/// The specs under `tests/corpus/`, each covering one topic. `crates/codegen-golden` compiles
/// their golden outputs and runs their round-trip proofs.
pub const CORPUS: [&str; 10] = [
    "conventions",
    "errors",
    "inline",
    "media",
    "objects",
    "openapi31",
    "parameters",
    "responses",
    "schemas",
    "webhooks",
];

/// The settings every test generates with; `label` names the spec in headers and messages.
/// A corpus spec `name` gets the trait `<Name>Api` and finds its types in the module
/// `<name>_types` of `crates/codegen-golden`.
pub fn settings(label: &str) -> Settings {
    let name = label
        .trim_start_matches("tests/corpus/")
        .trim_end_matches(".yaml");
    let name = if CORPUS.contains(&name) {
        name
    } else {
        "corpus"
    };
    Settings {
        source_label: label.to_string(),
        trait_name: format!("{}Api", codegen::naming::pascal(name)),
        types_crate: format!("crate::{name}_types"),
        client_inner_type: None,
        client_conveniences: (name == "conventions")
            .then(|| "crate::conventions_machinery".to_string()),
    }
}

/// This crate's directory (tests run in it, but paths built from it do not depend on that).
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The label of a corpus spec, as messages and headers show it.
pub fn corpus_label(name: &str) -> String {
    format!("tests/corpus/{name}.yaml")
}

/// The text of a corpus spec.
pub fn corpus_text(name: &str) -> String {
    let path = crate_dir().join(corpus_label(name));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

/// Loads `text` (labelled `label`) and generates all three files from it.
pub fn run(label: &str, text: &str) -> Result<Output, SpecError> {
    let spec: Spec = codegen::load_str(Path::new(label), text)?;
    codegen::generate(&spec, &settings(label))
}
