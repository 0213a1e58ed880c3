//! The round-trip proof: the OpenAPI document dropshot derives from the generated trait is the
//! spec, operation by operation and schema by schema (see `codegen::roundtrip` for what is
//! compared and the short list of what dropshot cannot express).

use std::path::Path;

use connect_api::connect_api_mod;

fn source() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/connect.yaml");
    codegen::load(&path).expect("the spec loads").raw
}

fn derived() -> serde_json::Value {
    let description =
        connect_api_mod::stub_api_description().expect("the trait registers with dropshot");
    let openapi = description.openapi("Connect API", semver::Version::new(1, 0, 0));
    openapi.json().expect("dropshot renders its document")
}

#[test]
fn the_served_api_is_the_spec() {
    let differences = codegen::roundtrip::compare(&source(), &derived());
    let report: Vec<String> = differences.iter().map(ToString::to_string).collect();
    assert!(
        report.is_empty(),
        "{} difference(s) between the spec and the generated trait:\n{}",
        report.len(),
        report.join("\n")
    );
}

/// The proof must be able to fail: a derived document with one operation's success status and
/// one parameter changed is caught, naming operation and field.
#[test]
fn the_proof_names_operation_and_field() {
    let mut derived = derived();
    let responses = derived
        .pointer_mut("/paths/~1users/post/responses")
        .unwrap()
        .as_object_mut()
        .unwrap();
    let created = responses.remove("201").unwrap();
    responses.insert("200".into(), created);
    let params = derived
        .pointer_mut("/paths/~1users/get/parameters")
        .unwrap()
        .as_array_mut()
        .unwrap();
    let limit = params.iter_mut().find(|p| p["name"] == "limit").unwrap();
    limit["schema"]["maximum"] = 5000.into();

    let report: Vec<String> = codegen::roundtrip::compare(&source(), &derived)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        report
            .iter()
            .any(|d| d.starts_with("createUser: success status")),
        "{report:#?}"
    );
    assert!(
        report
            .iter()
            .any(|d| d.starts_with("listUsers: parameter query/limit: schema.maximum")),
        "{report:#?}"
    );
}
