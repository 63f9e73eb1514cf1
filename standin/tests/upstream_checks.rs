//! Upstream-written checks of the stand-in, over signed HTTP: OpenSearch's YAML REST tests
//! (and the two Elasticsearch 7.x ones for files OpenSearch's copy lacks) on every engine
//! profile their `skip.version` allows, and the OpenSearch API specification's test stories
//! on the OpenSearch profiles. Each prints one line per file and test, then a summary line.
//! Without the data (`upstream::DATA_VARIABLE`, default `../shared/`) each prints why it was
//! skipped.
//!
//! A test ends as passed, skipped (with the reason), refused by the stand-in (a 501 that says
//! the stand-in does not model it; each listed in `EXPECTED_REFUSALS` with why) or failed
//! (with the assertion). Any failure, and any refusal not listed, fails the test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod common;
mod upstream;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use policy::engines::Capabilities;
use serde_json::Value;
use signing::RetryPolicy;
use standin::Engine;
use upstream::catalog::Catalog;
use upstream::stories::StoryRunner;
use upstream::yaml_tests::{Runner, Suite, run_section};
use upstream::{Outcome, Report, fs_as_s3};

/// What the stand-in refuses on purpose, by (file, test) on at least one profile: each is out
/// of its scope (standin/README.md, "Upstream checks"). A listed test that is refused nowhere
/// fails the check, so the list stays true.
const EXPECTED_REFUSALS: &[(&str, &str, &str)] = &[
    (
        "bulk/10_basic.yml",
        "When setting require_alias flag",
        "require_alias",
    ),
    (
        "bulk/10_basic.yml",
        "When setting require_alias flag per request",
        "require_alias",
    ),
    (
        "cat.indices/10_basic.yml",
        "Test cat indices output for closed index",
        "_close on ES 6.8",
    ),
    (
        "cat.indices/10_basic.yml",
        "Test cat indices output for closed index (pre 7.2.0)",
        "_close on ES 6.8",
    ),
    (
        "cat.indices/10_basic.yml",
        "Test cat indices sort",
        "_close on ES 6.8",
    ),
    ("cat.snapshots/10_basic.yml", "Help", "_cat help"),
    (
        "cluster.health/10_basic.yml",
        "cluster health levels",
        "level indices/shards",
    ),
    (
        "cluster.health/10_basic.yml",
        "cluster health with closed index",
        "_close on ES 6.8",
    ),
    (
        "cluster.health/10_basic.yml",
        "cluster health with closed index (pre 7.2.0)",
        "_close on ES 6.8",
    ),
    (
        "default/cat/indices.yaml",
        "List information related to indexes displaying all available headers (help=true).",
        "_cat help",
    ),
    (
        "default/cat/recovery.yaml",
        "List all completed and ongoing index and shard recoveries for a given index.",
        "_cat/recovery",
    ),
    (
        "default/cat/recovery.yaml",
        "List all completed and ongoing index and shard recoveries.",
        "_cat/recovery",
    ),
    (
        "default/cat/repositories.yaml",
        "List all snapshot repositories for a cluster.",
        "_cat/repositories",
    ),
    (
        "default/indices/alias/alias.yaml",
        "Update an alias.",
        "put_alias with the alias in the body",
    ),
    (
        "default/indices/aliases/aliases.yaml",
        "Update an alias by name (payload).",
        "put_alias with the index in the body",
    ),
    (
        "es:snapshot.restore/10_basic.yml",
        "Create a snapshot and then restore it",
        "_close on ES 6.8",
    ),
    (
        "indices.create/10_basic.yml",
        "Create index with mappings",
        "indices.get_mapping",
    ),
    (
        "indices.create/10_basic.yml",
        "Create index without soft deletes",
        "index.soft_deletes.enabled",
    ),
    (
        "indices.put_alias/10_basic.yml",
        "Basic test for put alias",
        "put_alias without an index in the path",
    ),
    (
        "indices.put_alias/10_basic.yml",
        "Index parameter supports multiple values",
        "put_alias with the index in the body",
    ),
    (
        "snapshot.clone/10_basic.yml",
        "Clone a snapshot",
        "snapshot.clone",
    ),
    (
        "snapshot.create/10_basic.yml",
        "Create a snapshot and clean up repository",
        "snapshot.cleanup_repository",
    ),
    (
        "snapshot/cat/repositories.yaml",
        "List all snapshot repositories for a cluster.",
        "_cat/repositories",
    ),
    (
        "snapshot/snapshot/cleanup.yaml",
        "Verify snapshot repository.",
        "snapshot.cleanup_repository",
    ),
    (
        "snapshot/snapshot/clone.yaml",
        "Clone a snapshot.",
        "snapshot.clone",
    ),
];

