//! [`DomainClient`]: signs each request for one domain and sends it, retrying what is safe.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use tokio::time::Instant;

use crate::deadline;
use crate::retry::{self, Idempotency, RetryPolicy};
use crate::sigv4::{self, RequestToSign, SignatureOptions, SigningScope};
use crate::{CredentialSource, DomainEndpoint, SharedTimeSource, SigningError};

/// How long opening a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The HTTP client domain requests use (rustls, per-attempt timeouts). Build it once and
/// share it, so connections are reused across requests and domains.
pub fn http_client() -> Result<reqwest::Client, SigningError> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config()?)
        // Never follow a redirect (see `SigningError::Redirected`).
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(deadline::ATTEMPT_TIMEOUT)
        .build()
        .map_err(|e| SigningError::InvalidRequest(format!("cannot build HTTP client: {e}")))
}

/// TLS 1.2 and 1.3 (a domain's TLS policy may allow 1.2 only), trusting Mozilla's root
/// certificates compiled into the binary rather than the system's: reading and parsing the
/// system's certificate files took half of a cold start, and every AWS endpoint (domains,
/// custom endpoints with ACM certificates, S3, STS) chains to a root in that set.
fn tls_config() -> Result<rustls::ClientConfig, SigningError> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| SigningError::InvalidRequest(format!("cannot configure TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// A request to a domain, relative to its endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainRequest {
    method: Method,
    /// Already percent-encoded, starting with `/`.
    path: String,
    query: Vec<(String, String)>,
    body: Option<Bytes>,
    /// An AWS JSON protocol call (`x-amz-target`, sent as `application/x-amz-json-1.1`).
    aws_json_target: Option<&'static str>,
    idempotency: Idempotency,
}

impl DomainRequest {
    /// A request to the path made of `segments`, each percent-encoded on its own (so a `/` in a
    /// name can never change the path). `GET`, `HEAD` and `DELETE` count as idempotent;
    /// anything else must be declared idempotent with [`DomainRequest::idempotent`].
    pub fn new<S: AsRef<str>>(method: Method, segments: &[S]) -> Self {
        let mut path = String::new();
        for segment in segments {
            path.push('/');
            encode_segment(segment.as_ref(), &mut path);
        }
        if path.is_empty() {
            path.push('/');
        }
        let idempotency = if matches!(method, Method::GET | Method::HEAD | Method::DELETE) {
            Idempotency::Idempotent
        } else {
            Idempotency::NotIdempotent
        };
        Self {
            method,
            path,
            query: Vec::new(),
            body: None,
            aws_json_target: None,
            idempotency,
        }
    }

    pub fn get<S: AsRef<str>>(segments: &[S]) -> Self {
        Self::new(Method::GET, segments)
    }

    #[must_use]
    pub fn query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_owned(), value.into()));
        self
    }

    /// A JSON body (sent with `content-type: application/json`).
    #[must_use]
    pub fn json_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// An AWS JSON 1.1 call to `target` (`secretsmanager.GetSecretValue`) with this body.
    #[must_use]
    pub fn aws_json(mut self, target: &'static str, body: impl Into<Bytes>) -> Self {
        self.aws_json_target = Some(target);
        self.body = Some(body.into());
        self
    }

    /// Declares that sending this request twice is harmless (e.g. a repository `PUT` with the
    /// same settings), so that timeouts and 5xx answers may be retried.
    #[must_use]
    pub fn idempotent(mut self) -> Self {
        self.idempotency = Idempotency::Idempotent;
        self
    }

    pub fn method(&self) -> &Method {
        &self.method
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }

    pub fn body(&self) -> Option<&Bytes> {
        self.body.as_ref()
    }

    pub fn idempotency(&self) -> Idempotency {
        self.idempotency
    }
}

/// Percent-encodes one path segment. `,` and `*` stay literal: they are legal in a path, and
/// the domain reads them as list separators and wildcards (`_snapshot/repo/a,b`, `logs-*`).
fn encode_segment(segment: &str, out: &mut String) {
    percent_encode(segment, |b| b == b',' || b == b'*', out);
}

/// The query string with every byte but the unreserved ones percent-encoded (space as `%20`,
/// never `+`), which is the form SigV4 canonicalises to, so the signed and sent forms agree.
fn encode_query(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode(name, |_| false, &mut out);
        out.push('=');
        percent_encode(value, |_| false, &mut out);
    }
    out
}

