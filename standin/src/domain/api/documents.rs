//! Documents: single writes (`PUT|POST <index>/_doc[/<id>]`, `_create`), `_bulk` NDJSON with
//! index, create, update and delete actions, and `_count`. Missing indices are created on
//! first write with dynamic mappings, as the engine does. Queries are not evaluated: a count
//! with a query other than `match_all` is refused rather than answered wrongly.

use std::sync::Arc;
use std::time::Instant;

use http::StatusCode;
use serde_json::{Map, Value, json};

use crate::domain::state::cluster::{Cluster, Doc};
use crate::domain::state::data_streams::TIMESTAMP_FIELD;
use crate::domain::state::expressions::IndicesOptions;
use crate::domain::state::index_creation::create_index;
use crate::domain::state::settings::Settings;
use crate::domain::state::tiers::{self, Tier};
use crate::domain::state::{Shared, new_uuid};
use crate::domain::wire::call::{Answer, Call};
use crate::domain::wire::names::split_list;
use crate::domain::wire::reply::{EsError, Reply};

/// A new document id as the engine generates them (20 URL-safe characters).
fn new_doc_id() -> String {
    new_uuid().chars().take(20).collect()
}

fn looks_like_date(text: &str) -> bool {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let dashed = digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10);
    let slashed = digits(0..4)
        && b.get(4) == Some(&b'/')
        && digits(5..7)
        && b.get(7) == Some(&b'/')
        && digits(8..10);
    (dashed && (b.len() == 10 || b.get(10) == Some(&b'T'))) || (slashed && b.len() >= 10)
}

/// The mapping dynamic mapping gives a value; `None` for `null`.
fn infer(value: &Value) -> Option<Value> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(_) => json!({"type": "boolean"}),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({"type": "long"}),
        Value::Number(_) => json!({"type": "float"}),
        Value::String(s) if looks_like_date(s) => json!({"type": "date"}),
        Value::String(_) => json!({
            "type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}
        }),
        Value::Array(items) => return items.iter().find_map(infer),
        Value::Object(map) => {
            let properties: Map<String, Value> = map
                .iter()
                .filter_map(|(k, v)| infer(v).map(|m| (k.clone(), m)))
                .collect();
            json!({"properties": properties})
        }
    })
}

/// Adds the fields of `source` the mapping lacks; refuses them under `dynamic: strict`.
fn update_mappings(mappings: &mut Value, source: &Map<String, Value>) -> Result<(), EsError> {
    let strict = mappings.get("dynamic").and_then(Value::as_str) == Some("strict");
    if !mappings.is_object() {
        *mappings = json!({});
    }
    let Value::Object(root) = mappings else {
        return Ok(());
    };
    let properties = root.entry("properties").or_insert_with(|| json!({}));
    let Value::Object(properties) = properties else {
        return Ok(());
    };
    for (field, value) in source {
        if properties.contains_key(field) {
            continue;
        }
        if strict {
            return Err(EsError::bad_request(
                "strict_dynamic_mapping_exception",
                format!(
                    "mapping set to strict, dynamic introduction of [{field}] within [_doc] is \
                     not allowed"
                ),
            ));
        }
        if let Some(mapping) = infer(value) {
            properties.insert(field.clone(), mapping);
        }
    }
    Ok(())
}

/// The index a write to `target` lands in (an alias writes to its write index), created if
/// missing.
fn write_target(shared: &Shared, cluster: &mut Cluster, target: &str) -> Result<String, EsError> {
    let name = resolve_write_target(shared, cluster, target)?;
    if cluster
        .indices
        .get(&name)
        .is_some_and(|i| tiers::tier(&i.settings) == Tier::Warm)
    {
        return Err(tiers::warm_write_refused(&name));
    }
    Ok(name)
}

