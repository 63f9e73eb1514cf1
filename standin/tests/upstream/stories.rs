//! The OpenSearch API specification's test stories (`opensearch-api-spec/tests/`), as its
//! TESTING_GUIDE.md describes them: `prologues`, then `chapters`, then `epilogues`; each a
//! `path` template, one or more `method`s, `parameters` (path parts, the rest in the query),
//! a `request.payload`, and the expected `response` (`status`, default 200; `payload`,
//! compared as a subset: every expected key, and each expected array element by position;
//! `content_type`). Chapters honour `version`, `distributions` (the stand-in is
//! `amazon-managed`), `pending` and `retry`. Each chapter's path and method must be an
//! operation the spec declares. Not done: validating bodies against the spec's JSON schemas,
//! and chapter `output` (used only by the `sm` plugin's stories, which do not apply).

use std::time::Duration;

use http::Method;
use serde_json::Value;
use signing::{DomainClient, DomainRequest};

use super::Outcome;
use super::catalog::{Catalog, strings};

/// The distribution the stand-in models.
pub const DISTRIBUTION: &str = "amazon-managed";

/// Whether `version` (OpenSearch `x.y.z`) is in a story's semver range: space-separated
/// comparators (`>= 2.5`, `>=2.1 <3`), a bare version meaning that major (`3`).
pub fn in_semver_range(range: &str, version: (u32, u32, u32)) -> Result<bool, String> {
    let mut tokens: Vec<String> = Vec::new();
    for token in range.split_whitespace() {
        match tokens.last_mut() {
            Some(last) if matches!(last.as_str(), ">=" | "<=" | ">" | "<" | "=") => {
                last.push_str(token);
            }
            _ => tokens.push(token.to_owned()),
        }
    }
    for token in tokens {
        let (op, number) = match token.find(|c: char| c.is_ascii_digit()) {
            Some(i) => token.split_at(i),
            None => return Err(format!("`{range}` is not a version range")),
        };
        let parts: Vec<u32> = number
            .split('.')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| format!("`{range}` is not a version range"))?;
        let bound = (
            parts.first().copied().unwrap_or(0),
            parts.get(1).copied().unwrap_or(0),
            parts.get(2).copied().unwrap_or(0),
        );
        let holds = match op {
            ">=" => version >= bound,
            ">" => version > bound,
            "<=" => version <= bound,
            "<" => version < bound,
            "" | "=" if parts.len() < 3 => {
                version.0 == bound.0 && (parts.len() < 2 || version.1 == bound.1)
            }
            "" | "=" => version == bound,
            other => return Err(format!("unknown comparator `{other}` in `{range}`")),
        };
        if !holds {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Why an item (story or chapter) does not run here, if it does not.
fn not_here(item: &Value, version: (u32, u32, u32)) -> Result<Option<String>, String> {
    if let Some(pending) = item["pending"].as_str() {
        return Ok(Some(format!("pending upstream: {}", pending.trim())));
    }
    let distributions = &item["distributions"];
    if strings(&distributions["excluded"])
        .iter()
        .any(|d| d == DISTRIBUTION)
    {
        return Ok(Some(format!("excluded on {DISTRIBUTION}")));
    }
    let included = strings(&distributions["included"]);
    if !included.is_empty() && !included.iter().any(|d| d == DISTRIBUTION) {
        return Ok(Some(format!("not included on {DISTRIBUTION}")));
    }
    if let Some(range) = item["version"].as_str()
        && !in_semver_range(range, version)?
    {
        return Ok(Some(format!("version {range}")));
    }
    Ok(None)
}

fn methods(item: &Value) -> Vec<String> {
    match &item["method"] {
        Value::String(one) => vec![one.clone()],
        many => strings(many),
    }
}

fn param_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(param_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Whether `actual` holds everything `expected` names.
pub fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (_, Value::Null) => true,
        (Value::Object(a), Value::Object(e)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|w| contains(w, v))),
        (Value::Array(a), Value::Array(e)) => {
            a.len() >= e.len() && a.iter().zip(e).all(|(x, y)| contains(x, y))
        }
        (Value::Number(a), Value::Number(e)) => a.as_f64() == e.as_f64(),
        _ => actual == expected,
    }
}

/// Runs the stories' items against one domain.
pub struct StoryRunner<'a> {
    pub client: &'a DomainClient,
    pub catalog: &'a Catalog,
    /// A `type: fs` repository as the stand-in registers it (see `super::fs_as_s3`).
    pub fs_as_s3: &'a dyn Fn(&Value) -> Value,
}

