//! register: put the S3 repository on the domain, idempotently.

use snapshot_api::repository::{Repository, S3Settings};

use crate::OsnapError;
use crate::api_error::{Subject, from_api};
use crate::bucket_region;
use crate::context::Context;
use crate::contract::{Target, parse_event};
use crate::requests::{RegisterRequest, RegisterResponse, RegisterStatus, RepositorySettingsInput};
use crate::validate::{validate_repository_name, validate_role_arn};

/// Handles one `register` event.
pub async fn handle(
    ctx: Context,
    event: serde_json::Value,
) -> Result<RegisterResponse, OsnapError> {
    let (request, target) = parse_event::<RegisterRequest>(event, &ctx.defaults)?;
    register(&ctx, &request, &target).await
}

pub async fn register(
    ctx: &Context,
    request: &RegisterRequest,
    target: &Target,
) -> Result<RegisterResponse, OsnapError> {
    let repository = target.repository.as_str();
    validate_repository_name(repository)?;
    let kind = if target.domain.is_self_managed() {
        ClusterKind::SelfManaged
    } else {
        ClusterKind::Aws
    };
    // Bad settings are refused before any request is made.
    settings_for_domain(&request.settings, kind)?;
    let mut settings = request.settings.clone();
    // A self-managed cluster finds its bucket's region through its own client settings.
    if kind == ClusterKind::Aws && settings.region.is_none() && settings.endpoint.is_none() {
        settings.region = Some(bucket_region::resolve(ctx, target, &settings.bucket).await?);
    }
    let wanted = Repository::s3(settings_for_domain(&settings, kind)?);
    let api = ctx.api(target).await?;
    let subject = Subject {
        repository,
        snapshot: None,
    };

    let existing = api
        .get_repository(repository)
        .await
        .map_err(|e| from_api(e, subject))?;
    let status = match existing {
        None => RegisterStatus::Created,
        Some(current) => match difference(&current, &wanted) {
            None => RegisterStatus::Unchanged,
            Some(_) if request.replace => RegisterStatus::Updated,
            Some(difference) => {
                return Err(OsnapError::RepositoryConflict {
                    repository: repository.to_owned(),
                    difference,
                });
            }
        },
    };
    if status != RegisterStatus::Unchanged {
        // Verification is a separate call so its answer (the nodes) can be reported.
        api.put_repository(repository, &wanted, false)
            .await
            .map_err(|e| from_api(e, subject))?;
        tracing::info!(repository, ?status, "repository registered");
    }
    let verified_nodes = if request.verify {
        let verified = api
            .verify_repository(repository)
            .await
            .map_err(|e| verification_error(e, &wanted.settings, subject))?;
        verified.nodes.into_values().map(|n| n.name).collect()
    } else {
        Vec::new()
    };
    Ok(RegisterResponse {
        repository: repository.to_owned(),
        status,
        verified_nodes,
    })
}

/// Whose repository settings apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClusterKind {
    /// Amazon OpenSearch Service: `role_arn` required, `region` or `endpoint`.
    Aws,
    /// The `repository-s3` plugin on a self-managed cluster: its S3 client (credentials,
    /// region, endpoint) is the node's own, named by `client`.
    SelfManaged,
}

