//! `osnap restore`: the restore function's operation. The plan comes first (the operation's
//! own dry run); unless `--dry-run`, it is shown, confirmed, and then carried out for the
//! very snapshot the plan named (a `latest` resolved once), by the operation, which plans
//! and checks it whole again before it changes anything.

use operations::requests::RestoreResponse;
use operations::restore;
use serde_json::{Value, json};

use crate::cli::{Common, OnConflict, RestoreArgs};
use crate::error::CliError;
use crate::session::Session;
use crate::terminal::{confirm, note, print_json, print_out};

pub async fn run(session: &Session, common: &Common, args: &RestoreArgs) -> Result<(), CliError> {
    let mut fields = json!({
        "snapshot": args.snapshot,
        "match": args.pattern,
        "on_conflict": match args.on_conflict {
            OnConflict::Fail => "fail",
            OnConflict::Rename => "rename",
            OnConflict::Replace => "replace",
        },
        "include_global_state": args.include_global_state,
        "partial": args.partial,
        "dry_run": true,
    });
    if !args.indices.is_empty() {
        fields["indices"] = json!(args.indices);
    }
    if let [pattern, replacement] = args.rename.as_slice() {
        fields["rename_pattern"] = json!(pattern);
        fields["rename_replacement"] = json!(replacement);
    }
    if args.include_aliases {
        fields["include_aliases"] = json!(true);
    }
    let plan = restore::handle(session.context.clone(), session.event(fields.clone())?).await?;
    let nothing_to_do = plan.restored.is_empty() && plan.deleted.is_empty();
    if args.dry_run || nothing_to_do {
        if nothing_to_do && !args.dry_run {
            note("nothing to restore; nothing was changed");
        }
        return report(common, &plan);
    }
    note(&describe(&plan));
    let question = format!(
        "restore {} indices from {}{}",
        plan.restored.len(),
        plan.snapshot,
        if plan.deleted.is_empty() {
            String::new()
        } else {
            format!(", deleting {} first", plan.deleted.len())
        }
    );
    confirm(common.yes, &question)?;
    fields["dry_run"] = Value::Bool(false);
    fields["snapshot"] = json!(plan.snapshot);
    let done = restore::handle(session.context.clone(), session.event(fields)?).await?;
    report(common, &done)
}

fn report(common: &Common, answer: &RestoreResponse) -> Result<(), CliError> {
    if common.json {
        return print_json(answer);
    }
    print_out(&describe(answer))
}

fn describe(answer: &RestoreResponse) -> String {
    let mut table = super::table(&["from", "to"]);
    for pair in &answer.restored {
        table.add_row(vec![pair.from.clone(), pair.to.clone()]);
    }
    let verb = if answer.dry_run {
        "would restore"
    } else {
        "restored"
    };
    let mut text = format!(
        "{} {verb} {} indices:\n{table}",
        answer.snapshot,
        answer.restored.len()
    );
    if !answer.deleted.is_empty() {
        let verb = if answer.dry_run {
            "would delete"
        } else {
            "deleted"
        };
        text.push_str(&format!("\n{verb} first: {}", answer.deleted.join(", ")));
    }
    if !answer.already_restoring.is_empty() {
        text.push_str(&format!(
            "\nalready restoring from this snapshot: {}",
            answer.already_restoring.join(", ")
        ));
    }
    text
}
