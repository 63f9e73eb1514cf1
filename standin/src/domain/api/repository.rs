//! Snapshot repositories: register (AWS's checks first: `role_arn` and `iam:PassRole`, the
//! reserved `cs-` names; then the engine's: name, type, settings, verification), list,
//! verify and unregister. Settings are kept and answered as strings, as the engine does.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::StatusCode;
use serde_json::{Map, Value, json};

use crate::domain::state::repositories::{
    RepositoryDef, blobs, lookup, reserved, reserved_refusal,
};
use crate::domain::state::{Shared, new_uuid};
use crate::domain::wire::call::{Answer, Call};
use crate::domain::wire::names::{is_pattern, simple_match, split_list};
use crate::domain::wire::reply::{EsError, Reply};

/// The settings an `s3` repository takes on AWS. Others are refused, so a misspelt setting
/// fails here instead of being silently ignored.
const S3_SETTINGS: [&str; 14] = [
    "bucket",
    "base_path",
    "region",
    "endpoint",
    "role_arn",
    "server_side_encryption",
    "readonly",
    "compress",
    "chunk_size",
    "buffer_size",
    "canned_acl",
    "storage_class",
    "max_restore_bytes_per_sec",
    "max_snapshot_bytes_per_sec",
];

const BOOLEAN_SETTINGS: [&str; 3] = ["server_side_encryption", "readonly", "compress"];

/// A repository setting as the engine keeps it: a string.
fn setting_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn failed_to_create(name: &str, cause: EsError) -> EsError {
    EsError::repository(name, "failed to create repository").caused_by(cause)
}

/// The engine's checks of a new repository (all answered as `repository_exception`, 500).
fn check_definition(
    name: &str,
    kind: &str,
    raw: &Map<String, Value>,
) -> Result<BTreeMap<String, String>, EsError> {
    if name.contains('#') {
        return Err(EsError::repository(name, "must not contain '#'"));
    }
    if name.contains([' ', '"', '*', '\\', '<', '|', ',', '>', '/', '?']) {
        return Err(EsError::repository(
            name,
            "must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?]",
        ));
    }
    if kind != "s3" {
        return Err(EsError::repository(
            name,
            &format!("repository type [{kind}] does not exist"),
        ));
    }
    let mut settings = BTreeMap::new();
    for (key, value) in raw {
        if !S3_SETTINGS.contains(&key.as_str()) {
            return Err(failed_to_create(
                name,
                EsError::bad_request(
                    "settings_exception",
                    format!("unknown setting [{key}] for an s3 repository"),
                ),
            ));
        }
        let Some(text) = setting_text(value) else {
            return Err(failed_to_create(
                name,
                EsError::bad_request(
                    "settings_exception",
                    format!("setting [{key}] must be a string, number or boolean"),
                ),
            ));
        };
        if BOOLEAN_SETTINGS.contains(&key.as_str()) && text != "true" && text != "false" {
            return Err(failed_to_create(
                name,
                EsError::illegal_argument(format!(
                    "Failed to parse value [{text}] as only [true] or [false] are allowed."
                )),
            ));
        }
        settings.insert(key.clone(), text);
    }
    if settings.get("bucket").is_none_or(String::is_empty) {
        return Err(failed_to_create(
            name,
            EsError::repository(name, "No bucket defined for s3 repository"),
        ));
    }
    Ok(settings)
}

/// Writes and deletes test blobs (or, read-only, just reads), as verification does.
pub(crate) async fn verify_location(
    shared: &Shared,
    repository: &RepositoryDef,
) -> Result<(), EsError> {
    let Some(blobs) = blobs(shared, repository) else {
        return Ok(());
    };
    let inaccessible = |cause: EsError| {
        EsError::internal(
            "repository_verification_exception",
            format!(
                "[{}] path {} is not accessible on {} node",
                repository.name,
                blobs.location.display(),
                shared.config.engine.manager_word()
            ),
        )
        .caused_by(cause)
    };
    if repository.readonly() {
        return blobs.check_readable().await.map_err(|e| {
            inaccessible(e.to_cause("Exception when listing blobs by prefix [index-]".into()))
        });
    }
    let seed = format!("tests-{}", new_uuid());
    // The manager and every data node write a blob, each on its own, then the manager
    // removes them.
    let mut written = vec![format!("{seed}/master.dat")];
    written.extend(
        shared
            .identity
            .nodes
            .iter()
            .map(|n| format!("{seed}/data-{}.dat", n.id)),
    );
    let blobs_to_write: Vec<(String, Vec<u8>)> = written
        .iter()
        .map(|key| (key.clone(), new_uuid().into_bytes()))
        .collect();
    // One test blob per node, all at once, as the nodes write them.
    let at_once = blobs_to_write.len();
    blobs
        .put_concurrently(blobs_to_write, at_once)
        .await
        .map_err(|(key, e)| {
            let full = blobs.location.key(&key);
            inaccessible(e.to_cause(format!(
                "Unable to upload object [{full}] using a single upload"
            )))
        })?;
    blobs
        .delete_keys(&written)
        .await
        .map_err(|e| inaccessible(e.to_cause(format!("Exception when deleting blobs [{seed}]"))))
}

