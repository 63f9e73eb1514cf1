//! The calendar a function decides by: the real clock, or — in tests against the local
//! stand-in only — the real clock moved by an offset the test writes to a file, so that a test
//! can run the nightly workflow on many simulated nights in minutes.
//!
//! The offset moves only the time decisions are made at (snapshot names, the age of the newest
//! backup, retention). Signing, Lambda's deadline and the metrics' timestamps keep the real
//! clock: a signature dated weeks ahead would rightly be refused.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use signing::{SharedTimeSource, SystemTimeSource, TimeSource};

/// The variable naming the offset file; honoured only with the loopback test switch set.
pub const CALENDAR_FILE: &str = "OSNAP_TEST_ONLY_CALENDAR_FILE";

/// The real clock moved by the whole seconds in a file (`86400` is one day ahead; a missing
/// or unreadable file is no offset). Read at every look, so a test moves it between nights.
#[derive(Debug)]
struct OffsetCalendar {
    file: PathBuf,
}

impl OffsetCalendar {
    fn offset(&self) -> i64 {
        std::fs::read_to_string(&self.file)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0)
    }
}

impl TimeSource for OffsetCalendar {
    fn now(&self) -> SystemTime {
        shift(SystemTime::now(), self.offset())
    }
}

fn shift(time: SystemTime, seconds: i64) -> SystemTime {
    let by = Duration::from_secs(seconds.unsigned_abs());
    if seconds >= 0 {
        time + by
    } else {
        time.checked_sub(by).unwrap_or(SystemTime::UNIX_EPOCH)
    }
}

/// The calendar for this process: the test offset when both test switches allow it, else
/// the real clock.
pub fn from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
    test_switch_set: bool,
) -> SharedTimeSource {
    match lookup(CALENDAR_FILE) {
        Some(file) if test_switch_set && !file.is_empty() => {
            tracing::warn!(
                variable = CALENDAR_FILE,
                "deciding by a test calendar: this is for tests against a local stand-in only"
            );
            SharedTimeSource::new(OffsetCalendar { file: file.into() })
        }
        _ => SharedTimeSource::new(SystemTimeSource::new()),
    }
}

/// Lambda's (real) `deadline` as a time on the calendar whose time is `calendar_now` when the
/// real time is `real_now`: the time left before it is the same on both.
pub fn on_calendar(
    deadline: SystemTime,
    real_now: SystemTime,
    calendar_now: SystemTime,
) -> SystemTime {
    match calendar_now.duration_since(real_now) {
        Ok(ahead) => deadline + ahead,
        Err(behind) => deadline
            .checked_sub(behind.duration())
            .unwrap_or(SystemTime::UNIX_EPOCH),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(file: &str) -> impl Fn(&str) -> Option<String> + '_ {
        move |name| (name == CALENDAR_FILE).then(|| file.to_owned())
    }

    fn days_ahead(calendar: &SharedTimeSource) -> f64 {
        let ahead = calendar
            .now()
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        ahead.as_secs_f64() / 86_400.0
    }

    #[test]
    fn the_test_calendar_follows_its_file_between_looks() {
        let file = std::env::temp_dir().join(format!("osnap-calendar-{}", std::process::id()));
        std::fs::write(&file, "86400\n").unwrap();
        let calendar = from_lookup(lookup(file.to_str().unwrap()), true);
        assert!((days_ahead(&calendar) - 1.0).abs() < 0.01);
        std::fs::write(&file, "172800").unwrap();
        assert!((days_ahead(&calendar) - 2.0).abs() < 0.01);
        // Unreadable or missing: no offset.
        std::fs::write(&file, "two days").unwrap();
        assert!(days_ahead(&calendar) < 0.01);
        std::fs::remove_file(&file).unwrap();
        assert!(days_ahead(&calendar) < 0.01);
    }

    #[test]
    fn without_the_test_switch_the_calendar_is_the_real_clock() {
        let file = std::env::temp_dir().join(format!("osnap-calendar-off-{}", std::process::id()));
        std::fs::write(&file, "8640000").unwrap();
        let calendar = from_lookup(lookup(file.to_str().unwrap()), false);
        assert!(days_ahead(&calendar) < 0.01);
        std::fs::remove_file(&file).unwrap();
    }

    #[test]
    fn the_deadline_keeps_its_distance_on_the_calendar() {
        let real = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let deadline = real + Duration::from_secs(30);
        let ahead = real + Duration::from_secs(5 * 86_400);
        assert_eq!(
            on_calendar(deadline, real, ahead),
            ahead + Duration::from_secs(30)
        );
        let behind = real - Duration::from_secs(86_400);
        assert_eq!(
            on_calendar(deadline, real, behind),
            behind + Duration::from_secs(30)
        );
    }
}
