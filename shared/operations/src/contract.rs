//! The public JSON contract of the functions: what an event may hold, and how it is read.
//!
//! An event is either the input itself or an EventBridge event whose `detail` holds it (a
//! scheduled rule's `detail` is `{}`). Fields the event leaves out are filled from the
//! function's environment defaults. Unknown fields are refused, so that a typo never silently
//! changes what a function does.

use std::time::SystemTime;

use policy::time::UtcDateTime;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::OsnapError;

/// Environment variables that give defaults for every function.
pub const ENV_DOMAIN_ENDPOINT: &str = "OSNAP_DOMAIN_ENDPOINT";
pub const ENV_DOMAIN_REGION: &str = "OSNAP_DOMAIN_REGION";
pub const ENV_REPOSITORY: &str = "OSNAP_REPOSITORY";
pub const ENV_ALLOWED_HOSTS: &str = "OSNAP_ALLOWED_HOSTS";
/// Where register asks S3 for a bucket's region instead of S3's regional endpoint (a local S3).
pub const ENV_S3_ENDPOINT: &str = "OSNAP_S3_ENDPOINT";
/// Where a self-managed cluster's password is read instead of Secrets Manager's regional
/// endpoint (a local stand-in; loopback only in tests).
pub const ENV_SECRETS_ENDPOINT: &str = "OSNAP_SECRETS_ENDPOINT";

/// The domain to talk to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainInput {
    pub endpoint: String,
    /// Optional where the endpoint is an AWS domain host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// A role to assume first, for a domain in another account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assume_role_arn: Option<String>,
    /// How the cluster authenticates osnap: SigV4 when absent (every AWS domain). A
    /// self-managed cluster (a migration's source) is reached with basic authentication or
    /// none, and only when its host is listed in `OSNAP_ALLOWED_HOSTS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<ClusterAuth>,
}

/// The authentication of a self-managed cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClusterAuth {
    /// HTTP basic authentication. The password is read from AWS Secrets Manager, never from
    /// the event: the secret is a JSON object with `password` (and `username`, unless the
    /// event gives it), or the password as plain text.
    Basic {
        secret_arn: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
    },
    /// No authentication: a cluster without a security plugin, behind its own network
    /// controls.
    None,
}

impl DomainInput {
    /// Whether this is a self-managed cluster rather than an AWS domain.
    pub fn is_self_managed(&self) -> bool {
        self.auth.is_some()
    }
}

/// Defaults read once from the environment by a function's `main`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Defaults {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub repository: Option<String>,
    pub allowed_hosts: Option<String>,
    pub s3_endpoint: Option<String>,
    pub secrets_endpoint: Option<String>,
}

impl Defaults {
    /// Reads the defaults through `lookup` (the process environment in `main`, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Self {
            endpoint: get(ENV_DOMAIN_ENDPOINT),
            region: get(ENV_DOMAIN_REGION),
            repository: get(ENV_REPOSITORY),
            allowed_hosts: get(ENV_ALLOWED_HOSTS),
            s3_endpoint: get(ENV_S3_ENDPOINT),
            secrets_endpoint: get(ENV_SECRETS_ENDPOINT),
        }
    }
}

/// The domain and repository every request names, after defaults are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub domain: DomainInput,
    pub repository: String,
    /// The EventBridge event's time: the same on every retry of the event, so a name
    /// template expanded with it names the same snapshot each time.
    pub event_time: Option<SystemTime>,
}

/// Implemented by every function's request: where its common fields are.
pub trait Request: DeserializeOwned {
    fn common(&self) -> (&Option<DomainInput>, &Option<String>);
}

/// Reads an event for a function: unwraps an EventBridge envelope, refuses unknown fields,
/// and fills the domain and repository from `defaults`.
pub fn parse_event<T: Request>(
    event: Value,
    defaults: &Defaults,
) -> Result<(T, Target), OsnapError> {
    let event_time = event_time(&event);
    let input = unwrap_eventbridge(event)?;
    let request: T = serde_json::from_value(input).map_err(|e| OsnapError::InvalidRequest {
        reason: format!(
            "the event does not match the contract: {}",
            policy::quote::bounded_message(&e.to_string())
        ),
    })?;
    let mut target = resolve_target(request.common(), defaults)?;
    target.event_time = event_time;
    Ok((request, target))
}

