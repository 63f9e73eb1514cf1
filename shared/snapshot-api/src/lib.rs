//! The typed snapshot REST API of OpenSearch and Elasticsearch domains, over
//! [`signing::DomainClient`]. Shapes follow the OpenSearch 1.x/2.x and Elasticsearch 6.x/7.10
//! REST specs (what Amazon's service runs); unknown response fields are ignored.
//!
//! # Layout
//! - [`client`]: [`SnapshotApi`], one async method per endpoint.
//! - [`error`]: [`ApiError`], parsed from every error shape the service sends.
//! - [`cluster`], [`repository`], [`snapshot`], [`restore`], [`indices`], [`recovery`]:
//!   request and response types of each API area.
//! - `de` (private): lenient readers for values sent as strings (`"readonly": "true"`,
//!   `"docs.count": "120"`).
//!
//! Listings are parsed straight from the response bytes into typed structs
//! ([`snapshot::parse_snapshot_list`]); unknown fields are skipped, never collected.

pub mod client;
pub mod cluster;
mod de;
pub mod error;
pub mod indices;
pub mod recovery;
pub mod repository;
pub mod restore;
pub mod snapshot;

pub use client::SnapshotApi;
pub use error::{ApiError, parse_error};
