//! **The wire layer**, at the bottom: what crosses HTTP and needs no cluster state — the
//! decoded request ([`call::Call`]) and an endpoint's outcome, routing and accepted query
//! parameters, answers and the engine's error envelope, a self-managed cluster's 401
//! challenges, request-body fields, the engine's
//! rules for names and wildcards, rename patterns, and the engine's time formats. It imports
//! neither `state` nor `api`.

pub(crate) mod body;
pub(crate) mod call;
pub(crate) mod challenge;
pub(crate) mod names;
pub(crate) mod rename;
pub(crate) mod reply;
pub(crate) mod routes;
pub(crate) mod time;