fn percent_encode(text: &str, also_keep: impl Fn(u8) -> bool, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || also_keep(byte)
        {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

/// The domain's answer, whatever its status.
#[derive(Debug, Clone)]
pub struct DomainResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// How many attempts it took (1 when the first one was answered for good).
    pub attempts: u32,
}

/// How a request proves who sends it.
#[derive(Debug, Clone)]
pub enum Authentication {
    /// SigV4: every AWS endpoint (domains, S3, STS, Secrets Manager).
    SigV4(CredentialSource),
    /// HTTP basic authentication: a self-managed cluster's user.
    Basic(BasicCredentials),
    /// None at all: a self-managed cluster without a security plugin.
    Anonymous,
}

/// A basic `Authorization` header's value. It is marked sensitive on the wire and never shown
/// by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    header: String,
}

impl BasicCredentials {
    /// RFC 7617: `Basic base64(user-id ":" password)`; a user id holding `:` cannot be sent.
    pub fn new(username: &str, password: &str) -> Result<Self, SigningError> {
        use base64::Engine as _;
        if username.contains(':') {
            return Err(SigningError::InvalidRequest(
                "a basic authentication user name cannot contain `:`".into(),
            ));
        }
        let pair = format!("{username}:{password}");
        Ok(Self {
            header: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            ),
        })
    }

    fn header(&self) -> &str {
        &self.header
    }
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BasicCredentials(redacted)")
    }
}

/// Sends signed requests to one domain.
#[derive(Debug, Clone)]
pub struct DomainClient {
    http: reqwest::Client,
    endpoint: DomainEndpoint,
    auth: Authentication,
    time: SharedTimeSource,
    retry: RetryPolicy,
    signature: SignatureOptions,
    /// When the invocation must have answered: every attempt ends early enough to leave
    /// room after it (see [`crate::deadline`]).
    deadline: Option<std::time::SystemTime>,
}

impl DomainClient {
    /// Builds the client. Nothing is fetched or connected until the first request.
    pub fn new(
        endpoint: DomainEndpoint,
        credentials: CredentialSource,
        time: SharedTimeSource,
    ) -> Result<Self, SigningError> {
        Ok(Self::with_http_client(
            http_client()?,
            endpoint,
            credentials,
            time,
        ))
    }

    /// Builds the client over an existing HTTP client (shared connection pool).
    pub fn with_http_client(
        http: reqwest::Client,
        endpoint: DomainEndpoint,
        credentials: CredentialSource,
        time: SharedTimeSource,
    ) -> Self {
        Self::with_authentication(http, endpoint, Authentication::SigV4(credentials), time)
    }

    /// Builds the client for a cluster that authenticates otherwise than with SigV4.
    pub fn with_authentication(
        http: reqwest::Client,
        endpoint: DomainEndpoint,
        auth: Authentication,
        time: SharedTimeSource,
    ) -> Self {
        Self {
            http,
            endpoint,
            auth,
            time,
            retry: RetryPolicy::default(),
            signature: SignatureOptions::default(),
            deadline: None,
        }
    }

