//! Making a [`Client`] that sends the API key (`X-API-Key`) on every request.
//!
//! The generated client carries a [`ClientState`] (progenitor's "inner" value) holding the key,
//! and its `pre` hook adds the key to each request, unless the request has one already. So the
//! key works with any `reqwest::Client`, one built here or one of your own, and is marked
//! sensitive so that it is never printed.

use std::fmt;
use std::time::Duration;

use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue};

use crate::Client;

/// What a [`Client`] carries beside its `reqwest::Client`: the API key its requests send.
#[derive(Clone, Default)]
pub struct ClientState {
    api_key: Option<HeaderValue>,
}

impl ClientState {
    /// State that sends `api_key` as `X-API-Key`.
    pub fn with_api_key(api_key: &str) -> Result<Self, BuildError> {
        Ok(Self {
            api_key: Some(api_key_value(api_key)?),
        })
    }

    /// State that sends no key (the `reqwest::Client` may send one itself).
    pub fn without_api_key() -> Self {
        Self::default()
    }
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientState")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The key goes on every request that does not carry one already.
impl ClientHooks<ClientState> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        if let Some(key) = &self.inner().api_key {
            request
                .headers_mut()
                .entry(HeaderName::from_static(API_KEY_HEADER))
                .or_insert_with(|| key.clone());
        }
        Ok(())
    }
}

/// The header that carries the API key (the spec's `apiKey` security scheme).
pub const API_KEY_HEADER: &str = "x-api-key";

/// How long a whole request may take when no timeout is configured. The API answers every
/// operation from one page of at most 1,000 items, so a healthy server answers well within this;
/// past it, retrying is the better bet.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long establishing a connection may take when no timeout is configured.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The `User-Agent` sent by clients this crate configures.
const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

impl Client {
    /// A client for the API at `base_url` (for example `https://connect.example.com/v1` or
    /// `http://127.0.0.1:8080`) that sends `api_key` on every request, with
    /// [`DEFAULT_TIMEOUT`] and [`DEFAULT_CONNECT_TIMEOUT`].
    pub fn with_api_key(base_url: &str, api_key: &str) -> Result<Self, BuildError> {
        Self::builder(base_url).api_key(api_key).build()
    }

    /// A builder, for timeouts or a `reqwest::ClientBuilder` of one's own.
    pub fn builder(base_url: &str) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }

    /// A client over a `reqwest::Client` of one's own (its timeouts, proxies, TLS and pool are
    /// used as they are) that sends `api_key` on every request.
    pub fn with_reqwest_client(
        base_url: &str,
        api_key: &str,
        http: reqwest::Client,
    ) -> Result<Self, BuildError> {
        Ok(Client::new_with_client(
            &base_url_of(base_url)?,
            http,
            ClientState::with_api_key(api_key)?,
        ))
    }
}

/// Configures a [`Client`].
///
/// ```no_run
/// use std::time::Duration;
/// use connect_client::Client;
///
/// # fn example() -> Result<(), connect_client::BuildError> {
/// // Own reqwest settings (proxy, TLS roots, pool, ...): the key and timeouts are added to them.
/// let http = reqwest::ClientBuilder::new().pool_max_idle_per_host(4);
/// let client = Client::builder("https://connect.example.com")
///     .api_key("secret")
///     .reqwest(http)
///     .timeout(Duration::from_secs(10))
///     .build()?;
/// # Ok(()) }
/// ```
#[must_use = "call .build() to get a client"]
pub struct ClientBuilder {
    base_url: String,
    api_key: Option<String>,
    http: Option<reqwest::ClientBuilder>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
}

