//! Which failures deserve another attempt, and how long to wait before it.
//!
//! The rule that matters most: a request that is not idempotent (a snapshot create, a restore)
//! is retried only when it certainly did not take effect — the connection never opened, or the
//! domain rejected it with a throttle before doing anything. After a timeout or a 5xx the caller
//! must look at the domain's state instead of sending it again.

use std::time::Duration;

use http::StatusCode;

/// Whether sending a request twice has the same effect as sending it once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    Idempotent,
    NotIdempotent,
}

/// Capped exponential backoff with jitter, bounded by attempts and by total time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included. 1 disables retries.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// No retry is started that would end its wait after this much time since the first attempt.
    pub time_budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            time_budget: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before attempt `retry_number + 1` (`retry_number` counts from 1): the capped
    /// exponential delay, of which the upper half is jittered so concurrent callers spread out.
    /// A server's `Retry-After` is honoured up to `max_delay`.
    pub fn delay(
        &self,
        retry_number: u32,
        retry_after: Option<Duration>,
        rng: &mut fastrand::Rng,
    ) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_delay);
        }
        let exponent = retry_number.saturating_sub(1).min(20);
        let capped = self
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let half = capped / 2;
        let jitter_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(rng.u64(0..=jitter_nanos))
    }
}

/// Whether a response status is worth retrying. A 403 counts only when it is a throttle (the
/// domain rejected the request unprocessed); access denied is final.
pub fn is_retryable_status(status: StatusCode, body: &[u8], idempotency: Idempotency) -> bool {
    if status == StatusCode::TOO_MANY_REQUESTS || is_throttle_403(status, body) {
        return true;
    }
    idempotency == Idempotency::Idempotent
        && matches!(
            status,
            StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
        )
}

/// AWS answers some throttles with 403 and a message such as "Request throttled due to too
/// many requests".
pub fn is_throttle_403(status: StatusCode, body: &[u8]) -> bool {
    status == StatusCode::FORBIDDEN && contains_ignore_ascii_case(body, b"throttl")
}

fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// `Retry-After` in seconds (the HTTP-date form is not used by AWS search domains).
pub fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_exponentially_within_jitter_and_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1_000),
            time_budget: Duration::from_secs(60),
        };
        let mut rng = fastrand::Rng::with_seed(7);
        for (retry, ceiling) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1_000),
            (9, 1_000),
        ] {
            for _ in 0..50 {
                let d = policy.delay(retry, None, &mut rng);
                let ceiling = Duration::from_millis(ceiling);
                assert!(d >= ceiling / 2 && d <= ceiling, "retry {retry}: {d:?}");
            }
        }
    }

    #[test]
    fn retry_after_is_honoured_but_capped() {
        let policy = RetryPolicy::default();
        let mut rng = fastrand::Rng::with_seed(1);
        let short = Some(Duration::from_secs(1));
        assert_eq!(policy.delay(1, short, &mut rng), Duration::from_secs(1));
        let long = Some(Duration::from_secs(600));
        assert_eq!(policy.delay(1, long, &mut rng), policy.max_delay);
    }

    #[test]
    fn only_rejections_are_retried_for_non_idempotent_requests() {
        use Idempotency::*;
        let cases = [
            (429, "", true, true),
            (
                403,
                r#"{"message":"Request throttled due to too many requests"}"#,
                true,
                true,
            ),
            (
                403,
                r#"{"Message":"User: x is not authorized to perform: iam:PassRole"}"#,
                false,
                false,
            ),
            (502, "", true, false),
            (503, "", true, false),
            (504, "<html>504 Gateway Time-out</html>", true, false),
            (500, "", false, false),
            (400, "", false, false),
            (404, "", false, false),
        ];
        for (status, body, idempotent, not_idempotent) in cases {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(
                is_retryable_status(status, body.as_bytes(), Idempotent),
                idempotent
            );
            assert_eq!(
                is_retryable_status(status, body.as_bytes(), NotIdempotent),
                not_idempotent,
                "{status} {body}"
            );
        }
    }
}
