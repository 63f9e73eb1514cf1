//! **The API layer**: one module per API family, each answering its routes from the state
//! layer. An API module never imports a sibling: what two of them share lives in `state` (or
//! `wire`).

pub(crate) mod aliases;
pub(crate) mod cat;
pub(crate) mod cluster_settings;
pub(crate) mod data_streams;
pub(crate) mod documents;
pub(crate) mod indices;
pub(crate) mod info;
pub(crate) mod repository;
pub(crate) mod restore;
pub(crate) mod security;
pub(crate) mod snapshot_views;
pub(crate) mod snapshots;
pub(crate) mod tiers;