impl ClientBuilder {
    /// A builder for the API at `base_url`.
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.to_string(),
            api_key: None,
            http: None,
            timeout: None,
            connect_timeout: None,
        }
    }

    /// Send `api_key` as `X-API-Key` on every request.
    pub fn api_key(mut self, api_key: &str) -> Self {
        self.api_key = Some(api_key.to_string());
        self
    }

    /// Start from this `reqwest::ClientBuilder` instead of a fresh one. Its settings are kept:
    /// only the timeouts set on this builder (if any) are applied. Without it, the client gets
    /// [`DEFAULT_TIMEOUT`], [`DEFAULT_CONNECT_TIMEOUT`] and a `User-Agent` of
    /// `connect-client/<version>`.
    ///
    /// An already built `reqwest::Client` goes through [`Client::with_reqwest_client`].
    pub fn reqwest(mut self, builder: reqwest::ClientBuilder) -> Self {
        self.http = Some(builder);
        self
    }

    /// The longest a whole request (connecting, sending, reading the answer) may take.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The longest connecting may take.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The client, or what is wrong with the configuration.
    pub fn build(self) -> Result<Client, BuildError> {
        let base_url = base_url_of(&self.base_url)?;
        let state = match &self.api_key {
            Some(api_key) => ClientState::with_api_key(api_key)?,
            None => ClientState::without_api_key(),
        };
        let (mut http, defaults) = match self.http {
            Some(http) => (http, false),
            None => (reqwest::ClientBuilder::new().user_agent(USER_AGENT), true),
        };
        if let Some(timeout) = self.timeout.or(defaults.then_some(DEFAULT_TIMEOUT)) {
            http = http.timeout(timeout);
        }
        if let Some(timeout) = self
            .connect_timeout
            .or(defaults.then_some(DEFAULT_CONNECT_TIMEOUT))
        {
            http = http.connect_timeout(timeout);
        }
        let http = http.build().map_err(BuildError::Http)?;
        Ok(Client::new_with_client(&base_url, http, state))
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("http", &self.http)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// Why a [`Client`] could not be built. Messages never contain the API key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The base URL is not an absolute `http` or `https` URL.
    #[error("invalid base URL `{url}`: {reason}")]
    InvalidBaseUrl { url: String, reason: String },
    /// The API key is empty or has characters a header cannot carry.
    #[error("invalid API key: {reason}")]
    InvalidApiKey { reason: &'static str },
    /// reqwest refused the configuration (a TLS backend that cannot start, say).
    #[error("could not build the HTTP client")]
    Http(#[source] reqwest::Error),
}

/// The base URL as the generated client wants it: absolute, `http(s)`, no trailing slash (it
/// appends paths such as `/users` to it as text).
fn base_url_of(text: &str) -> Result<String, BuildError> {
    let invalid = |reason: String| BuildError::InvalidBaseUrl {
        url: text.to_string(),
        reason,
    };
    let url = reqwest::Url::parse(text).map_err(|error| invalid(error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "the scheme is `{}`, not http or https",
            url.scheme()
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it has a query or a fragment".to_string()));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn api_key_value(api_key: &str) -> Result<HeaderValue, BuildError> {
    if api_key.is_empty() {
        return Err(BuildError::InvalidApiKey {
            reason: "it is empty",
        });
    }
    let mut value = HeaderValue::from_str(api_key).map_err(|_| BuildError::InvalidApiKey {
        reason: "it has characters an HTTP header cannot carry",
    })?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised_or_refused() {
        assert_eq!(
            base_url_of("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            base_url_of("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            base_url_of("https://api.example.com/connect/v1/").unwrap(),
            "https://api.example.com/connect/v1"
        );
        for bad in [
            "127.0.0.1:8080",
            "ftp://example.com",
            "http://x/?a=1",
            "not a url",
        ] {
            assert!(
                matches!(base_url_of(bad), Err(BuildError::InvalidBaseUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn keys_are_sensitive_and_never_shown() {
        let value = api_key_value("s3cret").unwrap();
        assert!(value.is_sensitive());
        for bad in ["", "line\nbreak"] {
            let error = api_key_value(bad).unwrap_err();
            assert!(!error.to_string().contains("line"), "{error}");
        }
        let builder = ClientBuilder::new("http://x").api_key("s3cret");
        assert!(!format!("{builder:?}").contains("s3cret"));
    }
}
