//! The criterion benchmarks' figures, read from what `cargo bench` wrote under
//! `<target>/criterion/`: each benchmark's `benchmark.json` (its id) and `new/estimates.json`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

/// One benchmark's typical time per iteration (criterion's slope, or its mean).
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub id: String,
    pub time: Duration,
}

/// Every benchmark found under `root`, sorted by id.
pub fn estimates(root: &Path) -> Vec<Estimate> {
    let mut found = Vec::new();
    let mut folders: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.file_name().is_some_and(|n| n == "benchmark.json")
                && path.parent().is_some_and(|p| p.ends_with("new"))
                && let Some(estimate) = read(&path)
            {
                found.push(estimate);
            }
        }
    }
    found.sort_by(|a, b| a.id.cmp(&b.id));
    found
}

fn read(benchmark: &Path) -> Option<Estimate> {
    let folder = benchmark.parent()?;
    let description: Value = serde_json::from_slice(&std::fs::read(benchmark).ok()?).ok()?;
    let estimates: Value =
        serde_json::from_slice(&std::fs::read(folder.join("estimates.json")).ok()?).ok()?;
    Some(Estimate {
        id: description["full_id"].as_str()?.to_owned(),
        time: typical(&estimates)?,
    })
}

/// Criterion's headline figure: the slope when it sampled linearly, else the mean.
pub fn typical(estimates: &Value) -> Option<Duration> {
    let nanos = estimates["slope"]["point_estimate"]
        .as_f64()
        .or_else(|| estimates["mean"]["point_estimate"].as_f64())?;
    (nanos.is_finite() && nanos >= 0.0).then(|| Duration::from_secs_f64(nanos / 1e9))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn the_headline_figure_is_the_slope_or_the_mean() {
        let slope =
            json!({"mean": {"point_estimate": 5000.0}, "slope": {"point_estimate": 4400.0}});
        assert_eq!(typical(&slope), Some(Duration::from_nanos(4_400)));
        let mean = json!({"mean": {"point_estimate": 2.0e6}, "slope": null});
        assert_eq!(typical(&mean), Some(Duration::from_millis(2)));
        assert_eq!(typical(&json!({})), None);
    }

    #[test]
    fn reads_criterions_folders() {
        let root =
            std::env::temp_dir().join(format!("osnap-bench-criterion-{}", std::process::id()));
        let new = root.join("sigv4_sign").join("new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(new.join("benchmark.json"), r#"{"full_id":"sigv4/sign"}"#).unwrap();
        std::fs::write(
            new.join("estimates.json"),
            r#"{"mean":{"point_estimate":4400.0},"slope":null}"#,
        )
        .unwrap();
        let found = estimates(&root);
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!(
            found,
            vec![Estimate {
                id: "sigv4/sign".into(),
                time: Duration::from_nanos(4_400)
            }]
        );
    }
}
