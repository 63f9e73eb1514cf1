//! Where a repository's manifests live, and reading and writing them with S3 (signed as the
//! domain's caller, like the bucket-region look-up).

use http::{Method, StatusCode};
use signing::{DomainClient, DomainRequest, RetryPolicy};
use snapshot_api::repository::S3Settings;

use super::{FORMAT, Manifest};
use crate::OsnapError;
use crate::api_error::from_signing;
use crate::context::Context;
use crate::contract::Target;

/// The folder under the repository's base path that is osnap's alone.
const MANIFEST_FOLDER: [&str; 2] = ["osnap", "manifests"];

/// A repository's bucket, its region when the settings say, and its base path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub bucket: String,
    pub region: Option<String>,
    pub base_path: String,
}

impl Location {
    /// From the repository's settings (`GET _snapshot/<repo>`); `None` when they name no
    /// bucket (AWS's own `cs-automated` repositories show no settings).
    pub fn of(settings: &S3Settings) -> Option<Self> {
        let bucket = settings.bucket.trim();
        if bucket.is_empty() {
            return None;
        }
        let region = settings
            .region
            .clone()
            .filter(|r| !r.trim().is_empty())
            .or_else(|| settings.endpoint.as_deref().and_then(region_of_s3_host));
        Some(Self {
            bucket: bucket.to_owned(),
            region,
            base_path: settings
                .base_path
                .as_deref()
                .unwrap_or("")
                .trim_matches('/')
                .to_owned(),
        })
    }

    /// `<base_path>/osnap/manifests/<snapshot>.json`, as path segments.
    fn segments(&self, snapshot: &str) -> Vec<String> {
        let mut segments: Vec<String> = self
            .base_path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        segments.extend(MANIFEST_FOLDER.iter().map(|s| (*s).to_owned()));
        segments.push(format!("{snapshot}.json"));
        segments
    }

    /// The object key of `snapshot`'s manifest.
    pub fn key(&self, snapshot: &str) -> String {
        self.segments(snapshot).join("/")
    }
}

/// `eu-west-1` from `s3.eu-west-1.amazonaws.com` (with or without a scheme).
fn region_of_s3_host(endpoint: &str) -> Option<String> {
    let host = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest)
        .split(['/', ':'])
        .next()?;
    let mut labels = host.split('.');
    let (first, second) = (labels.next()?, labels.next()?);
    let region_like = second.contains('-')
        && second
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    (first == "s3" && region_like).then(|| second.to_owned())
}

/// What a look-up found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(Box<Manifest>),
    /// No usable manifest, and why (said in the answer).
    Missing(String),
}

/// A repository's manifests.
#[derive(Debug, Clone)]
pub struct ManifestStore {
    client: DomainClient,
    location: Location,
}

/// S3 is rarely unavailable, and a manifest is never worth a long wait: two attempts.
fn s3_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 2,
        ..RetryPolicy::default()
    }
}

