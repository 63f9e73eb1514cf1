//! Upstream's YAML REST tests, run against a stand-in domain over signed HTTP. The format is
//! the one `opensearch-rest-tests/test/README.md` describes: `setup`, `teardown` and test
//! sections; `do` (with `catch`, `headers`, `warnings`, `allowed_warnings`), `match`,
//! `length`, `is_true`, `is_false`, `gt`, `gte`, `lt`, `lte`, `set` and `$stash`; `skip` by
//! version and by feature.

use std::collections::BTreeMap;

use http::Method;
use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value};
use signing::{DomainClient, DomainRequest};

use super::catalog::Catalog;
use super::{Outcome, version_key};

/// The `skip.features` this runner implements; a section that needs any other is skipped.
/// `headers` is limited to the one header these files set, `Content-Type:
/// application/json`, which is what the signed client sends with every body.
pub const SUPPORTED_FEATURES: [&str; 3] = ["headers", "warnings", "allowed_warnings"];

/// One YAML test file.
#[derive(Debug, Default)]
pub struct Suite {
    pub setup: Vec<Value>,
    pub teardown: Vec<Value>,
    pub sections: Vec<(String, Vec<Value>)>,
}

impl Suite {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut suite = Suite::default();
        for document in serde_norway::Deserializer::from_str(text) {
            let value = Value::deserialize(document).map_err(|e| e.to_string())?;
            let Value::Object(map) = value else {
                continue;
            };
            for (name, steps) in map {
                let steps = match steps {
                    Value::Array(steps) => steps,
                    Value::Null => Vec::new(),
                    other => return Err(format!("section `{name}` is not a list: {other}")),
                };
                match name.as_str() {
                    "setup" => suite.setup = steps,
                    "teardown" => suite.teardown = steps,
                    _ => suite.sections.push((name, steps)),
                }
            }
        }
        Ok(suite)
    }
}

/// Whether a section's leading `skip` applies to this engine, and why.
pub fn skip_reason(steps: &[Value], version: &str) -> Result<Option<String>, String> {
    let Some(skip) = steps.first().and_then(|s| s.get("skip")) else {
        return Ok(None);
    };
    let features: Vec<String> = match &skip["features"] {
        Value::String(one) => vec![one.clone()],
        Value::Array(_) => super::catalog::strings(&skip["features"]),
        _ => Vec::new(),
    };
    if let Some(missing) = features
        .iter()
        .find(|f| !SUPPORTED_FEATURES.contains(&f.as_str()))
    {
        return Ok(Some(format!("the runner lacks feature `{missing}`")));
    }
    if let Some(ranges) = skip["version"].as_str() {
        let reason = skip["reason"].as_str().unwrap_or("no reason given");
        if in_ranges(ranges, version)? {
            return Ok(Some(format!("version {ranges}: {reason}")));
        }
    }
    Ok(None)
}