fn resolve_write_target(
    shared: &Shared,
    cluster: &mut Cluster,
    target: &str,
) -> Result<String, EsError> {
    if cluster.indices.contains_key(target) {
        return Ok(target.to_owned());
    }
    if cluster.has_alias(target) {
        let members = cluster.alias_indices(target);
        let flagged: Vec<&String> = members
            .iter()
            .filter(|i| {
                cluster.indices[*i].aliases[target].get("is_write_index") == Some(&json!(true))
            })
            .collect();
        return match (flagged.as_slice(), members.as_slice()) {
            ([one], _) => Ok((*one).clone()),
            ([], [only]) => Ok(only.clone()),
            _ => Err(EsError::illegal_argument(format!(
                "no write index is defined for alias [{target}]. The write index may be \
                 explicitly disabled using is_write_index=false or the alias points to multiple \
                 indices without one being designated as a write index"
            ))),
        };
    }
    create_index(
        shared,
        cluster,
        target,
        Settings::new(),
        json!({}),
        Default::default(),
    )?;
    Ok(target.to_owned())
}

/// The write index when `target` is a data stream, or a name a data-stream template
/// matches (the stream is created on this first write); `None` for any other target.
fn stream_write_index(
    shared: &Shared,
    cluster: &mut Cluster,
    target: &str,
) -> Result<Option<String>, EsError> {
    if cluster.indices.contains_key(target) || cluster.has_alias(target) {
        return Ok(None);
    }
    if !cluster.data_streams.contains_key(target) {
        let streams_template = shared.capabilities().data_streams
            && cluster
                .template_for(target)
                .is_some_and(|(_, t)| t.data_stream);
        if !streams_template {
            return Ok(None);
        }
        cluster.create_data_stream(shared, target)?;
    }
    Ok(cluster
        .data_streams
        .get(target)
        .and_then(|s| s.write_index())
        .map(str::to_owned))
}

/// How a single write ended.
struct Written {
    index: String,
    id: String,
    version: u64,
    seq_no: u64,
    created: bool,
    copies: (u32, u32),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Index,
    Create,
}

fn closed(index: &str, uuid: &str) -> EsError {
    EsError::bad_request("index_closed_exception", "closed")
        .with("index_uuid", uuid)
        .with("index", index)
}

fn write(
    shared: &Shared,
    cluster: &mut Cluster,
    target: &str,
    id: Option<&str>,
    source: &Value,
    op: Op,
) -> Result<Written, EsError> {
    let Value::Object(fields) = source else {
        return Err(EsError::bad_request(
            "mapper_parsing_exception",
            "failed to parse",
        ));
    };
    let name = match stream_write_index(shared, cluster, target)? {
        Some(write_index) => {
            if op != Op::Create {
                return Err(EsError::illegal_argument(
                    "only write ops with an op_type of create are allowed in data streams",
                ));
            }
            if !fields.contains_key(TIMESTAMP_FIELD) {
                return Err(EsError::bad_request(
                    "mapper_parsing_exception",
                    format!(
                        "documents must contain a single-valued timestamp field \
                         '{TIMESTAMP_FIELD}' of date type"
                    ),
                ));
            }
            write_index
        }
        None => write_target(shared, cluster, target)?,
    };
    let Some(index) = cluster.indices.get_mut(&name) else {
        return Err(EsError::index_not_found(&name));
    };
    if !index.open {
        return Err(closed(&name, &index.uuid));
    }
    let now = Instant::now();
    if !index.primaries_active(now) {
        return Err(EsError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable_shards_exception",
            format!("[{name}][0] primary shard is not active Timeout: [1m]"),
        ));
    }
    let id = id.map_or_else(new_doc_id, str::to_owned);
    if op == Op::Create
        && let Some(existing) = index.docs.get(&id)
    {
        return Err(EsError::new(
            StatusCode::CONFLICT,
            "version_conflict_engine_exception",
            format!(
                "[{id}]: version conflict, document already exists (current version [{}])",
                existing.version
            ),
        )
        .with("index_uuid", index.uuid.as_str())
        .with("shard", "0")
        .with("index", name.as_str()));
    }
    update_mappings(&mut index.mappings, fields)?;
    let seq_no = index.next_seq_no();
    let version = index.docs.get(&id).map_or(1, |d| d.version + 1);
    let created = version == 1;
    index.docs.insert(
        id.clone(),
        Doc {
            source: source.clone(),
            version,
            seq_no,
        },
    );
    let active_replicas = if index.recovery.replicas_done(now, index.replicas()) {
        index.assigned_replicas()
    } else {
        0
    };
    Ok(Written {
        index: name,
        id,
        version,
        seq_no,
        created,
        copies: (1 + index.replicas(), 1 + active_replicas),
    })
}

