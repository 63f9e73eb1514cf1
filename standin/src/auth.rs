//! The emulated domain's signature check: SigV4 verified from the request as received, with
//! its own canonicalisation (written from the SigV4 specification, independently of the
//! signer osnap uses), and AWS's 403 answers when it fails.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use hmac::{KeyInit, Mac};
use http::StatusCode;
use policy::time::UtcDateTime;
use sha2::{Digest, Sha256};

/// A caller the emulated domain knows.
#[derive(Clone, PartialEq, Eq)]
pub struct TestPrincipal {
    pub access_key: String,
    pub secret_key: String,
    /// The identity AWS would name in an authorisation error.
    pub arn: String,
}

impl std::fmt::Debug for TestPrincipal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPrincipal")
            .field("access_key", &self.access_key)
            .field("arn", &self.arn)
            .finish_non_exhaustive()
    }
}

impl TestPrincipal {
    /// The stand-in's default caller.
    pub fn default_operator() -> Self {
        Self {
            access_key: "AKIDSTANDIN".into(),
            secret_key: "standin-secret".into(),
            arn: "arn:aws:iam::123456789012:user/osnap-test".into(),
        }
    }
}

/// What a request must be signed for.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub region: String,
    pub service: String,
    pub principals: Vec<TestPrincipal>,
}

/// How far a request's `x-amz-date` may be from the domain's clock, as on AWS.
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// Why a request was refused, each with the answer AWS gives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("request is not signed")]
    Missing { action: String },
    #[error("authorization header is malformed: {0}")]
    Malformed(String),
    #[error("unknown access key")]
    UnknownAccessKey,
    #[error("credential scoped to region `{0}`")]
    WrongRegion(String),
    #[error("credential scoped to service `{0}`")]
    WrongService(String),
    #[error("signature expired or not yet valid: {0}")]
    Expired(String),
    #[error("signature does not match")]
    SignatureMismatch,
}

impl AuthFailure {
    pub fn status(&self) -> StatusCode {
        StatusCode::FORBIDDEN
    }

