//! What every operation needs: the clients and the time.

use std::time::{Duration, SystemTime};

use signing::SharedTimeSource;
use snapshot_api::SnapshotApi;

use crate::OsnapError;
use crate::connect::Connector;
use crate::contract::{Defaults, Target};

/// Built once per process (in a function's `main`) and shared by every invocation.
#[derive(Debug, Clone)]
pub struct Context {
    pub connector: Connector,
    pub defaults: Defaults,
    pub time: SharedTimeSource,
    /// When the current invocation must have answered (Lambda's deadline); `None` where
    /// there is no such limit.
    pub deadline: Option<SystemTime>,
}

impl Context {
    /// The API of the target's domain.
    pub async fn api(&self, target: &Target) -> Result<SnapshotApi, OsnapError> {
        Ok(SnapshotApi::new(
            self.connector
                .client_for(&target.domain, self.defaults.secrets_endpoint.as_deref())
                .await?
                .with_deadline(self.deadline),
        ))
    }

    pub fn now(&self) -> SystemTime {
        self.time.now()
    }

    /// Time left before the deadline (zero once it has passed), or `None` without one.
    pub fn time_left(&self) -> Option<Duration> {
        self.deadline.map(|deadline| {
            deadline
                .duration_since(self.now())
                .unwrap_or(Duration::ZERO)
        })
    }
}
