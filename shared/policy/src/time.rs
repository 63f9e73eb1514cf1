//! UTC calendar arithmetic (proleptic Gregorian), enough for snapshot names and ages.

use std::time::{Duration, SystemTime};

/// A UTC date and time to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UtcDateTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl UtcDateTime {
    /// The calendar time of `time` (times before 1970 count as 1970-01-01).
    pub fn from_system_time(time: SystemTime) -> Self {
        let secs = time
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        Self::from_unix_seconds(secs)
    }

    pub fn from_unix_seconds(secs: u64) -> Self {
        let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
        let rem = secs % 86_400;
        let (year, month, day) = civil_from_days(days);
        // rem < 86 400, so each part fits in u32.
        let part = |v: u64| u32::try_from(v).unwrap_or(0);
        Self {
            year,
            month,
            day,
            hour: part(rem / 3_600),
            minute: part(rem % 3_600 / 60),
            second: part(rem % 60),
        }
    }

    /// Back to a `SystemTime`; `None` for an impossible date or one before 1970.
    pub fn to_system_time(self) -> Option<SystemTime> {
        let days_in_month = days_in_month(self.year, self.month)?;
        if self.day == 0 || self.day > days_in_month || self.hour > 23 || self.minute > 59 {
            return None;
        }
        if self.second > 59 {
            return None;
        }
        let days = days_from_civil(self.year, self.month, self.day);
        let secs = days * 86_400
            + i64::from(self.hour) * 3_600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        let secs = u64::try_from(secs).ok()?;
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> Option<u32> {
    Some(match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => return None,
    })
}

/// Days since 1970-01-01.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // month is 1..=12 and day 1..=31 by construction.
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_known_dates() {
        let t = UtcDateTime::from_unix_seconds(1_795_000_000);
        assert_eq!(
            t,
            UtcDateTime {
                year: 2026,
                month: 11,
                day: 18,
                hour: 11,
                minute: 6,
                second: 40
            }
        );
        assert_eq!(
            t.to_system_time(),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000))
        );
        let leap = UtcDateTime {
            year: 2028,
            month: 2,
            day: 29,
            hour: 0,
            minute: 0,
            second: 0,
        };
        assert_eq!(
            UtcDateTime::from_system_time(leap.to_system_time().unwrap()),
            leap
        );
    }

    #[test]
    fn every_day_for_sixty_years_round_trips() {
        for day in 0..(60 * 366) {
            let secs = day * 86_400 + 3_661;
            let t = UtcDateTime::from_unix_seconds(secs);
            let back = t.to_system_time().unwrap();
            assert_eq!(
                back,
                SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
                "{t:?}"
            );
        }
    }

    #[test]
    fn refuses_impossible_dates() {
        let bad = UtcDateTime {
            year: 2026,
            month: 2,
            day: 29,
            hour: 0,
            minute: 0,
            second: 0,
        };
        assert_eq!(bad.to_system_time(), None);
        let bad = UtcDateTime {
            year: 2026,
            month: 13,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
        };
        assert_eq!(bad.to_system_time(), None);
    }
}
