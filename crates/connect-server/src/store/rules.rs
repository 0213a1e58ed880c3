//! Rules of the contract that the spec's schemas cannot state (OpenAPI 3.0 has no
//! `propertyNames` and no conditionals). Each returns every violation it finds.

use connect_types as types;

use super::Violation;

/// Metadata keys are 1 to 64 characters (the spec states the value bound and key count).
pub const METADATA_KEY_MAX_CHARS: usize = 64;

pub fn metadata(pointer: &str, metadata: Option<&types::Metadata>, out: &mut Vec<Violation>) {
    let Some(metadata) = metadata else { return };
    for key in metadata.0.keys() {
        let chars = key.chars().count();
        if chars == 0 || chars > METADATA_KEY_MAX_CHARS {
            out.push(Violation {
                property: format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1")),
                code: "propertyNames",
                message: format!("metadata keys must be 1 to {METADATA_KEY_MAX_CHARS} characters"),
            });
        }
    }
}

/// `EMAIL_INVOICE` needs `email`; `PAPER_INVOICE` needs `address`; `autoPay: true` needs
/// `defaultPaymentProfileId`.
pub fn billing(pointer: &str, billing: Option<&types::Billing>, out: &mut Vec<Violation>) {
    let Some(billing) = billing else { return };
    match billing.method {
        types::BillingMethod::EmailInvoice if billing.email.is_none() => out.push(Violation {
            property: format!("{pointer}/email"),
            code: "required",
            message: "is required when method is EMAIL_INVOICE".into(),
        }),
        types::BillingMethod::PaperInvoice if billing.address.is_none() => out.push(Violation {
            property: format!("{pointer}/address"),
            code: "required",
            message: "is required when method is PAPER_INVOICE".into(),
        }),
        _ => {}
    }
    if billing.auto_pay == Some(true) && billing.default_payment_profile_id.is_none() {
        out.push(Violation {
            property: format!("{pointer}/defaultPaymentProfileId"),
            code: "required",
            message: "is required when autoPay is true".into(),
        });
    }
}
