//! Date-time fields, which the generated types serialize themselves (formatted whole), read
//! exactly as chrono's own `Serialize` writes them.

use chrono::{DateTime, NaiveDate, Utc};
use codegen_golden::{objects_types, openapi31_types};
use serde_json::json;

/// Instants that take every path of chrono's RFC 3339 writer: no fraction and fractions of
/// 3, 6 and 9 digits (with leading and trailing zeros), a leap second, and years at and beyond
/// the ends of four digits (written with a sign).
fn instants() -> Vec<DateTime<Utc>> {
    let mut instants = Vec::new();
    for nanos in [
        0,
        1,
        500_000_000,
        120_000_000,
        5_000_000,
        123_456_000,
        1_000,
        123_456_789,
        999_999_999,
        1_500_000_000,
    ] {
        let time = NaiveDate::from_ymd_opt(2024, 2, 29)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, nanos)
            .unwrap();
        instants.push(time.and_utc());
    }
    for year in [0, 1, 999, 1970, 9999, 10_000, -1, 262_142, -262_143] {
        let time = NaiveDate::from_ymd_opt(year, 1, 2)
            .unwrap()
            .and_hms_micro_opt(3, 4, 5, 60)
            .unwrap();
        instants.push(time.and_utc());
    }
    // And a spread of instants over the four-digit years with every width of fraction (a
    // fixed linear congruential sequence, so that a failure reproduces).
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..5_000 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let seconds = (seed >> 24) as i64 % 315_569_520_000 - 62_167_219_200; // 0000 to 9999
        let nanos = match seed % 4 {
            0 => 0,
            1 => (seed >> 8) as u32 % 1_000 * 1_000_000,
            2 => (seed >> 8) as u32 % 1_000_000 * 1_000,
            _ => (seed >> 8) as u32 % 1_000_000_000,
        };
        instants.push(DateTime::from_timestamp(seconds, nanos).unwrap());
    }
    instants
}

#[test]
fn date_times_are_written_as_chrono_writes_them() {
    let mut pet: objects_types::Pet = serde_json::from_value(json!({
        "petId": "9c1d3f4e-8a2b-4c6d-9e0f-1a2b3c4d5e6f",
        "name": "Rex",
        "species": "DOG",
        "tags": [],
        "createdAt": "2024-01-01T00:00:00Z",
    }))
    .unwrap();
    let mut payment: openapi31_types::Payment = serde_json::from_value(json!({
        "id": "9c1d3f4e-8a2b-4c6d-9e0f-1a2b3c4d5e6f",
        "amount": 1.5,
    }))
    .unwrap();
    assert_eq!(
        serde_json::to_value(&payment).unwrap().get("settledAt"),
        None
    );
    for instant in instants() {
        let chrono = serde_json::to_value(instant).unwrap();
        assert!(chrono.is_string(), "{chrono}");
        pet.created_at = instant;
        payment.settled_at = Some(instant);
        let pet_json = serde_json::to_value(&pet).unwrap();
        let payment_json = serde_json::to_value(&payment).unwrap();
        assert_eq!(pet_json["createdAt"], chrono, "{instant:?}");
        assert_eq!(payment_json["settledAt"], chrono, "{instant:?}");
        // And they read back as the instant they were.
        let back: objects_types::Pet = serde_json::from_value(pet_json).unwrap();
        assert_eq!(back.created_at, instant);
    }
}
