//! `osnap verify`: the verify function's operation. A snapshot that is not good fails with
//! its errorType (`raise_on_failure`), unless `--report-only`.

use operations::verify;
use serde_json::json;

use crate::cli::{Check, Common, VerifyArgs};
use crate::error::CliError;
use crate::session::Session;
use crate::terminal::{print_json, print_out};

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
    let answer = verify::handle(session.context.clone(), session.event(fields)?).await?;
    if common.json {
        return print_json(&answer);
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
