//! Arbitrary endpoints (and regions: the text after the first newline) to the endpoint
//! guard, under the deployed policies (AWS-only, and one listing an extra host) and under the
//! tests' policy (loopback allowed). Whatever it accepts must be, by this target's own
//! reading of the host: an Amazon OpenSearch Service or legacy Elasticsearch Service domain
//! host over https, the listed host over https, or, with the tests' policy only, a loopback
//! address; never a Serverless collection, never userinfo, a path, a query or a fragment;
//! and the region and service must be the host's own (or, for a host that names none, the
//! region given).
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use signing::{DomainEndpoint, EndpointPolicy};

const EXTRA_HOST: &str = "search.example.com";

/// Region and SigV4 service of an AWS search host, read independently of the guard.
fn aws_host(host: &str) -> Option<(String, &'static str)> {
    let labels: Vec<&str> = host.split('.').collect();
    let (first, region, service) = match labels.as_slice() {
        [first, region, "es", "amazonaws", "com"]
        | [first, region, "es", "amazonaws", "com", "cn"] => (*first, *region, "es"),
        [first, "aos", region, "on", "aws"] => (*first, *region, "es"),
        [first, region, "aoss", "amazonaws", "com"] => (*first, *region, "aoss"),
        _ => return None,
    };
    let first_ok = if service == "aoss" {
        !first.is_empty()
    } else {
        // `search-…` or `vpc-…`, with at least one character after `vpc-`.
        first.starts_with("search-") || (first.starts_with("vpc-") && first.len() > 4)
    };
    // <word>-<word>[-<word>…]-<number>, lowercase letters and digits only.
    let mut parts: Vec<&str> = region.split('-').collect();
    let number = parts.pop()?;
    let region_ok = parts.len() >= 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit());
    (first_ok && region_ok).then(|| (region.to_owned(), service))
}

/// Loopback, read independently of the guard: `localhost` (and its subdomains, with or
/// without a trailing dot), `127.0.0.0/8`, `::1`, IPv4-mapped loopback, and the unspecified
/// addresses, which connect to this host.
fn is_loopback(host: &str) -> bool {
    let name = host.trim_end_matches('.');
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(IpAddr::V4(v4)) => v4.is_loopback() || v4.is_unspecified(),
        Ok(IpAddr::V6(v6)) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| v4.is_loopback() || v4.is_unspecified())
        }
        Err(_) => false,
    }
}

fn check(
    endpoint: &str,
    region: Option<&str>,
    policy: &EndpointPolicy,
    extra: Option<&str>,
    loopback_allowed: bool,
) {
    let Ok(parsed) = DomainEndpoint::parse(endpoint, region, policy) else {
        return;
    };
    let url = parsed.url();
    let host = parsed.host();
    let what = format!("{endpoint:?} (region {region:?}) gave {url} for {host:?}");
    assert_eq!(
        url.host_str()
            .map(str::to_ascii_lowercase)
            .as_deref()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']')),
        Some(host),
        "{what}: host"
    );
    assert!(
        url.username().is_empty() && url.password().is_none(),
        "{what}: userinfo"
    );
    assert_eq!(url.path(), "/", "{what}: path");
    assert!(
        url.query().is_none() && url.fragment().is_none(),
        "{what}: query or fragment"
    );
    let given = region.map(str::trim).filter(|r| !r.is_empty());
    assert!(
        loopback_allowed || !is_loopback(host),
        "{what}: loopback accepted by a deployed policy"
    );
    if let Some((host_region, service)) = aws_host(host) {
        assert_ne!(
            service, "aoss",
            "{what}: a Serverless collection was accepted"
        );
        assert_eq!(url.scheme(), "https", "{what}: scheme");
        assert_eq!(parsed.region(), host_region, "{what}: region");
        assert_eq!(parsed.service(), service, "{what}: service");
        if let Some(given) = given {
            assert_eq!(
                given, host_region,
                "{what}: a mismatched region was accepted"
            );
        }
    } else if is_loopback(host) {
        assert!(matches!(url.scheme(), "https" | "http"), "{what}: scheme");
        assert_eq!(Some(parsed.region()), given, "{what}: region");
    } else {
        assert_eq!(Some(host), extra, "{what}: a host no policy allows");
        assert_eq!(url.scheme(), "https", "{what}: scheme");
        assert_eq!(Some(parsed.region()), given, "{what}: region");
        assert_eq!(parsed.service(), "es", "{what}: service");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (endpoint, region) = match text.split_once('\n') {
        Some((endpoint, region)) => (endpoint, Some(region)),
        None => (text, None),
    };
    check(endpoint, region, &EndpointPolicy::aws_only(), None, false);
    let policy = EndpointPolicy::with_allowed_hosts([EXTRA_HOST]);
    check(endpoint, region, &policy, Some(EXTRA_HOST), false);
    let tests = EndpointPolicy::aws_only().allowing_loopback_for_tests();
    check(endpoint, region, &tests, None, true);
});
