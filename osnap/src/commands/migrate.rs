//! `osnap migrate --from … --to …`: the migrate workflow's steps, run here by the same
//! operations. The preflight comes first (the restore's dry run with `source`); a blocking
//! finding stops it before anything changes (exit 4, as the workflow's `PreflightBlocked`).
//! `--dry-run` prints the report and the plan; otherwise, confirmed, it registers the
//! repository (writable on the source, read-only on the target), snapshots the source and
//! follows it, restores on the target and follows the recovery, and compares the documents.

use operations::contract::{ClusterAuth, DomainInput};
use operations::preflight::{PreflightReport, Severity};
use operations::requests::{RegisterResponse, RestoreResponse, SnapshotResponse, VerifyResponse};
use operations::{OsnapError, register, restore, snapshot, verify};
use serde::Serialize;
use serde_json::{Value, json};

use crate::cli::{Common, MigrateArgs};
use crate::error::CliError;
use crate::session::Session;
use crate::terminal::{confirm, note, print_json, print_out};

/// The snapshot the migration takes (the workflow's name template).
const SNAPSHOT_TEMPLATE: &str = "migration-{now:%Y.%m.%d-%H%M%S}";

/// What `--json` prints: each step's answer, in the functions' shapes.
#[derive(Debug, Default, Serialize)]
struct Migration {
    preflight: Option<RestoreResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registered_source: Option<RegisterResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registered_target: Option<RegisterResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot: Option<SnapshotResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    restore: Option<RestoreResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    counts: Option<VerifyResponse>,
}

/// The source as the events name it: an AWS domain, or a self-managed cluster with its login.
fn source(session: &Session, args: &MigrateArgs) -> DomainInput {
    let auth = match (&args.from_secret_arn, args.from_no_auth) {
        (Some(secret_arn), _) => Some(ClusterAuth::Basic {
            secret_arn: secret_arn.clone(),
            username: args.from_user.clone(),
        }),
        (None, true) => Some(ClusterAuth::None),
        (None, false) => None,
    };
    match auth {
        Some(auth) => session.cluster_at(&args.from, auth),
        None => session.domain_at(&args.from),
    }
}

pub async fn run(session: &Session, common: &Common, args: &MigrateArgs) -> Result<(), CliError> {
    let to = args.to.as_str();
    let from = source(session, args);
    if args.from_client.is_some() && !from.is_self_managed() {
        return Err(CliError::Operation(OsnapError::InvalidRequest {
            reason: "--from-client is a self-managed source's repository-s3 client: give \
                     --from-secret-arn or --from-no-auth"
                .into(),
        }));
    }
    let mut done = Migration::default();

    let mut fields = args.selection.fields();
    fields["dry_run"] = json!(true);
    fields["source"] = serde_json::to_value(&from)
        .map_err(|e| CliError::Other(format!("cannot write the event: {e}")))?;
    step(common, "preflight: reading both domains");
    let preflight = restore::handle(session.context.clone(), session.event_at(to, fields)?).await?;
    let report = preflight.preflight.clone().unwrap_or_default();
    if !common.json {
        note(&describe(&report));
    }
    if report.is_blocked() {
        let codes: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Blocking)
            .map(|f| format!("{}: {}", code(f.code), f.subject))
            .collect();
        return Err(CliError::PreflightBlocked(format!(
            "{} blocking findings ({}); nothing was changed",
            report.blocking,
            codes.join("; ")
        )));
    }
    let plan = format!(
        "migrate {} indices{}: register `{}` on both domains (read-only on the target), snapshot \
         the source, restore on the target ({}), compare document counts",
        preflight.restored.count,
        if preflight.restored.names.is_empty() {
            String::new()
        } else {
            format!(" ({})", preflight.restored.names.join(", "))
        },
        preflight.repository,
        on_conflict(args)
    );
    done.preflight = Some(preflight);
    if args.dry_run {
        note(&format!("would {plan}"));
        return finish(common, &done, "would migrate");
    }
    note(&plan);
    confirm(common.yes, &plan)?;

    // An AWS domain's settings; a self-managed source's are repository-s3's own (its client
    // holds the credentials, region and endpoint).
    let settings = |readonly: bool, self_managed: bool| {
        let mut settings = json!({"bucket": args.bucket});
        let aws = [
            ("role_arn", Some(&args.snapshot_role)),
            ("region", args.bucket_region.as_ref()),
            ("endpoint", args.s3_endpoint.as_ref()),
        ];
        let own = [("client", args.from_client.as_ref())];
        let specific: &[(&str, Option<&String>)] = if self_managed { &own } else { &aws };
        for (key, value) in specific
            .iter()
            .copied()
            .chain([("base_path", args.base_path.as_ref())])
        {
            if let Some(value) = value {
                settings[key] = json!(value);
            }
        }
        if readonly {
            settings["readonly"] = json!(true);
        }
        json!({"settings": settings})
    };
    step(common, "register: the repository on the source");
    done.registered_source = Some(
        register::handle(
            session.context.clone(),
            session.event_for(&from, settings(false, from.is_self_managed()))?,
        )
        .await?,
    );
    step(common, "register: the repository on the target, read-only");
    done.registered_target = Some(
        register::handle(
            session.context.clone(),
            session.event_at(to, settings(true, false))?,
        )
        .await?,
    );

    let mut take = json!({"snapshot": SNAPSHOT_TEMPLATE});
    if !args.selection.indices.is_empty() {
        take["indices"] = json!(args.selection.indices);
    }
    let taken = snapshot::handle(session.context.clone(), session.event_for(&from, take)?).await?;
    let repository = taken.repository.clone();
    let name = taken.snapshot.clone();
    super::status::follow_snapshot(
        &session.api_for(&from).await?,
        &repository,
        &name,
        args.poll.interval,
        false,
    )
    .await?;
    verify::handle(
        session.context.clone(),
        session.event_for(&from, json!({"snapshot": name, "raise_on_failure": true}))?,
    )
    .await?;
    done.snapshot = Some(taken);

    let mut restore_fields = args.selection.fields();
    restore_fields["snapshot"] = json!(name);
    let restored = restore::handle(
        session.context.clone(),
        session.event_at(to, restore_fields.clone())?,
    )
    .await?;
    if restored.restored.count > 0 {
        super::status::follow_restore(
            &session.api_at(to).await?,
            Some(&name),
            &[],
            args.poll.interval,
            false,
        )
        .await?;
    }
    done.restore = Some(restored);

    step(common, "counts: the target against the source");
    let counts = verify::handle(
        session.context.clone(),
        session.event_at(
            to,
            json!({"check": "counts", "restore_of": restore_fields,
                "source": from, "raise_on_failure": true}),
        )?,
    )
    .await?;
    done.counts = Some(counts);
    finish(common, &done, "migrated")
}

