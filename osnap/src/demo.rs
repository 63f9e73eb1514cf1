//! `osnap demo`: a complete domain migration on the local stand-in, through the very
//! operations the Lambda functions run, over real loopback HTTP with real SigV4.

use std::future::Future;
use std::time::{Duration, Instant};

use operations::connect::{Connector, CredentialMode};
use operations::contract::{Defaults, DomainInput, Target};
use operations::requests::{
    DEFAULT_DRILL_PREFIX, DrillDay, DrillPhase, DrillRequest, DrillSample, OnConflict,
    RegisterRequest, RepositorySettingsInput, RestoreRequest, SnapshotRequest, VerifyCheck,
    VerifyRequest,
};
use operations::{Context, OsnapError, register, restore, snapshot, verify};
use signing::{EndpointPolicy, SharedTimeSource, SystemTimeSource};

use crate::fixture::{DemoFixture, SAMPLE_INDICES};

const REPOSITORY: &str = "migration";
const BASE_PATH: &str = "demo";
/// The demo's snapshot names, and the pattern they match.
const SNAPSHOT_TEMPLATE: &str = "migration-{now:%Y.%m.%d-%H%M%S}";
const MIGRATION_PATTERN: &str = "migration-*";
/// How often the demo polls, like a Step Functions `Wait` state would, and for how long.
const POLL_EVERY: Duration = Duration::from_millis(100);
const POLL_FOR: Duration = Duration::from_secs(60);

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the local stand-in could not start: {0}")]
    Standin(String),
    #[error("{step} failed [{}]: {source}", source.error_type())]
    Step {
        step: &'static str,
        #[source]
        source: OsnapError,
    },
    #[error("{0}")]
    Check(String),
}

fn step(step: &'static str) -> impl FnOnce(OsnapError) -> DemoError {
    move |source| DemoError::Step { step, source }
}