fn result_body(shared: &Shared, w: &Written, result: &str) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("_index".into(), json!(w.index));
    if !shared.opensearch() {
        body.insert("_type".into(), json!("_doc"));
    }
    body.insert("_id".into(), json!(w.id));
    body.insert("_version".into(), json!(w.version));
    body.insert("result".into(), json!(result));
    body.insert(
        "_shards".into(),
        json!({"total": w.copies.0, "successful": w.copies.1, "failed": 0}),
    );
    body.insert("_seq_no".into(), json!(w.seq_no));
    body.insert("_primary_term".into(), json!(1));
    body
}

/// `PUT|POST <index>/_doc[/<id>]`, `PUT|POST <index>/_create/<id>`.
pub(crate) fn index_doc(
    shared: &Arc<Shared>,
    call: &Call,
    target: &str,
    id: Option<&str>,
    create: bool,
) -> Answer {
    let Some(source) = call.json()? else {
        return Err(EsError::bad_request(
            "action_request_validation_exception",
            "Validation Failed: 1: source is missing;",
        )
        .into());
    };
    let op = if create || call.query.get("op_type") == Some("create") {
        Op::Create
    } else {
        Op::Index
    };
    let mut cluster = shared.cluster();
    let written = write(shared, &mut cluster, target, id, &source, op)?;
    let (status, result) = if written.created {
        (StatusCode::CREATED, "created")
    } else {
        (StatusCode::OK, "updated")
    };
    Ok(Reply::json(
        status,
        &Value::Object(result_body(shared, &written, result)),
    ))
}

fn malformed(line: usize, detail: &str) -> EsError {
    EsError::illegal_argument(format!("Malformed action/metadata line [{line}], {detail}"))
}

/// One parsed bulk action.
struct Action {
    kind: String,
    index: Option<String>,
    id: Option<String>,
    source: Option<Value>,
}

fn parse_bulk(body: &[u8], default_index: Option<&str>) -> Result<Vec<Action>, EsError> {
    if !body.ends_with(b"\n") {
        return Err(EsError::illegal_argument(
            "The bulk request must be terminated by a newline [\\n]",
        ));
    }
    let text = std::str::from_utf8(body).map_err(|_| EsError::parse("body is not UTF-8"))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let mut actions = Vec::new();
    while let Some((n, line)) = lines.next() {
        let line_no = n + 1;
        let value: Value = serde_json::from_str(line)
            .map_err(|_| malformed(line_no, "expected START_OBJECT but found [VALUE_STRING]"))?;
        let Value::Object(map) = value else {
            return Err(malformed(line_no, "expected START_OBJECT"));
        };
        let Some((kind, meta)) = map.into_iter().next() else {
            return Err(malformed(
                line_no,
                "expected FIELD_NAME but found [END_OBJECT]",
            ));
        };
        if !matches!(kind.as_str(), "index" | "create" | "update" | "delete") {
            return Err(malformed(
                line_no,
                &format!(
                    "expected field [create], [delete], [index] or [update] but found [{kind}]"
                ),
            ));
        }
        let field = |k: &str| meta.get(k).and_then(Value::as_str).map(str::to_owned);
        if meta.get("require_alias").is_some() {
            return Err(EsError::new(
                StatusCode::NOT_IMPLEMENTED,
                "stand-in_refusal",
                "stand-in: _bulk items with require_alias are not modelled",
            ));
        }
        // `"index": {"op_type": "create"}` is a create (`BulkRequestParser`).
        let kind = if kind == "index" && field("op_type").as_deref() == Some("create") {
            "create".to_owned()
        } else {
            kind
        };
        let index = field("_index").or_else(|| default_index.map(str::to_owned));
        let source = if kind == "delete" {
            None
        } else {
            let (_, line) = lines.next().ok_or_else(|| {
                EsError::bad_request(
                    "action_request_validation_exception",
                    "Validation Failed: 1: no requests added;",
                )
            })?;
            Some(
                serde_json::from_str(line)
                    .map_err(|e| EsError::bad_request("json_parse_exception", e.to_string()))?,
            )
        };
        actions.push(Action {
            kind,
            index,
            id: field("_id"),
            source,
        });
    }
    if actions.is_empty() {
        return Err(EsError::bad_request(
            "action_request_validation_exception",
            "Validation Failed: 1: no requests added;",
        ));
    }
    Ok(actions)
}

