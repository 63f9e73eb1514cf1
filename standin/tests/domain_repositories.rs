//! Registering, reading, verifying and removing snapshot repositories, with AWS's and the
//! engine's refusals.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, BUCKET, CALLER, Env, ROLE, error_type, reason};
use serde_json::json;

fn s3_settings(extra: serde_json::Value) -> serde_json::Value {
    let mut settings =
        json!({"bucket": BUCKET, "base_path": "osnap", "region": "us-east-1", "role_arn": ROLE});
    for (k, v) in extra.as_object().unwrap() {
        settings[k] = v.clone();
    }
    json!({"type": "s3", "settings": settings})
}

#[tokio::test]
async fn a_repository_is_registered_read_verified_updated_and_removed() {
    let env = Env::new("repo").await;
    let domain = env.domain("repo").await;
    let api = Api::new(&domain);

    let (status, body) = api
        .put(
            "/_snapshot/nightly",
            s3_settings(json!({"server_side_encryption": true})),
        )
        .await;
    assert_eq!((status, body), (200, json!({"acknowledged": true})));
    let (status, body) = api.get("/_snapshot/nightly").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"nightly": {"type": "s3", "settings": {
            "bucket": BUCKET, "base_path": "osnap", "region": "us-east-1", "role_arn": ROLE,
            "server_side_encryption": "true"
        }}})
    );
    let (_, all) = api.get("/_snapshot").await;
    assert_eq!(all["cs-automated"], json!({"type": "s3"}));
    assert_eq!(all["nightly"]["type"], "s3");
    let (_, same) = api.get("/_snapshot/_all").await;
    assert_eq!(same, all);

    let (status, body) = api.post("/_snapshot/nightly/_verify", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["nodes"].as_object().unwrap().len(), 2);
    let listed = env
        .s3
        .client()
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("osnap/")
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.contents().len(),
        0,
        "verification cleans up after itself"
    );

    let (status, _) = api
        .put("/_snapshot/nightly", s3_settings(json!({"readonly": true})))
        .await;
    assert_eq!(status, 200);
    let (_, body) = api.get("/_snapshot/nightly").await;
    assert_eq!(body["nightly"]["settings"]["readonly"], "true");
    assert!(
        body["nightly"]["settings"]
            .get("server_side_encryption")
            .is_none()
    );

    let (status, _) = api.delete("/_snapshot/nightly").await;
    assert_eq!(status, 200);
    let (status, body) = api.get("/_snapshot/nightly").await;
    assert_eq!(
        (status, error_type(&body)),
        (404, "repository_missing_exception")
    );
    assert_eq!(reason(&body), "[nightly] missing");
    let (status, body) = api.delete("/_snapshot/nightly").await;
    assert_eq!(
        (status, error_type(&body)),
        (404, "repository_missing_exception")
    );
    let (status, body) = api.post("/_snapshot/nightly/_verify", json!({})).await;
    assert_eq!(
        (status, error_type(&body)),
        (404, "repository_missing_exception")
    );

    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn aws_refuses_a_missing_or_unpassable_role_and_reserved_names() {
    let env = Env::new("passrole").await;
    let domain = env.domain("passrole").await;
    let api = Api::new(&domain);

    let other_role = "arn:aws:iam::123456789012:role/someone-else";
    let (status, body) = api
        .put(
            "/_snapshot/nightly",
            s3_settings(json!({"role_arn": other_role})),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"Message": format!(
            "User: {CALLER} is not authorized to perform: iam:PassRole on resource: {other_role}"
        )})
    );
    let (status, body) = api
        .put(
            "/_snapshot/nightly",
            json!({"type": "s3", "settings": {"bucket": BUCKET}}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"Message": "settings.role_arn is needed for snapshot registration."})
    );
    let (status, _) = api.get("/_snapshot/nightly").await;
    assert_eq!(status, 404, "nothing was registered");

    let (status, body) = api.put("/_snapshot/cs-mine", s3_settings(json!({}))).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"Message": "Your request: '/_snapshot/cs-mine' is not allowed."})
    );
    let (status, _) = api.delete("/_snapshot/cs-automated").await;
    assert_eq!(status, 401);
    let (status, body) = api.put("/_snapshot/cs-automated/mine", json!({})).await;
    assert_eq!(status, 401, "{body}");

    domain.shutdown().await;
    env.shutdown().await;
}

#[tokio::test]
async fn the_engine_refuses_bad_definitions_and_unreachable_buckets() {
    let env = Env::new("baddef").await;
    let domain = env.domain("baddef").await;
    let api = Api::new(&domain);

    let (status, body) = api
        .put("/_snapshot/a", s3_settings(json!({"bse_path": "x"})))
        .await;
    assert_eq!((status, error_type(&body)), (500, "repository_exception"));
    assert_eq!(reason(&body), "[a] failed to create repository");
    assert_eq!(body["error"]["caused_by"]["type"], "settings_exception");
    let (status, body) = api
        .put("/_snapshot/a", s3_settings(json!({"readonly": "maybe"})))
        .await;
    assert_eq!((status, error_type(&body)), (500, "repository_exception"));
    let (status, body) = api
        .put(
            "/_snapshot/a",
            json!({"type": "fs", "settings": {"location": "/x", "role_arn": ROLE}}),
        )
        .await;
    assert_eq!(
        (status, reason(&body)),
        (500, "[a] repository type [fs] does not exist")
    );
    let (status, body) = api
        .put("/_snapshot/a", json!({"settings": {"bucket": BUCKET}}))
        .await;
    assert_eq!(
        (status, error_type(&body)),
        (400, "action_request_validation_exception")
    );
    let (status, _) = api.get("/_snapshot/a").await;
    assert_eq!(status, 404);

    let (status, body) = api
        .put(
            "/_snapshot/gone",
            s3_settings(json!({"bucket": "no-such-bucket"})),
        )
        .await;
    assert_eq!(
        (status, error_type(&body)),
        (500, "repository_verification_exception")
    );
    assert_eq!(
        reason(&body),
        "[gone] path [osnap] is not accessible on cluster-manager node"
    );
    assert_eq!(
        body["error"]["caused_by"]["caused_by"]["type"],
        "amazon_s3_exception"
    );
    let (status, _) = api.get("/_snapshot/gone").await;
    assert_eq!(
        status, 200,
        "a repository that fails verification stays registered"
    );
    let (status, body) = api.post("/_snapshot/gone/_verify", json!({})).await;
    assert_eq!(
        (status, error_type(&body)),
        (500, "repository_verification_exception")
    );
    let (status, _) = api
        .put(
            "/_snapshot/later?verify=false",
            s3_settings(json!({"bucket": "no-such-bucket"})),
        )
        .await;
    assert_eq!(status, 200);

    domain.shutdown().await;
    env.shutdown().await;
}