/// Runs the migration and prints the report; returns an error saying what went wrong.
pub async fn run(out: &mut impl std::io::Write) -> Result<(), DemoError> {
    let started = Instant::now();
    writeln!(out, "osnap demo — a domain migration on the LOCAL STAND-IN (emulated domains and S3 on loopback; nothing touches AWS)\n").ok();

    let fixture = DemoFixture::start().await.map_err(DemoError::Standin)?;
    line(
        out,
        "started S3 and two emulated OpenSearch domains",
        &fixture.describe(),
    );
    let loaded = fixture
        .load_sample_data()
        .await
        .map_err(DemoError::Standin)?;
    line(
        out,
        "loaded sample data into the source",
        &format!(
            "{loaded} documents in {} indices, alias `logs`",
            SAMPLE_INDICES.len()
        ),
    );

    let context = Context {
        connector: Connector::new(
            CredentialMode::Fixed(fixture.credentials()),
            // The demo talks to the local stand-in only.
            EndpointPolicy::aws_only().allowing_loopback_for_tests(),
            SharedTimeSource::new(SystemTimeSource::new()),
        )
        .map_err(step("connect"))?,
        defaults: Defaults {
            s3_endpoint: Some(fixture.s3_endpoint()),
            ..Defaults::default()
        },
        time: SharedTimeSource::new(SystemTimeSource::new()),
        deadline: None,
    };
    let source = target_for(&fixture.source_endpoint());
    let target = target_for(&fixture.target_endpoint());

    for (side, on, readonly) in [("source", &source, false), ("target", &target, true)] {
        let request = RegisterRequest {
            domain: None,
            repository: None,
            settings: RepositorySettingsInput {
                bucket: fixture.bucket().to_owned(),
                region: Some(fixture.region().to_owned()),
                endpoint: None,
                base_path: Some(BASE_PATH.to_owned()),
                role_arn: Some(fixture.snapshot_role_arn().to_owned()),
                client: None,
                server_side_encryption: None,
                readonly: Some(readonly),
            },
            verify: !readonly,
            replace: false,
        };
        let registered = register::register(&context, &request, on)
            .await
            .map_err(step("register"))?;
        line(
            out,
            &format!("registered repository `{REPOSITORY}` on the {side}"),
            &format!(
                "{:?}{}",
                registered.status,
                if readonly { ", read-only" } else { "" }
            )
            .to_lowercase(),
        );
    }

    let request = SnapshotRequest {
        domain: None,
        repository: None,
        snapshot: Some(SNAPSHOT_TEMPLATE.into()),
        time: None,
        indices: None,
        include_global_state: false,
        partial: false,
        metadata: None,
        warm: Default::default(),
    };
    let taken = snapshot::snapshot(&context, &request, &source)
        .await
        .map_err(step("snapshot"))?;
    line(out, "started snapshot", &taken.snapshot);
    line(
        out,
        "recorded its manifest",
        taken
            .manifest
            .key
            .as_deref()
            .or(taken.manifest.reason.as_deref())
            .unwrap_or("none"),
    );

    let verified = poll(out, "snapshot", || async {
        let request = verify_request(VerifyCheck::Snapshot, &taken.snapshot);
        verify::verify(&context, &request, &source).await
    })
    .await?;
    if !verified.ok {
        return Err(DemoError::Check(format!(
            "the snapshot ended {}: {}",
            verified.state,
            verified.failures.join("; ")
        )));
    }
    line(
        out,
        "snapshot verified",
        &format!(
            "{} — {} indices, {}/{} shards",
            verified.state,
            verified.indices.count,
            verified.shards.successful,
            verified.shards.total
        ),
    );

    let mut request = RestoreRequest {
        domain: None,
        repository: None,
        snapshot: taken.snapshot.clone(),
        name_pattern: MIGRATION_PATTERN.to_owned(),
        indices: None,
        on_conflict: OnConflict::Fail,
        rename_pattern: None,
        rename_replacement: None,
        include_aliases: None,
        include_global_state: false,
        index_settings: None,
        ignore_index_settings: None,
        partial: false,
        dry_run: true,
        source: None,
    };
    let plan = restore::restore(&context, &request, &target)
        .await
        .map_err(step("restore plan"))?;
    line(
        out,
        "checked the restore plan on the target",
        &format!(
            "{} indices to restore, {} to restore over (system indices are never planned)",
            plan.restored.count, plan.replaced.count
        ),
    );
    request.dry_run = false;
    let restored = restore::restore(&context, &request, &target)
        .await
        .map_err(step("restore"))?;
    // The workflow's own way: what was restored, from which, is worked out again from the
    // snapshot and the request.
    let selection = request.selection(&restored.snapshot);
    let api = context.api(&target).await.map_err(step("restore"))?;
    let pairs = restore::restored_pairs(&api, REPOSITORY, &selection)
        .await
        .map_err(step("restore"))?;
    poll(out, "restore", || async {
        let mut request = verify_request(VerifyCheck::Restore, &taken.snapshot);
        request.restore_of = Some(selection.clone());
        verify::verify(&context, &request, &target).await
    })
    .await?;
    line(
        out,
        "restore recovered on the target",
        &format!("{} indices", restored.restored.count),
    );

    let mut counts = verify_request(VerifyCheck::Counts, &taken.snapshot);
    counts.source = Some(source.domain.clone());
    counts.restore_of = Some(selection.clone());
    let compared = verify::verify(&context, &counts, &target)
        .await
        .map_err(step("compare counts"))?;
    if let Some(report) = &compared.counts {
        line(
            out,
            "compared the copies with the manifest",
            &format!(
                "{} ({} exact, {} within the snapshot's interval, {} mismatched, {} unverified)",
                compared.state,
                report.exact,
                report.within_interval,
                report.mismatch,
                report.unverified
            ),
        );
    }

    // The proof the backup workflow runs on its own schedule: a drill of the same snapshot on
    // the source, judged against the manifest it recorded, its copies deleted.
    let drill_started = std::cell::Cell::new(false);
    let drilled = poll(out, "drill", || async {
        let mut request = verify_request(VerifyCheck::Drill, &taken.snapshot);
        request.drill = Some(DrillRequest {
            sample: DrillSample::All,
            prefix: DEFAULT_DRILL_PREFIX.to_owned(),
            domain: None,
            on: DrillDay::Always,
        });
        request.drill_phase = if drill_started.get() {
            DrillPhase::Check
        } else {
            DrillPhase::Start
        };
        let answer = verify::verify(&context, &request, &source).await;
        drill_started.set(true);
        answer
    })
    .await?;
    let report = drilled
        .drill
        .clone()
        .ok_or_else(|| DemoError::Check("the drill answered without its report".into()))?;
    line(
        out,
        "drilled the snapshot on the source",
        &format!(
            "{} — {} of {} indices restored under `{}` as the manifest {} records, {} copies deleted",
            drilled.state,
            report.passed.count,
            report.sample.count,
            report.prefix,
            taken.manifest.key.as_deref().unwrap_or("(none)"),
            report.deleted.count
        ),
    );

    let mut rows = Vec::new();
    for pair in &pairs {
        let (source_docs, target_docs) = fixture
            .count_pair(&pair.from, &pair.to)
            .await
            .map_err(DemoError::Standin)?;
        rows.push((pair.from.clone(), source_docs, target_docs));
    }
    let system_restored: Vec<&String> = pairs
        .iter()
        .map(|r| &r.to)
        .filter(|n| n.starts_with('.'))
        .collect();
    writeln!(
        out,
        "\n{:<24} {:>12} {:>12}",
        "index", "source docs", "target docs"
    )
    .ok();
    writeln!(out, "{}", "-".repeat(60)).ok();
    for (index, s, t) in &rows {
        writeln!(
            out,
            "{index:<24} {s:>12} {t:>12}  {}",
            if s == t { "equal" } else { "DIFFERENT" }
        )
        .ok();
    }
    writeln!(
        out,
        "\nsystem indices restored: {}",
        if system_restored.is_empty() {
            "none".to_owned()
        } else {
            format!("{system_restored:?}")
        }
    )
    .ok();
    writeln!(out, "finished in {:.1} s", started.elapsed().as_secs_f64()).ok();
    fixture.stop().await;

    if !compared.ok {
        return Err(DemoError::Check(format!(
            "document counts differ: {}",
            compared.failures.join("; ")
        )));
    }
    if !drilled.ok {
        return Err(DemoError::Check(format!(
            "the drill failed: {}",
            drilled.failures.join("; ")
        )));
    }
    if !system_restored.is_empty() {
        return Err(DemoError::Check(format!(
            "system indices were restored: {system_restored:?}"
        )));
    }
    writeln!(
        out,
        "migration complete: every index arrived with all its documents"
    )
    .ok();
    Ok(())
}

