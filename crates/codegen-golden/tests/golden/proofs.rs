//! The round-trip proof of every corpus spec: the document dropshot derives from the generated
//! trait is the spec (see `codegen::roundtrip`).

use crate::common::{prove, prove_webhooks};
use codegen_golden::*;

#[test]
fn conventions() {
    prove(
        "conventions",
        conventions_api::conventions_api_mod::stub_api_description(),
    );
}

#[test]
fn errors() {
    prove("errors", errors_api::errors_api_mod::stub_api_description());
}

#[test]
fn inline() {
    prove("inline", inline_api::inline_api_mod::stub_api_description());
}

#[test]
fn media() {
    prove("media", media_api::media_api_mod::stub_api_description());
}

#[test]
fn objects() {
    prove(
        "objects",
        objects_api::objects_api_mod::stub_api_description(),
    );
}

#[test]
fn openapi31() {
    prove(
        "openapi31",
        openapi31_api::openapi31_api_mod::stub_api_description(),
    );
}

#[test]
fn parameters() {
    prove(
        "parameters",
        parameters_api::parameters_api_mod::stub_api_description(),
    );
}

#[test]
fn responses() {
    prove(
        "responses",
        responses_api::responses_api_mod::stub_api_description(),
    );
}

#[test]
fn schemas() {
    prove(
        "schemas",
        schemas_api::schemas_api_mod::stub_api_description(),
    );
}

#[test]
fn webhooks() {
    prove(
        "webhooks",
        webhooks_api::webhooks_api_mod::stub_api_description(),
    );
}

#[test]
fn webhooks_receiver() {
    prove_webhooks(
        "webhooks",
        webhooks_webhooks::webhooks_webhooks_mod::stub_api_description(),
    );
}

#[test]
fn openapi31_receiver() {
    prove_webhooks(
        "openapi31",
        openapi31_webhooks::openapi31_webhooks_mod::stub_api_description(),
    );
}

/// Every corpus spec has its modules here and its proof above (its receiver's too, when it
/// has webhooks).
#[test]
fn every_corpus_spec_is_compiled_and_proved() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut specs: Vec<String> = std::fs::read_dir(root.join("../codegen/tests/corpus"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".yaml").map(str::to_string)
        })
        .collect();
    specs.sort();
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let proofs = std::fs::read_to_string(root.join("tests/golden/proofs.rs")).unwrap();
    for spec in &specs {
        for kind in ["types", "api", "client"] {
            assert!(
                lib.contains(&format!("pub mod {spec}_{kind};")),
                "{spec}_{kind}"
            );
        }
        assert!(
            proofs.contains(&format!("fn {spec}()")),
            "the proof of {spec}"
        );
        let receiver = root.join(format!("../codegen/tests/output/{spec}.webhooks.rs"));
        if receiver.exists() {
            assert!(
                lib.contains(&format!("pub mod {spec}_webhooks;")),
                "{spec}_webhooks"
            );
            assert!(
                proofs.contains(&format!("fn {spec}_receiver()")),
                "the proof of {spec}'s receiver"
            );
        }
    }
}
