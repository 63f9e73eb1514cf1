//! `osnap snapshot`: the snapshot function's operation; with `--wait`, followed to its end
//! and judged by the verify operation (a snapshot that is not SUCCESS fails with its
//! errorType).

use operations::{snapshot, verify};
use serde_json::json;

use crate::cli::{Common, SnapshotArgs};
use crate::error::CliError;
use crate::session::Session;
use crate::terminal::{note, print_json, print_out};

pub async fn run(session: &Session, common: &Common, args: &SnapshotArgs) -> Result<(), CliError> {
    let mut fields = json!({
        "include_global_state": args.include_global_state,
        "partial": args.partial,
    });
    if let Some(name) = &args.snapshot {
        fields["snapshot"] = json!(name);
    }
    if !args.indices.is_empty() {
        fields["indices"] = json!(args.indices);
    }
    if let Some(metadata) = &args.metadata {
        let metadata: serde_json::Value =
            serde_json::from_str(metadata).map_err(|e| operations::OsnapError::InvalidRequest {
                reason: format!("--metadata is not JSON: {e}"),
            })?;
        fields["metadata"] = metadata;
    }
    let mut answer = snapshot::handle(session.context.clone(), session.event(fields)?).await?;
    if args.wait {
        if !common.json {
            note(&format!(
                "{} snapshot {}",
                if answer.started {
                    "started"
                } else {
                    "following the existing"
                },
                answer.snapshot
            ));
        }
        let api = session.api().await?;
        super::status::follow_snapshot(
            &api,
            &answer.repository,
            &answer.snapshot,
            args.poll.interval,
            false,
        )
        .await?;
        let check = json!({
            "snapshot": answer.snapshot,
            "raise_on_failure": true,
        });
        let verified = verify::handle(session.context.clone(), session.event(check)?).await?;
        answer.state = verified.state;
    }
    if common.json {
        return print_json(&answer);
    }
    print_out(&format!(
        "{}: {}{}",
        answer.snapshot,
        answer.state,
        if answer.started {
            ""
        } else {
            " (already there)"
        }
    ))
}