/// The settings as the domain should receive them. AWS requires the `endpoint` form for a
/// bucket in us-east-1 (`s3.amazonaws.com`) instead of its region.
fn settings_for_domain(
    input: &RepositorySettingsInput,
    kind: ClusterKind,
) -> Result<S3Settings, OsnapError> {
    if !is_bucket_name(&input.bucket) {
        return Err(OsnapError::invalid(format!(
            "settings.bucket `{}` is not an S3 bucket name (3 to 63 lowercase letters, digits, \
             dots and hyphens)",
            input.bucket
        )));
    }
    let role_arn = match (kind, input.role_arn.as_deref()) {
        (ClusterKind::Aws, Some(role)) => {
            validate_role_arn(role, "settings.role_arn")?;
            Some(role.to_owned())
        }
        (ClusterKind::Aws, None) => {
            return Err(OsnapError::invalid(
                "settings.role_arn is required: the role the domain passes to S3 \
                 (arn:aws:iam::<account>:role/<name>)",
            ));
        }
        (ClusterKind::SelfManaged, Some(_)) => {
            return Err(OsnapError::invalid(
                "settings.role_arn is Amazon OpenSearch Service's: a self-managed cluster \
                 reaches S3 with its repository-s3 client's own credentials (settings.client)",
            ));
        }
        (ClusterKind::SelfManaged, None) => None,
    };
    match (kind, &input.client) {
        (ClusterKind::Aws, Some(_)) => {
            return Err(OsnapError::invalid(
                "settings.client is a self-managed cluster's repository-s3 client: an AWS \
                 domain takes role_arn",
            ));
        }
        (ClusterKind::SelfManaged, _) if input.region.is_some() || input.endpoint.is_some() => {
            return Err(OsnapError::invalid(
                "settings.region and settings.endpoint are AWS domain settings: a self-managed \
                 cluster's S3 region and endpoint are its client's (s3.client.<name>.region, \
                 .endpoint)",
            ));
        }
        _ => {}
    }
    if let Some(base_path) = &input.base_path
        && (base_path.starts_with('/') || base_path.ends_with('/'))
    {
        return Err(OsnapError::invalid(
            "settings.base_path must not start or end with `/`",
        ));
    }
    let (region, endpoint) = match (input.region.as_deref(), input.endpoint.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(OsnapError::invalid(
                "give settings.region or settings.endpoint, not both",
            ));
        }
        (Some("us-east-1"), None) => (None, Some("s3.amazonaws.com".to_owned())),
        (region, endpoint) => (region.map(str::to_owned), endpoint.map(str::to_owned)),
    };
    Ok(S3Settings {
        bucket: input.bucket.clone(),
        region,
        endpoint,
        base_path: input.base_path.clone(),
        role_arn,
        server_side_encryption: input.server_side_encryption,
        readonly: input.readonly,
        other: input
            .client
            .iter()
            .map(|c| ("client".to_owned(), serde_json::Value::String(c.clone())))
            .collect(),
    })
}

/// S3's naming rule for (general purpose) buckets, enough to refuse typos and paths.
fn is_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let edge_ok = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (3..=63).contains(&bytes.len())
        && edge_ok(bytes.first())
        && edge_ok(bytes.last())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && !name.contains("..")
}

