//! osnap's operations — register, snapshot, verify, restore, prune — as plain async functions
//! over a [`snapshot_api`] client, with the functions' event contract and error taxonomy.
//!
//! # Layout
//! - [`contract`]: reading events (EventBridge envelopes, environment defaults, unknown
//!   fields refused); [`requests`]: each function's request and response types;
//!   [`bounded`]: lists in outputs, capped in size.
//! - [`OsnapError`]: the taxonomy; its `error_type` is the stable Lambda `errorType`.
//! - [`connect`] and [`Context`]: clients for the domains events name, built once per process.
//! - [`register`], [`snapshot`], [`verify`], [`restore`], [`prune`]: one module per
//!   function, each with a `handle(ctx, event)` entry point.
//! - [`preflight`]: what a restore or a migration would run into, read from both sides before
//!   anything moves (the restore's dry run answers it).
//! - [`permissions`]: the security plugin actions each function needs (fine-grained access
//!   control).

pub mod api_error;
pub mod bounded;
mod bucket_region;
mod cold_tier;
pub mod connect;
mod context;
pub mod contract;
mod error;
pub mod listing;
pub mod manifest;
mod name_batches;
pub mod permissions;
pub mod preflight;
pub mod prune;
pub mod register;
pub mod requests;
pub mod restore;
mod secrets;
pub mod snapshot;
mod validate;
pub mod verify;

pub use context::Context;
pub use error::OsnapError;
