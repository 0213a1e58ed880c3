/// Signed deliveries: checking a delivery's signature header before reading its event, and
/// making one (what the sender does).
///
/// The header's value is `t=<unix seconds>,v1=<hex>`: `v1` is the lowercase hex HMAC-SHA256,
/// under the endpoint's secret, of the timestamp, a `.`, and the exact body bytes. A header may
/// carry several `v1` (while a secret is being rotated); one that matches is enough. A delivery
/// whose timestamp is further from now than the tolerance is refused, so that a captured
/// delivery cannot be replayed later.
pub mod signature {
    use std::marker::PhantomData;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    /// Why a delivery's signature does not verify.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum SignatureError {
        /// The delivery has no signature header.
        Missing,
        /// The header is not `t=<unix seconds>,v1=<hex>`.
        Malformed,
        /// The timestamp is `age_seconds` old (negative: in the future), beyond the tolerance.
        Stale { age_seconds: i64 },
        /// No `v1` matches the body under the secret: the body or the header was changed, or
        /// the secret is not the endpoint's.
        Mismatch,
    }

    impl ::std::fmt::Display for SignatureError {
        fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
            match self {
                Self::Missing => write!(f, "the delivery has no `{}` header", super::SIGNATURE_HEADER),
                Self::Malformed => write!(
                    f,
                    "the `{}` header is not `t=<unix seconds>,v1=<hex>`",
                    super::SIGNATURE_HEADER
                ),
                Self::Stale { age_seconds } => write!(
                    f,
                    "the delivery was signed {age_seconds} s from now, beyond the tolerance"
                ),
                Self::Mismatch => write!(f, "the signature does not match the body"),
            }
        }
    }

    impl ::std::error::Error for SignatureError {}

    /// Checks deliveries against an endpoint's secret: `Verifier::new(secret).verify(header,
    /// body, now)`, or through [`Signed::verify`] in a receiver.
    #[derive(Clone)]
    pub struct Verifier {
        key: ::aws_lc_rs::hmac::Key,
        tolerance: Duration,
    }

    impl ::std::fmt::Debug for Verifier {
        fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
            f.debug_struct("Verifier")
                .field("tolerance", &self.tolerance)
                .finish_non_exhaustive()
        }
    }

    impl Verifier {
        /// A verifier for `secret`, with the tolerance the spec states.
        pub fn new(secret: impl AsRef<[u8]>) -> Self {
            Self {
                key: ::aws_lc_rs::hmac::Key::new(::aws_lc_rs::hmac::HMAC_SHA256, secret.as_ref()),
                tolerance: super::SIGNATURE_TOLERANCE,
            }
        }

        /// With another tolerance for the timestamp's distance from now.
        pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
            self.tolerance = tolerance;
            self
        }

        /// Whether `header` (the signature header's value) signs `body`, at `now`.
        pub fn verify(
            &self,
            header: Option<&str>,
            body: &[u8],
            now: SystemTime,
        ) -> Result<(), SignatureError> {
            let header = header.ok_or(SignatureError::Missing)?;
            let mut timestamp = None;
            let mut signatures = Vec::new();
            for part in header.split(',') {
                match part.trim().split_once('=') {
                    Some(("t", value)) => {
                        timestamp = Some(value.parse::<u64>().map_err(|_| SignatureError::Malformed)?)
                    }
                    Some(("v1", value)) => {
                        signatures.push(decode_hex(value).ok_or(SignatureError::Malformed)?)
                    }
                    Some(_) => {}
                    None => return Err(SignatureError::Malformed),
                }
            }
            let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
            if signatures.is_empty() {
                return Err(SignatureError::Malformed);
            }
            let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            let age = i64::try_from(now).unwrap_or(i64::MAX) - i64::try_from(timestamp).unwrap_or(i64::MAX);
            if age.unsigned_abs() > self.tolerance.as_secs() {
                return Err(SignatureError::Stale { age_seconds: age });
            }
            let message = signed_payload(timestamp, body);
            signatures
                .iter()
                .any(|tag| ::aws_lc_rs::hmac::verify(&self.key, &message, tag).is_ok())
                .then_some(())
                .ok_or(SignatureError::Mismatch)
        }
    }

    /// The signature header's value for `body` sent at `timestamp` (seconds since the Unix
    /// epoch), under `secret`.
    pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
        let key = ::aws_lc_rs::hmac::Key::new(::aws_lc_rs::hmac::HMAC_SHA256, secret);
        let tag = ::aws_lc_rs::hmac::sign(&key, &signed_payload(timestamp, body));
        let mut hex = String::with_capacity(tag.as_ref().len() * 2);
        for byte in tag.as_ref() {
            hex.push_str(&format!("{byte:02x}"));
        }
        format!("t={timestamp},v1={hex}")
    }

    /// What is signed: the timestamp, `.`, the body.
    fn signed_payload(timestamp: u64, body: &[u8]) -> Vec<u8> {
        let mut message = timestamp.to_string().into_bytes();
        message.push(b'.');
        message.extend_from_slice(body);
        message
    }

    fn decode_hex(text: &str) -> Option<Vec<u8>> {
        if !text.len().is_multiple_of(2) {
            return None;
        }
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
            .collect()
    }

    /// A delivery as received: its body bytes and signature header, not yet trusted. The
    /// event is read only through [`Signed::verify`], so that no handler can act on a
    /// delivery whose signature it did not check.
    #[derive(Debug)]
    pub struct Signed<T> {
        body: Vec<u8>,
        signature: Option<String>,
        event: PhantomData<fn() -> T>,
    }

    impl<T: ::serde::de::DeserializeOwned> Signed<T> {
        /// The event, once its signature verifies now: 401 when it does not, 400 when the body
        /// is not the event.
        pub fn verify(self, verifier: &Verifier) -> Result<T, ::dropshot::HttpError> {
            self.verify_at(verifier, SystemTime::now())
        }

        /// The event, once its signature verifies at `now`.
        pub fn verify_at(self, verifier: &Verifier, now: SystemTime) -> Result<T, ::dropshot::HttpError> {
            verifier
                .verify(self.signature.as_deref(), &self.body, now)
                .map_err(|error| {
                    ::dropshot::HttpError::for_client_error(
                        None,
                        ::dropshot::ClientErrorStatusCode::UNAUTHORIZED,
                        error.to_string(),
                    )
                })?;
            ::serde_json::from_slice(&self.body).map_err(|error| {
                ::dropshot::HttpError::for_bad_request(None, format!("the body is not the event: {error}"))
            })
        }

        /// The body as received (unverified).
        pub fn body(&self) -> &[u8] {
            &self.body
        }

        /// The signature header as received, if any.
        pub fn signature(&self) -> Option<&str> {
            self.signature.as_deref()
        }
    }

    #[::async_trait::async_trait]
    impl<T> ::dropshot::ExclusiveExtractor for Signed<T>
    where
        T: ::serde::de::DeserializeOwned + ::schemars::JsonSchema + Send + Sync + 'static,
    {
        async fn from_request<C: ::dropshot::ServerContext>(
            rqctx: &::dropshot::RequestContext<C>,
            request: ::http::Request<::dropshot::Body>,
        ) -> Result<Self, ::dropshot::HttpError> {
            let signature = request
                .headers()
                .get(super::SIGNATURE_HEADER)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string);
            let body = <::dropshot::UntypedBody as ::dropshot::ExclusiveExtractor>::from_request(rqctx, request).await?;
            Ok(Self {
                body: body.as_bytes().to_vec(),
                signature,
                event: PhantomData,
            })
        }

        /// Described as dropshot describes a JSON body of `T` beside the signature header.
        fn metadata(content_type: ::dropshot::ApiEndpointBodyContentType) -> ::dropshot::ExtractorMetadata {
            let mut metadata = <::dropshot::TypedBody<T> as ::dropshot::ExclusiveExtractor>::metadata(content_type.clone());
            let headers = <::dropshot::Header<super::SignatureHeaders> as ::dropshot::SharedExtractor>::metadata(content_type);
            metadata.parameters.extend(headers.parameters);
            metadata
        }
    }
}
