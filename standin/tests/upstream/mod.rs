//! Upstream-written checks of the stand-in: where their data lives, how each check ended, and
//! the report.
//!
//! The data is not part of this repository: it is read from `$OSNAP_UPSTREAM_CHECKS`, or from
//! `../shared/` beside the workspace, which holds `opensearch-rest-tests/`,
//! `elasticsearch-rest-tests/` and `opensearch-api-spec/`.

pub mod catalog;
pub mod stories;
pub mod yaml_tests;

use std::path::PathBuf;

use serde_json::{Value, json};

/// The environment variable that points at the upstream data.
pub const DATA_VARIABLE: &str = "OSNAP_UPSTREAM_CHECKS";

/// Where the upstream data is, or why it is not there.
pub fn data_dir() -> Result<PathBuf, String> {
    let dir = match std::env::var_os(DATA_VARIABLE) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    let needed = [
        "opensearch-rest-tests/test",
        "opensearch-rest-tests/api",
        "opensearch-api-spec/spec",
    ];
    match needed.iter().find(|n| !dir.join(n).is_dir()) {
        None => Ok(dir),
        Some(missing) => Err(format!(
            "no {missing} under {} (set {DATA_VARIABLE} to the folder that holds it)",
            dir.display()
        )),
    }
}

/// How one test (a YAML section or a story's chapter) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Skipped(String),
    /// The stand-in answered with its own refusal (501, "stand-in"): out of its scope.
    Refused(String),
    Failed(String),
}

/// Every outcome of one kind of check, printed per file and per test, then summed up.
#[derive(Debug, Default)]
pub struct Report {
    /// (profile, file, test, outcome).
    pub rows: Vec<(String, String, String, Outcome)>,
}

impl Report {
    pub fn add(&mut self, profile: &str, file: &str, test: &str, outcome: Outcome) {
        self.rows.push((
            profile.to_owned(),
            file.to_owned(),
            test.to_owned(),
            outcome,
        ));
    }

    /// One line per test, grouped by profile and file.
    pub fn details(&self) -> String {
        let mut out = String::new();
        let mut heading = (String::new(), String::new());
        for (profile, file, test, outcome) in &self.rows {
            if heading != (profile.clone(), file.clone()) {
                heading = (profile.clone(), file.clone());
                out.push_str(&format!("  [{profile}] {file}\n"));
            }
            let line = match outcome {
                Outcome::Passed => format!("passed   {test}"),
                Outcome::Skipped(why) => format!("skipped  {test} ({why})"),
                Outcome::Refused(why) => format!("refused  {test}: {why}"),
                Outcome::Failed(why) => format!("FAILED   {test}: {why}"),
            };
            out.push_str(&format!("    {line}\n"));
        }
        out
    }

    pub fn count(&self, kind: fn(&Outcome) -> bool) -> usize {
        self.rows.iter().filter(|r| kind(&r.3)).count()
    }

    /// `<what>: F files, P profiles, T runs: a passed, b skipped, c refused by the stand-in,
    /// d failed`.
    pub fn summary(&self, what: &str) -> String {
        let files: std::collections::BTreeSet<&str> =
            self.rows.iter().map(|r| r.1.as_str()).collect();
        let profiles: std::collections::BTreeSet<&str> =
            self.rows.iter().map(|r| r.0.as_str()).collect();
        format!(
            "{what}: {} files, {} engine profiles, {} runs: {} passed, {} skipped, {} refused by the stand-in, {} failed",
            files.len(),
            profiles.len(),
            self.rows.len(),
            self.count(|o| *o == Outcome::Passed),
            self.count(|o| matches!(o, Outcome::Skipped(_))),
            self.count(|o| matches!(o, Outcome::Refused(_))),
            self.count(|o| matches!(o, Outcome::Failed(_))),
        )
    }

    /// Each failure with its `(file, test)`, as one line.
    pub fn failures(&self) -> Vec<((String, String), String)> {
        self.rows
            .iter()
            .filter_map(|(p, f, t, o)| match o {
                Outcome::Failed(why) => {
                    Some(((f.clone(), t.clone()), format!("[{p}] {f} / {t}: {why}")))
                }
                _ => None,
            })
            .collect()
    }

    /// `(file, test)` of every failure.
    pub fn failed_tests(&self) -> std::collections::BTreeSet<(String, String)> {
        self.failures().into_iter().map(|(key, _)| key).collect()
    }

    /// `(file, test)` of every refusal, for comparison with the documented list.
    pub fn refusals(&self) -> std::collections::BTreeSet<(String, String)> {
        self.rows
            .iter()
            .filter(|r| matches!(r.3, Outcome::Refused(_)))
            .map(|r| (r.1.clone(), r.2.clone()))
            .collect()
    }
}

/// A version as the skip ranges compare them: every Elasticsearch version (5.x and later)
/// sorts before every OpenSearch version (1.x to 4.x), as in OpenSearch's `Version`, where
/// the legacy ids sit below OpenSearch's.
pub fn version_key(text: &str) -> Result<(u8, u32, u32, u32), String> {
    let numbers: Vec<u32> = text
        .split(['.', '-'])
        .take(3)
        .map(|n| n.parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("`{text}` is not a version"))?;
    let [major, minor, patch] = numbers[..] else {
        return Err(format!("`{text}` is not major.minor.patch"));
    };
    let opensearch = u8::from(major < 5);
    Ok((opensearch, major, minor, patch))
}

/// Upstream's test repositories are `type: fs` with a relative `location`; an Amazon
/// OpenSearch Service domain registers only `s3` repositories, so the runner registers each
/// as an `s3` repository in the stand-in's bucket, with `base_path` = `<run>/<location>`
/// (one fresh prefix per test, as upstream's runner wipes repositories between tests).
/// `readonly` is kept; any other setting is passed through for the stand-in to judge.
pub fn fs_as_s3(body: &Value, run: &str, bucket: &str, role: &str) -> Value {
    if body["type"] != "fs" {
        return body.clone();
    }
    let mut settings = body["settings"].as_object().cloned().unwrap_or_default();
    let location = settings
        .remove("location")
        .and_then(|l| l.as_str().map(str::to_owned))
        .unwrap_or_default();
    settings.insert("bucket".into(), json!(bucket));
    settings.insert("base_path".into(), json!(format!("{run}/{location}")));
    settings.insert("region".into(), json!(standin::TEST_REGION));
    settings.insert("role_arn".into(), json!(role));
    json!({"type": "s3", "settings": settings})
}
