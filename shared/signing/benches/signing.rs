//! Cost of signing one typical domain request (a snapshot create with its JSON body).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Method;
use signing::sigv4::{RequestToSign, SignatureOptions, SigningScope, sign_request};
use signing::{
    CredentialSource, DomainClient, DomainEndpoint, DomainRequest, EndpointPolicy,
    SharedTimeSource, StaticTimeSource,
};

const BODY: &str = r#"{"indices":"-.*,*","ignore_unavailable":true,"include_global_state":false,"metadata":{"taken_by":"osnap"}}"#;

fn credentials() -> Credentials {
    Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some("IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN".into()),
        None,
        "bench",
    )
}

fn bench_signing(c: &mut Criterion) {
    let headers = [
        ("host", "search-logs-abc123.us-east-1.es.amazonaws.com"),
        ("content-type", "application/json"),
    ];
    let request = RequestToSign {
        method: "PUT",
        uri: "https://search-logs-abc123.us-east-1.es.amazonaws.com/_snapshot/nightly/nightly-2026.11.28-0300?wait_for_completion=false",
        headers: &headers,
        body: BODY.as_bytes(),
    };
    let scope = SigningScope {
        region: "us-east-1",
        service: "es",
        time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000),
    };
    let credentials = credentials();
    let options = SignatureOptions::default();
    c.bench_function("sigv4/sign snapshot create", |b| {
        b.iter(|| sign_request(black_box(&request), &credentials, &scope, &options).unwrap())
    });

    // The whole client path: cached credentials, URL building, signing, header map.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let time = SharedTimeSource::new(StaticTimeSource::from_secs(1_795_000_000));
    let endpoint = DomainEndpoint::parse(
        "https://search-logs-abc123.us-east-1.es.amazonaws.com",
        None,
        &EndpointPolicy::aws_only(),
    )
    .unwrap();
    let client = DomainClient::new(
        endpoint,
        CredentialSource::fixed(credentials, time.clone()),
        time,
    )
    .unwrap();
    let domain_request = DomainRequest::new(
        Method::PUT,
        &["_snapshot", "nightly", "nightly-2026.11.28-0300"],
    )
    .query("wait_for_completion", "false")
    .json_body(BODY);
    c.bench_function("client/build signed snapshot create", |b| {
        b.iter(|| {
            runtime
                .block_on(client.build_signed(black_box(&domain_request)))
                .unwrap()
        })
    });
}

criterion_group!(benches, bench_signing);
criterion_main!(benches);