/// A readable list of the managed settings that differ, or `None` when they agree. Settings
/// the domain adds on its own (and osnap does not manage) are not compared.
fn difference(current: &Repository, wanted: &Repository) -> Option<String> {
    let (c, w) = (&current.settings, &wanted.settings);
    let mut differences = Vec::new();
    if current.repository_type != wanted.repository_type {
        differences.push(format!(
            "type {} → {}",
            current.repository_type, wanted.repository_type
        ));
    }
    let mut compare = |name: &str, now: Option<String>, then: Option<String>| {
        if now != then {
            differences.push(format!(
                "{name} {} → {}",
                now.as_deref().unwrap_or("(unset)"),
                then.as_deref().unwrap_or("(unset)")
            ));
        }
    };
    compare("bucket", Some(c.bucket.clone()), Some(w.bucket.clone()));
    compare("region", c.region.clone(), w.region.clone());
    compare("endpoint", c.endpoint.clone(), w.endpoint.clone());
    compare("base_path", c.base_path.clone(), w.base_path.clone());
    compare("role_arn", c.role_arn.clone(), w.role_arn.clone());
    let client = |s: &S3Settings| {
        s.other
            .get("client")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    compare("client", client(c), client(w));
    let flag = |v: Option<bool>| Some(v.unwrap_or(false).to_string());
    compare(
        "server_side_encryption",
        flag(c.server_side_encryption),
        flag(w.server_side_encryption),
    );
    compare("readonly", flag(c.readonly), flag(w.readonly));
    (!differences.is_empty()).then(|| differences.join(", "))
}

/// A failed `_verify` is almost always the snapshot role: say so.
fn verification_error(
    error: snapshot_api::ApiError,
    settings: &S3Settings,
    subject: Subject<'_>,
) -> OsnapError {
    match error {
        snapshot_api::ApiError::Server {
            error_type, reason, ..
        } if error_type.contains("repository") => OsnapError::AccessDenied {
            message: format!(
                "the domain could not write to bucket `{}`: {reason}",
                settings.bucket
            ),
            advice: format!(
                "; check that {} may read and write the bucket{}",
                settings.role_arn.as_deref().map_or_else(
                    || "the cluster's repository-s3 client (its keystore's credentials)".to_owned(),
                    |role| format!("{role} trusts es.amazonaws.com and"),
                ),
                settings
                    .base_path
                    .as_deref()
                    .map(|p| format!(" under `{p}/`"))
                    .unwrap_or_default()
            ),
        },
        other => from_api(other, subject),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> RepositorySettingsInput {
        RepositorySettingsInput {
            bucket: "osnap-snapshots".into(),
            region: Some("eu-west-1".into()),
            endpoint: None,
            base_path: Some("prod".into()),
            role_arn: Some("arn:aws:iam::123456789012:role/osnap-snapshots".into()),
            client: None,
            server_side_encryption: Some(true),
            readonly: None,
        }
    }

    #[test]
    fn us_east_1_buckets_use_the_global_endpoint() {
        let mut i = input();
        i.region = Some("us-east-1".into());
        let s = settings_for_domain(&i, ClusterKind::Aws).unwrap();
        assert_eq!(
            (s.region, s.endpoint.as_deref()),
            (None, Some("s3.amazonaws.com"))
        );
        let s = settings_for_domain(&input(), ClusterKind::Aws).unwrap();
        assert_eq!((s.region.as_deref(), s.endpoint), (Some("eu-west-1"), None));
    }

    #[test]
    fn bad_settings_are_invalid_requests() {
        let mut both = input();
        both.endpoint = Some("s3.eu-west-1.amazonaws.com".into());
        let mut bad_role = input();
        bad_role.role_arn = Some("TheSnapshotRole".into());
        let mut no_role = input();
        no_role.role_arn = None;
        let mut a_client = input();
        a_client.client = Some("backups".into());
        let mut bad_path = input();
        bad_path.base_path = Some("/prod".into());
        let mut no_bucket = input();
        no_bucket.bucket = " ".into();
        let mut bucket_path = input();
        bucket_path.bucket = "snapshots/prod".into();
        let mut upper = input();
        upper.bucket = "Snapshots".into();
        for i in [
            both,
            bad_role,
            no_role,
            a_client,
            bad_path,
            no_bucket,
            bucket_path,
            upper,
        ] {
            assert_eq!(
                settings_for_domain(&i, ClusterKind::Aws)
                    .unwrap_err()
                    .error_type(),
                "InvalidRequest"
            );
        }
    }

    #[test]
    fn a_self_managed_cluster_takes_repository_s3_settings() {
        let mut own = input();
        own.role_arn = None;
        own.region = None;
        own.client = Some("backups".into());
        let s = settings_for_domain(&own, ClusterKind::SelfManaged).unwrap();
        assert_eq!(s.role_arn, None);
        assert_eq!(s.other.get("client"), Some(&serde_json::json!("backups")));
        let with_role = input();
        let mut with_region = own.clone();
        with_region.region = Some("eu-west-1".into());
        for refused in [with_role, with_region] {
            let error = settings_for_domain(&refused, ClusterKind::SelfManaged).unwrap_err();
            assert_eq!(error.error_type(), "InvalidRequest", "{error}");
        }
    }

    #[test]
    fn differences_are_named_and_string_flags_compare_equal() {
        let wanted = Repository::s3(settings_for_domain(&input(), ClusterKind::Aws).unwrap());
        // As GET returns it: flags as strings (parsed to bools), and a setting osnap does not manage.
        let current: Repository = serde_json::from_value(serde_json::json!({
            "type": "s3",
            "settings": {"bucket": "osnap-snapshots", "region": "eu-west-1", "base_path": "prod",
                         "role_arn": "arn:aws:iam::123456789012:role/osnap-snapshots",
                         "server_side_encryption": "true", "readonly": "false", "compress": "true"}
        }))
        .unwrap();
        assert_eq!(difference(&current, &wanted), None);
        let mut moved = current.clone();
        moved.settings.base_path = Some("staging".into());
        assert_eq!(
            difference(&moved, &wanted).unwrap(),
            "base_path staging → prod"
        );
    }
}
