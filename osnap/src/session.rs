//! What every command that talks to a domain needs: the operations' `Context`, built as a
//! function's `main` builds it (the same endpoint guard, the same credential chain), and the
//! domain and repository from the flags or the environment.

use operations::connect::CredentialMode;
use operations::contract::{ClusterAuth, DomainInput, Target};
use operations::{Context, OsnapError};
use serde_json::{Map, Value};
use snapshot_api::SnapshotApi;

use crate::cli::Common;

#[derive(Debug)]
pub struct Session {
    pub context: Context,
    endpoint: Option<String>,
    region: Option<String>,
    repository: Option<String>,
    role_arn: Option<String>,
}

impl Session {
    /// The context from the process environment and the common flags. `--profile` wins over
    /// credentials in the environment, as in the AWS CLI; without it the default chain reads
    /// them (and `AWS_PROFILE`).
    pub fn new(common: &Common) -> Result<Self, OsnapError> {
        let mode = common
            .profile
            .clone()
            .map_or(CredentialMode::Environment, CredentialMode::Profile);
        let context =
            function_shell::context_with_credentials(|name| std::env::var(name).ok(), mode)?;
        let defaults = &context.defaults;
        Ok(Self {
            endpoint: common
                .endpoint
                .clone()
                .or_else(|| defaults.endpoint.clone()),
            region: common.region.clone().or_else(|| defaults.region.clone()),
            repository: common
                .repository
                .clone()
                .or_else(|| defaults.repository.clone()),
            role_arn: common.role_arn.clone(),
            context,
        })
    }

    pub fn domain(&self) -> Result<DomainInput, OsnapError> {
        let endpoint = self
            .endpoint
            .clone()
            .ok_or_else(|| OsnapError::InvalidRequest {
                reason: "no domain: give --endpoint or set OSNAP_DOMAIN_ENDPOINT".into(),
            })?;
        Ok(self.domain_at(&endpoint))
    }

    /// Another domain than `--endpoint`'s (a migration's source or target), with the same
    /// region and role.
    pub fn domain_at(&self, endpoint: &str) -> DomainInput {
        DomainInput {
            endpoint: endpoint.to_owned(),
            region: self.region.clone(),
            assume_role_arn: self.role_arn.clone(),
            auth: None,
        }
    }

    /// A self-managed cluster at `endpoint` (a migration's source), reached with `auth`
    /// instead of SigV4: no role is assumed.
    pub fn cluster_at(&self, endpoint: &str, auth: ClusterAuth) -> DomainInput {
        DomainInput {
            endpoint: endpoint.to_owned(),
            region: self.region.clone(),
            assume_role_arn: None,
            auth: Some(auth),
        }
    }

    /// The API of the domain at `endpoint`.
    pub async fn api_at(&self, endpoint: &str) -> Result<SnapshotApi, OsnapError> {
        self.api_for(&self.domain_at(endpoint)).await
    }

    /// The API of `domain`.
    pub async fn api_for(&self, domain: &DomainInput) -> Result<SnapshotApi, OsnapError> {
        self.context
            .api(&Target {
                domain: domain.clone(),
                repository: self.repository()?,
                event_time: None,
            })
            .await
    }

    /// As [`Session::event`], for the domain at `endpoint`.
    pub fn event_at(&self, endpoint: &str, fields: Value) -> Result<Value, OsnapError> {
        self.event_for(&self.domain_at(endpoint), fields)
    }

    pub fn repository(&self) -> Result<String, OsnapError> {
        self.repository
            .clone()
            .ok_or_else(|| OsnapError::InvalidRequest {
                reason: "no repository: give --repository or set OSNAP_REPOSITORY".into(),
            })
    }

    pub fn target(&self) -> Result<Target, OsnapError> {
        Ok(Target {
            domain: self.domain()?,
            repository: self.repository()?,
            event_time: None,
        })
    }

    /// The API of the domain, for the reads no function makes (repositories, listings,
    /// progress).
    pub async fn api(&self) -> Result<SnapshotApi, OsnapError> {
        self.context.api(&self.target()?).await
    }

    /// A function's event: `fields` with the domain and the repository, which the operation
    /// then reads through its own contract (unknown fields refused, defaults applied).
    pub fn event(&self, fields: Value) -> Result<Value, OsnapError> {
        self.event_for(&self.domain()?, fields)
    }

    /// As [`Session::event`], for `domain`.
    pub fn event_for(&self, domain: &DomainInput, fields: Value) -> Result<Value, OsnapError> {
        let mut event = match fields {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let domain = serde_json::to_value(domain).map_err(|e| OsnapError::InvalidRequest {
            reason: format!("cannot write the event: {e}"),
        })?;
        event.insert("domain".into(), domain);
        event.insert("repository".into(), self.repository()?.into());
        Ok(Value::Object(event))
    }
}
