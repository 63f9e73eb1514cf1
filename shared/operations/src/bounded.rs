//! Lists in outputs, bounded: Step Functions fails an execution (uncatchably) when a state's
//! output exceeds 256 KB, and a prune over a long-neglected repository names thousands of
//! snapshots. An output carries the count and the first few names; the log has them all.

use serde::{Deserialize, Serialize};

/// How many names a [`Bounded`] list carries.
pub const SAMPLE: usize = 10;

/// `{"count": N, "names": [the first SAMPLE], "truncated": N > SAMPLE}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Bounded {
    pub count: usize,
    pub names: Vec<String>,
    pub truncated: bool,
}

impl Bounded {
    /// The count of `all` and its first [`SAMPLE`] names, in order.
    pub fn from_slice<S: AsRef<str>>(all: &[S]) -> Self {
        Self {
            count: all.len(),
            names: all
                .iter()
                .take(SAMPLE)
                .map(|s| s.as_ref().to_owned())
                .collect(),
            truncated: all.len() > SAMPLE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_count_and_the_first_names() {
        let empty = Bounded::from_slice::<&str>(&[]);
        assert_eq!(
            serde_json::to_value(&empty).unwrap(),
            serde_json::json!({"count": 0, "names": [], "truncated": false})
        );
        let names: Vec<String> = (0..SAMPLE).map(|i| format!("s{i:02}")).collect();
        let full = Bounded::from_slice(&names);
        assert_eq!(
            (full.count, full.names.len(), full.truncated),
            (SAMPLE, SAMPLE, false)
        );
        let many: Vec<String> = (0..25).map(|i| format!("s{i:02}")).collect();
        let cut = Bounded::from_slice(&many);
        assert_eq!(cut.count, 25);
        assert_eq!(cut.names, many[..SAMPLE]);
        assert!(cut.truncated);
        let back: Bounded = serde_json::from_value(serde_json::to_value(&cut).unwrap()).unwrap();
        assert_eq!(back, cut);
    }
}
