//! Errors the stand-in's S3 answers, as S3 answers them: `503 SlowDown` when a prefix takes
//! more requests than it can ("Best practices design patterns: optimizing Amazon S3
//! performance"), and `500 InternalError` when S3 itself fails. Both are S3's XML error
//! documents ("Error responses" in the S3 API reference), which every S3 client, the engines'
//! and osnap's, takes as retryable. Set per test through [`S3FaultControl`]; every random
//! choice comes from the seeded generator.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

/// One S3 error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S3Fault {
    /// 503 `SlowDown`: "Please reduce your request rate."
    SlowDown,
    /// 500 `InternalError`: "We encountered an internal error. Please try again."
    InternalError,
}

impl S3Fault {
    pub(crate) fn status(self) -> http::StatusCode {
        match self {
            Self::SlowDown => http::StatusCode::SERVICE_UNAVAILABLE,
            Self::InternalError => http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::SlowDown => "SlowDown",
            Self::InternalError => "InternalError",
        }
    }

    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::SlowDown => "Please reduce your request rate.",
            Self::InternalError => "We encountered an internal error. Please try again.",
        }
    }

    /// S3's error document for this fault (HEAD answers carry no body).
    pub(crate) fn body(self, resource: &str) -> String {
        let resource = resource
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>\
             <Resource>{resource}</Resource><RequestId>STANDIN</RequestId><HostId>STANDIN</HostId></Error>",
            self.code(),
            self.message()
        )
    }
}

/// Which requests a rule takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S3Requests {
    /// `GET` and `HEAD`.
    Reads,
    /// `PUT`, `POST` and `DELETE`.
    Writes,
    All,
}

/// Which S3 requests fail, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct S3FaultRule {
    pub fault: S3Fault,
    pub requests: S3Requests,
    /// Only paths (`/bucket/key`) containing this; `None` takes every path.
    pub path_contains: Option<String>,
    /// Each path's first `n` matching requests pass: S3 fails after a reader has begun
    /// (a restore that read its metadata, then its data).
    pub passing_per_path: u32,
    /// Each path's first `n` matching requests (after those that pass) fail and later ones
    /// pass (a client that retries gets through); `None` fails them all.
    pub first_per_path: Option<u32>,
    /// The chance a matching request fails (1.0: always).
    pub probability: f64,
}

impl S3FaultRule {
    /// Every request fails with `fault`.
    pub fn new(fault: S3Fault) -> Self {
        Self {
            fault,
            requests: S3Requests::All,
            path_contains: None,
            passing_per_path: 0,
            first_per_path: None,
            probability: 1.0,
        }
    }

    #[must_use]
    pub fn on(mut self, requests: S3Requests) -> Self {
        self.requests = requests;
        self
    }

    #[must_use]
    pub fn where_path_contains(mut self, part: impl Into<String>) -> Self {
        self.path_contains = Some(part.into());
        self
    }

    /// Each path's first `n` matching requests pass; the fault takes the ones after.
    #[must_use]
    pub fn after_per_path(mut self, n: u32) -> Self {
        self.passing_per_path = n;
        self
    }

    /// Only each path's first `n` matching requests.
    #[must_use]
    pub fn first_per_path(mut self, n: u32) -> Self {
        self.first_per_path = Some(n);
        self
    }

    #[must_use]
    pub fn with_probability(mut self, probability: f64) -> Self {
        self.probability = probability;
        self
    }

    fn matches(&self, method: &http::Method, path: &str) -> bool {
        let reads = matches!(*method, http::Method::GET | http::Method::HEAD);
        let kind = match self.requests {
            S3Requests::Reads => reads,
            S3Requests::Writes => !reads,
            S3Requests::All => true,
        };
        kind && self
            .path_contains
            .as_deref()
            .is_none_or(|part| path.contains(part))
    }
}

