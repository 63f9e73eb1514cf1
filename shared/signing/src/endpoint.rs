//! The endpoint guard: a Lambda that holds snapshot permissions must only sign requests for the
//! domains it manages, never for an arbitrary host named in an event.

use std::net::IpAddr;

use url::{Host, Url};

use crate::EndpointError;

/// The environment variable that lets the functions sign for loopback addresses, for tests
/// against a local stand-in only. In Lambda, loopback is the Runtime API and any extension:
/// nothing there may receive a signed request. Its value must be
/// [`LOOPBACK_SWITCH_VALUE`], so that no one turns it on by setting it to `1` or `true`.
pub const LOOPBACK_SWITCH: &str = "OSNAP_TEST_ONLY_SIGN_FOR_LOOPBACK";
pub const LOOPBACK_SWITCH_VALUE: &str = "yes, this is a test";

/// Hosts that may be signed for besides AWS domain hosts (custom domain endpoints, for
/// instance), and whether loopback may be (tests only). Host names compare
/// case-insensitively and exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointPolicy {
    allowed_hosts: Vec<String>,
    loopback: bool,
}

impl EndpointPolicy {
    /// Only AWS domain hosts.
    pub fn aws_only() -> Self {
        Self::default()
    }

    /// Also loopback addresses (a local stand-in): for tests and the local demo only.
    #[must_use]
    pub fn allowing_loopback_for_tests(mut self) -> Self {
        self.loopback = true;
        self
    }

    /// Whether the test-only loopback switch is set to its exact value in `lookup`.
    pub fn loopback_switch_is_set(lookup: impl Fn(&str) -> Option<String>) -> bool {
        lookup(LOOPBACK_SWITCH).as_deref() == Some(LOOPBACK_SWITCH_VALUE)
    }

    /// Also allows these exact host names.
    pub fn with_allowed_hosts<I, S>(hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let allowed_hosts = hosts
            .into_iter()
            .map(|h| h.as_ref().trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        Self {
            allowed_hosts,
            loopback: false,
        }
    }

    /// Parses a comma-separated list, as found in `OSNAP_ALLOWED_HOSTS`.
    pub fn from_list(list: &str) -> Self {
        Self::with_allowed_hosts(list.split(','))
    }

    fn allows(&self, host: &str) -> bool {
        self.allowed_hosts.iter().any(|h| h == host)
    }
}

/// Which AWS service a host belongs to, and so the SigV4 service name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsSearchService {
    /// Amazon OpenSearch Service and legacy Amazon Elasticsearch Service domains.
    Domain,
    /// Amazon OpenSearch Serverless collections.
    Serverless,
}

impl AwsSearchService {
    pub fn signing_name(self) -> &'static str {
        match self {
            Self::Domain => "es",
            Self::Serverless => "aoss",
        }
    }
}

/// An endpoint that passed the guard, with the region and service to sign for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainEndpoint {
    base: Url,
    host: String,
    region: String,
    service: String,
}