    /// The JSON body AWS answers with.
    pub fn body(&self) -> String {
        let message = match self {
            Self::Missing { action } => {
                return serde_json::json!({
                    "Message": format!(
                        "User: anonymous is not authorized to perform: {action} because no \
                         resource-based policy allows the {action} action"
                    )
                })
                .to_string();
            }
            Self::Malformed(_) => {
                "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' \
                 parameters."
                    .to_owned()
            }
            Self::UnknownAccessKey => {
                "The security token included in the request is invalid.".to_owned()
            }
            Self::WrongRegion(region) => {
                format!("Credential should be scoped to a valid region, not '{region}'. ")
            }
            Self::WrongService(_) => {
                "Credential should be scoped to correct service: 'es'. ".into()
            }
            Self::Expired(detail) => format!("Signature expired: {detail}"),
            Self::SignatureMismatch => "The request signature we calculated does not match the \
                 signature you provided. Check your AWS Secret Access Key and signing method. \
                 Consult the service documentation for details."
                .to_owned(),
        };
        serde_json::json!({ "message": message }).to_string()
    }
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 …` header.
struct Authorization<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, AuthFailure> {
    let malformed = |what: &str| AuthFailure::Malformed(what.to_owned());
    let rest = value
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or_else(|| malformed("unsupported algorithm"))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => return Err(malformed("unexpected parameter")),
        }
    }
    let credential = credential.ok_or_else(|| malformed("no Credential"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, "aws4_request"] = scope.as_slice() else {
        return Err(malformed("bad credential scope"));
    };
    Ok(Authorization {
        access_key,
        date,
        region,
        service,
        signed_headers: signed
            .ok_or_else(|| malformed("no SignedHeaders"))?
            .split(';')
            .collect(),
        signature: signature.ok_or_else(|| malformed("no Signature"))?,
    })
}

/// The IAM action AWS names for an unsigned request with this method.
fn es_action(method: &http::Method) -> String {
    let verb = match *method {
        http::Method::GET => "Get",
        http::Method::PUT => "Put",
        http::Method::POST => "Post",
        http::Method::DELETE => "Delete",
        http::Method::HEAD => "Head",
        _ => "Patch",
    };
    format!("es:ESHttp{verb}")
}

/// Checks the request's SigV4 signature; returns who signed it.
pub fn verify_request<'c>(
    parts: &http::request::Parts,
    body: &[u8],
    config: &'c AuthConfig,
    now: SystemTime,
) -> Result<&'c TestPrincipal, AuthFailure> {
    let Some(header) = parts.headers.get(http::header::AUTHORIZATION) else {
        return Err(AuthFailure::Missing {
            action: es_action(&parts.method),
        });
    };
    let header = header
        .to_str()
        .map_err(|_| AuthFailure::Malformed("not text".into()))?;
    let auth = parse_authorization(header)?;
    let principal = config
        .principals
        .iter()
        .find(|p| p.access_key == auth.access_key)
        .ok_or(AuthFailure::UnknownAccessKey)?;
    // Temporary (STS) credentials are only valid with their session token.
    if principal.access_key.starts_with("ASIA")
        && header_text(parts, "x-amz-security-token").is_none()
    {
        return Err(AuthFailure::UnknownAccessKey);
    }
    if auth.region != config.region {
        return Err(AuthFailure::WrongRegion(auth.region.to_owned()));
    }
    if auth.service != config.service {
        return Err(AuthFailure::WrongService(auth.service.to_owned()));
    }
    let amz_date = header_text(parts, "x-amz-date")
        .ok_or_else(|| AuthFailure::Malformed("no x-amz-date".into()))?;
    let signed_at =
        parse_amz_date(amz_date).ok_or_else(|| AuthFailure::Malformed("bad x-amz-date".into()))?;
    if !amz_date.starts_with(auth.date) {
        return Err(AuthFailure::Malformed("date and scope differ".into()));
    }
    let skew = now
        .duration_since(signed_at)
        .or_else(|e| Ok::<_, AuthFailure>(e.duration()))?;
    if skew > MAX_CLOCK_SKEW {
        return Err(AuthFailure::Expired(format!(
            "{amz_date} is more than 15 min. from the domain's time"
        )));
    }
    if !auth.signed_headers.contains(&"host") {
        return Err(AuthFailure::Malformed("host is not signed".into()));
    }

    let canonical = canonical_request(parts, body, &auth.signed_headers)?;
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{}/{}/{}/aws4_request\n{}",
        auth.date,
        auth.region,
        auth.service,
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{}", principal.secret_key).as_bytes(),
        auth.date.as_bytes(),
    );
    for part in [auth.region, auth.service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let expected = hex(&hmac(&key, string_to_sign.as_bytes()));
    if expected.as_bytes() == auth.signature.as_bytes() {
        Ok(principal)
    } else {
        tracing::debug!(%canonical, "signature mismatch");
        Err(AuthFailure::SignatureMismatch)
    }
}

fn header_text<'a>(parts: &'a http::request::Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

fn canonical_request(
    parts: &http::request::Parts,
    body: &[u8],
    signed_headers: &[&str],
) -> Result<String, AuthFailure> {
    let mut out = String::new();
    out.push_str(parts.method.as_str());
    out.push('\n');
    out.push_str(&canonical_path(parts.uri.path()));
    out.push('\n');
    out.push_str(&canonical_query(parts.uri.query().unwrap_or("")));
    out.push('\n');
    for name in signed_headers {
        let values: Vec<String> = parts
            .headers
            .get_all(*name)
            .iter()
            .map(|v| collapse_spaces(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        if values.is_empty() {
            return Err(AuthFailure::Malformed(format!(
                "signed header {name} is missing"
            )));
        }
        let _ = writeln!(out, "{name}:{}", values.join(","));
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    match header_text(parts, "x-amz-content-sha256") {
        Some(hash) => out.push_str(hash),
        None => out.push_str(&hex(&Sha256::digest(body))),
    }
    Ok(out)
}

/// Normalised path (no empty or `.` segments, `..` applied), each segment encoded again as
/// every service but S3 does.
fn canonical_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::new();
    for segment in &segments {
        out.push('/');
        out.push_str(&uri_encode(segment.as_bytes()));
    }
    if out.is_empty() || (path.ends_with('/') && !segments.is_empty()) {
        out.push('/');
    }
    out
}

/// Parameters decoded, re-encoded strictly, and sorted by name then value.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k)),
                uri_encode(&percent_decode(v)),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn uri_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match decoded {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

fn collapse_spaces(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `20261118T110640Z` → time.
pub fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| text.get(r)?.parse::<u32>().ok();
    UtcDateTime {
        year: i64::from(n(0..4)?),
        month: n(4..6)?,
        day: n(6..8)?,
        hour: n(9..11)?,
        minute: n(11..13)?,
        second: n(13..15)?,
    }
    .to_system_time()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_path_encodes_twice_and_normalises() {
        assert_eq!(canonical_path("/"), "/");
        assert_eq!(canonical_path(""), "/");
        assert_eq!(canonical_path("/_snapshot/r/a,b"), "/_snapshot/r/a%2Cb");
        assert_eq!(canonical_path("/snap%202026"), "/snap%25202026");
        assert_eq!(canonical_path("//a/./b/../c/"), "/a/c/");
    }

    #[test]
    fn canonical_query_sorts_and_encodes_strictly() {
        assert_eq!(
            canonical_query("wait_for_completion=false&format=json&h=a%2Cb&x"),
            "format=json&h=a%2Cb&wait_for_completion=false&x="
        );
        assert_eq!(canonical_query("q=a+b"), "q=a%2Bb");
    }

    #[test]
    fn amz_dates_parse() {
        assert_eq!(
            parse_amz_date("20261118T110640Z"),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000))
        );
        assert_eq!(parse_amz_date("2026-11-18T11:06:40Z"), None);
    }

    #[test]
    fn unsigned_requests_get_the_anonymous_iam_answer() {
        let failure = AuthFailure::Missing {
            action: es_action(&http::Method::PUT),
        };
        assert!(
            failure
                .body()
                .contains("User: anonymous is not authorized to perform: es:ESHttpPut")
        );
        assert_eq!(failure.status(), StatusCode::FORBIDDEN);
    }
}