impl StoryRunner<'_> {
    /// Sends one item with one method; `Ok(None)` when its answer is as expected.
    async fn send(
        &self,
        item: &Value,
        method: &str,
        allowed: &[u16],
    ) -> Result<Option<String>, Outcome> {
        let template = item["path"].as_str().unwrap_or("/");
        let mut parameters = item["parameters"].as_object().cloned().unwrap_or_default();
        let mut segments = Vec::new();
        for segment in template.split('/').filter(|s| !s.is_empty()) {
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(part) => match parameters.remove(part) {
                    Some(value) => segments.push(param_text(&value)),
                    None => return Err(Outcome::Failed(format!("no value for {{{part}}}"))),
                },
                None => segments.push(segment.to_owned()),
            }
        }
        let written: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
        let declared = self
            .catalog
            .apis
            .values()
            .flat_map(|a| &a.forms)
            .any(|f| f.fits(&written) && f.methods.iter().any(|m| m == method));
        if !declared {
            return Ok(Some(format!("{method} {template} is not in the spec")));
        }
        let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
        let mut request = DomainRequest::new(method.clone(), &segments);
        for (name, value) in &parameters {
            request = request.query(name, param_text(value));
        }
        let repository_path = segments.len() == 2 && segments[0] == "_snapshot";
        let payload = &item["request"]["payload"];
        if !payload.is_null() {
            let text = if repository_path {
                (self.fs_as_s3)(payload).to_string()
            } else if item["request"]["content_type"] == "application/x-ndjson" {
                // One JSON line per element (the signed client labels every body
                // `application/json`, which the engine also reads as NDJSON).
                payload
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|line| format!("{line}\n"))
                    .collect()
            } else {
                payload.to_string()
            };
            request = request.json_body(text);
        }
        let response = self
            .client
            .send(&request)
            .await
            .map_err(|e| Outcome::Failed(e.to_string()))?;
        let status = response.status.as_u16();
        let text = String::from_utf8_lossy(&response.body).into_owned();
        if status == 501 && text.contains("stand-in") {
            return Err(Outcome::Refused(text.chars().take(300).collect()));
        }
        let short: String = text.chars().take(300).collect();
        if !allowed.contains(&status) {
            return Ok(Some(format!(
                "{method} {template} answered {status} {short}, expected {allowed:?}"
            )));
        }
        let expected = &item["response"];
        if let Some(content_type) = expected["content_type"].as_str() {
            let got = response
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !got.starts_with(content_type) {
                return Ok(Some(format!(
                    "content type `{got}`, expected `{content_type}`"
                )));
            }
        }
        let payload = &expected["payload"];
        if !payload.is_null() {
            let payload = if segments.first().map(String::as_str) == Some("_snapshot")
                && segments.len() <= 2
                && method == Method::GET
            {
                let mut mapped = payload.clone();
                for (_, repository) in mapped.as_object_mut().into_iter().flatten() {
                    *repository = (self.fs_as_s3)(repository);
                }
                mapped
            } else {
                payload.clone()
            };
            let actual: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if !contains(&actual, &payload) {
                return Ok(Some(format!("payload {short} does not hold {payload}")));
            }
        }
        Ok(None)
    }

    /// A prologue or epilogue: each method, the statuses it allows (default 200 and 201).
    pub async fn prepare(&self, item: &Value) -> Result<(), Outcome> {
        let allowed: Vec<u16> = match item["status"].as_array() {
            Some(list) => list
                .iter()
                .filter_map(|s| s.as_u64().and_then(|s| u16::try_from(s).ok()))
                .collect(),
            None => vec![200, 201],
        };
        for method in methods(item) {
            if let Some(why) = self.send(item, &method, &allowed).await? {
                return Err(Outcome::Failed(why));
            }
        }
        Ok(())
    }

    /// One chapter, each of its methods, with its retries.
    pub async fn chapter(&self, item: &Value, version: (u32, u32, u32)) -> Outcome {
        match not_here(item, version) {
            Ok(Some(why)) => return Outcome::Skipped(why),
            Ok(None) => {}
            Err(e) => return Outcome::Failed(e),
        }
        let status = item["response"]["status"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(200);
        let attempts = item["retry"]["count"].as_u64().unwrap_or(0) + 1;
        for method in methods(item) {
            let mut last = None;
            for attempt in 0..attempts {
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                match self.send(item, &method, &[status]).await {
                    Ok(None) => {
                        last = None;
                        break;
                    }
                    Ok(Some(why)) => last = Some(why),
                    Err(outcome) => return outcome,
                }
            }
            if let Some(why) = last {
                return Outcome::Failed(why);
            }
        }
        Outcome::Passed
    }

    /// Why the whole story does not run here, if it does not.
    pub fn story_not_here(
        story: &Value,
        version: (u32, u32, u32),
    ) -> Result<Option<String>, String> {
        not_here(story, version)
    }
}
