//! `osnap verify`: the verify function's operation. A snapshot that is not good fails with
//! its errorType (`raise_on_failure`), unless `--report-only`.

use operations::requests::{DrillReport, DrillSample, VerifyResponse};
use operations::verify;
use serde_json::{Value, json};

use crate::cli::{Check, Common, VerifyArgs};
use crate::error::CliError;
use crate::session::Session;
use crate::terminal::{note, print_json, print_out};

pub async fn run(session: &Session, common: &Common, args: &VerifyArgs) -> Result<(), CliError> {
    let mut fields = json!({
        "snapshot": args.snapshot,
        "match": args.pattern,
        "expect_indices": args.expect_indices,
        "check": match args.check {
            Check::Snapshot => "snapshot",
            Check::Restore => "restore",
            Check::Counts => "counts",
        },
        "raise_on_failure": !args.report_only,
    });
    if !matches!(args.check, Check::Snapshot) {
        let mut restore_of = args.selection.fields();
        restore_of["snapshot"] = json!(args.snapshot);
        fields["restore_of"] = restore_of;
    }
    if let Some(max_age) = &args.max_age {
        fields["max_age"] = json!(max_age);
    }
    if let Some(source) = &args.source_endpoint {
        let mut domain = session.domain()?;
        domain.endpoint.clone_from(source);
        fields["source"] = serde_json::to_value(domain)
            .map_err(|e| CliError::Other(format!("cannot write the event: {e}")))?;
    }
    let answer = if args.drill {
        drill(session, args, fields).await?
    } else {
        verify::handle(session.context.clone(), session.event(fields)?).await?
    };
    if common.json {
        return print_json(&answer);
    }
    if let Some(report) = &answer.drill {
        return print_out(&drill_text(&answer, report));
    }
    let mut text = format!(
        "{}: {}{} — {} indices, {}/{} shards{}",
        answer.snapshot,
        answer.state,
        if answer.ok {
            ", ok"
        } else if answer.done {
            ", NOT OK"
        } else {
            ", running"
        },
        answer.indices.count,
        answer.shards.successful,
        answer.shards.total,
        answer
            .age_seconds
            .map(|s| format!(
                ", {} old",
                policy::duration::format_duration(std::time::Duration::from_secs(s))
            ))
            .unwrap_or_default()
    );
    for failure in &answer.failures {
        text.push_str(&format!("\n  {failure}"));
    }
    if answer.failure_count > answer.failures.len() {
        text.push_str(&format!("\n  … {} failures in all", answer.failure_count));
    }
    print_out(&text)
}

/// Starts the drill, then follows it until it is judged, as the backup workflow's Wait loop
/// does; progress on stderr.
async fn drill(
    session: &Session,
    args: &VerifyArgs,
    mut fields: Value,
) -> Result<VerifyResponse, CliError> {
    let sample = if args.drill_indices.is_empty() {
        args.sample.clone()
    } else {
        DrillSample::Indices(args.drill_indices.clone())
    };
    let mut spec = json!({"sample": sample, "prefix": args.drill_prefix});
    if let Some(endpoint) = &args.drill_on {
        spec["domain"] = serde_json::to_value(session.domain_at(endpoint))
            .map_err(|e| CliError::Other(format!("cannot write the event: {e}")))?;
    }
    fields["check"] = json!("drill");
    fields["drill"] = spec;
    fields["drill_phase"] = json!("start");
    let started = verify::handle(session.context.clone(), session.event(fields.clone())?).await?;
    // A check needs the snapshot's name, which the start resolved (`latest`).
    fields["snapshot"] = json!(started.snapshot);
    fields["drill_phase"] = json!("check");
    let mut answer = started;
    while !answer.done {
        note(&format!(
            "drill of {}: {}, {} indices restoring under `{}`",
            answer.snapshot, answer.state, answer.indices.count, args.drill_prefix
        ));
        tokio::time::sleep(args.interval).await;
        answer = verify::handle(session.context.clone(), session.event(fields.clone())?).await?;
    }
    if answer.state == "NOT_DUE" {
        note("the drill is not due today");
    }
    Ok(answer)
}

fn drill_text(answer: &VerifyResponse, report: &DrillReport) -> String {
    let mut text = format!(
        "{}: {}{} — {} of {} indices as the manifest records, on {}",
        answer.snapshot,
        answer.state,
        if answer.ok { ", ok" } else { ", NOT OK" },
        report.passed.count,
        report.sample.count,
        report.domain
    );
    for result in &report.results {
        text.push_str(&format!("\n  {result}"));
    }
    text.push_str(&format!(
        "\n  copies deleted: {}; kept for inspection: {}",
        report.deleted.count,
        if report.kept.names.is_empty() {
            "none".to_owned()
        } else {
            report.kept.names.join(", ")
        }
    ));
    text
}
