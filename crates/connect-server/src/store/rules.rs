//! The rules the store enforces beyond the spec's schemas, each with where the YAML states it.
//!
//! The schemas state every rule about the shape of a request (the server validates against
//! them before a handler runs). What is left depends on the stored data: uniqueness, links,
//! references, quotas. Each is answered with a status that says so (404 for a missing object
//! the request names, 409 for a conflict with what is stored), never the 400 of an invalid
//! request, and each is stated in the YAML where a client reads it: [`RULES`] lists them with
//! the JSON pointer of the description that states each and a phrase of it, and a test checks
//! every one against `openapi/connect.yaml`.

use super::Violation;

/// A rule and where the spec states it.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub name: &'static str,
    /// The status and error code the rule answers with.
    pub status: u16,
    pub code: &'static str,
    /// A JSON pointer into `openapi/connect.yaml` whose text states the rule.
    pub stated_at: &'static str,
    /// Words of that text (whitespace normalized) that state it.
    pub stated_as: &'static str,
}

pub const RULES: &[Rule] = &[
    Rule {
        name: "a user's referenceId is unique among the tenant's users",
        status: 409,
        code: "conflict",
        stated_at: "/paths/~1users/post/description",
        stated_as: "`referenceId` is unique per tenant among users",
    },
    Rule {
        name: "a customer's referenceId is unique among the tenant's customers",
        status: 409,
        code: "conflict",
        stated_at: "/paths/~1customers/post/description",
        stated_as: "`referenceId` is unique per tenant among customers",
    },
    Rule {
        name: "users named by createCustomer are users of the tenant",
        status: 404,
        code: "not_found",
        stated_at: "/paths/~1customers/post/description",
        stated_as: "a user it names that is not there (or is another tenant's) is answered with 404 `not_found`",
    },
    Rule {
        name: "the user addUserToCustomer links is a user of the tenant",
        status: 404,
        code: "not_found",
        stated_at: "/paths/~1customers~1{customerId}~1users/post/description",
        stated_as: "A `userId` that is not a user of the tenant is answered with 404 `not_found`",
    },
    Rule {
        name: "a user is linked to a customer at most once",
        status: 409,
        code: "conflict",
        stated_at: "/paths/~1customers~1{customerId}~1users/post/description",
        stated_as: "A user that is already linked to the customer is answered with 409 `conflict`",
    },
    Rule {
        name: "only a linked user can be unlinked",
        status: 404,
        code: "not_found",
        stated_at: "/paths/~1customers~1{customerId}~1users/delete/description",
        stated_as: "not linked",
    },
    Rule {
        name: "objects of other tenants do not exist for a key",
        status: 404,
        code: "not_found",
        stated_at: "/info/description",
        stated_as: "they are answered with 404 `not_found`, exactly as if they did not exist",
    },
    Rule {
        name: "a tenant holds at most its quota of users and of customers",
        status: 409,
        code: "quota_exceeded",
        stated_at: "/components/responses/Conflict/description",
        stated_as: "`quota_exceeded` (creating a user or a customer when the tenant already holds as many as its quota allows",
    },
];

/// The detail of a user id, at `property` of the body, that names no user of the tenant.
pub fn missing_user(property: String) -> Violation {
    Violation {
        property,
        code: "reference",
        message: "is not a user of this tenant".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> serde_json::Value {
        serde_yaml::from_str(crate::SPEC_YAML).expect("the spec is YAML")
    }

    #[test]
    fn every_rule_is_stated_in_the_yaml_where_it_says() {
        let spec = spec();
        let squash = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        for rule in RULES {
            let text = spec
                .pointer(rule.stated_at)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_else(|| panic!("{}: no text at {}", rule.name, rule.stated_at));
            assert!(
                squash(text).contains(&squash(rule.stated_as)),
                "{}: {} does not say {:?}",
                rule.name,
                rule.stated_at,
                rule.stated_as
            );
            // And the operation documents the status it answers with.
            if let Some(operation) = rule.stated_at.strip_suffix("/description")
                && operation.starts_with("/paths/")
            {
                let status = format!("{operation}/responses/{}", rule.status);
                assert!(
                    spec.pointer(&status).is_some(),
                    "{}: {status} missing",
                    rule.name
                );
            }
        }
    }
}