fn item_error(shared: &Shared, kind: &str, index: &str, id: &str, error: &EsError) -> Value {
    let mut cause = error.to_json()["error"].clone();
    if let Value::Object(map) = &mut cause {
        map.remove("root_cause");
    }
    let mut item = Map::new();
    item.insert("_index".into(), json!(index));
    if !shared.opensearch() {
        item.insert("_type".into(), json!("_doc"));
    }
    item.insert("_id".into(), json!(id));
    item.insert("status".into(), json!(error.status.as_u16()));
    item.insert("error".into(), cause);
    json!({kind: item})
}

fn run_action(shared: &Shared, cluster: &mut Cluster, action: &Action) -> Result<Value, EsError> {
    let index = action.index.as_deref().ok_or_else(|| {
        EsError::bad_request(
            "action_request_validation_exception",
            "Validation Failed: 1: index is missing;",
        )
    })?;
    let kind = action.kind.as_str();
    // `IndexRequest.validate`: an empty `_id` is refused, a missing one generated.
    if kind != "delete" && kind != "update" && action.id.as_deref() == Some("") {
        return Err(EsError::illegal_argument(
            "if _id is specified it must not be empty",
        ));
    }
    let (written, status, result) = match kind {
        "delete" => {
            let id = action.id.as_deref().unwrap_or_default();
            let name = write_target(shared, cluster, index)?;
            let Some(target) = cluster.indices.get_mut(&name) else {
                return Err(EsError::index_not_found(&name));
            };
            let seq_no = target.next_seq_no();
            let removed = target.docs.remove(id);
            if removed.is_some() {
                target.deleted_docs += 1;
            }
            let written = Written {
                index: name,
                id: id.to_owned(),
                version: removed.as_ref().map_or(1, |d| d.version + 1),
                seq_no,
                created: false,
                copies: (1 + target.replicas(), 1 + target.assigned_replicas()),
            };
            let (status, result) = match removed {
                Some(_) => (200, "deleted"),
                None => (404, "not_found"),
            };
            (written, status, result)
        }
        "update" => {
            let id = action.id.as_deref().unwrap_or_default();
            let body = action.source.clone().unwrap_or_default();
            let name = write_target(shared, cluster, index)?;
            let existing = cluster
                .indices
                .get(&name)
                .and_then(|i| i.docs.get(id))
                .map(|d| d.source.clone());
            let merged = match (existing, body.get("doc")) {
                (Some(Value::Object(mut old)), Some(Value::Object(doc))) => {
                    old.extend(doc.clone());
                    Value::Object(old)
                }
                (None, Some(doc)) if body.get("doc_as_upsert") == Some(&json!(true)) => doc.clone(),
                (None, _) => {
                    return Err(EsError::new(
                        StatusCode::NOT_FOUND,
                        "document_missing_exception",
                        format!("[_doc][{id}]: document missing"),
                    )
                    .with("index", name.as_str()));
                }
                _ => {
                    return Err(EsError::illegal_argument(
                        "the stand-in updates only with `doc`",
                    ));
                }
            };
            let w = write(shared, cluster, &name, Some(id), &merged, Op::Index)?;
            let status = if w.created { 201 } else { 200 };
            let result = if w.created { "created" } else { "updated" };
            (w, status, result)
        }
        _ => {
            let op = if kind == "create" {
                Op::Create
            } else {
                Op::Index
            };
            let source = action.source.clone().unwrap_or_default();
            let w = write(shared, cluster, index, action.id.as_deref(), &source, op)?;
            let status = if w.created { 201 } else { 200 };
            let result = if w.created { "created" } else { "updated" };
            (w, status, result)
        }
    };
    let mut body = result_body(shared, &written, result);
    body.insert("status".into(), json!(status));
    Ok(json!({kind: body}))
}

