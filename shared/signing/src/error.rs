use std::time::Duration;

/// Why an endpoint was refused before anything was signed or sent.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EndpointError {
    #[error("endpoint `{endpoint}` is not a valid URL: {reason}")]
    Invalid { endpoint: String, reason: String },
    #[error(
        "endpoint host `{host}` is not allowed: {reason}; only Amazon OpenSearch Service domain \
         hosts and hosts listed in OSNAP_ALLOWED_HOSTS may be signed for"
    )]
    NotAllowed { host: String, reason: &'static str },
    #[error("cannot tell the AWS region of `{host}`: give the region explicitly")]
    RegionUnknown { host: String },
    #[error("region `{given}` was given but host `{host}` is in `{derived}`")]
    RegionMismatch {
        host: String,
        derived: String,
        given: String,
    },
}

/// A failure to sign or deliver a request. An HTTP error status is not one of these: the
/// response is returned and the caller interprets it.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    #[error("could not load AWS credentials")]
    Credentials(#[source] aws_credential_types::provider::error::CredentialsError),
    #[error("could not sign the request: {0}")]
    Sign(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The connection could not be opened, so the request never reached the domain.
    #[error("could not connect to the domain after {attempts} attempt(s) in {elapsed:?}")]
    Connect {
        attempts: u32,
        elapsed: Duration,
        #[source]
        source: reqwest::Error,
    },
    /// The domain answered with a redirect, which is never followed: a cross-host redirect
    /// would carry the session token (and a 307/308 the body) to a host the endpoint guard
    /// never checked. Only the location's host is named, never its path or query.
    #[error(
        "the domain answered {status} redirecting to host `{host}`; osnap never follows a \
         redirect: check the endpoint"
    )]
    Redirected { status: u16, host: String },
    /// Too little of the invocation's time was left to wait for the domain, so the request
    /// was not sent (again).
    #[error(
        "not sent: {left:?} of the invocation's time left is too little to wait for the domain \
         ({attempts} attempt(s) made)"
    )]
    OutOfTime { attempts: u32, left: Duration },
    /// The request may or may not have reached the domain (timeout, reset, broken response).
    #[error("the request to the domain failed after {attempts} attempt(s) in {elapsed:?}")]
    Transport {
        attempts: u32,
        elapsed: Duration,
        #[source]
        source: reqwest::Error,
    },
}
