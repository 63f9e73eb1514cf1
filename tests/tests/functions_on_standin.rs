//! The built functions, through the real Lambda Runtime API, against an emulated domain and
//! real S3 on loopback: the whole life of a repository, and the retry-safety cases.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

mod common;

use common::{domain_json, listed, ok, operator_call, poll_done, register_nightly, signed, world};
use e2e::{LambdaFunction, Outcome};
use http::Method;
use serde_json::{Value, json};
use standin::s3::S3Server;
use standin::{Domain, DomainConfig, Fault, FaultRule};

#[tokio::test(flavor = "multi_thread")]
async fn register_snapshot_verify_restore_prune() {
    let world = world("lifecycle").await;
    signed(
        &world,
        Method::PUT,
        &["orders", "_doc", "1"],
        Some(r#"{"item":"book"}"#),
    )
    .await;
    signed(
        &world,
        Method::PUT,
        &["orders", "_doc", "2"],
        Some(r#"{"item":"pen"}"#),
    )
    .await;
    let domain = domain_json(&world);

    let register = LambdaFunction::start("register", &[]).await.unwrap();
    let event = json!({"domain": domain, "repository": "nightly", "settings": {"bucket": "snapshots", "region": "us-east-1", "base_path": "e2e", "role_arn": standin::domain::DEFAULT_SNAPSHOT_ROLE}});
    let answer = ok(register.invoke(&event).await.unwrap(), "register");
    assert_eq!(answer["status"], "created");
    assert!(!answer["verified_nodes"].as_array().unwrap().is_empty());
    let again = ok(register.invoke(&event).await.unwrap(), "register again");
    assert_eq!(again["status"], "unchanged");
    let mut moved = event.clone();
    moved["settings"]["base_path"] = json!("elsewhere");
    assert_eq!(
        register.invoke(&moved).await.unwrap().error_type(),
        Some("RepositoryConflict")
    );
    let mut unpassable = event.clone();
    unpassable["repository"] = json!("other");
    unpassable["settings"]["role_arn"] = json!("arn:aws:iam::123456789012:role/not-passable");
    let denied = register.invoke(&unpassable).await.unwrap();
    assert_eq!(denied.error_type(), Some("AccessDenied"), "{denied:?}");
    let mut automated = event.clone();
    automated["repository"] = json!("cs-automated");
    assert_eq!(
        register.invoke(&automated).await.unwrap().error_type(),
        Some("UnsafeOperation")
    );
    register.stop().await;

    let snapshot = LambdaFunction::start("snapshot", &[]).await.unwrap();
    let verify = LambdaFunction::start("verify", &[]).await.unwrap();
    let mut names = Vec::new();
    for hour in ["01", "02", "03"] {
        let event = json!({"domain": domain, "repository": "nightly", "time": format!("2026-11-28T{hour}:00:00Z")});
        let taken = ok(snapshot.invoke(&event).await.unwrap(), "snapshot");
        assert_eq!(taken["started"], true);
        let name = taken["snapshot"].as_str().unwrap().to_owned();
        assert_eq!(name, format!("nightly-2026.11.28-{hour}0000"));
        // The same event again (a Lambda retry): the same snapshot, not a second one.
        let retried = snapshot.invoke(&event).await.unwrap();
        match retried {
            Outcome::Ok(v) => assert_eq!(
                (v["snapshot"].as_str(), v["started"].as_bool()),
                (Some(name.as_str()), Some(false))
            ),
            Outcome::Error {
                error_type,
                message,
            } => assert_eq!(error_type, "SnapshotInProgress", "{message}"),
        }
        let verified = poll_done(&verify, &json!({"domain": domain, "repository": "nightly", "snapshot": name, "expect_indices": ["orders"]})).await;
        assert_eq!(
            (verified["state"].as_str(), verified["ok"].as_bool()),
            (Some("SUCCESS"), Some(true)),
            "{verified}"
        );
        names.push(name);
    }
    let latest = ok(
        verify
            .invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": "latest"}))
            .await
            .unwrap(),
        "latest",
    );
    assert_eq!(latest["snapshot"], names[2].as_str());
    let stale = verify.invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": names[0], "expect_indices": ["missing-*"], "raise_on_failure": true})).await.unwrap();
    assert_eq!(stale.error_type(), Some("SnapshotFailed"));
    let missing = verify
        .invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": "nope"}))
        .await
        .unwrap();
    assert_eq!(missing.error_type(), Some("SnapshotMissing"));
    snapshot.stop().await;

    let restore = LambdaFunction::start("restore", &[]).await.unwrap();
    let conflict = restore
        .invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": "latest"}))
        .await
        .unwrap();
    assert_eq!(
        conflict.error_type(),
        Some("RestoreConflict"),
        "orders exists: {conflict:?}"
    );
    let renamed = ok(restore.invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": "latest", "on_conflict": "rename"})).await.unwrap(), "rename");
    assert_eq!(renamed["restored"], listed(&["restored-orders"]));
    poll_done(&verify, &json!({"domain": domain, "repository": "nightly", "check": "restore", "indices": ["restored-orders"]})).await;
    assert_eq!(world.domain.doc_count("restored-orders"), Some(2));
    let system = ok(restore.invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": "latest", "on_conflict": "rename", "rename_replacement": "again-$1", "rename_pattern": "(.+)", "dry_run": true})).await.unwrap(), "dry run");
    assert!(
        system["restored"]["names"]
            .as_array()
            .unwrap()
            .iter()
            .all(|name| !name.as_str().unwrap().starts_with("again-."))
    );
    restore.stop().await;
    verify.stop().await;

    let prune = LambdaFunction::start("prune", &[]).await.unwrap();
    let plan = ok(prune.invoke(&json!({"domain": domain, "repository": "nightly", "keep_last": 1, "dry_run": true})).await.unwrap(), "prune dry run");
    assert_eq!(plan["deleted"], listed(&names[..2]));
    assert_eq!(plan["kept"], listed(&names[2..]));
    assert_eq!(plan["pending"], listed::<&str>(&[]));
    assert_eq!(plan["dry_run"], true);
    assert_eq!(
        plan["protected"],
        json!({"in_progress": 0, "unknown_time": 0, "min_count": 1, "pinned": 0, "last_copy": 0})
    );
    let done = ok(
        prune
            .invoke(&json!({"domain": domain, "repository": "nightly", "keep_last": 1}))
            .await
            .unwrap(),
        "prune",
    );
    assert_eq!(done["deleted"], listed(&names[..2]));
    assert_eq!(done["kept"], listed(&names[2..]));
    // Retried after it already deleted: nothing left to delete, nothing fails.
    let again = ok(
        prune
            .invoke(&json!({"domain": domain, "repository": "nightly", "keep_last": 1}))
            .await
            .unwrap(),
        "prune again",
    );
    assert_eq!(again["deleted"], listed::<&str>(&[]));
    assert_eq!(
        prune
            .invoke(&json!({"domain": domain, "repository": "cs-automated", "keep_last": 1}))
            .await
            .unwrap()
            .error_type(),
        Some("UnsafeOperation")
    );
    prune.stop().await;
    world.domain.shutdown().await;
    world.s3.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_timeout_on_create_is_followed_by_a_lookup_not_a_resend() {
    let world = common::world_with_nightly("gateway", &["logs"]).await;
    let domain = domain_json(&world);

    world.domain.faults().push(
        FaultRule::new(Fault::GatewayTimeout)
            .on(Method::PUT, "/_snapshot/nightly/")
            .times(1),
    );
    let snapshot = LambdaFunction::start("snapshot", &[]).await.unwrap();
    let answer = ok(
        snapshot
            .invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": "after-504"}))
            .await
            .unwrap(),
        "snapshot after 504",
    );
    // The domain did the work behind the 504; osnap found it instead of failing or re-sending.
    assert_eq!(
        (answer["snapshot"].as_str(), answer["started"].as_bool()),
        (Some("after-504"), Some(true)),
        "{answer}"
    );
    assert_eq!(world.domain.faults().injected(), 1);
    snapshot.stop().await;
    world.domain.shutdown().await;
    world.s3.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn domain_answers_become_the_documented_error_types() {
    let world = world("errors").await;
    common::put_doc(&world, "logs", "1").await;
    let domain = domain_json(&world);
    let snapshot = LambdaFunction::start("snapshot", &[]).await.unwrap();
    let verify = LambdaFunction::start("verify", &[]).await.unwrap();

    let unregistered = snapshot
        .invoke(&json!({"domain": domain, "repository": "nowhere"}))
        .await
        .unwrap();
    assert_eq!(
        unregistered.error_type(),
        Some("RepositoryMissing"),
        "{unregistered:?}"
    );

    register_nightly(&world, "errors").await;

    // A second snapshot while the first runs.
    world.domain.faults().set_stuck_snapshots(true);
    ok(
        snapshot
            .invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": "first"}))
            .await
            .unwrap(),
        "first",
    );
    let busy = snapshot
        .invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": "second"}))
        .await
        .unwrap();
    assert_eq!(busy.error_type(), Some("SnapshotInProgress"), "{busy:?}");
    let running = ok(
        verify
            .invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": "first"}))
            .await
            .unwrap(),
        "verify running",
    );
    assert_eq!(
        (running["done"].as_bool(), running["state"].as_str()),
        (Some(false), Some("IN_PROGRESS"))
    );
    world.domain.faults().set_stuck_snapshots(false);
    poll_done(
        &verify,
        &json!({"domain": domain, "repository": "nightly", "snapshot": "first"}),
    )
    .await;

    // Freshness: the snapshot is older than a one-second max_age a moment later. (`latest`
    // looks at osnap's own names unless told otherwise: `first` is not one.)
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let stale = verify.invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": "latest", "match": "*", "max_age": "1s", "raise_on_failure": true})).await.unwrap();
    assert_eq!(stale.error_type(), Some("SnapshotStale"), "{stale:?}");

    // A domain that keeps throttling: osnap's retries give up with Throttled.
    world.domain.faults().push(
        FaultRule::new(Fault::TooManyRequests)
            .on(Method::GET, "/_snapshot")
            .always(),
    );
    let throttled = verify
        .invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": "first"}))
        .await
        .unwrap();
    assert_eq!(throttled.error_type(), Some("Throttled"), "{throttled:?}");
    world.domain.faults().clear();

    // A gateway that keeps timing out: once the retries are spent, DomainUnavailable.
    world.domain.faults().push(
        FaultRule::new(Fault::GatewayTimeout)
            .on(Method::GET, "/_snapshot")
            .always(),
    );
    let unavailable = verify
        .invoke(&json!({"domain": domain, "repository": "nightly", "snapshot": "first"}))
        .await
        .unwrap();
    assert_eq!(
        unavailable.error_type(),
        Some("DomainUnavailable"),
        "{unavailable:?}"
    );
    world.domain.faults().clear();

    // A host that is not a search domain is refused before anything is signed or sent.
    let foreign = verify
        .invoke(&json!({"domain": {"endpoint": "https://example.com", "region": "us-east-1"}, "repository": "nightly", "snapshot": "first"}))
        .await
        .unwrap();
    assert_eq!(
        foreign.error_type(),
        Some("EndpointNotAllowed"),
        "{foreign:?}"
    );

    snapshot.stop().await;
    verify.stop().await;
    world.domain.shutdown().await;
    world.s3.shutdown().await;
}

/// Every sample event in `events/`, pointed at the stand-in, through its function.
/// `register-readonly-cross-account.json` needs a domain in another account and STS: it runs in
/// `a_domain_in_another_account_is_reached_through_the_assumed_role`.
#[tokio::test(flavor = "multi_thread")]
async fn every_sample_event_runs_against_the_standin() {
    let world = world("samples").await;
    world
        .s3
        .create_bucket("osnap-snapshots-123456789012")
        .await
        .unwrap();
    for index in ["logs-2026.11.27", "orders"] {
        common::put_doc(&world, index, "1").await;
    }
    let endpoint = world.domain.endpoint();
    let env = [
        ("OSNAP_DOMAIN_ENDPOINT", endpoint.as_str()),
        ("OSNAP_DOMAIN_REGION", "us-east-1"),
        ("OSNAP_REPOSITORY", "nightly"),
    ];
    let dir = e2e::workspace_root().join("events");
    // In the order an operator would use them; the outcome each must have on this domain.
    let samples = [
        ("register", "register.json", Some("created")),
        ("snapshot", "snapshot.json", None),
        ("snapshot", "snapshot-eventbridge-schedule.json", None),
        ("verify", "verify.json", None),
        ("verify", "verify-restore.json", None),
        ("restore", "restore.json", None),
        (
            "restore",
            "restore-replace-dry-run.json",
            Some("SnapshotMissing"),
        ),
        ("prune", "prune-dry-run.json", None),
        ("prune", "prune-protect-and-pin.json", None),
        ("prune", "prune-defaults.json", None),
        ("prune", "prune.json", None),
    ];
    let listed = std::fs::read_dir(&dir).unwrap().filter(|e| {
        let name = e
            .as_ref()
            .unwrap()
            .file_name()
            .to_string_lossy()
            .into_owned();
        !name.starts_with("workflow-") && name != "register-readonly-cross-account.json"
    });
    assert_eq!(
        listed.count(),
        samples.len(),
        "a sample in events/ is not run here"
    );

    for (function, file, expected) in samples {
        let mut event: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
        if event.get("domain").is_some() {
            event["domain"] = json!({"endpoint": endpoint, "region": "us-east-1"});
        }
        let lambda = LambdaFunction::start(function, &env).await.unwrap();
        let outcome = lambda.invoke(&event).await.unwrap();
        lambda.stop().await;
        match (expected, &outcome) {
            (Some("created"), Outcome::Ok(v)) => assert_eq!(v["status"], "created", "{file}"),
            (Some(error), _) if error != "created" => {
                assert_eq!(outcome.error_type(), Some(error), "{file}: {outcome:?}")
            }
            (None, Outcome::Ok(_)) => {}
            _ => panic!("{file}: {outcome:?}"),
        }
        if function == "snapshot" {
            // Let it finish before the next sample, as the workflows' wait loop would.
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
    }
    world.domain.shutdown().await;
    world.s3.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn register_asks_s3_for_the_bucket_region_when_not_given() {
    let world = world("bucket-region").await;
    world
        .s3
        .create_bucket_in("logs-in-ireland", "eu-west-1")
        .await
        .unwrap();
    let s3 = world.s3.endpoint();
    let register = LambdaFunction::start("register", &[("OSNAP_S3_ENDPOINT", &s3)])
        .await
        .unwrap();
    let event = |repository: &str, bucket: &str| json!({"domain": domain_json(&world), "repository": repository, "settings": {"bucket": bucket, "role_arn": standin::domain::DEFAULT_SNAPSHOT_ROLE}});

    ok(
        register
            .invoke(&event("ireland", "logs-in-ireland"))
            .await
            .unwrap(),
        "register ireland",
    );
    ok(
        register
            .invoke(&event("virginia", "snapshots"))
            .await
            .unwrap(),
        "register virginia",
    );
    let (_, ireland) = operator_call(&world, Method::GET, &["_snapshot", "ireland"], &[]).await;
    assert_eq!(ireland["ireland"]["settings"]["region"], "eu-west-1");
    // us-east-1 buckets take AWS's `endpoint` form instead of the region.
    let (_, virginia) = operator_call(&world, Method::GET, &["_snapshot", "virginia"], &[]).await;
    let settings = &virginia["virginia"]["settings"];
    assert_eq!(
        (settings["endpoint"].as_str(), settings.get("region")),
        (Some("s3.amazonaws.com"), None),
        "{settings}"
    );

    let missing = register
        .invoke(&event("nowhere", "no-such-bucket"))
        .await
        .unwrap();
    assert_eq!(missing.error_type(), Some("InvalidRequest"), "{missing:?}");
    assert!(format!("{missing:?}").contains("no-such-bucket"));
    let (status, _) = operator_call(&world, Method::GET, &["_snapshot", "nowhere"], &[]).await;
    assert_eq!(status, 404, "nothing registered for a missing bucket");
    register.stop().await;
    world.domain.shutdown().await;
    world.s3.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_timeout_on_a_delete_is_retried_and_the_404_counts_as_done() {
    let world = common::world_with_nightly("delete-504", &["logs"]).await;
    for name in [
        "nightly-2026.11.25-030000",
        "nightly-2026.11.26-030000",
        "nightly-2026.11.27-030000",
    ] {
        let (status, body) = operator_call(
            &world,
            Method::PUT,
            &["_snapshot", "nightly", name],
            &[("wait_for_completion", "true")],
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    // The gateway gives up on the batch delete while the domain carries it out; the client's
    // retry then finds the snapshots gone (404), which prune counts as deleted.
    world.domain.faults().push(
        FaultRule::new(Fault::GatewayTimeout)
            .on(Method::DELETE, "/_snapshot/nightly/")
            .times(1),
    );
    let prune = LambdaFunction::start("prune", &[]).await.unwrap();
    let done = ok(
        prune
            .invoke(
                &json!({"domain": domain_json(&world), "repository": "nightly", "keep_last": 1}),
            )
            .await
            .unwrap(),
        "prune through a 504",
    );
    assert_eq!(
        done["deleted"],
        listed(&["nightly-2026.11.25-030000", "nightly-2026.11.26-030000"])
    );
    assert_eq!(world.domain.faults().injected(), 1);
    let left = common::snapshot_names(&world, "nightly").await;
    assert_eq!(left, ["nightly-2026.11.27-030000"]);
    prune.stop().await;
    world.domain.shutdown().await;
    world.s3.shutdown().await;
}

/// `register-readonly-cross-account.json`: the domain lives in another account and accepts
/// only that account's role, which the function assumes through (the stand-in's) STS.
#[tokio::test(flavor = "multi_thread")]
async fn a_domain_in_another_account_is_reached_through_the_assumed_role() {
    use standin::sts::{AssumableRole, StsServer};

    let operator_role =
        AssumableRole::trusting_default_caller("arn:aws:iam::222233334444:role/osnap-operator");
    let sts = StsServer::start(
        vec![standin::auth::TestPrincipal::default_operator()],
        vec![operator_role.clone()],
    )
    .await
    .unwrap();
    let root = std::env::temp_dir().join(format!("osnap-e2e-accounts-{}", std::process::id()));
    let _cleanup = common::tempdir::Dir(root.clone());
    let s3 = S3Server::start(&root, "AKIDSTANDIN", "standin-secret")
        .await
        .unwrap();
    s3.create_bucket("osnap-snapshots-123456789012")
        .await
        .unwrap();
    let mut config = DomainConfig::new("other-account", s3.endpoint(), s3.credentials());
    config.credentials = vec![operator_role.session.clone()];
    config.passable_roles = vec!["arn:aws:iam::222233334444:role/osnap-snapshots".into()];
    let domain = Domain::start(config).await.unwrap();

    let sample = e2e::workspace_root().join("events/register-readonly-cross-account.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(sample).unwrap()).unwrap();
    event["domain"]["endpoint"] = json!(domain.endpoint());
    event["domain"]["region"] = json!("us-east-1");
    let sts_endpoint = sts.endpoint();
    let register = LambdaFunction::start("register", &[("AWS_ENDPOINT_URL_STS", &sts_endpoint)])
        .await
        .unwrap();
    let answer = ok(
        register.invoke(&event).await.unwrap(),
        "cross-account register",
    );
    assert_eq!(answer["status"], "created");

    // The function's own identity is not enough: the domain only knows the other account's role.
    let mut direct = event.clone();
    direct["domain"]
        .as_object_mut()
        .unwrap()
        .remove("assume_role_arn");
    let refused = register.invoke(&direct).await.unwrap();
    assert_eq!(refused.error_type(), Some("AccessDenied"), "{refused:?}");
    // A role that does not trust the function: STS refuses, and the error names the role.
    let mut untrusted = event.clone();
    untrusted["domain"]["assume_role_arn"] = json!("arn:aws:iam::222233334444:role/not-trusting");
    let refused = register.invoke(&untrusted).await.unwrap();
    assert_eq!(refused.error_type(), Some("AccessDenied"), "{refused:?}");
    assert!(
        format!("{refused:?}").contains("not-trusting"),
        "{refused:?}"
    );
    register.stop().await;

    let session = aws_credential_types::Credentials::new(
        &operator_role.session.access_key,
        &operator_role.session.secret_key,
        Some(operator_role.session_token.clone()),
        None,
        "assumed",
    );
    let client = standin::client::client_for(&domain.endpoint(), session).unwrap();
    let response = client
        .send(&signing::DomainRequest::get(&["_snapshot", "migration"]))
        .await
        .unwrap();
    let registered: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(
        registered["migration"]["settings"]["readonly"], "true",
        "{registered}"
    );
    domain.shutdown().await;
    s3.shutdown().await;
    sts.shutdown().await;
}

/// With Lambda's JSON log format, every log line is a JSON object tied to its invocation's
/// request id, and neither the secret key, the signature nor the session token appears, even
/// at debug level.
#[tokio::test(flavor = "multi_thread")]
async fn logs_are_json_with_the_request_id_and_never_hold_a_secret() {
    let world = world("logs").await;
    let log = std::env::temp_dir().join(format!("osnap-e2e-logs-{}.log", std::process::id()));
    let s3 = world.s3.endpoint();
    let register = LambdaFunction::start_logging_to(
        "register",
        &[
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
            ("AWS_SESSION_TOKEN", "standin-session-token-must-not-leak"),
            ("OSNAP_S3_ENDPOINT", &s3),
        ],
        Some(&log),
    )
    .await
    .unwrap();
    let event = json!({"domain": domain_json(&world), "repository": "nightly", "settings": {"bucket": "snapshots", "role_arn": standin::domain::DEFAULT_SNAPSHOT_ROLE}});
    // The domain ignores the session token; the signature covers it, which is what matters here.
    let _ = register.invoke(&event).await.unwrap();
    let failed = register
        .invoke(&json!({"repository": "nightly"}))
        .await
        .unwrap();
    assert_eq!(failed.error_type(), Some("InvalidRequest"));
    register.stop().await;

    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() >= 3, "{text}");
    assert!(
        lines.iter().any(|l| l["level"] == "ERROR"),
        "the failed invocation is logged: {text}"
    );
    let in_invocations: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l.to_string().contains("invocation failed") || l.to_string().contains("registered")
        })
        .collect();
    assert!(!in_invocations.is_empty(), "{text}");
    for line in in_invocations {
        assert!(line.to_string().contains("request_id"), "{line}");
    }
    for secret in [
        "standin-secret",
        "standin-session-token-must-not-leak",
        "Signature=",
    ] {
        assert!(
            !text.contains(secret),
            "`{secret}` reached the log:\n{text}"
        );
    }
    world.domain.shutdown().await;
    world.s3.shutdown().await;
}
