//! `osnap restore`: the restore function's operation. The plan comes first (the operation's
//! own dry run); unless `--dry-run`, it is shown, confirmed, and then carried out for the
//! very snapshot the plan named (a `latest` resolved once), by the operation, which plans
//! and checks it whole again before it changes anything.

use operations::requests::{RestoreResponse, RestoreSelection, RestoredIndex};
use operations::restore;
use serde_json::{Value, json};

use crate::cli::{Common, RestoreArgs};
use crate::error::CliError;
use crate::session::Session;
use crate::terminal::{confirm, note, print_json, print_out};

pub async fn run(session: &Session, common: &Common, args: &RestoreArgs) -> Result<(), CliError> {
    let mut fields = args.selection.fields();
    fields["snapshot"] = json!(args.snapshot);
    fields["match"] = json!(args.pattern);
    fields["include_global_state"] = json!(args.include_global_state);
    fields["partial"] = json!(args.partial);
    fields["dry_run"] = json!(true);
    if args.include_aliases {
        fields["include_aliases"] = json!(true);
    }
    let plan = restore::handle(session.context.clone(), session.event(fields.clone())?).await?;
    let pairs = pairs_of(session, &plan, args).await?;
    let nothing_to_do = plan.restored.count == 0;
    if args.dry_run || nothing_to_do {
        if nothing_to_do && !args.dry_run {
            note("nothing to restore; nothing was changed");
        }
        return report(common, &plan, &pairs);
    }
    note(&describe(&plan, &pairs));
    let question = format!(
        "restore {} indices from {}{}",
        plan.restored.count,
        plan.snapshot,
        if plan.replaced.count == 0 {
            String::new()
        } else {
            format!(
                ", closing {} existing ones and restoring over them",
                plan.replaced.count
            )
        }
    );
    confirm(common.yes, &question)?;
    fields["dry_run"] = Value::Bool(false);
    fields["snapshot"] = json!(plan.snapshot);
    let done = restore::handle(session.context.clone(), session.event(fields)?).await?;
    report(common, &done, &pairs)
}

/// Every index of the restore with the name it gets, worked out from the snapshot by the
/// restore's own rule (its answer names only the first few).
async fn pairs_of(
    session: &Session,
    plan: &RestoreResponse,
    args: &RestoreArgs,
) -> Result<Vec<RestoredIndex>, CliError> {
    let mut selected = args.selection.fields();
    selected["snapshot"] = json!(plan.snapshot);
    let selection: RestoreSelection = serde_json::from_value(selected)
        .map_err(|e| CliError::Other(format!("cannot read the restore's selection: {e}")))?;
    let api = session.api().await?;
    Ok(restore::restored_pairs(&api, &plan.repository, &selection).await?)
}

fn report(
    common: &Common,
    answer: &RestoreResponse,
    pairs: &[RestoredIndex],
) -> Result<(), CliError> {
    if common.json {
        return print_json(answer);
    }
    print_out(&describe(answer, pairs))
}

fn describe(answer: &RestoreResponse, pairs: &[RestoredIndex]) -> String {
    let mut table = super::table(&["from", "to"]);
    for pair in pairs {
        table.add_row(vec![pair.from.clone(), pair.to.clone()]);
    }
    let verb = if answer.dry_run {
        "would restore"
    } else {
        "restored"
    };
    let mut text = format!(
        "{} {verb} {} indices:\n{table}",
        answer.snapshot, answer.restored.count
    );
    let more = |list: &operations::bounded::Bounded| {
        let mut names = list.names.join(", ");
        if list.truncated {
            names.push_str(&format!(
                " and {} more (see the log)",
                list.count - list.names.len()
            ));
        }
        names
    };
    if answer.data_streams.count > 0 {
        text.push_str(&format!(
            "\nas data streams: {}",
            more(&answer.data_streams)
        ));
    }
    if answer.replaced.count > 0 {
        let verb = if answer.dry_run {
            "would close and restore over"
        } else {
            "closed and restored over"
        };
        text.push_str(&format!("\n{verb}: {}", more(&answer.replaced)));
    }
    if answer.already_restoring.count > 0 {
        text.push_str(&format!(
            "\nalready restoring from this snapshot: {}",
            more(&answer.already_restoring)
        ));
    }
    text
}
