//! Each built function, driven through the real Lambda Runtime API, answers bad input with a
//! stable errorType and no panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::{LambdaFunction, Outcome};
use serde_json::json;

const FUNCTIONS: [&str; 5] = ["register", "snapshot", "verify", "restore", "prune"];

/// A valid-looking request for each function, on the given domain.
fn request(function: &str, endpoint: &str) -> serde_json::Value {
    let domain = json!({"endpoint": endpoint, "region": "us-east-1"});
    match function {
        "register" => {
            json!({"domain": domain, "repository": "nightly", "settings": {"bucket": "osnap-snapshots", "region": "us-east-1", "role_arn": "arn:aws:iam::123456789012:role/osnap-snapshots"}})
        }
        "prune" => json!({"domain": domain, "repository": "nightly", "keep_last": 3}),
        _ => json!({"domain": domain, "repository": "nightly"}),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_function_answers_bad_input_with_a_stable_error_type() {
    // A port nobody listens on: the domain is unreachable.
    let (_refusing, closed) = e2e::ports::refusing().unwrap();
    for name in FUNCTIONS {
        let function = LambdaFunction::start(name, &[]).await.unwrap();

        let outcome = function
            .invoke(&json!({"repository": "nightly", "bogus": true}))
            .await
            .unwrap();
        assert_eq!(
            outcome.error_type(),
            Some("InvalidRequest"),
            "{name}: {outcome:?}"
        );

        let outcome = function
            .invoke(&request(name, "https://example.com"))
            .await
            .unwrap();
        assert_eq!(
            outcome.error_type(),
            Some("EndpointNotAllowed"),
            "{name}: {outcome:?}"
        );

        let outcome = function
            .invoke(&request(name, &format!("http://127.0.0.1:{closed}")))
            .await
            .unwrap();
        match &outcome {
            Outcome::Error {
                error_type,
                message,
            } => {
                assert_eq!(error_type, "DomainUnavailable", "{name}: {message}");
                assert!(
                    !message.contains("standin-secret"),
                    "{name}: a secret reached the message"
                );
            }
            Outcome::Ok(v) => panic!("{name}: answered {v} without a domain"),
        }
        function.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn environment_defaults_make_a_bare_schedule_work() {
    let (_refusing, closed) = e2e::ports::refusing().unwrap();
    let endpoint = format!("http://127.0.0.1:{closed}");
    let function = LambdaFunction::start(
        "snapshot",
        &[
            ("OSNAP_DOMAIN_ENDPOINT", &endpoint),
            ("OSNAP_DOMAIN_REGION", "us-east-1"),
            ("OSNAP_REPOSITORY", "nightly"),
        ],
    )
    .await
    .unwrap();
    let schedule = json!({
        "version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-11-28T03:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {}
    });
    // It got as far as the domain (which is down), so the defaults filled the event.
    let outcome = function.invoke(&schedule).await.unwrap();
    assert_eq!(
        outcome.error_type(),
        Some("DomainUnavailable"),
        "{outcome:?}"
    );
    function.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployed_function_refuses_to_sign_for_loopback() {
    let (_refusing, port) = e2e::ports::refusing().unwrap();
    // As deployed: the test-only switch absent, or set to anything but its exact value.
    for switch in ["", "1", "true"] {
        let function =
            LambdaFunction::start("verify", &[(signing::endpoint::LOOPBACK_SWITCH, switch)])
                .await
                .unwrap();
        let outcome = function
            .invoke(
                &json!({"domain": {"endpoint": format!("http://127.0.0.1:{port}"),
                "region": "us-east-1"}, "repository": "nightly"}),
            )
            .await
            .unwrap();
        function.stop().await;
        let (error_type, message) = outcome.error().unwrap_or_else(|| panic!("{outcome:?}"));
        assert_eq!(error_type, "EndpointNotAllowed", "{message}");
        assert!(message.contains("loopback is refused"), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_field_is_quoted_short_in_the_error_and_the_log() {
    let log = std::env::temp_dir().join(format!("osnap-huge-field-{}.log", std::process::id()));
    let function = LambdaFunction::start_logging_to("prune", &[], Some(&log))
        .await
        .unwrap();
    let huge = "z".repeat(70_000);
    let outcome = function
        .invoke(&json!({"repository": "nightly", huge.clone(): true}))
        .await
        .unwrap();
    function.stop().await;
    let written = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(log.with_extension("rt"));
    let (error_type, message) = outcome.error().unwrap_or_else(|| panic!("{outcome:?}"));
    assert_eq!(error_type, "InvalidRequest");
    assert!(
        message.len() < 2_200,
        "errorMessage of {} bytes",
        message.len()
    );
    assert!(message.contains("more characters"), "{message}");
    let run = "z".repeat(2_100);
    assert!(!written.contains(&run), "the log holds the field whole");
    assert!(written.contains("invocation failed"), "{written}");
}