impl DomainEndpoint {
    /// Checks `endpoint` against the policy and works out its region.
    ///
    /// A bare host name means `https://`. Plain `http://` is accepted only for loopback.
    pub fn parse(
        endpoint: &str,
        region: Option<&str>,
        policy: &EndpointPolicy,
    ) -> Result<Self, EndpointError> {
        let trimmed = endpoint.trim();
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_owned()
        } else {
            format!("https://{trimmed}")
        };
        let invalid = |reason: &str| EndpointError::Invalid {
            endpoint: policy::quote::short(endpoint),
            reason: policy::quote::short(reason),
        };
        let base = Url::parse(&with_scheme).map_err(|e| invalid(&e.to_string()))?;
        if !base.username().is_empty() || base.password().is_some() {
            return Err(invalid("credentials in the URL are not accepted"));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(invalid("a query or fragment is not accepted"));
        }
        if base.path() != "/" {
            return Err(invalid("the endpoint must not have a path"));
        }
        let host = base.host().ok_or_else(|| invalid("no host"))?;
        let loopback = is_loopback(&host);
        let host_name = match &host {
            Host::Domain(d) => d.to_ascii_lowercase(),
            Host::Ipv4(ip) => ip.to_string(),
            Host::Ipv6(ip) => ip.to_string(),
        };
        // DNS names are at most 253 characters, in labels of at most 63 (RFC 1035 2.3.4): a
        // longer one is no host at all, and would only fail later, less clearly, in signing.
        if host_name.len() > 253 || host_name.split('.').any(|label| label.len() > 63) {
            return Err(invalid(
                "the host is longer than DNS allows (253 characters, 63 per label)",
            ));
        }
        if loopback && !policy.loopback {
            return Err(EndpointError::NotAllowed {
                host: policy::quote::short(&host_name),
                reason: "loopback is refused: in Lambda it is the Runtime API and its extensions",
            });
        }
        match base.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(EndpointError::NotAllowed {
                    host: policy::quote::short(&host_name),
                    reason: "plain http is only accepted for loopback addresses",
                });
            }
            _ => return Err(invalid("the scheme must be https")),
        }

        if is_serverless_host(&host_name) {
            return Err(EndpointError::NotAllowed {
                host: policy::quote::short(&host_name),
                reason: "OpenSearch Serverless collections have no snapshot API (AWS backs them \
                         up itself); osnap manages OpenSearch Service domains",
            });
        }
        let aws = aws_host_region(&host_name).map(|(r, s)| (r.to_owned(), s));
        if aws.is_none() && !loopback && !policy.allows(&host_name) {
            return Err(EndpointError::NotAllowed {
                host: policy::quote::short(&host_name),
                reason: "not an AWS search domain host",
            });
        }
        let (region, service) = match (aws, region.map(str::trim).filter(|r| !r.is_empty())) {
            (Some((derived, _)), Some(given)) if derived != given => {
                return Err(EndpointError::RegionMismatch {
                    host: policy::quote::short(&host_name),
                    derived,
                    given: policy::quote::short(given),
                });
            }
            (Some((derived, service)), _) => (derived, service),
            (None, Some(given)) => (given.to_owned(), AwsSearchService::Domain),
            (None, None) => {
                return Err(EndpointError::RegionUnknown {
                    host: policy::quote::short(&host_name),
                });
            }
        };
        Ok(Self {
            base,
            host: host_name,
            region,
            service: service.signing_name().to_owned(),
        })
    }

    /// S3's regional endpoint for `region` (`https://s3.<region>.amazonaws.com`, `.com.cn` in
    /// China), signed as `s3`. `override_endpoint` replaces it (a local S3 on loopback, or a
    /// host the policy allows); it is checked like a domain endpoint.
    pub fn s3(
        region: &str,
        override_endpoint: Option<&str>,
        policy: &EndpointPolicy,
    ) -> Result<Self, EndpointError> {
        Self::aws_service("s3", region, override_endpoint, policy)
    }

    /// Secrets Manager's regional endpoint (`https://secretsmanager.<region>.amazonaws.com`),
    /// signed as `secretsmanager`; `override_endpoint` as for [`DomainEndpoint::s3`].
    pub fn secrets_manager(
        region: &str,
        override_endpoint: Option<&str>,
        policy: &EndpointPolicy,
    ) -> Result<Self, EndpointError> {
        Self::aws_service("secretsmanager", region, override_endpoint, policy)
    }

    /// `service`'s regional endpoint in `region`, or `override_endpoint` checked like a domain.
    fn aws_service(
        service: &str,
        region: &str,
        override_endpoint: Option<&str>,
        policy: &EndpointPolicy,
    ) -> Result<Self, EndpointError> {
        if let Some(endpoint) = override_endpoint {
            return Ok(Self::parse(endpoint, Some(region), policy)?.with_service(service));
        }
        let valid_region = !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_region {
            return Err(EndpointError::Invalid {
                endpoint: region.to_owned(),
                reason: "not a region name".into(),
            });
        }
        let suffix = if region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        let host = format!("{service}.{region}.{suffix}");
        let base = Url::parse(&format!("https://{host}")).map_err(|e| EndpointError::Invalid {
            endpoint: host.clone(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            base,
            host,
            region: region.to_owned(),
            service: service.to_owned(),
        })
    }

    /// Whether the host is an Amazon OpenSearch Service domain's (which osnap reaches with
    /// SigV4 only), rather than a custom or self-managed host the policy lists.
    pub fn is_aws_domain_host(&self) -> bool {
        aws_host_region(&self.host).is_some()
    }

    /// Signs for another service name than the host implies (e.g. `aoss` behind a custom host).
    #[must_use]
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    pub fn url(&self) -> &Url {
        &self.base
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// Whether the endpoint is on this host (a local stand-in, accepted in tests only).
    pub fn is_loopback(&self) -> bool {
        self.base.host().is_some_and(|host| is_loopback(&host))
    }
}

/// `<collection>.<region>.aoss.amazonaws.com` and the dual-stack
/// `<collection>.aoss.<region>.on.aws`, whatever the collection label.
fn is_serverless_host(host: &str) -> bool {
    let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    matches!(
        labels.as_slice(),
        [.., "aoss", "amazonaws", "com"]
            | [.., "aoss", "amazonaws", "com", "cn"]
            | [.., "aoss", _, "on", "aws"]
    )
}

/// Every spelling of loopback the URL parser leaves: `127.0.0.0/8` however written
/// (`0x7f000001`, `2130706433`, `127.1` all parse to it), `::1`, IPv4-mapped `::ffff:127.x`,
/// `0.0.0.0` and `::` (which connect to this host), and `localhost` with or without a trailing
/// dot or a subdomain.
fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => {
            let name = d.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        Host::Ipv4(ip) => ip.is_loopback() || ip.is_unspecified(),
        Host::Ipv6(ip) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| IpAddr::V4(v4).is_loopback() || v4.is_unspecified())
        }
    }
}

