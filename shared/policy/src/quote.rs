//! Quoting values that came from an event or a domain inside messages. Such a value may be
//! of any length and hold any character: a message (an `errorMessage`, a log line, a Step
//! Functions Cause, a notification) carries only a short, escaped prefix of it, so a huge or
//! hostile value can neither bloat nor forge what an operator reads.

/// The most characters of a value a message carries.
pub const MAX_QUOTED_CHARS: usize = 120;

/// `value` with control and invisible formatting characters escaped (`\n`, `\u{202e}`), cut
/// after [`MAX_QUOTED_CHARS`] characters with the number of characters left out.
pub fn short(value: &str) -> String {
    cut(value, MAX_QUOTED_CHARS)
}

/// The most characters of a whole message (an `errorMessage`, which Step Functions carries
/// into a Cause and the workflows into a notification).
pub const MAX_MESSAGE_CHARS: usize = 2_000;

/// `message` with hidden characters escaped, cut after [`MAX_MESSAGE_CHARS`] characters: the
/// last line of defence where a value was not quoted short where it was put in.
pub fn bounded_message(message: &str) -> String {
    cut(message, MAX_MESSAGE_CHARS)
}

fn cut(value: &str, max: usize) -> String {
    let total = value.chars().count();
    let mut out = String::new();
    for c in value.chars().take(max) {
        if is_hidden(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    if total > max {
        out.push_str(&format!("… ({} more characters)", total - max));
    }
    out
}

/// Characters that would break a message's lines or change how the rest of it reads.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_kept_and_escaped() {
        assert_eq!(short("nightly-2026.11.28"), "nightly-2026.11.28");
        assert_eq!(short("a\nb\"c'd"), "a\\nb\"c'd");
        assert_eq!(short("\u{202e}x"), "\\u{202e}x");
    }

    #[test]
    fn messages_are_bounded_but_keep_their_lines_readable() {
        let message = format!("unknown field `{}`", "y".repeat(70_000));
        let bounded = bounded_message(&message);
        assert!(bounded.chars().count() < MAX_MESSAGE_CHARS + 40);
        assert!(bounded.starts_with("unknown field `yyy"));
        assert_eq!(bounded_message("short\tmessage"), "short\\tmessage");
    }

    #[test]
    fn long_values_are_cut_with_a_count() {
        let long = "x".repeat(70_000);
        let quoted = short(&long);
        assert!(quoted.starts_with(&"x".repeat(MAX_QUOTED_CHARS)));
        assert!(quoted.ends_with(&format!("({} more characters)", 70_000 - MAX_QUOTED_CHARS)));
        assert!(quoted.len() < 200, "{}", quoted.len());
    }
}
