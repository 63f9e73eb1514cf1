//! Arbitrary bytes, as JSON when they parse (else as a JSON string), to every function's
//! event parser, with and without environment defaults. It must never panic; a refusal is an
//! `InvalidRequest` from the documented list of error types, with a bounded message; an
//! accepted event names a domain and a non-blank repository.
#![no_main]

use libfuzzer_sys::fuzz_target;
use operations::OsnapError;
use operations::contract::{Defaults, Request, Target, parse_event};
use operations::requests::{
    PruneRequest, RegisterRequest, RestoreRequest, SnapshotRequest, VerifyRequest,
};
use serde_json::Value;

const DEFAULT_ENDPOINT: &str = "https://search-logs-abc123.us-east-1.es.amazonaws.com";

fn check<T: Request>(kind: &str, event: &Value, defaults: &Defaults) {
    match parse_event::<T>(event.clone(), defaults) {
        Ok((_, target)) => check_target(kind, event, defaults, &target),
        Err(error) => check_error(kind, &error),
    }
}

fn check_target(kind: &str, event: &Value, defaults: &Defaults, target: &Target) {
    assert!(
        !target.repository.trim().is_empty(),
        "{kind}: accepted a blank repository"
    );
    // The input itself, or an EventBridge envelope's detail.
    let map = event.as_object().expect("only an object is accepted");
    let input = match map.get("detail") {
        Some(Value::Object(detail))
            if map.contains_key("detail-type") && map.contains_key("source") =>
        {
            detail
        }
        _ if map.contains_key("detail-type") && map.contains_key("source") => {
            &serde_json::Map::new()
        }
        _ => map,
    };
    match input.get("domain") {
        Some(Value::Object(domain)) => assert_eq!(
            domain.get("endpoint").and_then(Value::as_str),
            Some(target.domain.endpoint.as_str()),
            "{kind}: the event's endpoint was not kept"
        ),
        // serde reads a struct from an array too, fields in order: not part of the
        // documented contract, but the endpoint still comes from the event.
        Some(Value::Array(fields)) => assert_eq!(
            fields.first().and_then(Value::as_str),
            Some(target.domain.endpoint.as_str()),
            "{kind}: the event's endpoint was not kept"
        ),
        _ => assert_eq!(
            defaults.endpoint.as_deref(),
            Some(target.domain.endpoint.as_str()),
            "{kind}: an endpoint from nowhere"
        ),
    }
    if let Some(Value::String(repository)) = input.get("repository") {
        assert_eq!(
            repository, &target.repository,
            "{kind}: the event's repository was not kept"
        );
    }
}

fn check_error(kind: &str, error: &OsnapError) {
    assert!(
        OsnapError::ERROR_TYPES.contains(&error.error_type()),
        "{kind}: undocumented error type {}",
        error.error_type()
    );
    assert_eq!(
        error.error_type(),
        "InvalidRequest",
        "{kind}: reading an event can only refuse it: {error}"
    );
    osnap_fuzz::assert_bounded(kind, &error.to_string());
}

fuzz_target!(|data: &[u8]| {
    let event = serde_json::from_slice::<Value>(data)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(data).into_owned()));
    let bare = Defaults::default();
    let environment = Defaults {
        endpoint: Some(DEFAULT_ENDPOINT.into()),
        region: Some("us-east-1".into()),
        repository: Some("nightly".into()),
        allowed_hosts: None,
        s3_endpoint: None,
        secrets_endpoint: None,
    };
    for defaults in [&bare, &environment] {
        check::<RegisterRequest>("register", &event, defaults);
        check::<SnapshotRequest>("snapshot", &event, defaults);
        check::<VerifyRequest>("verify", &event, defaults);
        check::<RestoreRequest>("restore", &event, defaults);
        check::<PruneRequest>("prune", &event, defaults);
    }
});
