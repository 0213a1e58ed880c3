//! Retries: writes that are safe to send again, and reads.
//!
//! A write is retried under one `X-Idempotency-Key` (a fresh UUID v4 per logical operation),
//! sent unchanged on every attempt. The server keeps the first outcome for that key and replays
//! it to identical retries (header `Idempotent-Replayed: true`), so a retry after a lost
//! response never creates a second object. See the contract's section 1.3.
//!
//! What is retried: no answer (connection refused or reset, response lost), a timeout, any 5xx,
//! and 409 `idempotency_key_locked` (the first attempt is still running). Never any other 4xx:
//! `idempotency_key_mismatch` is a programming error and the others will not change.

use std::future::Future;
use std::time::Duration;

use progenitor_client::ResponseValue;
use uuid::Uuid;

use crate::Client;
use crate::error::{ApiError, RawError};

/// How often and how patiently to retry.
///
/// The delay before retry `n` (1-based) is drawn uniformly from
/// `0..=min(max_delay, base_delay * 2^(n-1))` ("full jitter"), so that clients that failed
/// together do not retry together.
///
/// ```
/// use std::time::Duration;
/// use connect_client::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(6)
///     .with_base_delay(Duration::from_millis(50));
/// assert_eq!(policy.max_attempts, 6);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 sends once and never retries (0 counts as 1).
    pub max_attempts: u32,
    /// The ceiling of the first retry's delay; it doubles with every retry.
    pub base_delay: Duration,
    /// The largest ceiling any delay may have.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, delays capped at 200 ms, 400 ms and 800 ms: a write gives up within about
    /// 1.5 s plus the request timeouts, which suits interactive callers; batch jobs can afford
    /// more attempts.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Send once, never retry.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// With `max_attempts` attempts in all.
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// With `base_delay` as the first retry's ceiling.
    pub fn with_base_delay(mut self, base_delay: Duration) -> Self {
        self.base_delay = base_delay;
        self
    }

    /// With `max_delay` as the largest ceiling.
    pub fn with_max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// The ceiling of the delay before retry `retry` (1-based).
    fn ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.base_delay
            .checked_mul(factor)
            .map_or(self.max_delay, |delay| delay.min(self.max_delay))
    }

    /// A random delay before retry `retry` (1-based), up to its ceiling.
    fn delay(&self, retry: u32) -> Duration {
        let ceiling = self.ceiling(retry);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::random_range(0..=nanos))
    }
}

/// Sends requests again when that may help: see the [module docs](self).
///
/// Made by [`Client::retrying`] or [`Client::retrying_with`]. Its typed methods, one for every
/// operation that takes `X-Idempotency-Key`, are
/// generated from the spec's `x-conventions`; [`Retrying::write`] and [`Retrying::read`] take
/// any call.
#[derive(Clone, Debug)]
pub struct Retrying<'a> {
    client: &'a Client,
    policy: RetryPolicy,
}

impl Client {
    /// Retrying calls with the default [`RetryPolicy`].
    pub fn retrying(&self) -> Retrying<'_> {
        self.retrying_with(RetryPolicy::default())
    }

    /// Retrying calls with the given policy.
    pub fn retrying_with(&self, policy: RetryPolicy) -> Retrying<'_> {
        Retrying {
            client: self,
            policy,
        }
    }
}

/// The result of a retried call.
pub type Retried<T> = Result<ResponseValue<T>, ApiError>;

impl<'a> Retrying<'a> {
    /// The policy in force.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Runs one logical write: `send` gets the operation's idempotency key (a fresh UUID v4) and
    /// must send the same request with it every time it is called.
    /// (The crate's README has an example.)
    pub async fn write<T, F, Fut>(&self, mut send: F) -> Result<T, ApiError>
    where
        F: FnMut(String) -> Fut,
        Fut: Future<Output = Result<T, RawError>>,
    {
        let key = Uuid::new_v4().to_string();
        run(&self.policy, || send(key.clone())).await
    }

    /// Runs a read (or another request that changes nothing), sending it again without any
    /// idempotency key.
    pub async fn read<T, F, Fut>(&self, send: F) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, RawError>>,
    {
        run(&self.policy, send).await
    }

    /// The client the calls go through (for the generated retry-safe methods).
    pub(crate) fn client(&self) -> &'a Client {
        self.client
    }
}

/// Converts a body once, up front, so that every attempt sends the same bytes.
pub(crate) fn convert<B, T>(body: B, name: &str) -> Result<T, ApiError>
where
    B: TryInto<T>,
    B::Error: std::fmt::Display,
{
    body.try_into().map_err(|error| {
        ApiError::from(RawError::InvalidRequest(format!(
            "conversion to `{name}` for body failed: {error}"
        )))
    })
}

/// Calls `send` until it succeeds, fails in a way no retry fixes, or the policy's attempts are
/// spent, sleeping a jittered, growing delay between attempts.
pub(crate) async fn run<T, F, Fut>(policy: &RetryPolicy, mut send: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RawError>>,
{
    let max_attempts = policy.max_attempts.max(1);
    let mut attempt = 1;
    loop {
        let error = match send().await {
            Ok(value) => return Ok(value),
            // A 5xx is undocumented in the spec: read its body so the last error is typed.
            Err(error) => ApiError::from_error(error).await.with_attempts(attempt),
        };
        if attempt >= max_attempts || !error.is_retryable() {
            return Err(error);
        }
        tokio::time::sleep(policy.delay(attempt)).await;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_up_to_the_maximum() {
        let policy = RetryPolicy::default()
            .with_base_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_millis(700));
        let ceilings: Vec<_> = (1..=5).map(|n| policy.ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 700, 700]);
        // No overflow, however many retries.
        assert_eq!(policy.ceiling(u32::MAX), Duration::from_millis(700));
    }

    #[test]
    fn delays_stay_under_their_ceiling() {
        let policy = RetryPolicy::default();
        for retry in 1..=6 {
            for _ in 0..100 {
                assert!(policy.delay(retry) <= policy.ceiling(retry));
            }
        }
    }

    #[tokio::test]
    async fn zero_attempts_still_sends_once() {
        let policy = RetryPolicy::default().with_max_attempts(0);
        let mut calls = 0;
        let result: Result<(), ApiError> = run(&policy, || {
            calls += 1;
            async { Err(RawError::InvalidRequest("no".to_string())) }
        })
        .await;
        assert_eq!(calls, 1);
        assert_eq!(result.unwrap_err().attempts(), 1);
    }
}
