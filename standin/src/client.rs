//! Signed clients for the stand-in's domains, for tests and the demo to seed and inspect them
//! as an operator would.

use aws_credential_types::Credentials;
use signing::{
    CredentialSource, DomainClient, DomainEndpoint, EndpointPolicy, SharedTimeSource,
    SystemTimeSource,
};

use crate::auth::TestPrincipal;
use crate::{StandinError, TEST_REGION};

/// A client for the domain at `endpoint`, signing with `credentials` for the stand-in's region.
pub fn client_for(endpoint: &str, credentials: Credentials) -> Result<DomainClient, StandinError> {
    let endpoint = DomainEndpoint::parse(
        endpoint,
        Some(TEST_REGION),
        &EndpointPolicy::aws_only().allowing_loopback_for_tests(),
    )
    .map_err(|e| StandinError::Setup(e.to_string()))?;
    let time = SharedTimeSource::new(SystemTimeSource::new());
    DomainClient::new(
        endpoint,
        CredentialSource::fixed(credentials, time.clone()),
        time,
    )
    .map_err(|e| StandinError::Setup(e.to_string()))
}

/// The credentials of the stand-in's default caller.
pub fn operator_credentials() -> Credentials {
    let operator = TestPrincipal::default_operator();
    Credentials::new(
        operator.access_key,
        operator.secret_key,
        None,
        None,
        "standin-operator",
    )
}

/// A client signing as the stand-in's default caller.
pub fn operator_client(endpoint: &str) -> Result<DomainClient, StandinError> {
    client_for(endpoint, operator_credentials())
}

/// The `Authorization` header value for a self-managed cluster's basic user:
/// `Basic base64(username:password)`.
pub fn basic_authorization(username: &str, password: &str) -> String {
    crate::basic_auth::authorization(username, password)
}