/// The region and service of an AWS search host, or `None` for any other host.
///
/// Recognised forms (region `r`):
/// - `search-<domain>-<id>.r.es.amazonaws.com` and `vpc-…` (also `.amazonaws.com.cn`)
/// - `search-<domain>-<id>.aos.r.on.aws` (dual-stack endpoints)
/// - `<collection-id>.r.aoss.amazonaws.com` (OpenSearch Serverless)
pub fn aws_host_region(host: &str) -> Option<(&str, AwsSearchService)> {
    let labels: Vec<&str> = host.split('.').collect();
    let domain_label_ok = |label: &str| {
        (label.starts_with("search-") || label.starts_with("vpc-")) && label.len() > "vpc-".len()
    };
    let (region, service, first) = match labels.as_slice() {
        [first, region, "es", "amazonaws", "com"]
        | [first, region, "es", "amazonaws", "com", "cn"]
        | [first, "aos", region, "on", "aws"] => (*region, AwsSearchService::Domain, *first),
        [first, region, "aoss", "amazonaws", "com"] => {
            (*region, AwsSearchService::Serverless, *first)
        }
        _ => return None,
    };
    let first_ok = match service {
        AwsSearchService::Domain => domain_label_ok(first),
        AwsSearchService::Serverless => !first.is_empty(),
    };
    (first_ok && looks_like_region(region)).then_some((region, service))
}

