//! SigV4-signed HTTP to Amazon OpenSearch Service (and legacy Amazon Elasticsearch Service)
//! domains.
//!
//! # Layout
//! - [`endpoint`]: which hosts a request may go to, and the region a host implies.
//! - [`sigv4`]: the signature itself, a pure function of the request, the credentials and the
//!   time (no I/O, no clock of its own).
//! - [`credentials`]: where credentials come from (the Lambda role, an assumed role in another
//!   account, or fixed ones in tests), cached until shortly before they expire.
//! - [`retry`]: which failures are worth another attempt and how long to wait.
//! - [`client`]: [`DomainClient`], which ties them together and sends the request.

pub mod client;
pub mod credentials;
pub mod deadline;
pub mod endpoint;
mod error;
pub mod retry;
pub mod sigv4;

pub use aws_smithy_async::time::{
    SharedTimeSource, StaticTimeSource, SystemTimeSource, TimeSource,
};
pub use client::{Authentication, BasicCredentials, DomainClient, DomainRequest, DomainResponse};
pub use credentials::CredentialSource;
pub use endpoint::{DomainEndpoint, EndpointPolicy};
pub use error::{EndpointError, SigningError};
pub use retry::{Idempotency, RetryPolicy};
