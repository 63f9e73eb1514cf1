//! osnap's decisions as pure functions: no I/O, no clock (the time is always an argument),
//! so every rule that protects an operator's data is tested here exhaustively.
//!
//! # Layout
//! - [`time`]: UTC calendar arithmetic for names and ages.
//! - [`duration`]: `"26h"`, `"30d"`, `"1d12h"` as written in events.
//! - [`naming`]: snapshot name templates (`nightly-{now:%Y.%m.%d-%H%M}`), their reverse
//!   (a name's time), and the server's snapshot naming rules.
//! - [`indices`]: index patterns (wildcards, `-` exclusions) and which indices are system
//!   indices that osnap never restores or deletes unless named.
//! - [`retention`]: which snapshots a prune may delete.
//! - [`engines`]: which engine and version a domain runs, and the one table of what each
//!   accepts and writes ([`engines::Capabilities`]), read by the functions and the stand-in.
//! - [`quote`]: untrusted values quoted short and escaped in messages.
//! - [`restore_rules`]: the settings a restore may not change or drop, and the shard limit.

pub mod duration;
pub mod engines;
pub mod indices;
pub mod naming;
pub mod quote;
pub mod restore_rules;
pub mod retention;
pub mod time;
