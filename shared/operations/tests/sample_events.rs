//! Every sample event in `events/` is a valid request for the function its name starts with.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use operations::contract::{Defaults, parse_event};
use operations::requests::{
    PruneRequest, RegisterRequest, RestoreRequest, SnapshotRequest, VerifyRequest,
};

#[test]
fn every_sample_event_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
    // Bare schedules rely on the function's environment defaults.
    let defaults = Defaults::from_lookup(|name| match name {
        "OSNAP_DOMAIN_ENDPOINT" => {
            Some("https://search-logs-abc123.us-east-1.es.amazonaws.com".into())
        }
        "OSNAP_REPOSITORY" => Some("nightly".into()),
        _ => None,
    });
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let event: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let function = name.split('-').next().unwrap();
        if function == "workflow" {
            check_workflow_input(&name, &event, &defaults);
            checked.push(name);
            continue;
        }
        let parsed = match function {
            "register" => parse_event::<RegisterRequest>(event, &defaults).map(|_| ()),
            "snapshot" => parse_event::<SnapshotRequest>(event, &defaults).map(|_| ()),
            "verify" => parse_event::<VerifyRequest>(event, &defaults).map(|_| ()),
            "restore" => parse_event::<RestoreRequest>(event, &defaults).map(|_| ()),
            "prune" => parse_event::<PruneRequest>(event, &defaults).map(|_| ()),
            other => {
                panic!("{name}.json: no function `{other}`; sample names start with the function")
            }
        };
        parsed.unwrap_or_else(|e| panic!("{name}.json: {e}"));
        checked.push(function.to_owned());
    }
    for function in [
        "register",
        "snapshot",
        "verify",
        "restore",
        "prune",
        "workflow-backup",
        "workflow-migrate",
        "workflow-migrate-self-managed",
    ] {
        assert!(
            checked.iter().any(|c| c == function),
            "no sample event for {function}"
        );
    }
}

/// A workflow input is checked by building the payloads its state machine sends to each
/// function (as the `Parameters` of `infra/statemachines/*.asl.json` do) and parsing them.
fn check_workflow_input(name: &str, input: &serde_json::Value, defaults: &Defaults) {
    use serde_json::json;
    let parse = |function: &str, payload: serde_json::Value| {
        let result = match function {
            "register" => parse_event::<RegisterRequest>(payload, defaults).map(|_| ()),
            "snapshot" => parse_event::<SnapshotRequest>(payload, defaults).map(|_| ()),
            "verify" => parse_event::<VerifyRequest>(payload, defaults).map(|_| ()),
            "restore" => parse_event::<RestoreRequest>(payload, defaults).map(|_| ()),
            "prune" => parse_event::<PruneRequest>(payload, defaults).map(|_| ()),
            _ => unreachable!(),
        };
        result.unwrap_or_else(|e| panic!("{name}.json → {function}: {e}"));
    };
    match name {
        "workflow-backup" => {
            let domains = input["domains"].as_array().expect("domains");
            assert!(!domains.is_empty());
            assert!(input["wait_seconds"].is_u64() && input["max_polls"].is_u64());
            for d in domains {
                let common = json!({"domain": d["domain"], "repository": d["repository"]});
                let with = |extra: serde_json::Value| {
                    let mut p = common.clone();
                    p.as_object_mut()
                        .unwrap()
                        .extend(extra.as_object().unwrap().clone());
                    p
                };
                parse(
                    "snapshot",
                    with(json!({"time": "2026-11-28T03:00:00.000Z"})),
                );
                parse(
                    "verify",
                    with(json!({"snapshot": "nightly-2026.11.28-030000"})),
                );
                // As the state machine's States.JsonMerge does: every retention field given.
                if let Some(retention) = d.get("retention") {
                    parse("prune", with(retention.clone()));
                }
            }
        }
        // A migration from an AWS domain, or from a self-managed cluster.
        "workflow-migrate" | "workflow-migrate-self-managed" => {
            let repo = &input["repository"];
            for side in ["source", "target"] {
                parse(
                    "register",
                    json!({"domain": input[side]["domain"], "repository": repo, "settings": input[side]["settings"]}),
                );
            }
            assert_eq!(
                input["target"]["settings"]["readonly"], true,
                "the target registers read-only"
            );
            parse(
                "snapshot",
                json!({"domain": input["source"]["domain"], "repository": repo, "snapshot": "migration-{now:%Y.%m.%d-%H%M%S}", "time": "2026-11-28T03:00:00Z", "indices": input["indices"]}),
            );
            parse(
                "restore",
                json!({"domain": input["target"]["domain"], "repository": repo, "snapshot": "migration-x", "indices": input["indices"], "on_conflict": input["on_conflict"], "dry_run": true}),
            );
            parse(
                "verify",
                json!({"domain": input["target"]["domain"], "repository": repo, "check": "restore", "restore_of": {"snapshot": "migration-x", "indices": input["indices"], "on_conflict": input["on_conflict"]}}),
            );
            parse(
                "verify",
                json!({"domain": input["target"]["domain"], "repository": repo, "check": "counts", "source": input["source"]["domain"], "restore_of": {"snapshot": "migration-x", "indices": input["indices"], "on_conflict": input["on_conflict"]}}),
            );
        }
        other => panic!("{other}.json: unknown workflow"),
    }
}
