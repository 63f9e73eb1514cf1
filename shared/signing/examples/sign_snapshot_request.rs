//! Signs a snapshot-create request the way osnap sends it to a domain and prints it as it
//! would go on the wire. Uses AWS's documented example key pair and a fixed time, so the
//! output is the same everywhere and can be checked against any other SigV4 implementation.

#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use aws_credential_types::Credentials;
use http::Method;
use signing::{
    CredentialSource, DomainClient, DomainEndpoint, DomainRequest, EndpointPolicy,
    SharedTimeSource, StaticTimeSource,
};

const ENDPOINT: &str = "https://search-demo-abc.us-east-1.es.amazonaws.com";
const BODY: &str = r#"{"indices":"logs-*","ignore_unavailable":true,"include_global_state":false,"metadata":{"taken_by":"snapshot-lambda"}}"#;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), signing::SigningError> {
    // 2026-11-18T11:06:40Z.
    let time = SharedTimeSource::new(StaticTimeSource::from_secs(1_795_000_000));
    let credentials = Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        None,
        None,
        "documented example",
    );
    let endpoint = DomainEndpoint::parse(ENDPOINT, None, &EndpointPolicy::aws_only())?;
    println!(
        "endpoint {ENDPOINT}\n  region {} (from the host name), service {}\n",
        endpoint.region(),
        endpoint.service()
    );
    let client = DomainClient::new(
        endpoint,
        CredentialSource::fixed(credentials, time.clone()),
        time,
    )?;
    let request = DomainRequest::new(Method::PUT, &["_snapshot", "my-repo", "snap-2026.11.28"])
        .query("wait_for_completion", "false")
        .json_body(BODY);
    let signed = client.build_signed(&request).await?;

    println!("{} {}", signed.method(), signed.url());
    for (name, value) in signed.headers() {
        // The example key is public, so the signature may be shown.
        println!("{name}: {}", String::from_utf8_lossy(value.as_bytes()));
    }
    println!("\n{BODY}");

    println!("\nThe endpoint guard refuses hosts that are not search domains:");
    for other in [
        "https://example.com",
        "http://search-demo-abc.us-east-1.es.amazonaws.com",
    ] {
        match DomainEndpoint::parse(other, None, &EndpointPolicy::aws_only()) {
            Ok(_) => println!("  {other}: accepted"),
            Err(error) => println!("  {other}: {error}"),
        }
    }
    Ok(())
}