/// Changes a running S3 server's faults.
#[derive(Debug, Clone)]
pub struct S3FaultControl {
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    rules: Vec<S3FaultRule>,
    rng: fastrand::Rng,
    /// Per rule, each path's requests: matched, and refused.
    seen: Vec<BTreeMap<String, (u32, u32)>>,
    injected: u64,
}

impl Default for S3FaultControl {
    fn default() -> Self {
        Self::with_seed(1)
    }
}

impl S3FaultControl {
    pub fn with_seed(seed: u64) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                rules: Vec::new(),
                rng: fastrand::Rng::with_seed(seed),
                seen: Vec::new(),
                injected: 0,
            })),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Random choices from now on follow `seed`.
    pub fn reseed(&self, seed: u64) {
        self.state().rng = fastrand::Rng::with_seed(seed);
    }

    /// Adds a rule after the existing ones (the first matching rule decides).
    pub fn push(&self, rule: S3FaultRule) {
        let mut state = self.state();
        state.rules.push(rule);
        state.seen.push(BTreeMap::new());
    }

    /// Removes every rule: S3 is well again.
    pub fn clear(&self) {
        let mut state = self.state();
        state.rules.clear();
        state.seen.clear();
    }

    /// How many S3 requests have been refused so far.
    pub fn injected(&self) -> u64 {
        self.state().injected
    }

    /// The fault this request gets, if any.
    pub(crate) fn decide(&self, method: &http::Method, path: &str) -> Option<S3Fault> {
        let mut state = self.state();
        let State {
            rules,
            rng,
            seen,
            injected,
        } = &mut *state;
        let at = rules.iter().position(|r| r.matches(method, path))?;
        let rule = &rules[at];
        let (matched, refused) = seen[at].entry(path.to_owned()).or_default();
        *matched += 1;
        if *matched <= rule.passing_per_path || rule.first_per_path.is_some_and(|n| *refused >= n) {
            return None;
        }
        if rule.probability < 1.0 && rng.f64() >= rule.probability {
            return None;
        }
        *refused += 1;
        *injected += 1;
        Some(rule.fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn each_path_fails_its_first_requests_only() {
        let control = S3FaultControl::default();
        control.push(
            S3FaultRule::new(S3Fault::SlowDown)
                .on(S3Requests::Writes)
                .where_path_contains("/indices/")
                .first_per_path(1),
        );
        assert_eq!(control.decide(&Method::GET, "/b/s/indices/a.json"), None);
        assert_eq!(control.decide(&Method::PUT, "/b/s/manifest.json"), None);
        assert_eq!(
            control.decide(&Method::PUT, "/b/s/indices/a.json"),
            Some(S3Fault::SlowDown)
        );
        assert_eq!(control.decide(&Method::PUT, "/b/s/indices/a.json"), None);
        assert_eq!(
            control.decide(&Method::PUT, "/b/s/indices/b.json"),
            Some(S3Fault::SlowDown)
        );
        assert_eq!(control.injected(), 2);
        control.clear();
        assert_eq!(control.decide(&Method::PUT, "/b/s/indices/c.json"), None);
    }

    #[test]
    fn a_path_can_fail_once_it_has_been_read() {
        let control = S3FaultControl::default();
        control.push(S3FaultRule::new(S3Fault::InternalError).after_per_path(1));
        assert_eq!(control.decide(&Method::GET, "/b/k"), None);
        for _ in 0..3 {
            assert_eq!(
                control.decide(&Method::GET, "/b/k"),
                Some(S3Fault::InternalError)
            );
        }
        assert_eq!(control.decide(&Method::GET, "/b/other"), None);
    }

    #[test]
    fn the_error_document_is_s3s() {
        let body = S3Fault::InternalError.body("/b/k<1>");
        assert!(body.contains("<Code>InternalError</Code>"), "{body}");
        assert!(
            body.contains("<Resource>/b/k&lt;1&gt;</Resource>"),
            "{body}"
        );
        assert_eq!(S3Fault::SlowDown.status(), 503);
    }
}
