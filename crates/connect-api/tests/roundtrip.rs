//! The round-trip proof: the OpenAPI document dropshot derives from the generated trait is the
//! spec, operation by operation and schema by schema (see `codegen::roundtrip` for what is
//! compared and the short list of what dropshot cannot express).

use std::path::{Path, PathBuf};

use connect_api::connect_api_mod;

fn spec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/connect.yaml")
}

fn derived() -> serde_json::Value {
    let description =
        connect_api_mod::stub_api_description().expect("the trait registers with dropshot");
    let openapi = description.openapi("Connect API", semver::Version::new(1, 0, 0));
    openapi.json().expect("dropshot renders its document")
}

#[test]
fn the_served_api_is_the_spec() {
    if let Err(report) = codegen::roundtrip::prove(&spec(), &derived()) {
        panic!("{report}");
    }
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

    let report = codegen::roundtrip::prove(&spec(), &derived).unwrap_err();
    assert!(report.contains("createUser: success status"), "{report}");
    assert!(
        report.contains("listUsers: parameter query/limit: schema.maximum"),
        "{report}"
    );
}

/// The webhooks' receiver (connect-webhooks) is the YAML's `x-webhooks`, webhook by webhook.
#[test]
fn the_webhook_receiver_is_the_spec() {
    if let Err(report) = codegen::roundtrip::prove_webhooks(&spec(), &derived_webhooks()) {
        panic!("{report}");
    }
}

/// The receiver's proof can fail too: a changed acknowledgement and a dropped signature header
/// are named by webhook and field.
#[test]
fn the_webhook_proof_names_webhook_and_field() {
    let mut derived = derived_webhooks();
    let responses = derived
        .pointer_mut("/paths/~1customer.created/post/responses")
        .unwrap()
        .as_object_mut()
        .unwrap();
    let acknowledged = responses.remove("204").unwrap();
    responses.insert("200".into(), acknowledged);
    derived
        .pointer_mut("/paths/~1customer.updated/post/parameters")
        .unwrap()
        .as_array_mut()
        .unwrap()
        .clear();
    let report = codegen::roundtrip::prove_webhooks(&spec(), &derived).unwrap_err();
    assert!(
        report.contains("customerCreated: success status"),
        "{report}"
    );
    assert!(
        report.contains("customerUpdated: parameter header/connect-signature"),
        "{report}"
    );
}

fn derived_webhooks() -> serde_json::Value {
    let description = connect_webhooks::connect_webhooks_mod::stub_api_description()
        .expect("the receiver registers with dropshot");
    let openapi = description.openapi("Connect webhooks", semver::Version::new(1, 0, 0));
    openapi.json().expect("dropshot renders its document")
}
