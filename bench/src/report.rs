//! The bench's one markdown table, and how its figures are written.

use std::time::Duration;

/// Whether a figure meets its goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Met,
    Missed,
    /// A figure without a goal.
    Info,
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub what: String,
    pub measured: String,
    pub goal: String,
    pub verdict: Verdict,
}

impl Row {
    pub fn info(what: impl Into<String>, measured: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            measured: measured.into(),
            goal: String::new(),
            verdict: Verdict::Info,
        }
    }

    pub fn goal(
        what: impl Into<String>,
        measured: impl Into<String>,
        goal: impl Into<String>,
        met: bool,
    ) -> Self {
        Self {
            what: what.into(),
            measured: measured.into(),
            goal: goal.into(),
            verdict: if met { Verdict::Met } else { Verdict::Missed },
        }
    }
}

/// The rows as a markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from("| measurement | measured | goal | |\n| --- | --- | --- | --- |\n");
    for row in rows {
        let verdict = match row.verdict {
            Verdict::Met => "met",
            Verdict::Missed => "**missed**",
            Verdict::Info => "",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            row.what, row.measured, row.goal, verdict
        ));
    }
    out
}

/// Milliseconds with one decimal (two below 10 ms).
pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1_000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// Megabytes (10^6 bytes) with one decimal.
pub fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Megabytes with two decimals, for sizes close to a limit.
pub fn mb2(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

/// A whole number with thousands separators.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The median (the lower middle for an even count); zero when empty.
pub fn median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_written_plainly() {
        assert_eq!(ms(Duration::from_micros(3_456)), "3.46 ms");
        assert_eq!(ms(Duration::from_micros(123_456)), "123.5 ms");
        assert_eq!(mb(3_951_000), "4.0 MB");
        assert_eq!(mb2(3_951_000), "3.95 MB");
        assert_eq!(count(10_000), "10,000");
        assert_eq!(count(999), "999");
        let d = |ms| Duration::from_millis(ms);
        assert_eq!(median(&[d(5), d(1), d(3)]), d(3));
        assert_eq!(median(&[d(4), d(1), d(3), d(2)]), d(2));
        assert_eq!(median(&[]), Duration::ZERO);
    }

    #[test]
    fn the_table_marks_missed_goals() {
        let table = markdown(&[
            Row::goal("init", "3 ms", "< 15 ms", true),
            Row::goal("zip", "5 MB", "< 4 MB", false),
            Row::info("seeding", "2 s"),
        ]);
        assert!(table.starts_with("| measurement |"));
        assert!(table.contains("| init | 3 ms | < 15 ms | met |"));
        assert!(table.contains("| zip | 5 MB | < 4 MB | **missed** |"));
        assert!(table.contains("| seeding | 2 s |  |  |"));
    }
}
