//! Opaque, tamper-evident list cursors: a position in a list's order (`createdAt`, id), for
//! one tenant and one list, authenticated with HMAC-SHA256 under a key drawn when the server
//! starts (so cursors stay valid until it restarts). A cursor that was forged, altered, made
//! for another tenant or another list does not verify, and its request is a 400; it can never
//! name another tenant's position.

use aws_lc_rs::hmac;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::auth::Tenant;
use crate::store::{Listing, Position};

/// Version prefix of the cursor format.
const PREFIX: &str = "c1";
/// Bytes of the MAC kept (128 bits).
const TAG: usize = 16;

/// Issues and checks cursors.
pub struct Cursors {
    key: hmac::Key,
}

impl std::fmt::Debug for Cursors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cursors")
    }
}

impl Default for Cursors {
    fn default() -> Self {
        Self::new()
    }
}

impl Cursors {
    /// Cursors under a fresh random key.
    pub fn new() -> Self {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &rng)
            .expect("the system random number generator works");
        Self { key }
    }

    /// The cursor for the position `after` in `tenant`'s `listing`.
    pub fn issue(&self, tenant: &Tenant, listing: Listing, after: Position) -> String {
        let body = body(after);
        let tag = hmac::sign(&self.key, &signed(tenant, listing, &body));
        let mut out = String::with_capacity(PREFIX.len() + 2 * (body.len() + TAG));
        out.push_str(PREFIX);
        for byte in body.iter().chain(&tag.as_ref()[..TAG]) {
            out.push_str(&format!("{byte:02x}"));
        }
        out
    }

    /// The position a cursor names, if this server gave it for `tenant`'s `listing`.
    pub fn read(&self, tenant: &Tenant, listing: Listing, cursor: &str) -> Option<Position> {
        let hex = cursor.strip_prefix(PREFIX)?;
        if hex.len() != 2 * (24 + TAG) || !hex.is_ascii() {
            return None;
        }
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
            .collect::<Option<_>>()?;
        let (body, tag) = bytes.split_at(24);
        // Constant time, truncated: compare the tag against a fresh signature's prefix.
        let expected = hmac::sign(&self.key, &signed(tenant, listing, body));
        let same = tag
            .iter()
            .zip(&expected.as_ref()[..TAG])
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
        if !same {
            return None;
        }
        let nanos = i64::from_be_bytes(body[..8].try_into().ok()?);
        let id = Uuid::from_slice(&body[8..24]).ok()?;
        Some((DateTime::<Utc>::from_timestamp_nanos(nanos), id))
    }
}

fn body((at, id): Position) -> Vec<u8> {
    let nanos = at.timestamp_nanos_opt().unwrap_or(i64::MAX);
    let mut body = Vec::with_capacity(24);
    body.extend_from_slice(&nanos.to_be_bytes());
    body.extend_from_slice(id.as_bytes());
    body
}

fn signed(tenant: &Tenant, listing: Listing, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(64);
    message.extend_from_slice(b"connect-cursor-v1\0");
    message.push(match listing {
        Listing::Users => b'u',
        Listing::Customers => b'c',
    });
    message.extend_from_slice(&(tenant.0.len() as u64).to_be_bytes());
    message.extend_from_slice(tenant.0.as_bytes());
    message.extend_from_slice(body);
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_only_for_its_tenant_and_list() {
        let cursors = Cursors::new();
        let (acme, globex) = (Tenant("acme".into()), Tenant("globex".into()));
        let position = (Utc::now(), Uuid::new_v4());
        let cursor = cursors.issue(&acme, Listing::Users, position);
        assert_eq!(cursors.read(&acme, Listing::Users, &cursor), Some(position));
        assert_eq!(cursors.read(&globex, Listing::Users, &cursor), None);
        assert_eq!(cursors.read(&acme, Listing::Customers, &cursor), None);
        assert_eq!(Cursors::new().read(&acme, Listing::Users, &cursor), None);
        // Any changed character breaks it.
        for index in 2..cursor.len() {
            let mut altered = cursor.clone().into_bytes();
            altered[index] = if altered[index] == b'0' { b'1' } else { b'0' };
            let altered = String::from_utf8(altered).unwrap();
            assert_eq!(
                cursors.read(&acme, Listing::Users, &altered),
                None,
                "{index}"
            );
        }
        for junk in ["", "c1", "c1zz", &"c1".repeat(41), "💥"] {
            assert_eq!(cursors.read(&acme, Listing::Users, junk), None);
        }
    }
}
