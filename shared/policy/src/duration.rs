//! Durations as operators write them in events: `"26h"`, `"30d"`, `"1d12h"`, `"90m"`, `"2w"`.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not a duration: write a number and a unit (s, m, h, d, w), e.g. \"26h\", \
     \"30d\" or \"1d12h\""
)]
pub struct DurationError {
    pub text: String,
}

/// Parses a duration of one or more `<number><unit>` parts. Zero is refused: a zero age or
/// interval is always a mistake in a retention or freshness rule.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let error = || DurationError {
        text: text.to_owned(),
    };
    let trimmed = text.trim();
    let mut total: u64 = 0;
    let mut number = String::new();
    let mut parts = 0;
    for c in trimmed.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(error()),
        };
        let value: u64 = number.parse().map_err(|_| error())?;
        total = value
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(error)?;
        number.clear();
        parts += 1;
    }
    if !number.is_empty() || parts == 0 || total == 0 {
        return Err(error());
    }
    Ok(Duration::from_secs(total))
}

/// The shortest exact rendering, e.g. 93 600 s → `"1d2h"`.
pub fn format_duration(duration: Duration) -> String {
    let mut secs = duration.as_secs();
    if secs == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_operators_write() {
        for (text, secs) in [
            ("26h", 26 * 3_600),
            ("30d", 30 * 86_400),
            ("1d12h", 36 * 3_600),
            ("90m", 5_400),
            ("2w", 14 * 86_400),
            (" 45s ", 45),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs(secs)),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_everything_else() {
        for text in [
            "",
            "h",
            "26",
            "26 h",
            "1.5h",
            "-1d",
            "0d",
            "1y",
            "99999999999999999999w",
        ] {
            assert!(parse_duration(text).is_err(), "{text}");
        }
    }

    #[test]
    fn formats_back() {
        assert_eq!(format_duration(Duration::from_secs(93_600)), "1d2h");
        assert_eq!(format_duration(Duration::from_secs(61)), "1m1s");
        assert_eq!(
            parse_duration(&format_duration(Duration::from_secs(987_654)))
                .unwrap()
                .as_secs(),
            987_654
        );
    }
}