/// Where the stand-in still answers differently from upstream, by (file, test) on at least
/// one profile: each is a stand-in defect to fix, listed so that the check runs in every
/// build, reports it as failed, and fails when a new one appears or a listed one is fixed
/// (then it must leave this list).
const KNOWN_FAILURES: &[(&str, &str)] = &[
    (
        "cat.snapshots/10_basic.yml",
        "Test deprecated _cat/snapshots endpoint",
    ),
    (
        "default/cat/indices.yaml",
        "List information related to indexes in different formats (format=yaml).",
    ),
    (
        "default/cat/indices.yaml",
        "List information related to indexes with bytes, time and all fields.",
    ),
    (
        "default/cluster/health.yaml",
        "Returns a status of the health of the cluster with awareness.",
    ),
    (
        "default/indices/recovery.yaml",
        "Get information about any completed or ongoing shard recoveries for an index.",
    ),
    (
        "es:snapshot.restore/10_basic.yml",
        "Create a snapshot and then restore it",
    ),
    (
        "indices.create/10_basic.yml",
        "Create index with explicit _doc type",
    ),
    (
        "indices.put_alias/10_basic.yml",
        "Index and alias in request body can override path parameters",
    ),
    (
        "indices.put_alias/10_basic.yml",
        "Throws exception with invalid parameters",
    ),
    (
        "indices.update_aliases/40_remove_with_must_exist.yml",
        "Remove silently when all of the specified aliases are non-existing and must_exist is false",
    ),
    (
        "indices.update_aliases/40_remove_with_must_exist.yml",
        "Throw aliases missing exception when removing non-existing alias with setting must_exist to true",
    ),
    (
        "snapshot.get/10_basic.yml",
        "Get missing snapshot info throws an exception",
    ),
    (
        "snapshot/cat/snapshots.yaml",
        "List all snapshots for a repository (query).",
    ),
    (
        "snapshot/snapshot/restore.yaml",
        "Restore snapshot with rename_alias_pattern and rename_alias_replacement.",
    ),
];

/// Sections whose Elasticsearch-era `skip` OpenSearch's copy dropped after the fork (its files
/// skip only by OpenSearch versions): they run where the engine table says the feature exists.
/// (file, test, whether the engine has the feature, why).
type LegacyGate = (
    &'static str,
    &'static str,
    fn(&Capabilities) -> bool,
    &'static str,
);

const LEGACY_GATES: &[LegacyGate] = &[(
    "snapshot.get/10_basic.yml",
    "Get snapshot info with metadata",
    |c| c.snapshot_metadata,
    "snapshot metadata arrived in Elasticsearch 7.3.0 (policy::engines, SnapshotMetadata)",
)];

fn legacy_gate(file: &str, test: &str, engine: &Engine) -> Option<String> {
    LEGACY_GATES
        .iter()
        .find(|(f, t, has, _)| *f == file && *t == test && !has(&engine.capabilities()))
        .map(|(_, _, _, why)| format!("dropped Elasticsearch skip: {why}"))
}

