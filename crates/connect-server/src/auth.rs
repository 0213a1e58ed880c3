//! API keys and the tenants they belong to.

use std::fmt;

/// A tenant's name, as configured (`--api-key TENANT=KEY`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tenant(pub std::sync::Arc<str>);

impl fmt::Display for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The configured keys. A key is never logged or printed by this type (`Debug` hides it).
#[derive(Clone, Default)]
pub struct ApiKeys {
    keys: Vec<(Tenant, Vec<u8>)>,
}

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.keys
                    .iter()
                    .map(|(tenant, _)| format!("{tenant}=<redacted>")),
            )
            .finish()
    }
}

impl ApiKeys {
    pub fn new(keys: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            keys: keys
                .into_iter()
                .map(|(tenant, key)| (Tenant(tenant.into()), key.into_bytes()))
                .collect(),
        }
    }

    /// Two tenants configured with the same key, if any: such a key would silently belong to
    /// the first, so the server refuses to start.
    pub fn shared_key(&self) -> Option<(&Tenant, &Tenant)> {
        self.keys.iter().enumerate().find_map(|(i, (a, key))| {
            self.keys[i + 1..]
                .iter()
                .find(|(_, other)| other == key)
                .map(|(b, _)| (a, b))
        })
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn tenants(&self) -> impl Iterator<Item = &Tenant> {
        self.keys.iter().map(|(tenant, _)| tenant)
    }

    /// The tenant a presented key belongs to. Every configured key is compared, each in time
    /// that depends only on the lengths, so the answer's timing does not reveal which key (or
    /// how much of one) matched.
    pub fn tenant_for(&self, presented: &[u8]) -> Option<Tenant> {
        let mut found = None;
        for (tenant, key) in &self.keys {
            if constant_time_eq(key, presented) && found.is_none() {
                found = Some(tenant.clone());
            }
        }
        found
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

/// Parses `tenant=key` (the `--api-key` flag and each item of `CONNECT_API_KEYS`).
pub fn parse_key(text: &str) -> Result<(String, String), String> {
    parse_tenant_pair(text, "KEY")
}

/// Parses `TENANT=VALUE` (`--api-key`, `--webhook`, `--webhook-secret`), both non-empty;
/// `value` names the second part in the message.
pub fn parse_tenant_pair(text: &str, value: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((tenant, rest)) if !tenant.trim().is_empty() && !rest.trim().is_empty() => {
            Ok((tenant.trim().to_string(), rest.trim().to_string()))
        }
        _ => Err(format!("expected TENANT={value}, both non-empty")),
    }
}

/// A fresh random key for the `dev` tenant (122 random bits from two UUID v4s).
pub fn random_key() -> String {
    format!(
        "dev_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_their_tenant_and_nothing_else() {
        let keys = ApiKeys::new([("a".into(), "key-a".into()), ("b".into(), "key-b".into())]);
        assert_eq!(keys.tenant_for(b"key-a"), Some(Tenant("a".into())));
        assert_eq!(keys.tenant_for(b"key-b"), Some(Tenant("b".into())));
        assert_eq!(keys.tenant_for(b"key-"), None);
        assert_eq!(keys.tenant_for(b""), None);
        assert!(!format!("{keys:?}").contains("key-a"));
        assert_eq!(keys.shared_key(), None);
        let shared = ApiKeys::new([
            ("a".into(), "k".into()),
            ("b".into(), "x".into()),
            ("c".into(), "k".into()),
        ]);
        assert_eq!(
            shared.shared_key(),
            Some((&Tenant("a".into()), &Tenant("c".into())))
        );
    }

    #[test]
    fn key_flags_parse() {
        assert_eq!(
            parse_key("acme = s3cret"),
            Ok(("acme".into(), "s3cret".into()))
        );
        assert!(parse_key("acme").is_err());
        assert!(parse_key("=x").is_err());
        assert!(parse_key("acme=").is_err());
    }
}