/// `POST [<index>/]_bulk`.
pub(crate) fn bulk(shared: &Arc<Shared>, call: &Call, default_index: Option<&str>) -> Answer {
    let started = Instant::now();
    let actions = parse_bulk(&call.body, default_index)?;
    let mut cluster = shared.cluster();
    let mut errors = false;
    let mut items = Vec::with_capacity(actions.len());
    for action in &actions {
        match run_action(shared, &mut cluster, action) {
            // A delete of a missing document is reported as `not_found`, not as an error.
            Ok(item) => items.push(item),
            Err(error) => {
                errors = true;
                items.push(item_error(
                    shared,
                    &action.kind,
                    action.index.as_deref().unwrap_or_default(),
                    action.id.as_deref().unwrap_or_default(),
                    &error,
                ));
            }
        }
    }
    Ok(Reply::ok(&json!({
        "took": started.elapsed().as_millis(),
        "errors": errors,
        "items": items
    })))
}

/// `GET|POST [<indices>/]_count`.
pub(crate) fn count(shared: &Arc<Shared>, call: &Call, expression: Option<&str>) -> Answer {
    if call.query.get("q").is_some() {
        return Err(unsupported_query().into());
    }
    if let Some(body) = call.json()? {
        match body.get("query") {
            None => {}
            Some(q)
                if q.get("match_all").is_some() && q.as_object().is_some_and(|m| m.len() == 1) => {}
            Some(_) => return Err(unsupported_query().into()),
        }
    }
    let options = IndicesOptions::STRICT.with_query(&call.query)?;
    let expressions = expression.map(split_list).unwrap_or_default();
    let cluster = shared.cluster();
    let names = cluster.resolve(&expressions, options)?;
    let now = Instant::now();
    let (mut count, mut total, mut failed) = (0u64, 0u64, 0u64);
    for name in &names {
        let Some(index) = cluster.indices.get(name) else {
            continue;
        };
        if !index.open {
            return Err(closed(name, &index.uuid).into());
        }
        let shards = u64::from(index.shards());
        total += shards;
        if index.primaries_active(now) {
            count += index.docs.len() as u64;
        } else {
            failed += shards;
        }
    }
    if total > 0 && failed == total {
        return Err(EsError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "search_phase_execution_exception",
            "all shards failed",
        )
        .with("phase", "query")
        .with("grouped", true)
        .into());
    }
    Ok(Reply::ok(&json!({
        "count": count,
        "_shards": {"total": total, "successful": total - failed, "skipped": 0, "failed": failed}
    })))
}

fn unsupported_query() -> EsError {
    EsError::illegal_argument(
        "the stand-in domain counts documents but does not evaluate queries; only match_all \
         is accepted",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_mappings_follow_the_values() {
        let mut mappings = json!({});
        let doc = json!({"msg": "hi", "n": 3, "x": 1.5, "ok": true, "at": "2026-01-02T03:04:05Z", "o": {"k": "v"}});
        update_mappings(&mut mappings, doc.as_object().unwrap()).unwrap();
        let p = &mappings["properties"];
        assert_eq!(p["msg"]["type"], "text");
        assert_eq!(p["n"]["type"], "long");
        assert_eq!(p["x"]["type"], "float");
        assert_eq!(p["ok"]["type"], "boolean");
        assert_eq!(p["at"]["type"], "date");
        assert_eq!(p["o"]["properties"]["k"]["type"], "text");
        let mut strict = json!({"dynamic": "strict", "properties": {}});
        assert!(update_mappings(&mut strict, doc.as_object().unwrap()).is_err());
    }

    #[test]
    fn bulk_bodies_parse_and_need_a_final_newline() {
        let body = b"{\"index\":{\"_id\":\"1\"}}\n{\"a\":1}\n{\"delete\":{\"_index\":\"x\",\"_id\":\"2\"}}\n";
        let actions = parse_bulk(body, Some("logs")).unwrap();
        assert_eq!(actions.len(), 2);
        assert_eq!(actions[0].index.as_deref(), Some("logs"));
        assert_eq!(actions[1].kind, "delete");
        assert!(parse_bulk(b"{\"index\":{}}\n{\"a\":1}", None).is_err());
        assert!(parse_bulk(b"{\"upsert\":{}}\n", None).is_err());
    }
}
