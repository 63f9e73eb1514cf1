//! Times as the engine writes them: epoch milliseconds and ISO 8601 in UTC.

use std::time::SystemTime;

use policy::time::UtcDateTime;

pub(crate) fn millis(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// `2026-11-18T11:06:40.123Z`.
pub(crate) fn iso(ms: u64) -> String {
    let t = UtcDateTime::from_unix_seconds(ms / 1000);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        ms % 1000
    )
}

/// `11:06:40`, as the cat APIs print a time of day.
pub(crate) fn time_of_day(ms: u64) -> String {
    let t = UtcDateTime::from_unix_seconds(ms / 1000);
    format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second)
}

/// A duration as the engine prints one for people (`1.2s`, `4.6m`, `350ms`).
pub(crate) fn human_duration(ms: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
    ];
    for (size, unit) in UNITS {
        if ms >= size {
            let value = ms as f64 / size as f64;
            return if (value.fract()).abs() < f64::EPSILON {
                format!("{value:.0}{unit}")
            } else {
                format!("{value:.1}{unit}")
            };
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(iso(1_795_000_000_123), "2026-11-18T11:06:40.123Z");
        assert_eq!(time_of_day(1_795_000_000_123), "11:06:40");
        assert_eq!(human_duration(350), "350ms");
        assert_eq!(human_duration(1_200), "1.2s");
        assert_eq!(human_duration(276_000), "4.6m");
        assert_eq!(human_duration(2_000), "2s");
    }
}