/// The domain and repository an event names, after defaults, read leniently (other fields
/// are not looked at): what labels an invocation's metrics, whether or not the event is then
/// accepted. `None` where the event names neither.
pub fn peek_target(event: &Value, defaults: &Defaults) -> Option<Target> {
    #[derive(Deserialize)]
    struct Common {
        #[serde(default)]
        domain: Option<DomainInput>,
        #[serde(default)]
        repository: Option<String>,
    }
    let input = unwrap_eventbridge(event.clone()).ok()?;
    let common: Common = serde_json::from_value(input).ok()?;
    resolve_target((&common.domain, &common.repository), defaults).ok()
}

/// `time` of an EventBridge envelope (`2026-11-28T03:00:00Z`).
fn event_time(event: &Value) -> Option<SystemTime> {
    let map = event.as_object()?;
    if !map.contains_key("detail-type") {
        return None;
    }
    parse_rfc3339_utc(map.get("time")?.as_str()?)
}

/// `2026-11-28T03:00:00Z` or `2026-11-28T03:00:00.123Z` (UTC only; fractions dropped).
pub fn parse_rfc3339_utc(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    let fraction_ok = match &b.get(19..)? {
        [b'Z'] => true,
        [b'.', digits @ .., b'Z'] => !digits.is_empty() && digits.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !fraction_ok || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| text.get(r)?.parse::<u32>().ok();
    UtcDateTime {
        year: i64::from(n(0..4)?),
        month: n(5..7)?,
        day: n(8..10)?,
        hour: n(11..13)?,
        minute: n(14..16)?,
        second: n(17..19)?,
    }
    .to_system_time()
}

fn unwrap_eventbridge(event: Value) -> Result<Value, OsnapError> {
    let Value::Object(mut map) = event else {
        return Err(OsnapError::InvalidRequest {
            reason: "the event must be a JSON object".into(),
        });
    };
    let is_envelope = map.contains_key("detail-type") && map.contains_key("source");
    if !is_envelope {
        return Ok(Value::Object(map));
    }
    match map.remove("detail") {
        Some(Value::Object(detail)) => Ok(Value::Object(detail)),
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(_) => Err(OsnapError::InvalidRequest {
            reason: "the EventBridge event's detail must be a JSON object".into(),
        }),
    }
}

fn resolve_target(
    (domain, repository): (&Option<DomainInput>, &Option<String>),
    defaults: &Defaults,
) -> Result<Target, OsnapError> {
    let domain = match domain {
        Some(domain) => domain.clone(),
        None => DomainInput {
            endpoint: defaults
                .endpoint
                .clone()
                .ok_or_else(|| OsnapError::InvalidRequest {
                    reason: format!(
                        "no domain: give \"domain\": {{\"endpoint\": …}} in the event or set \
                     {ENV_DOMAIN_ENDPOINT}"
                    ),
                })?,
            region: defaults.region.clone(),
            assume_role_arn: None,
            auth: None,
        },
    };
    let repository = repository
        .clone()
        .or_else(|| defaults.repository.clone())
        .ok_or_else(|| OsnapError::InvalidRequest {
            reason: format!(
                "no repository: give \"repository\" in the event or set {ENV_REPOSITORY}"
            ),
        })?;
    if repository.trim().is_empty() {
        return Err(OsnapError::InvalidRequest {
            reason: "the repository name is empty".into(),
        });
    }
    Ok(Target {
        domain,
        repository,
        event_time: None,
    })
}

/// Implements [`Request`] for a struct with `domain` and `repository` fields.
#[macro_export]
macro_rules! impl_request {
    ($t:ty) => {
        impl $crate::contract::Request for $t {
            fn common(&self) -> (&Option<$crate::contract::DomainInput>, &Option<String>) {
                (&self.domain, &self.repository)
            }
        }
    };
}

/// An endpoint's host (with its port, where one is given), for reports: `https://` and any
/// path left out.
pub fn host_of(endpoint: &str) -> String {
    endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Probe {
        #[serde(default)]
        domain: Option<DomainInput>,
        #[serde(default)]
        repository: Option<String>,
        #[serde(default)]
        dry_run: bool,
    }
    impl_request!(Probe);

    fn defaults() -> Defaults {
        Defaults::from_lookup(|name| match name {
            ENV_DOMAIN_ENDPOINT => Some("https://search-a-b.us-east-1.es.amazonaws.com".into()),
            ENV_REPOSITORY => Some("nightly".into()),
            ENV_DOMAIN_REGION => Some("  ".into()),
            _ => None,
        })
    }

    #[test]
    fn explicit_fields_win_over_defaults() {
        let event = serde_json::json!({
            "domain": {"endpoint": "https://search-x-y.eu-west-1.es.amazonaws.com", "region": "eu-west-1"},
            "repository": "weekly",
            "dry_run": true
        });
        let (probe, target) = parse_event::<Probe>(event, &defaults()).unwrap();
        assert!(probe.dry_run);
        assert_eq!(target.repository, "weekly");
        assert_eq!(target.domain.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn a_bare_schedule_uses_the_environment() {
        let event = serde_json::json!({
            "version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-28T03:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/nightly"], "detail": {}
        });
        let (_, target) = parse_event::<Probe>(event, &defaults()).unwrap();
        assert_eq!(target.repository, "nightly");
        assert_eq!(
            target.domain.endpoint,
            "https://search-a-b.us-east-1.es.amazonaws.com"
        );
        assert_eq!(target.domain.region, None, "a blank variable is no default");
        let expected = UtcDateTime {
            year: 2026,
            month: 11,
            day: 28,
            hour: 3,
            minute: 0,
            second: 0,
        };
        assert_eq!(target.event_time, expected.to_system_time());
    }

    #[test]
    fn eventbridge_detail_holds_the_input() {
        let event = serde_json::json!({
            "detail-type": "osnap", "source": "custom", "detail": {"repository": "r", "dry_run": true}
        });
        let (probe, target) = parse_event::<Probe>(event, &defaults()).unwrap();
        assert!(probe.dry_run);
        assert_eq!(target.repository, "r");
    }

    #[test]
    fn a_target_is_peeked_from_any_event_that_names_one() {
        let peeked = |event: Value, defaults: &Defaults| {
            peek_target(&event, defaults).map(|t| (t.domain.endpoint, t.repository))
        };
        let named = serde_json::json!({"domain": {"endpoint": "https://h"}, "repository": "r", "dryrun": 1});
        assert_eq!(
            peeked(named, &Defaults::default()),
            Some(("https://h".into(), "r".into())),
            "a field the function would refuse does not hide the target"
        );
        let bare = serde_json::json!({"detail-type": "x", "source": "y", "detail": {}});
        assert_eq!(
            peeked(bare, &defaults()),
            Some((
                "https://search-a-b.us-east-1.es.amazonaws.com".into(),
                "nightly".into()
            ))
        );
        assert_eq!(peeked(serde_json::json!({}), &Defaults::default()), None);
        assert_eq!(peeked(serde_json::json!([1]), &defaults()), None);
    }

    #[test]
    fn unknown_fields_and_missing_targets_are_invalid() {
        for event in [
            serde_json::json!({"dryrun": true}),
            serde_json::json!({"domain": {"endpoint": "x", "regoin": "y"}}),
            serde_json::json!([1, 2]),
            serde_json::json!({"detail-type": "x", "source": "y", "detail": "text"}),
        ] {
            let error = parse_event::<Probe>(event.clone(), &defaults()).unwrap_err();
            assert_eq!(error.error_type(), "InvalidRequest", "{event}");
        }
        let error = parse_event::<Probe>(serde_json::json!({}), &Defaults::default()).unwrap_err();
        assert!(error.to_string().contains(ENV_DOMAIN_ENDPOINT), "{error}");
    }
}