/// `PUT _snapshot/<repository>`.
pub(crate) async fn put(shared: &Arc<Shared>, call: &Call, name: &str) -> Answer {
    if shared.aws() && reserved(name) {
        return Err(reserved_refusal(call));
    }
    let Some(Value::Object(body)) = call.json()? else {
        return Err(EsError::parse("request body is required").into());
    };
    let kind = body.get("type").and_then(Value::as_str).map(str::to_owned);
    let raw_settings = match body.get("settings") {
        None => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => {
            return Err(EsError::illegal_argument(
                "Malformed settings section, should include an inner object",
            )
            .into());
        }
    };
    let Some(kind) = kind else {
        return Err(EsError::bad_request(
            "action_request_validation_exception",
            "Validation Failed: 1: type is missing;",
        )
        .into());
    };
    // AWS's gateway: the domain assumes the role, so the caller must be allowed to pass it.
    // A self-managed cluster's repository-s3 reads only the settings it knows (`S3Repository`
    // in OpenSearch and Elasticsearch 7.10: each by its key, none checked for strangers), so
    // `role_arn` is kept and ignored there: its nodes use their own client credentials.
    if kind == "s3" && shared.aws() {
        let Some(role) = raw_settings.get("role_arn").and_then(setting_text) else {
            return Err(Reply::aws_message(
                StatusCode::BAD_REQUEST,
                "settings.role_arn is needed for snapshot registration.",
            ));
        };
        if !shared.config.passable_roles.contains(&role) {
            return Err(Reply::aws_message(
                StatusCode::FORBIDDEN,
                &format!(
                    "User: {} is not authorized to perform: iam:PassRole on resource: {role}",
                    call.caller_arn
                ),
            ));
        }
    }
    if name.is_empty() {
        return Err(EsError::repository(name, "cannot be empty").into());
    }
    let settings = check_definition(name, &kind, &raw_settings)?;
    let repository = RepositoryDef {
        name: name.to_owned(),
        kind,
        settings,
        aws_managed: false,
    };
    {
        let mut cluster = shared.cluster();
        if cluster.running.iter().any(|r| r.repository == name) {
            return Err(EsError::illegal_state(format!(
                "trying to modify or unregister repository [{name}] that is currently used"
            ))
            .into());
        }
        cluster
            .repositories
            .insert(name.to_owned(), repository.clone());
    }
    // A repository that fails verification stays registered, as on the real service.
    if call.query.flag("verify", true)? {
        verify_location(shared, &repository).await?;
    }
    Ok(Reply::acknowledged())
}

/// The repositories `names` select (`_all`, lists, wildcards); concrete names must exist.
fn select(shared: &Shared, names: Option<&str>) -> Result<Vec<RepositoryDef>, EsError> {
    let cluster = shared.cluster();
    let patterns = names.map(split_list).unwrap_or_default();
    if patterns.is_empty() || patterns.iter().any(|p| p == "_all") {
        return Ok(cluster.repositories.values().cloned().collect());
    }
    let mut out: Vec<RepositoryDef> = Vec::new();
    for pattern in &patterns {
        if is_pattern(pattern) {
            out.extend(
                cluster
                    .repositories
                    .values()
                    .filter(|r| simple_match(pattern, &r.name))
                    .cloned(),
            );
        } else {
            let repository = cluster
                .repositories
                .get(pattern)
                .ok_or_else(|| EsError::repository_missing(pattern))?;
            out.push(repository.clone());
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    Ok(out)
}

/// `GET _snapshot[/<repositories>]`.
pub(crate) fn get(shared: &Arc<Shared>, names: Option<&str>) -> Answer {
    let body: Map<String, Value> = select(shared, names)?
        .into_iter()
        .map(|r| (r.name.clone(), r.to_json()))
        .collect();
    Ok(Reply::ok(&Value::Object(body)))
}

/// `POST _snapshot/<repository>/_verify`.
pub(crate) async fn verify(shared: &Arc<Shared>, name: &str) -> Answer {
    let repository = lookup(shared, name)?;
    verify_location(shared, &repository).await?;
    let nodes: Map<String, Value> = shared
        .identity
        .nodes
        .iter()
        .map(|n| (n.id.clone(), json!({"name": n.name})))
        .collect();
    Ok(Reply::ok(&json!({"nodes": nodes})))
}

/// `DELETE _snapshot/<repositories>` (the bucket's contents stay).
pub(crate) fn delete(shared: &Arc<Shared>, call: &Call, names: &str) -> Answer {
    if shared.aws() && split_list(names).iter().any(|n| reserved(n)) {
        return Err(reserved_refusal(call));
    }
    let selected = select(shared, Some(names))?;
    let mut cluster = shared.cluster();
    for repository in selected.iter().filter(|r| !r.aws_managed) {
        if cluster
            .running
            .iter()
            .any(|r| r.repository == repository.name)
        {
            return Err(EsError::illegal_state(format!(
                "trying to modify or unregister repository [{}] that is currently used",
                repository.name
            ))
            .into());
        }
    }
    for repository in selected.iter().filter(|r| !r.aws_managed) {
        cluster.repositories.remove(&repository.name);
    }
    Ok(Reply::acknowledged())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn definitions_are_checked_and_kept_as_strings() {
        let kept = check_definition(
            "nightly",
            "s3",
            &settings(json!({"bucket": "b", "readonly": true, "role_arn": "r"})),
        )
        .unwrap();
        assert_eq!(kept["readonly"], "true");
        let unknown = check_definition(
            "n",
            "s3",
            &settings(json!({"bucket": "b", "bse_path": "x"})),
        )
        .unwrap_err();
        assert_eq!(unknown.kind, "repository_exception");
        assert_eq!(unknown.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(check_definition("n", "s3", &settings(json!({"readonly": true}))).is_err());
        assert!(check_definition("n", "fs", &settings(json!({"bucket": "b"}))).is_err());
        assert!(
            check_definition(
                "n",
                "s3",
                &settings(json!({"bucket": "b", "readonly": "maybe"}))
            )
            .is_err()
        );
        assert!(check_definition("a*b", "s3", &settings(json!({"bucket": "b"}))).is_err());
    }
}
