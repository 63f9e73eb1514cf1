//! `osnap register`: the register function's operation.

use operations::register;
use serde_json::json;

use crate::cli::{Common, RegisterArgs};
use crate::error::CliError;
use crate::session::Session;
use crate::terminal::{print_json, print_out};

pub async fn run(session: &Session, common: &Common, args: &RegisterArgs) -> Result<(), CliError> {
    let mut settings = json!({"bucket": args.bucket, "role_arn": args.snapshot_role});
    for (field, value) in [
        ("region", &args.bucket_region),
        ("endpoint", &args.s3_endpoint),
        ("base_path", &args.base_path),
    ] {
        if let Some(value) = value {
            settings[field] = json!(value);
        }
    }
    if args.server_side_encryption {
        settings["server_side_encryption"] = json!(true);
    }
    if args.readonly {
        settings["readonly"] = json!(true);
    }
    let event = session.event(json!({
        "settings": settings,
        "verify": !args.no_verify,
        "replace": args.replace,
    }))?;
    let answer = register::handle(session.context.clone(), event).await?;
    if common.json {
        return print_json(&answer);
    }
    let status = serde_json::to_value(answer.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let verified = match answer.verified_nodes.len() {
        0 => "not verified".to_owned(),
        1 => "verified by 1 node".to_owned(),
        n => format!("verified by {n} nodes"),
    };
    print_out(&format!(
        "repository `{}`: {status}, {verified}",
        answer.repository
    ))
}