fn in_ranges(ranges: &str, version: &str) -> Result<bool, String> {
    let current = version_key(version)?;
    for range in ranges.split(',') {
        let range = range.trim();
        if range == "all" {
            return Ok(true);
        }
        let (low, high) = range
            .split_once('-')
            .ok_or_else(|| format!("version range `{range}` has no `-`"))?;
        let low_ok = low.trim().is_empty() || version_key(low.trim())? <= current;
        let high_ok = high.trim().is_empty() || current <= version_key(high.trim())?;
        if low_ok && high_ok {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The last response, as the assertions see it.
#[derive(Debug, Default)]
struct Response {
    /// The parsed body (`true`/`false` for a `HEAD`), `Null` when there is none.
    json: Value,
    /// The raw body: `$body`.
    text: String,
}

/// A step that did not hold, or the stand-in's own refusal.
#[derive(Debug)]
pub enum StepError {
    Failed(String),
    Refused(String),
}

fn failed<T>(message: impl Into<String>) -> Result<T, StepError> {
    Err(StepError::Failed(message.into()))
}

/// Runs one section's steps against one domain.
pub struct Runner<'a> {
    pub client: &'a DomainClient,
    pub catalog: &'a Catalog,
    /// How a `type: fs` repository is registered on the stand-in (see `fs_as_s3`).
    pub fs_as_s3: &'a dyn Fn(&Value) -> Value,
    stash: Map<String, Value>,
    last: Response,
}

impl<'a> Runner<'a> {
    pub fn new(
        client: &'a DomainClient,
        catalog: &'a Catalog,
        fs_as_s3: &'a dyn Fn(&Value) -> Value,
    ) -> Self {
        Self {
            client,
            catalog,
            fs_as_s3,
            stash: Map::new(),
            last: Response::default(),
        }
    }

    pub async fn run(&mut self, steps: &[Value]) -> Result<(), StepError> {
        for (i, step) in steps.iter().enumerate() {
            let Some((kind, arg)) = step.as_object().and_then(|o| o.iter().next()) else {
                return failed(format!("step {i} is not a one-key map: {step}"));
            };
            let result = match kind.as_str() {
                "skip" if i == 0 => Ok(()),
                "do" => self.do_step(arg).await,
                "set" => self.set(arg),
                "match" => self.each(arg, |r, actual, expected| r.assert_match(actual, expected)),
                "length" => self.each(arg, |_, actual, expected| length(actual, expected)),
                "gt" | "gte" | "lt" | "lte" => {
                    let op = kind.clone();
                    self.each(arg, move |_, actual, expected| {
                        compare(&op, actual, expected)
                    })
                }
                "is_true" | "is_false" => self.truth(kind == "is_true", arg),
                other => failed(format!("the runner does not implement `{other}`")),
            };
            result.map_err(|e| match e {
                StepError::Failed(m) => {
                    StepError::Failed(format!("step {} `{kind}: {}`: {m}", i + 1, short(arg)))
                }
                refused => refused,
            })?;
        }
        Ok(())
    }

    fn each(
        &self,
        arg: &Value,
        check: impl Fn(&Self, &Value, &Value) -> Result<(), StepError>,
    ) -> Result<(), StepError> {
        let Some(map) = arg.as_object() else {
            return failed("the assertion is not a map");
        };
        for (path, expected) in map {
            let actual = self.lookup(path)?;
            let expected = self.substitute(expected);
            check(self, &actual, &expected)?;
        }
        Ok(())
    }

    fn truth(&self, want: bool, arg: &Value) -> Result<(), StepError> {
        let path = arg.as_str().unwrap_or_default();
        let actual = self.lookup(path)?;
        let truthy = match &actual {
            Value::Null | Value::Bool(false) => false,
            Value::String(s) => !s.is_empty() && s != "false",
            Value::Number(n) => n.as_f64() != Some(0.0),
            _ => true,
        };
        if truthy == want {
            Ok(())
        } else {
            failed(format!("`{path}` is {}", short(&actual)))
        }
    }

    fn set(&mut self, arg: &Value) -> Result<(), StepError> {
        for (path, name) in arg.as_object().into_iter().flatten() {
            let value = self.lookup(path)?;
            let name = name.as_str().unwrap_or_default().to_owned();
            self.stash.insert(name, value);
        }
        Ok(())
    }

    /// A dotted path into the last response (`\.` is a literal dot, `$x` a stashed key);
    /// `$body` is the raw body, `''` the whole parsed body.
    fn lookup(&self, path: &str) -> Result<Value, StepError> {
        if path == "$body" {
            return Ok(Value::String(self.last.text.clone()));
        }
        let mut current = &self.last.json;
        if path.is_empty() {
            return Ok(current.clone());
        }
        let escaped = path.replace("\\.", "\u{0}");
        for raw in escaped.split('.') {
            let key = raw.replace('\u{0}', ".");
            let key = match key.strip_prefix('$').and_then(|k| self.stash.get(k)) {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => key,
            };
            current = match current {
                Value::Object(map) => match map.get(&key) {
                    Some(v) => v,
                    None => return Ok(Value::Null),
                },
                Value::Array(items) => match key.parse::<usize>().ok().and_then(|i| items.get(i)) {
                    Some(v) => v,
                    None => return Ok(Value::Null),
                },
                _ => return Ok(Value::Null),
            };
        }
        Ok(current.clone())
    }

    /// Replaces `$name` values and `${name}` inside strings with stashed values.
    fn substitute(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => {
                if let Some(v) = s.strip_prefix('$').and_then(|k| self.stash.get(k)) {
                    return v.clone();
                }
                if s == "$body" {
                    return Value::String(self.last.text.clone());
                }
                let mut out = s.clone();
                for (k, v) in &self.stash {
                    let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    out = out.replace(&format!("${{{k}}}"), &text);
                }
                Value::String(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.substitute(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.substitute(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn assert_match(&self, actual: &Value, expected: &Value) -> Result<(), StepError> {
        if let Some(pattern) = expected.as_str().map(str::trim).and_then(regex_literal) {
            let regex = Regex::new(&format!("(?x){pattern}"))
                .map_err(|e| StepError::Failed(format!("bad regex: {e}")))?;
            let text = actual
                .as_str()
                .map_or_else(|| actual.to_string(), str::to_owned);
            // The format's regexes are Java's, whose `$` also matches before a final line
            // terminator.
            let java_end = text.strip_suffix('\n').is_some_and(|t| regex.is_match(t));
            return if regex.is_match(&text) || java_end {
                Ok(())
            } else {
                failed(format!(
                    "{} does not match {}",
                    short(actual),
                    short(expected)
                ))
            };
        }
        if same(actual, expected) {
            Ok(())
        } else {
            failed(format!(
                "got {}, expected {}",
                short(actual),
                short(expected)
            ))
        }
    }

    async fn do_step(&mut self, arg: &Value) -> Result<(), StepError> {
        let arg = self.substitute(arg);
        let Some(map) = arg.as_object() else {
            return failed("`do` is not a map");
        };
        let mut catch = None;
        let mut expected_warnings: Option<Vec<String>> = None;
        let mut allowed_warnings = Vec::new();
        let mut call = None;
        for (key, value) in map {
            match key.as_str() {
                "catch" => catch = value.as_str().map(str::to_owned),
                "warnings" => expected_warnings = Some(super::catalog::strings(value)),
                "allowed_warnings" => allowed_warnings = super::catalog::strings(value),
                "headers" => check_headers(value)?,
                "node_selector" => return failed("the runner does not implement node_selector"),
                api => {
                    if call.replace((api, value)).is_some() {
                        return failed("`do` names two APIs");
                    }
                }
            }
        }
        let Some((api, params)) = call else {
            return failed("`do` names no API");
        };
        let request = self.build(api, params)?;
        let head = *request.method() == Method::HEAD;
        let response = self
            .client
            .send(&request)
            .await
            .map_err(|e| StepError::Failed(format!("{api}: {e}")))?;
        let status = response.status.as_u16();
        let text = String::from_utf8_lossy(&response.body).into_owned();
        if status == 501 && text.contains("stand-in") {
            return Err(StepError::Refused(format!("{api}: {}", short_text(&text))));
        }
        let warnings: Vec<String> = response
            .headers
            .get_all("warning")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(warning_text)
            .collect();
        match &expected_warnings {
            Some(expected) => {
                if warnings != *expected {
                    return failed(format!(
                        "{api}: warnings {warnings:?}, expected {expected:?}"
                    ));
                }
            }
            None => {
                if let Some(w) = warnings.iter().find(|w| !allowed_warnings.contains(w)) {
                    return failed(format!("{api}: unexpected warning `{w}`"));
                }
            }
        }
        self.last = Response {
            json: if head {
                Value::Bool(status == 200)
            } else {
                serde_json::from_str(&text).unwrap_or(Value::Null)
            },
            text,
        };
        self.stash
            .insert("body".to_owned(), Value::String(self.last.text.clone()));
        match catch {
            None if status >= 400 && !(head && status == 404) => failed(format!(
                "{api} answered {status}: {}",
                short_text(&self.last.text)
            )),
            None => Ok(()),
            Some(catch) => {
                let caught = match catch.as_str() {
                    "bad_request" => status == 400,
                    "unauthorized" => status == 401,
                    "forbidden" => status == 403,
                    "missing" => status == 404,
                    "request_timeout" => status == 408,
                    "conflict" => status == 409,
                    "unavailable" => status == 503,
                    "request" => {
                        status >= 400 && ![400, 401, 403, 404, 408, 409, 503].contains(&status)
                    }
                    pattern => match regex_literal(pattern) {
                        Some(p) => {
                            let regex = Regex::new(p)
                                .map_err(|e| StepError::Failed(format!("bad regex: {e}")))?;
                            status >= 400 && regex.is_match(&self.last.text)
                        }
                        None => return failed(format!("unknown catch `{pattern}`")),
                    },
                };
                if caught {
                    Ok(())
                } else {
                    failed(format!(
                        "{api} answered {status} {}, expected catch {catch}",
                        short_text(&self.last.text)
                    ))
                }
            }
        }
    }

    /// The HTTP request for an API call, by the upstream spec's URL forms: the form whose
    /// `{parts}` are all given, with the most parts; every other parameter goes in the
    /// query, and must be one the spec declares.
    fn build(&self, api: &str, params: &Value) -> Result<DomainRequest, StepError> {
        let Some(spec) = self.catalog.apis.get(api) else {
            return failed(format!("no upstream spec declares `{api}`"));
        };
        let mut given: BTreeMap<String, String> = BTreeMap::new();
        let mut body = None;
        for (key, value) in params.as_object().into_iter().flatten() {
            match (key.as_str(), value) {
                (_, Value::Null) => {}
                ("body", body_value) => body = Some(body_value.clone()),
                (_, value) => {
                    given.insert(key.clone(), param_text(value));
                }
            }
        }
        if api == "snapshot.create_repository" {
            body = body.map(|b| (self.fs_as_s3)(&b));
        }
        let form = spec
            .forms
            .iter()
            .filter(|f| f.parts().iter().all(|p| given.contains_key(*p)))
            .max_by_key(|f| f.parts().len())
            .ok_or_else(|| StepError::Failed(format!("no URL form of `{api}` fits {given:?}")))?;
        let method = pick_method(&form.methods, body.is_some());
        let mut segments = Vec::new();
        for segment in form.template.split('/').filter(|s| !s.is_empty()) {
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(part) => segments.push(given.remove(part).unwrap_or_default()),
                None => segments.push(segment.to_owned()),
            }
        }
        let mut request = DomainRequest::new(method, &segments);
        for (name, value) in given {
            if !spec.params.contains(&name) && !self.catalog.global_params.contains(&name) {
                return failed(format!(
                    "`{name}` is not a parameter of `{api}` ({})",
                    spec.source
                ));
            }
            request = request.query(&name, value);
        }
        if let Some(body) = body {
            request = request.json_body(body_text(&body));
        }
        Ok(request)
    }
}

/// Only the header the signed client sends anyway can be honoured.
fn check_headers(headers: &Value) -> Result<(), StepError> {
    for (name, value) in headers.as_object().into_iter().flatten() {
        if !(name.eq_ignore_ascii_case("content-type") && value == "application/json") {
            return failed(format!("the runner cannot send header `{name}: {value}`"));
        }
    }
    Ok(())
}

fn pick_method(methods: &[String], has_body: bool) -> Method {
    let preferred: &[&str] = if has_body {
        &["POST", "PUT"]
    } else {
        &["GET", "HEAD"]
    };
    let chosen = preferred
        .iter()
        .find(|p| methods.iter().any(|m| m == *p))
        .map(|p| (*p).to_owned())
        .or_else(|| methods.first().cloned())
        .unwrap_or_else(|| "GET".to_owned());
    Method::from_bytes(chosen.as_bytes()).unwrap_or(Method::GET)
}

fn param_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(param_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// A map is JSON, a string is sent as written, a list is NDJSON lines.
fn body_text(body: &Value) -> String {
    match body {
        Value::String(s) => s.clone(),
        Value::Array(lines) => {
            let mut out = String::new();
            for line in lines {
                match line {
                    Value::String(s) => out.push_str(s),
                    other => out.push_str(&other.to_string()),
                }
                out.push('\n');
            }
            out
        }
        other => other.to_string(),
    }
}

/// `299 OpenSearch-2.19.0-… "text" "date"` → `text`.
fn warning_text(header: &str) -> String {
    let rest = header.split_once('"').map_or(header, |(_, r)| r);
    rest.split_once('"')
        .map_or(rest, |(t, _)| t)
        .replace("\\\"", "\"")
}

fn regex_literal(text: &str) -> Option<&str> {
    text.strip_prefix('/').and_then(|t| t.strip_suffix('/'))
}

fn same(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
        }
        _ => actual == expected,
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn compare(op: &str, actual: &Value, expected: &Value) -> Result<(), StepError> {
    let (Some(a), Some(b)) = (number(actual), number(expected)) else {
        return failed(format!(
            "{} or {} is not a number",
            short(actual),
            short(expected)
        ));
    };
    let holds = match op {
        "gt" => a > b,
        "gte" => a >= b,
        "lt" => a < b,
        _ => a <= b,
    };
    if holds {
        Ok(())
    } else {
        failed(format!("{a} {op} {b} does not hold"))
    }
}

fn length(actual: &Value, expected: &Value) -> Result<(), StepError> {
    let len = match actual {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        Value::String(s) => s.chars().count(),
        other => return failed(format!("{} has no length", short(other))),
    };
    if number(expected) == Some(len as f64) {
        Ok(())
    } else {
        failed(format!("length {len}, expected {expected}"))
    }
}

fn short(value: &Value) -> String {
    short_text(&value.to_string())
}

fn short_text(text: &str) -> String {
    let mut out: String = text.chars().take(300).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out.replace('\n', "\\n")
}

/// Runs one section (setup, the section, teardown) and says how it went.
pub async fn run_section(
    suite: &Suite,
    steps: &[Value],
    runner: &mut Runner<'_>,
    version: &str,
) -> Outcome {
    match skip_reason(steps, version) {
        Ok(Some(reason)) => return Outcome::Skipped(reason),
        Ok(None) => {}
        Err(e) => return Outcome::Failed(format!("skip: {e}")),
    }
    let mut result = runner.run(&suite.setup).await.map_err(|e| match e {
        StepError::Failed(m) => StepError::Failed(format!("setup: {m}")),
        refused => refused,
    });
    if result.is_ok() {
        result = runner.run(steps).await;
    }
    let teardown = runner.run(&suite.teardown).await;
    match (result, teardown) {
        (Ok(()), Ok(())) => Outcome::Passed,
        (Err(StepError::Refused(m)), _) => Outcome::Refused(m),
        (Err(StepError::Failed(m)), _) => Outcome::Failed(m),
        (Ok(()), Err(StepError::Failed(m))) => Outcome::Failed(format!("teardown: {m}")),
        (Ok(()), Err(StepError::Refused(m))) => Outcome::Refused(m),
    }
}
