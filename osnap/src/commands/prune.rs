//! `osnap prune`: the prune function's operation. The plan comes first (the operation's own
//! dry run); unless `--dry-run`, it is shown, confirmed, and then carried out by the
//! operation, which decides again by the same rules when it runs.

use operations::bounded::Bounded;
use operations::prune;
use operations::requests::PruneResponse;
use serde_json::{Value, json};

use crate::cli::{Common, PruneArgs};
use crate::error::CliError;
use crate::session::Session;
use crate::terminal::{confirm, note, print_json, print_out};

pub async fn run(session: &Session, common: &Common, args: &PruneArgs) -> Result<(), CliError> {
    let mut fields = json!({
        "match": args.pattern,
        "min_count": args.min_count,
        "protect_last_copy_of": args.protect_last_copy_of,
        "pinned": args.pinned,
        "dry_run": true,
    });
    if let Some(keep_last) = args.keep_last {
        fields["keep_last"] = json!(keep_last);
    }
    if let Some(max_age) = &args.max_age {
        fields["max_age"] = json!(max_age);
    }
    let plan = prune::handle(session.context.clone(), session.event(fields.clone())?).await?;
    if args.dry_run || plan.deleted.count == 0 {
        if plan.deleted.count == 0 && !args.dry_run {
            note("nothing to delete; nothing was changed");
        }
        return report(common, &plan);
    }
    note(&describe(&plan));
    confirm(
        common.yes,
        &format!(
            "delete {} snapshots from {}",
            plan.deleted.count, plan.repository
        ),
    )?;
    fields["dry_run"] = Value::Bool(false);
    let done = prune::handle(session.context.clone(), session.event(fields)?).await?;
    report(common, &done)
}

fn report(common: &Common, answer: &PruneResponse) -> Result<(), CliError> {
    if common.json {
        return print_json(answer);
    }
    print_out(&describe(answer))
}

fn names(list: &Bounded) -> String {
    let mut text = list.names.join(", ");
    if list.truncated {
        text.push_str(&format!(", … ({} in all)", list.count));
    }
    text
}

fn describe(answer: &PruneResponse) -> String {
    let verb = if answer.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    let mut text = format!(
        "{}: {verb} {} snapshots, keeps {}",
        answer.repository, answer.deleted.count, answer.kept.count
    );
    if answer.deleted.count > 0 {
        text.push_str(&format!("\n  {verb}: {}", names(&answer.deleted)));
    }
    if answer.pending.count > 0 {
        text.push_str(&format!(
            "\n  left for the next run (out of time): {}",
            names(&answer.pending)
        ));
    }
    let p = &answer.protected;
    text.push_str(&format!(
        "\n  kept by protections: {} in progress, {} undated, {} min_count, {} pinned, {} last copy",
        p.in_progress, p.unknown_time, p.min_count, p.pinned, p.last_copy
    ));
    text
}