impl ManifestStore {
    /// The store of the repository `target` names, as its domain has it registered; `Err`
    /// with why when there is none (no such repository, no bucket in its settings).
    pub async fn of_repository(ctx: &Context, target: &Target) -> Result<Self, StoreMissing> {
        let api = ctx.api(target).await.map_err(StoreMissing::Failed)?;
        let repository = target.repository.as_str();
        let definition = api.get_repository(repository).await.map_err(|e| {
            StoreMissing::Failed(crate::api_error::from_api(
                e,
                crate::api_error::Subject {
                    repository,
                    snapshot: None,
                },
            ))
        })?;
        let Some(definition) = definition else {
            return Err(StoreMissing::NoBucket(format!(
                "repository `{}` is not registered",
                policy::quote::short(repository)
            )));
        };
        let Some(location) = Location::of(&definition.settings) else {
            return Err(StoreMissing::NoBucket(
                "the repository's settings name no bucket".into(),
            ));
        };
        let client = ctx
            .connector
            .s3_client_in(
                &target.domain,
                location.region.as_deref(),
                ctx.defaults.s3_endpoint.as_deref(),
            )
            .await
            .map_err(StoreMissing::Failed)?
            .with_retry_policy(s3_retry())
            .with_deadline(ctx.deadline);
        Ok(Self { client, location })
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Writes `manifest` (replacing any earlier one of that snapshot); the key written.
    pub async fn put(&self, manifest: &Manifest) -> Result<String, OsnapError> {
        let body = serde_json::to_vec(manifest).map_err(|e| {
            OsnapError::invalid(format!("the manifest cannot be written as JSON: {e}"))
        })?;
        let request = DomainRequest::new(Method::PUT, &self.path(&manifest.snapshot))
            .json_body(body)
            .idempotent();
        let response = self
            .client
            .send(&request)
            .await
            .map_err(|e| from_signing(&e))?;
        let key = self.location.key(&manifest.snapshot);
        if response.status.is_success() {
            return Ok(key);
        }
        Err(s3_refusal(
            response.status,
            "write",
            &self.location.bucket,
            &key,
        ))
    }

    /// The manifest of `snapshot`, or why there is none.
    pub async fn get(&self, snapshot: &str) -> Result<Lookup, OsnapError> {
        let key = self.location.key(snapshot);
        let response = self
            .client
            .send(&DomainRequest::get(&self.path(snapshot)))
            .await
            .map_err(|e| from_signing(&e))?;
        if response.status == StatusCode::NOT_FOUND {
            return Ok(Lookup::Missing(format!(
                "no manifest at `{key}` (not taken by osnap's snapshot function)"
            )));
        }
        if !response.status.is_success() {
            return Err(s3_refusal(
                response.status,
                "read",
                &self.location.bucket,
                &key,
            ));
        }
        match serde_json::from_slice::<Manifest>(&response.body) {
            Ok(manifest) if manifest.format == FORMAT => Ok(Lookup::Found(Box::new(manifest))),
            Ok(manifest) => Ok(Lookup::Missing(format!(
                "the manifest at `{key}` is in format `{}`, which this osnap does not read",
                policy::quote::short(&manifest.format)
            ))),
            Err(error) => Ok(Lookup::Missing(format!(
                "the object at `{key}` is not a manifest osnap can read: {}",
                policy::quote::short(&error.to_string())
            ))),
        }
    }

    fn path(&self, snapshot: &str) -> Vec<String> {
        let mut path = vec![self.location.bucket.clone()];
        path.extend(self.location.segments(snapshot));
        path
    }
}

/// Why a repository has no manifest store.
#[derive(Debug)]
pub enum StoreMissing {
    /// The repository has no bucket to hold manifests: nothing to record or read.
    NoBucket(String),
    /// Finding it failed (the domain or S3 could not be asked).
    Failed(OsnapError),
}

fn s3_refusal(status: StatusCode, verb: &str, bucket: &str, key: &str) -> OsnapError {
    let what = format!("S3 answered {status} to the {verb} of `{key}` in bucket `{bucket}`");
    match status {
        StatusCode::FORBIDDEN => OsnapError::AccessDenied {
            message: what,
            advice: "; allow s3:GetObject and s3:PutObject on <bucket>/<base_path>/osnap/* to \
                     the function's role (and the bucket key's kms:GenerateDataKey and \
                     kms:Decrypt through S3)"
                .into(),
        },
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
            OsnapError::Throttled { message: what }
        }
        status if status.is_server_error() => OsnapError::DomainUnavailable { message: what },
        _ => OsnapError::invalid(what),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(json: serde_json::Value) -> S3Settings {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn the_key_is_under_the_base_path_in_osnaps_own_folder() {
        let at = Location::of(&settings(
            serde_json::json!({"bucket": "b", "base_path": "/prod/logs/"}),
        ))
        .unwrap();
        assert_eq!(
            at.key("nightly-2026.11.28"),
            "prod/logs/osnap/manifests/nightly-2026.11.28.json"
        );
        let bare = Location::of(&settings(serde_json::json!({"bucket": "b"}))).unwrap();
        assert_eq!(bare.key("s"), "osnap/manifests/s.json");
        assert!(
            Location::of(&S3Settings::default()).is_none(),
            "cs-automated"
        );
    }

    #[test]
    fn the_region_comes_from_the_settings_or_their_endpoint() {
        let named = Location::of(&settings(
            serde_json::json!({"bucket": "b", "region": "eu-west-1", "endpoint": "s3.us-east-2.amazonaws.com"}),
        ))
        .unwrap();
        assert_eq!(named.region.as_deref(), Some("eu-west-1"));
        let endpoint = Location::of(&settings(
            serde_json::json!({"bucket": "b", "endpoint": "https://s3.ap-south-1.amazonaws.com"}),
        ))
        .unwrap();
        assert_eq!(endpoint.region.as_deref(), Some("ap-south-1"));
        let neither = Location::of(&settings(
            serde_json::json!({"bucket": "b", "endpoint": "http://127.0.0.1:9000"}),
        ))
        .unwrap();
        assert_eq!(neither.region, None, "the domain's region is used");
    }

    #[test]
    fn refusals_are_typed() {
        let denied = s3_refusal(StatusCode::FORBIDDEN, "write", "b", "k");
        assert_eq!(denied.error_type(), "AccessDenied");
        assert!(denied.to_string().contains("osnap/*"), "{denied}");
        assert_eq!(
            s3_refusal(StatusCode::SERVICE_UNAVAILABLE, "read", "b", "k").error_type(),
            "Throttled"
        );
        assert_eq!(
            s3_refusal(StatusCode::INTERNAL_SERVER_ERROR, "read", "b", "k").error_type(),
            "DomainUnavailable"
        );
    }
}