fn step(common: &Common, what: &str) {
    if !common.json {
        note(what);
    }
}

fn finish(common: &Common, done: &Migration, verdict: &str) -> Result<(), CliError> {
    if common.json {
        return print_json(done);
    }
    let restored = done
        .restore
        .as_ref()
        .or(done.preflight.as_ref())
        .map_or(0, |r| r.restored.count);
    let snapshot = done
        .snapshot
        .as_ref()
        .map_or_else(String::new, |s| format!(" from {}", s.snapshot));
    let counted = done.counts.as_ref().map_or_else(String::new, |c| {
        format!(
            ", document counts {}",
            if c.ok { "equal" } else { "differ" }
        )
    });
    let unchanged = if done.snapshot.is_none() {
        " (dry run: nothing was changed)"
    } else {
        ""
    };
    print_out(&format!(
        "{verdict} {restored} indices{snapshot}{counted}{unchanged}"
    ))
}

fn on_conflict(args: &MigrateArgs) -> &'static str {
    match args.selection.on_conflict {
        crate::cli::OnConflict::Fail => "stopping on an existing index",
        crate::cli::OnConflict::Rename => "under new names",
        crate::cli::OnConflict::Replace => "over existing same-named indices",
    }
}

fn code(code: operations::preflight::FindingCode) -> String {
    match serde_json::to_value(code) {
        Ok(Value::String(text)) => text,
        _ => format!("{code:?}"),
    }
}

/// The report as lines for the operator.
fn describe(report: &PreflightReport) -> String {
    let mut text = format!(
        "preflight: {} blocking, {} warnings",
        report.blocking, report.warnings
    );
    for finding in &report.findings {
        let severity = match finding.severity {
            Severity::Blocking => "BLOCKING",
            Severity::Warning => "warning",
        };
        text.push_str(&format!(
            "\n  {severity} {}: {}",
            code(finding.code),
            finding.subject
        ));
        if !finding.sample.names.is_empty() {
            text.push_str(&format!(" [{}", finding.sample.names.join(", ")));
            if finding.sample.truncated {
                text.push_str(&format!(
                    " and {} more",
                    finding.sample.count - finding.sample.names.len()
                ));
            }
            text.push(']');
        }
    }
    text
}
