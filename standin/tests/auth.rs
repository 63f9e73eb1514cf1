//! The stand-in's signature check accepts what a correct SigV4 signer produces — the AWS test
//! suite's signed requests and osnap's own client — and refuses everything else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use http::Method;
use signing::{
    CredentialSource, DomainClient, DomainEndpoint, DomainRequest, EndpointPolicy,
    SharedTimeSource, StaticTimeSource,
};
use standin::auth::{AuthConfig, AuthFailure, TestPrincipal, parse_amz_date, verify_request};

const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn suite_config() -> AuthConfig {
    AuthConfig {
        region: "us-east-1".into(),
        service: "service".into(),
        principals: vec![TestPrincipal {
            access_key: "AKIDEXAMPLE".into(),
            secret_key: SUITE_SECRET.into(),
            arn: "arn:aws:iam::123456789012:user/example".into(),
        }],
    }
}

/// A raw signed request from the suite as `http` parts and body; `None` when the written
/// request cannot travel as HTTP as it stands (raw spaces or UTF-8 in the target).
fn parse_signed(text: &str) -> Option<(http::request::Parts, Vec<u8>)> {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let request_line = lines.next()?;
    let (method, rest) = request_line.split_once(' ')?;
    let (target, _) = rest.rsplit_once(' ')?;
    let mut builder = http::Request::builder()
        .method(method)
        .uri(target.parse::<http::Uri>().ok()?);
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with(' ') {
            let last = headers.last_mut()?;
            last.1.push(' ');
            last.1.push_str(line.trim());
        } else {
            let (n, v) = line.split_once(':')?;
            headers.push((n.to_owned(), v.to_owned()));
        }
    }
    for (n, v) in headers {
        builder = builder.header(n, v);
    }
    let (parts, ()) = builder.body(()).ok()?.into_parts();
    Some((parts, body.as_bytes().to_vec()))
}

#[test]
fn accepts_the_aws_suites_signed_requests() {
    let suite = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/signing/tests/data/sigv4-test-suite/v4");
    let now = parse_amz_date("20150830T123600Z").unwrap();
    let config = suite_config();
    let mut accepted = 0;
    for entry in std::fs::read_dir(&suite).unwrap() {
        let case = entry.unwrap().path();
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        // Legacy cases have no context and other inputs; these were produced with single
        // path encoding (the S3 rule), which a domain does not use.
        if [
            "double-encode-path",
            "double-url-encode",
            "get-space-normalized",
            "get-space-unnormalized",
            "get-utf8",
        ]
        .contains(&name.as_str())
        {
            continue;
        }
        let context = std::fs::read_to_string(case.join("context.json")).unwrap();
        let context: serde_json::Value = serde_json::from_str(&context).unwrap();
        if context["normalize"] == false {
            continue; // the domain normalises paths, so unnormalised signatures differ
        }
        let text = std::fs::read_to_string(case.join("header-signed-request.txt")).unwrap();
        let (parts, body) = parse_signed(&text).unwrap_or_else(|| panic!("{name}: unparsable"));
        let result = verify_request(&parts, &body, &config, now);
        assert!(result.is_ok(), "{name}: {result:?}");
        accepted += 1;
    }
    assert!(accepted >= 25, "only {accepted} cases checked");
}

fn domain_config() -> AuthConfig {
    AuthConfig {
        region: "us-east-1".into(),
        service: "es".into(),
        principals: vec![TestPrincipal::default_operator()],
    }
}

async fn signed_by(secret: &str, region: &str, time_secs: u64) -> (http::request::Parts, Vec<u8>) {
    let time = SharedTimeSource::new(StaticTimeSource::from_secs(time_secs));
    let credentials = Credentials::new("AKIDSTANDIN", secret, None, None, "test");
    let endpoint = DomainEndpoint::parse(
        "http://127.0.0.1:9200",
        Some(region),
        &EndpointPolicy::aws_only().allowing_loopback_for_tests(),
    )
    .unwrap();
    let client = DomainClient::new(
        endpoint,
        CredentialSource::fixed(credentials, time.clone()),
        time,
    )
    .unwrap();
    let request = DomainRequest::new(Method::PUT, &["_snapshot", "nightly", "snap 1,x"])
        .query("wait_for_completion", "false")
        .json_body(r#"{"indices":"-.*,*"}"#);
    let built = client.build_signed(&request).await.unwrap();
    let mut builder = http::Request::builder()
        .method(built.method().clone())
        .uri(built.url().as_str());
    for (name, value) in built.headers() {
        builder = builder.header(name, value);
    }
    let body = built
        .body()
        .and_then(|b| b.as_bytes())
        .unwrap_or_default()
        .to_vec();
    (builder.body(()).unwrap().into_parts().0, body)
}

const NOW: u64 = 1_795_000_000;

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

#[tokio::test]
async fn accepts_osnaps_client_and_refuses_bad_signatures() {
    let config = domain_config();
    let (parts, body) = signed_by("standin-secret", "us-east-1", NOW).await;
    let principal = verify_request(&parts, &body, &config, at(NOW)).unwrap();
    assert_eq!(principal.arn, "arn:aws:iam::123456789012:user/osnap-test");

    let (parts, body) = signed_by("wrong-secret", "us-east-1", NOW).await;
    let failure = verify_request(&parts, &body, &domain_config(), at(NOW)).unwrap_err();
    assert_eq!(failure, AuthFailure::SignatureMismatch);
    assert!(
        failure
            .body()
            .contains("does not match the signature you provided")
    );

    let (parts, body) = signed_by("standin-secret", "eu-west-1", NOW).await;
    let failure = verify_request(&parts, &body, &domain_config(), at(NOW)).unwrap_err();
    assert_eq!(failure, AuthFailure::WrongRegion("eu-west-1".into()));

    let (parts, _) = signed_by("standin-secret", "us-east-1", NOW).await;
    let tampered = b"{\"indices\":\"*\"}";
    let failure = verify_request(&parts, tampered, &domain_config(), at(NOW)).unwrap_err();
    assert_eq!(failure, AuthFailure::SignatureMismatch);

    let (parts, body) = signed_by("standin-secret", "us-east-1", NOW).await;
    let failure = verify_request(&parts, &body, &domain_config(), at(NOW + 16 * 60)).unwrap_err();
    assert!(matches!(failure, AuthFailure::Expired(_)), "{failure:?}");
}

#[test]
fn unsigned_and_unknown_callers_are_refused() {
    let (parts, ()) = http::Request::get("/").body(()).unwrap().into_parts();
    let failure = verify_request(&parts, b"", &domain_config(), at(NOW)).unwrap_err();
    assert_eq!(
        failure,
        AuthFailure::Missing {
            action: "es:ESHttpGet".into()
        }
    );
    assert!(failure.body().starts_with("{\"Message\":\"User: anonymous"));

    let (parts, ()) = http::Request::get("/")
        .header("authorization", "AWS4-HMAC-SHA256 Credential=AKIDOTHER/20261118/us-east-1/es/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
        .header("x-amz-date", "20261118T110640Z")
        .header("host", "127.0.0.1")
        .body(())
        .unwrap()
        .into_parts();
    let failure = verify_request(&parts, b"", &domain_config(), at(NOW)).unwrap_err();
    assert_eq!(failure, AuthFailure::UnknownAccessKey);
}
