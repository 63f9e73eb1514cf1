//! Snapshot repositories (`_snapshot/<repository>`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::de::bool_or_string;

/// A repository's definition, as sent to `PUT _snapshot/<repo>` and read back from `GET`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    #[serde(rename = "type")]
    pub repository_type: String,
    /// Absent for AWS's own `cs-automated*` repositories, whose settings are hidden.
    #[serde(default)]
    pub settings: S3Settings,
}

/// The `s3` repository settings AWS domains use. The GET API answers every value as a
/// string (`"readonly": "true"`), so booleans are read from either form.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct S3Settings {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bucket: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bool_or_string"
    )]
    pub server_side_encryption: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bool_or_string"
    )]
    pub readonly: Option<bool>,
    /// Settings osnap does not manage, kept so a comparison sees them.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl Repository {
    pub fn s3(settings: S3Settings) -> Self {
        Self {
            repository_type: "s3".to_owned(),
            settings,
        }
    }
}

/// `POST _snapshot/<repo>/_verify`: the nodes that could write to the repository.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VerifyResponse {
    pub nodes: BTreeMap<String, VerifiedNode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VerifiedNode {
    #[serde(default)]
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_string_booleans_and_round_trips() {
        let got: BTreeMap<String, Repository> = serde_json::from_str(r#"{"nightly":{"type":"s3","settings":{"bucket":"b","region":"us-east-1","role_arn":"arn:aws:iam::1:role/r","readonly":"true","server_side_encryption":"false","base_path":"osnap","compress":"true"}}}"#).unwrap();
        let repo = &got["nightly"];
        assert_eq!(repo.settings.readonly, Some(true));
        assert_eq!(repo.settings.server_side_encryption, Some(false));
        assert_eq!(repo.settings.other["compress"], "true");
        let json = serde_json::to_value(repo).unwrap();
        assert_eq!(json["settings"]["readonly"], true);
        let back: Repository = serde_json::from_value(json).unwrap();
        assert_eq!(&back, repo);
        assert!(
            serde_json::from_str::<S3Settings>(r#"{"bucket":"b","readonly":"maybe"}"#).is_err()
        );
    }

    #[test]
    fn aws_managed_repositories_have_no_settings() {
        let all: BTreeMap<String, Repository> = serde_json::from_str(r#"{"cs-automated-enc":{"type":"s3"},"nightly":{"type":"s3","settings":{"bucket":"b","readonly":"false"}}}"#).unwrap();
        assert_eq!(all["cs-automated-enc"].settings, S3Settings::default());
        assert_eq!(all["nightly"].settings.readonly, Some(false));
        // Nothing is invented when such a definition is written back.
        assert_eq!(
            serde_json::to_string(&all["cs-automated-enc"]).unwrap(),
            r#"{"type":"s3","settings":{}}"#
        );
    }

    #[test]
    fn a_definition_serialises_only_what_is_set() {
        let repo = Repository::s3(S3Settings {
            bucket: "osnap".into(),
            role_arn: Some("arn:aws:iam::123456789012:role/snap".into()),
            readonly: Some(true),
            ..S3Settings::default()
        });
        assert_eq!(
            serde_json::to_value(&repo).unwrap(),
            serde_json::json!({"type": "s3", "settings": {
                "bucket": "osnap", "role_arn": "arn:aws:iam::123456789012:role/snap", "readonly": true
            }})
        );
    }
}