fn target_for(endpoint: &str) -> Target {
    Target {
        domain: DomainInput {
            endpoint: endpoint.to_owned(),
            region: Some(standin::TEST_REGION.to_owned()),
            assume_role_arn: None,
            auth: None,
        },
        repository: REPOSITORY.to_owned(),
        event_time: None,
    }
}

fn verify_request(check: VerifyCheck, snapshot: &str) -> VerifyRequest {
    VerifyRequest {
        domain: None,
        repository: None,
        snapshot: snapshot.to_owned(),
        name_pattern: MIGRATION_PATTERN.to_owned(),
        expect_indices: vec![],
        max_age: None,
        check,
        indices: vec![],
        source: None,
        restore_of: None,
        drill: None,
        drill_phase: DrillPhase::Start,
        raise_on_failure: false,
    }
}

/// Polls `check` until it is done, drawing a progress line, like the workflows' Wait loops.
async fn poll<F, Fut>(
    out: &mut impl std::io::Write,
    what: &str,
    check: F,
) -> Result<operations::requests::VerifyResponse, DemoError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<operations::requests::VerifyResponse, OsnapError>>,
{
    let started = Instant::now();
    let mut polls = 0;
    loop {
        let response = check().await.map_err(step("verify"))?;
        polls += 1;
        let (done, total) = (response.shards.successful, response.shards.total.max(1));
        let width = 30;
        let filled = usize::try_from(done * width / total).unwrap_or(0).min(30);
        write!(
            out,
            "\r  waiting for the {what}: [{}{}] {done}/{total} shards, {} ",
            "#".repeat(filled),
            ".".repeat(30 - filled),
            response.state
        )
        .ok();
        out.flush().ok();
        if response.done {
            writeln!(
                out,
                "({polls} polls, {:.1} s)",
                started.elapsed().as_secs_f64()
            )
            .ok();
            return Ok(response);
        }
        if started.elapsed() > POLL_FOR {
            writeln!(out).ok();
            return Err(DemoError::Check(format!(
                "the {what} did not finish within {POLL_FOR:?}"
            )));
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

fn line(out: &mut impl std::io::Write, what: &str, detail: &str) {
    writeln!(out, "  ✔ {what}: {detail}").ok();
}