/// `us-east-1`, `ap-southeast-2`, `us-gov-west-1`, `cn-north-1`, `eu-central-2`…
fn looks_like_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    words.len() >= 2
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(endpoint: &str, region: Option<&str>) -> Result<DomainEndpoint, EndpointError> {
        DomainEndpoint::parse(endpoint, region, &EndpointPolicy::aws_only())
    }

    #[test]
    fn s3_endpoints_are_regional_and_signed_as_s3() {
        let policy = EndpointPolicy::aws_only();
        let s3 = DomainEndpoint::s3("eu-west-1", None, &policy).unwrap();
        assert_eq!(
            (s3.url().as_str(), s3.region(), s3.service()),
            ("https://s3.eu-west-1.amazonaws.com/", "eu-west-1", "s3")
        );
        let china = DomainEndpoint::s3("cn-north-1", None, &policy).unwrap();
        assert_eq!(china.host(), "s3.cn-north-1.amazonaws.com.cn");
        let testing = EndpointPolicy::aws_only().allowing_loopback_for_tests();
        let local =
            DomainEndpoint::s3("us-east-1", Some("http://127.0.0.1:9000"), &testing).unwrap();
        assert!(DomainEndpoint::s3("us-east-1", Some("http://127.0.0.1:9000"), &policy).is_err());
        assert_eq!((local.host(), local.service()), ("127.0.0.1", "s3"));
        // The override passes the same guard as a domain endpoint; a region cannot inject a host.
        assert!(matches!(
            DomainEndpoint::s3("us-east-1", Some("https://evil.example.com"), &policy),
            Err(EndpointError::NotAllowed { .. })
        ));
        assert!(DomainEndpoint::s3("eu-west-1.evil.com/", None, &policy).is_err());
    }

    #[test]
    fn derives_region_from_public_and_vpc_domain_hosts() {
        for (endpoint, region) in [
            (
                "https://search-logs-abc123.us-east-1.es.amazonaws.com",
                "us-east-1",
            ),
            (
                "https://vpc-logs-abc123.eu-west-3.es.amazonaws.com/",
                "eu-west-3",
            ),
            (
                "search-logs-abc123.ap-southeast-2.es.amazonaws.com",
                "ap-southeast-2",
            ),
            (
                "https://search-logs-abc.cn-north-1.es.amazonaws.com.cn",
                "cn-north-1",
            ),
            (
                "https://search-logs-abc.aos.us-gov-west-1.on.aws",
                "us-gov-west-1",
            ),
            (
                "https://SEARCH-Logs-ABC.US-EAST-2.ES.AMAZONAWS.COM",
                "us-east-2",
            ),
        ] {
            let parsed = parse(endpoint, None).unwrap_or_else(|e| panic!("{endpoint}: {e}"));
            assert_eq!(parsed.region(), region, "{endpoint}");
            assert_eq!(parsed.service(), "es");
            assert_eq!(parsed.url().scheme(), "https");
        }
    }

    #[test]
    fn serverless_collections_are_refused_with_the_reason() {
        for endpoint in [
            "https://abc123xyz.us-west-2.aoss.amazonaws.com",
            "https://abc123xyz.aoss.us-west-2.on.aws",
            "abc123xyz.cn-north-1.aoss.amazonaws.com.cn",
        ] {
            let error = parse(endpoint, None).unwrap_err();
            assert!(
                error.to_string().contains("no snapshot API"),
                "{endpoint}: {error}"
            );
            // Even when listed as an allowed host.
            let listed = EndpointPolicy::from_list(endpoint.trim_start_matches("https://"));
            assert!(DomainEndpoint::parse(endpoint, Some("us-west-2"), &listed).is_err());
        }
    }

    #[test]
    fn explicit_region_must_agree_with_the_host() {
        let err = parse(
            "https://search-a-b.us-east-1.es.amazonaws.com",
            Some("eu-west-1"),
        );
        assert!(matches!(err, Err(EndpointError::RegionMismatch { .. })));
        let ok = parse(
            "https://search-a-b.us-east-1.es.amazonaws.com",
            Some("us-east-1"),
        );
        assert_eq!(ok.unwrap().region(), "us-east-1");
    }

    #[test]
    fn refuses_hosts_that_only_look_like_aws() {
        for endpoint in [
            "https://example.com",
            "https://search-x.us-east-1.es.amazonaws.com.evil.example",
            "https://evil.us-east-1.es.amazonaws.com",
            "https://search-x.not-a-region.es.amazonaws.com",
            "https://s3.us-east-1.amazonaws.com",
            "https://169.254.169.254",
            "https://10.0.0.8",
        ] {
            let err = parse(endpoint, Some("us-east-1")).unwrap_err();
            assert!(
                matches!(err, EndpointError::NotAllowed { .. }),
                "{endpoint}: {err:?}"
            );
        }
    }

    #[test]
    fn plain_http_only_for_loopback_and_loopback_only_for_tests() {
        let err = parse("http://search-a-b.us-east-1.es.amazonaws.com", None).unwrap_err();
        assert!(matches!(err, EndpointError::NotAllowed { .. }));
        let testing = EndpointPolicy::aws_only().allowing_loopback_for_tests();
        // Every spelling of this host the URL parser accepts.
        let spellings = [
            "http://127.0.0.1:9200",
            "http://127.1:9200",
            "http://0x7f000001:9200",
            "http://2130706433:9200",
            "http://0177.0.0.1:9200",
            "http://127.255.255.254:9200",
            "http://0.0.0.0:9200",
            "http://localhost:9200",
            "http://LOCALHOST.:9200",
            "http://api.localhost:9200",
            "http://[::1]:1",
            "http://[0:0:0:0:0:0:0:1]:1",
            "http://[::ffff:127.0.0.1]:1",
            "http://[::]:1",
            "https://127.0.0.1",
            "127.0.0.1:9200",
        ];
        for endpoint in spellings {
            let refused = parse(endpoint, Some("us-east-1")).unwrap_err();
            assert!(
                refused.to_string().contains("loopback is refused"),
                "{endpoint}: {refused}"
            );
            let listed = EndpointPolicy::from_list("127.0.0.1,localhost,[::1]");
            assert!(
                DomainEndpoint::parse(endpoint, Some("us-east-1"), &listed).is_err(),
                "{endpoint}: an allow list does not admit loopback"
            );
            let parsed = DomainEndpoint::parse(endpoint, Some("us-east-1"), &testing).unwrap();
            assert_eq!(parsed.region(), "us-east-1", "{endpoint}");
        }
        assert!(matches!(
            DomainEndpoint::parse("http://127.0.0.1:9200", None, &testing),
            Err(EndpointError::RegionUnknown { .. })
        ));
    }

    #[test]
    fn the_loopback_switch_needs_its_exact_value() {
        let set = |value: &'static str| {
            move |name: &str| (name == LOOPBACK_SWITCH).then(|| value.to_owned())
        };
        assert!(EndpointPolicy::loopback_switch_is_set(set(
            LOOPBACK_SWITCH_VALUE
        )));
        for value in ["1", "true", "yes", ""] {
            assert!(
                !EndpointPolicy::loopback_switch_is_set(set(value)),
                "{value}"
            );
        }
        assert!(!EndpointPolicy::loopback_switch_is_set(|_| None));
    }

    #[test]
    fn a_host_longer_than_dns_allows_is_refused_before_signing() {
        let huge_label = format!(
            "https://search-{}-abc.us-east-1.es.amazonaws.com",
            "a".repeat(70_000)
        );
        let many_labels = format!("https://{}es.amazonaws.com", "search-a.".repeat(40));
        for endpoint in [huge_label, many_labels] {
            let error = parse(&endpoint, None).unwrap_err();
            assert!(matches!(error, EndpointError::Invalid { .. }), "{error:?}");
            assert!(
                error.to_string().contains("longer than DNS allows"),
                "{error}"
            );
            assert!(error.to_string().len() < 600);
        }
        assert!(parse("https://search-logs-abc.us-east-1.es.amazonaws.com", None).is_ok());
    }

    #[test]
    fn long_endpoints_are_quoted_short_in_errors() {
        let long = format!("https://{}.example.com", "a".repeat(70_000));
        let error = parse(&long, None).unwrap_err();
        assert!(error.to_string().len() < 600, "{}", error.to_string().len());
    }

    #[test]
    fn allow_list_admits_custom_endpoints_with_an_explicit_region() {
        let policy = EndpointPolicy::from_list(" search.example.com , other.example.com");
        let parsed =
            DomainEndpoint::parse("https://Search.Example.com", Some("eu-west-1"), &policy)
                .unwrap();
        assert_eq!(parsed.host(), "search.example.com");
        assert!(matches!(
            DomainEndpoint::parse("https://search.example.com", None, &policy),
            Err(EndpointError::RegionUnknown { .. })
        ));
        assert!(matches!(
            DomainEndpoint::parse("http://search.example.com", Some("eu-west-1"), &policy),
            Err(EndpointError::NotAllowed { .. })
        ));
    }

    #[test]
    fn refuses_malformed_endpoints() {
        for endpoint in [
            "",
            "https://user:pw@search-a-b.us-east-1.es.amazonaws.com",
            "https://search-a-b.us-east-1.es.amazonaws.com/_snapshot",
            "https://search-a-b.us-east-1.es.amazonaws.com/?x=1",
            "ftp://search-a-b.us-east-1.es.amazonaws.com",
        ] {
            assert!(
                matches!(parse(endpoint, None), Err(EndpointError::Invalid { .. })),
                "{endpoint}"
            );
        }
    }
}
