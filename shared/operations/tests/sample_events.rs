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
    for function in ["register", "snapshot", "verify", "restore", "prune"] {
        assert!(
            checked.iter().any(|c| c == function),
            "no sample event for {function}"
        );
    }
}
