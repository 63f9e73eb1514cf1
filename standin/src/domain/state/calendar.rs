//! The domain's calendar: the wall-clock time it writes into what it holds (index creation
//! dates, snapshot start and end times, recoveries' start times, the cat APIs' epochs).
//!
//! It is the real clock unless a test moves it, so that a test can run many simulated nights
//! in minutes: the functions then decide by a calendar moved the same way (their test
//! calendar). Signatures are still checked against the real clock, and progress (how far a
//! snapshot or a recovery has come) still runs on the monotonic clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

/// Shared by every clone: moving one moves them all (several domains can share one).
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    offset_seconds: Arc<AtomicI64>,
}

impl Calendar {
    pub fn now(&self) -> SystemTime {
        let offset = self.offset_seconds.load(Ordering::Relaxed);
        let by = Duration::from_secs(offset.unsigned_abs());
        let real = SystemTime::now();
        if offset >= 0 {
            real + by
        } else {
            real.checked_sub(by).unwrap_or(SystemTime::UNIX_EPOCH)
        }
    }

    /// Moves the calendar ahead by `by` (whole seconds).
    pub fn advance(&self, by: Duration) {
        let seconds = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        self.offset_seconds.fetch_add(seconds, Ordering::Relaxed);
    }

    /// How far ahead of the real clock it is, in seconds (what a function's test calendar
    /// file holds to agree with it).
    pub fn offset_seconds(&self) -> i64 {
        self.offset_seconds.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_move_together() {
        let calendar = Calendar::default();
        let shared = calendar.clone();
        calendar.advance(Duration::from_secs(86_400));
        assert_eq!(shared.offset_seconds(), 86_400);
        let ahead = shared
            .now()
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        assert!(ahead > Duration::from_secs(86_300), "{ahead:?}");
    }
}
