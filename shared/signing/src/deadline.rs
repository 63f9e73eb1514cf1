//! How long one attempt may wait, given the invocation's deadline.
//!
//! Lambda stops a function at its timeout, wherever it is: an attempt that waits for the
//! domain past that point loses the invocation, and with it the chance to find out what the
//! domain did. So every attempt ends early enough to leave room after it: for a request that
//! is not idempotent (a snapshot create, a restore), room for the caller to look the outcome
//! up when the answer is lost; for any request, room to report the result.

use std::time::{Duration, SystemTime};

use crate::retry::Idempotency;

/// The longest any single attempt waits, deadline or not. A domain slower than this is
/// answering a request that should have used `wait_for_completion=false`.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);
/// Kept after every attempt: the time to report the outcome to Lambda.
pub const REPORT_RESERVE: Duration = Duration::from_secs(2);
/// Kept after an attempt at a request that is not idempotent: the time to look up what the
/// domain did when the answer is lost (one short read), then report it.
pub const LOOKUP_RESERVE: Duration = Duration::from_secs(10);
/// An attempt shorter than this is not worth starting.
pub const MIN_ATTEMPT: Duration = Duration::from_secs(1);

/// How long the next attempt may wait for its answer at `now`, or `None` when there is no
/// longer time for one.
pub fn attempt_timeout(
    now: SystemTime,
    deadline: Option<SystemTime>,
    idempotency: Idempotency,
) -> Option<Duration> {
    let Some(deadline) = deadline else {
        return Some(ATTEMPT_TIMEOUT);
    };
    let reserve = match idempotency {
        Idempotency::Idempotent => REPORT_RESERVE,
        Idempotency::NotIdempotent => LOOKUP_RESERVE,
    };
    let left = deadline.duration_since(now).unwrap_or(Duration::ZERO);
    let usable = left.saturating_sub(reserve).min(ATTEMPT_TIMEOUT);
    (usable >= MIN_ATTEMPT).then_some(usable)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: SystemTime = SystemTime::UNIX_EPOCH;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn without_a_deadline_the_fixed_timeout_applies() {
        assert_eq!(
            attempt_timeout(T0, None, Idempotency::NotIdempotent),
            Some(ATTEMPT_TIMEOUT)
        );
    }

    #[test]
    fn an_attempt_leaves_room_to_report_or_to_look_up() {
        let deadline = Some(T0 + secs(30));
        assert_eq!(
            attempt_timeout(T0, deadline, Idempotency::Idempotent),
            Some(secs(30) - REPORT_RESERVE)
        );
        assert_eq!(
            attempt_timeout(T0, deadline, Idempotency::NotIdempotent),
            Some(secs(30) - LOOKUP_RESERVE)
        );
        // Far from the deadline, the fixed timeout still caps an attempt.
        assert_eq!(
            attempt_timeout(T0, Some(T0 + secs(600)), Idempotency::Idempotent),
            Some(ATTEMPT_TIMEOUT)
        );
    }

    #[test]
    fn no_attempt_starts_without_time_for_it() {
        let deadline = Some(T0 + LOOKUP_RESERVE + MIN_ATTEMPT);
        assert_eq!(
            attempt_timeout(T0, deadline, Idempotency::NotIdempotent),
            Some(MIN_ATTEMPT)
        );
        let later = T0 + Duration::from_millis(1);
        assert_eq!(
            attempt_timeout(later, deadline, Idempotency::NotIdempotent),
            None
        );
        // A read still fits where a create does not.
        assert!(attempt_timeout(later, deadline, Idempotency::Idempotent).is_some());
        // Past the deadline, nothing.
        assert_eq!(
            attempt_timeout(T0 + secs(99), deadline, Idempotency::Idempotent),
            None
        );
    }
}