fn yaml_files(data: &Path) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    for (label, dir) in [
        ("", "opensearch-rest-tests/test"),
        ("es:", "elasticsearch-rest-tests/test"),
    ] {
        let Ok(apis) = std::fs::read_dir(data.join(dir)) else {
            continue;
        };
        for api in apis.filter_map(Result::ok).filter(|e| e.path().is_dir()) {
            for file in std::fs::read_dir(api.path())
                .unwrap()
                .filter_map(Result::ok)
            {
                let path = file.path();
                if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                    let name = format!(
                        "{label}{}/{}",
                        api.file_name().to_string_lossy(),
                        file.file_name().to_string_lossy()
                    );
                    files.push((name, path));
                }
            }
        }
    }
    files.sort();
    files
}

/// A fresh domain for each test, as upstream's runner starts each test on an empty cluster
/// (no AWS system indices).
async fn fresh_domain(env: &common::Env, engine: &Engine, run: usize) -> standin::Domain {
    let mut config = env.config(&format!("upstream-{run}"));
    config.engine = engine.clone();
    config.system_indices = false;
    standin::Domain::start(config).await.unwrap()
}

fn check(report: &Report, what: &str) {
    println!("{}", report.details());
    println!("{}", report.summary(what));
    let pairs = |list: Vec<(&str, &str)>| -> BTreeSet<(String, String)> {
        list.into_iter()
            .map(|(f, t)| (f.to_owned(), t.to_owned()))
            .collect()
    };
    let files: BTreeSet<&str> = report.rows.iter().map(|r| r.1.as_str()).collect();
    let in_this_check = |(f, _): &&(&str, &str)| files.contains(f);
    let known = pairs(
        KNOWN_FAILURES
            .iter()
            .filter(in_this_check)
            .copied()
            .collect(),
    );
    let refusals: Vec<(&str, &str)> = EXPECTED_REFUSALS.iter().map(|(f, t, _)| (*f, *t)).collect();
    let listed = pairs(refusals.iter().filter(in_this_check).copied().collect());
    let failed = report.failed_tests();
    let refused = report.refusals();
    let new_failures: Vec<String> = report
        .failures()
        .into_iter()
        .filter(|(key, _)| !known.contains(key))
        .map(|(_, line)| line)
        .collect();
    let fixed: Vec<_> = known.difference(&failed).collect();
    let new_refusals: Vec<_> = refused.difference(&listed).collect();
    let stale_refusals: Vec<_> = listed.difference(&refused).collect();
    println!(
        "{what}: {} of the failures are known stand-in defects (KNOWN_FAILURES)",
        failed.intersection(&known).count()
    );
    assert!(
        new_failures.is_empty()
            && fixed.is_empty()
            && new_refusals.is_empty()
            && stale_refusals.is_empty(),
        "{what}:\nnew failures:\n{}\nlisted in KNOWN_FAILURES but passing now (remove them): \
         {fixed:?}\nrefused but not in EXPECTED_REFUSALS: {new_refusals:?}\nin \
         EXPECTED_REFUSALS but not refused: {stale_refusals:?}",
        new_failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_yaml_rest_tests() {
    let data = match upstream::data_dir() {
        Ok(data) => data,
        Err(why) => {
            println!("upstream YAML REST tests: skipped: {why}");
            return;
        }
    };
    let catalog = Catalog::load(
        &data.join("opensearch-rest-tests"),
        &data.join("opensearch-api-spec"),
    )
    .unwrap();
    let env = common::Env::new("upstream-yaml").await;
    let mut report = Report::default();
    let mut run = 0;
    for engine in Engine::profiles() {
        let profile = engine.to_string();
        for (name, path) in yaml_files(&data) {
            let suite = Suite::parse(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            for (title, steps) in &suite.sections {
                if let Some(why) = legacy_gate(&name, title, &engine) {
                    report.add(&profile, &name, title, Outcome::Skipped(why));
                    continue;
                }
                run += 1;
                let domain = fresh_domain(&env, &engine, run).await;
                let client =
                    common::client(&domain.endpoint(), "standin-secret", RetryPolicy::none());
                let prefix = format!("yaml-{run}");
                let map = |body: &Value| fs_as_s3(body, &prefix, common::BUCKET, common::ROLE);
                let mut runner = Runner::new(&client, &catalog, &map);
                let outcome = run_section(&suite, steps, &mut runner, engine.version()).await;
                report.add(&profile, &name, title, outcome);
                domain.shutdown().await;
            }
        }
    }
    env.shutdown().await;
    check(&report, "upstream YAML REST tests");
}

/// The stories that exercise what the stand-in models; the `sm` (snapshot management
/// plugin) stories do not apply.
fn story_files(data: &Path) -> Vec<(String, PathBuf)> {
    let root = data.join("opensearch-api-spec/tests");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml")
                && !path.ends_with("docker-compose.yml")
            {
                let name = path.strip_prefix(&root).unwrap().display().to_string();
                files.push((name, path));
            }
        }
    }
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_api_spec_stories() {
    let data = match upstream::data_dir() {
        Ok(data) => data,
        Err(why) => {
            println!("upstream API spec stories: skipped: {why}");
            return;
        }
    };
    let catalog = Catalog::load(
        &data.join("opensearch-rest-tests"),
        &data.join("opensearch-api-spec"),
    )
    .unwrap();
    let env = common::Env::new("upstream-stories").await;
    let mut report = Report::default();
    let mut run = 0;
    let opensearch = Engine::profiles().into_iter().filter(Engine::is_opensearch);
    for engine in opensearch {
        let profile = engine.to_string();
        let version = upstream::version_key(engine.version()).unwrap();
        let version = (version.1, version.2, version.3);
        for (name, path) in story_files(&data) {
            let story = upstream::catalog::read_yaml(&path).unwrap();
            let chapters = story["chapters"].as_array().cloned().unwrap_or_default();
            let title = |c: &Value| c["synopsis"].as_str().unwrap_or("?").to_owned();
            let whole_story = if name.starts_with("default/sm/") {
                Some("the snapshot management plugin (sm) is not modelled".to_owned())
            } else {
                StoryRunner::story_not_here(&story, version).unwrap()
            };
            if let Some(why) = whole_story {
                for chapter in &chapters {
                    report.add(
                        &profile,
                        &name,
                        &title(chapter),
                        Outcome::Skipped(why.clone()),
                    );
                }
                continue;
            }
            run += 1;
            let domain = fresh_domain(&env, &engine, run).await;
            let client = common::client(&domain.endpoint(), "standin-secret", RetryPolicy::none());
            let prefix = format!("story-{run}");
            let map = |body: &Value| fs_as_s3(body, &prefix, common::BUCKET, common::ROLE);
            let runner = StoryRunner {
                client: &client,
                catalog: &catalog,
                fs_as_s3: &map,
            };
            let mut prologue = Ok(());
            for item in story["prologues"].as_array().into_iter().flatten() {
                prologue = runner.prepare(item).await;
                if prologue.is_err() {
                    break;
                }
            }
            for chapter in &chapters {
                let outcome = match &prologue {
                    Ok(()) => runner.chapter(chapter, version).await,
                    Err(Outcome::Failed(why)) => Outcome::Failed(format!("prologue: {why}")),
                    Err(other) => other.clone(),
                };
                report.add(&profile, &name, &title(chapter), outcome);
            }
            for item in story["epilogues"].as_array().into_iter().flatten() {
                if let Err(outcome) = runner.prepare(item).await {
                    report.add(&profile, &name, "epilogues", outcome);
                }
            }
            domain.shutdown().await;
        }
    }
    env.shutdown().await;
    check(&report, "upstream API spec stories");
}
