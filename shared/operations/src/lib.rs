//! osnap's operations — register, snapshot, verify, restore, prune — as plain async functions
//! over a [`snapshot_api`] client, with the functions' event contract and error taxonomy.
//!
//! # Layout
//! - [`contract`]: reading events (EventBridge envelopes, environment defaults, unknown
//!   fields refused).
//! - [`requests`]: each function's request and response types.
//! - [`error`]: [`OsnapError`], whose `error_type` is the stable Lambda `errorType`.

mod api_error;
pub mod connect;
pub mod contract;
mod error;
pub mod requests;

pub use error::OsnapError;
