//! The stand-in S3 server speaks the real protocol and checks signatures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_credential_types::Credentials;
use aws_sdk_s3::primitives::ByteStream;
use standin::s3::{S3Server, s3_client};

#[tokio::test]
async fn objects_round_trip_and_bad_signatures_are_refused() {
    let root = std::env::temp_dir().join(format!("standin-s3-test-{}", std::process::id()));
    let server = S3Server::start(&root, "AKIDSTANDIN", "standin-secret")
        .await
        .unwrap();
    server.create_bucket("snapshots").await.unwrap();
    server.create_bucket("snapshots").await.unwrap(); // idempotent

    let client = server.client();
    client
        .put_object()
        .bucket("snapshots")
        .key("base/index.json")
        .body(ByteStream::from_static(b"{\"ok\":true}"))
        .send()
        .await
        .unwrap();
    let object = client
        .get_object()
        .bucket("snapshots")
        .key("base/index.json")
        .send()
        .await
        .unwrap();
    let body = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(&body[..], b"{\"ok\":true}");
    let listed = client
        .list_objects_v2()
        .bucket("snapshots")
        .prefix("base/")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.contents().len(), 1);

    let wrong = s3_client(
        &server.endpoint(),
        Credentials::new("AKIDSTANDIN", "not-the-secret", None, None, "test"),
    );
    let refused = wrong
        .get_object()
        .bucket("snapshots")
        .key("base/index.json")
        .send()
        .await;
    let error = refused.unwrap_err();
    let code = error
        .as_service_error()
        .and_then(|e| aws_sdk_s3::error::ProvideErrorMetadata::code(e));
    assert_eq!(code, Some("SignatureDoesNotMatch"), "{error:?}");

    server.shutdown().await;
    std::fs::remove_dir_all(&root).unwrap();
}

#[tokio::test]
async fn head_bucket_names_the_bucket_region_as_s3_does() {
    let root = std::env::temp_dir().join(format!("standin-s3-region-{}", std::process::id()));
    let server = S3Server::start(&root, "AKIDSTANDIN", "standin-secret")
        .await
        .unwrap();
    server.create_bucket("here").await.unwrap();
    server
        .create_bucket_in("elsewhere", "eu-west-1")
        .await
        .unwrap();
    let client = server.client();

    let here = client.head_bucket().bucket("here").send().await.unwrap();
    assert_eq!(here.bucket_region(), Some(standin::TEST_REGION));

    let elsewhere = client
        .head_bucket()
        .bucket("elsewhere")
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.bucket_region(), Some("eu-west-1"));

    let missing = client
        .head_bucket()
        .bucket("nowhere")
        .send()
        .await
        .unwrap_err();
    let raw = missing.raw_response().unwrap();
    assert_eq!(raw.status().as_u16(), 404);
    assert_eq!(raw.headers().get("x-amz-bucket-region"), None);

    server.shutdown().await;
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test]
async fn a_missing_bucket_is_no_such_bucket_and_is_not_created() {
    let env = common::Env::new("s3-missing").await;
    let client = env.s3.client();
    let code =
        |error: &dyn aws_sdk_s3::error::ProvideErrorMetadata| error.code().map(str::to_owned);

    let put = client
        .put_object()
        .bucket("nowhere")
        .key("base/index.json")
        .body(ByteStream::from_static(b"{}"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&put).as_deref(), Some("NoSuchBucket"), "{put:?}");
    let get = client
        .get_object()
        .bucket("nowhere")
        .key("base/index.json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&get).as_deref(), Some("NoSuchBucket"), "{get:?}");
    let delete = aws_sdk_s3::types::Delete::builder()
        .objects(
            aws_sdk_s3::types::ObjectIdentifier::builder()
                .key("base/index.json")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let deleted = client
        .delete_objects()
        .bucket("nowhere")
        .delete(delete)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&deleted).as_deref(),
        Some("NoSuchBucket"),
        "{deleted:?}"
    );
    assert!(
        client.head_bucket().bucket("nowhere").send().await.is_err(),
        "the put did not create the bucket"
    );

    env.shutdown().await;
}