    #[must_use]
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Signs with other SigV4 options than a domain needs (S3 signs the payload and encodes
    /// the path once).
    #[must_use]
    pub fn with_signature_options(mut self, signature: SignatureOptions) -> Self {
        self.signature = signature;
        self
    }

    /// The same client, with every attempt fitted to the invocation's `deadline`.
    #[must_use]
    pub fn with_deadline(mut self, deadline: Option<std::time::SystemTime>) -> Self {
        self.deadline = deadline;
        self
    }

    pub fn endpoint(&self) -> &DomainEndpoint {
        &self.endpoint
    }

    /// Signs and sends `request`, retrying as [`crate::retry`] allows. Returns the last
    /// response whatever its status; fails only when no response was had.
    pub async fn send(&self, request: &DomainRequest) -> Result<DomainResponse, SigningError> {
        let started = Instant::now();
        let mut rng = fastrand::Rng::new();
        let mut attempt = 1;
        loop {
            let Some(timeout) =
                deadline::attempt_timeout(self.time.now(), self.deadline, request.idempotency)
            else {
                let left = self.deadline.map_or(Duration::ZERO, |d| {
                    d.duration_since(self.time.now()).unwrap_or_default()
                });
                tracing::warn!(
                    method = %request.method, path = %request.path, attempt,
                    left_ms = left.as_millis(), "no time left for another attempt"
                );
                return Err(SigningError::OutOfTime {
                    attempts: attempt - 1,
                    left,
                });
            };
            let outcome = self.send_once(request, timeout).await?;
            let (retryable, retry_after) = match &outcome {
                Ok((status, headers, body)) => (
                    retry::is_retryable_status(*status, body, request.idempotency),
                    retry::retry_after(headers),
                ),
                Err(error) => (
                    error.is_connect() || request.idempotency == Idempotency::Idempotent,
                    None,
                ),
            };
            let delay = self.retry.delay(attempt, retry_after, &mut rng);
            // Another attempt only if it still fits before the deadline after the wait;
            // otherwise this outcome is the answer.
            let within_budget = started.elapsed() + delay <= self.retry.time_budget
                && deadline::attempt_timeout(
                    self.time.now() + delay,
                    self.deadline,
                    request.idempotency,
                )
                .is_some();
            if !(retryable && attempt < self.retry.max_attempts && within_budget) {
                return self.finish(request, outcome, attempt, started.elapsed());
            }
            match &outcome {
                Ok((status, ..)) => tracing::warn!(
                    method = %request.method, path = %request.path, status = status.as_u16(),
                    attempt, delay_ms = delay.as_millis(), "domain request will be retried"
                ),
                Err(error) => tracing::warn!(
                    method = %request.method, path = %request.path, error = %error,
                    attempt, delay_ms = delay.as_millis(), "domain request will be retried"
                ),
            }
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    fn finish(
        &self,
        request: &DomainRequest,
        outcome: Result<(StatusCode, HeaderMap, Bytes), reqwest::Error>,
        attempts: u32,
        elapsed: Duration,
    ) -> Result<DomainResponse, SigningError> {
        match outcome {
            Ok((status, headers, _)) if status.is_redirection() => Err(SigningError::Redirected {
                status: status.as_u16(),
                host: redirect_host(self.endpoint.url(), &headers),
            }),
            Ok((status, headers, body)) => {
                tracing::debug!(
                    method = %request.method, path = %request.path, status = status.as_u16(),
                    attempts, elapsed_ms = elapsed.as_millis(), "domain request answered"
                );
                Ok(DomainResponse {
                    status,
                    headers,
                    body,
                    attempts,
                })
            }
            Err(source) if source.is_connect() => Err(SigningError::Connect {
                attempts,
                elapsed,
                source,
            }),
            Err(source) => Err(SigningError::Transport {
                attempts,
                elapsed,
                source,
            }),
        }
    }

    async fn send_once(
        &self,
        request: &DomainRequest,
        timeout: Duration,
    ) -> Result<Result<(StatusCode, HeaderMap, Bytes), reqwest::Error>, SigningError> {
        let mut built = self.build_signed(request).await?;
        *built.timeout_mut() = Some(timeout);
        Ok(async {
            let response = self.http.execute(built).await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            Ok((status, headers, body))
        }
        .await)
    }

    /// Builds the exact request that goes on the wire, signed. Public so tests can inspect it.
    pub async fn build_signed(
        &self,
        request: &DomainRequest,
    ) -> Result<reqwest::Request, SigningError> {
        let mut url = self.endpoint.url().clone();
        url.set_path(&request.path);
        if !request.query.is_empty() {
            url.set_query(Some(&encode_query(&request.query)));
        }
        let host = match url.port() {
            Some(port) => format!("{}:{port}", self.endpoint.host_for_header()),
            None => self.endpoint.host_for_header(),
        };
        let body = request.body.clone().unwrap_or_default();
        let mut headers: Vec<(&str, &str)> = vec![("host", &host)];
        match (request.aws_json_target, request.body.is_some()) {
            (Some(target), _) => {
                headers.push(("content-type", "application/x-amz-json-1.1"));
                headers.push(("x-amz-target", target));
            }
            (None, true) => headers.push(("content-type", "application/json")),
            (None, false) => {}
        }
        let added: Vec<(&str, String)> = match &self.auth {
            Authentication::SigV4(source) => {
                let credentials = source.credentials().await?;
                sigv4::sign_request(
                    &RequestToSign {
                        method: request.method.as_str(),
                        uri: url.as_str(),
                        headers: &headers,
                        body: &body,
                    },
                    &credentials,
                    &SigningScope {
                        region: self.endpoint.region(),
                        service: self.endpoint.service(),
                        time: self.time.now(),
                    },
                    &self.signature,
                )?
                .headers
            }
            Authentication::Basic(basic) => vec![("authorization", basic.header().to_owned())],
            Authentication::Anonymous => Vec::new(),
        };

        let mut built = reqwest::Request::new(request.method.clone(), url);
        let header_map = built.headers_mut();
        for (name, value) in headers
            .iter()
            .map(|(n, v)| (*n, (*v).to_owned()))
            .chain(added)
        {
            let mut value = HeaderValue::from_str(&value).map_err(|_| {
                SigningError::InvalidRequest(format!("header `{name}` has an invalid value"))
            })?;
            value.set_sensitive(sigv4::is_secret_header(name) || name == "authorization");
            header_map.insert(
                http::HeaderName::from_static(static_header_name(name)?),
                value,
            );
        }
        *built.body_mut() = Some(body.into());
        Ok(built)
    }
}

/// The host a redirect points to, quoted short; never its path or query (which may carry a
/// token).
fn redirect_host(base: &url::Url, headers: &HeaderMap) -> String {
    headers
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|location| base.join(location).ok())
        .and_then(|url| url.host_str().map(policy::quote::short))
        .unwrap_or_else(|| "(none given)".to_owned())
}

/// The header names this client ever sets, as `'static` strings.
fn static_header_name(name: &str) -> Result<&'static str, SigningError> {
    const KNOWN: [&str; 7] = [
        "host",
        "content-type",
        "x-amz-target",
        "x-amz-date",
        "authorization",
        "x-amz-security-token",
        "x-amz-content-sha256",
    ];
    KNOWN
        .iter()
        .copied()
        .find(|k| k.eq_ignore_ascii_case(name))
        .ok_or_else(|| SigningError::InvalidRequest(format!("unexpected header `{name}`")))
}

impl DomainEndpoint {
    /// The host as it appears in the `Host` header (IPv6 in brackets).
    fn host_for_header(&self) -> String {
        match self.url().host() {
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            _ => self.host().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_roots_include_those_aws_endpoints_chain_to() {
        let subjects: Vec<&[u8]> = webpki_roots::TLS_SERVER_ROOTS
            .iter()
            .map(|anchor| anchor.subject.as_ref())
            .collect();
        let trusted = |name: &str| {
            subjects
                .iter()
                .any(|s| s.windows(name.len()).any(|w| w == name.as_bytes()))
        };
        // Amazon Trust Services: domains, ACM certificates on custom endpoints, S3, STS.
        for name in [
            "Amazon Root CA 1",
            "Amazon Root CA 2",
            "Amazon Root CA 3",
            "Amazon Root CA 4",
            "Starfield Services Root Certificate Authority - G2",
        ] {
            assert!(trusted(name), "{name} is missing");
        }
        assert!(tls_config().is_ok());
    }

    #[test]
    fn segments_are_encoded_one_by_one() {
        let request = DomainRequest::get(&["_snapshot", "my repo", "a/b", "x,y*", "ü"]);
        assert_eq!(request.path(), "/_snapshot/my%20repo/a%2Fb/x,y*/%C3%BC");
        assert_eq!(DomainRequest::get::<&str>(&[]).path(), "/");
    }

    #[test]
    fn query_values_are_strictly_encoded() {
        let pairs = [
            ("h".to_owned(), "index,docs.count".to_owned()),
            ("q".to_owned(), "a b+c*".to_owned()),
        ];
        assert_eq!(encode_query(&pairs), "h=index%2Cdocs.count&q=a%20b%2Bc%2A");
    }

    #[test]
    fn idempotency_follows_the_method_unless_declared() {
        assert_eq!(
            DomainRequest::get(&["a"]).idempotency(),
            Idempotency::Idempotent
        );
        let delete = DomainRequest::new(Method::DELETE, &["a"]);
        assert_eq!(delete.idempotency(), Idempotency::Idempotent);
        let put = DomainRequest::new(Method::PUT, &["a"]);
        assert_eq!(put.idempotency(), Idempotency::NotIdempotent);
        assert_eq!(put.idempotent().idempotency(), Idempotency::Idempotent);
        let post = DomainRequest::new(Method::POST, &["a"]);
        assert_eq!(post.idempotency(), Idempotency::NotIdempotent);
    }
}
