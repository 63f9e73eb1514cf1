//! The SigV4 signature as a pure function: request, credentials and time in, headers (or query
//! parameters) out. No I/O and no clock, so the same inputs always give the same signature.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;

use crate::SigningError;

/// Where the signature goes and which optional parts of SigV4 are used. The default is what a
/// domain request needs: an `Authorization` header, normalised and double-encoded path, the
/// session token signed, no `x-amz-content-sha256` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureOptions {
    /// `None` signs into headers; `Some(expiry)` presigns into the query string.
    pub presign_expires_in: Option<Duration>,
    pub normalize_path: bool,
    /// Percent-encodes the (already encoded) path once more for the canonical request, as
    /// every service but S3 requires. Domains need it for names with reserved characters.
    pub double_encode_path: bool,
    /// Adds and signs `x-amz-content-sha256` (the hex SHA-256 of the body).
    pub sign_payload_header: bool,
    /// Adds the session token after signing instead of signing it (a legacy mode some
    /// services need; domains accept the signed token).
    pub session_token_after_signing: bool,
}

impl Default for SignatureOptions {
    fn default() -> Self {
        Self {
            presign_expires_in: None,
            normalize_path: true,
            double_encode_path: true,
            sign_payload_header: false,
            session_token_after_signing: false,
        }
    }
}

impl SignatureOptions {
    /// What S3 requires: the path encoded once and not normalised, the payload hash signed.
    pub fn s3() -> Self {
        Self {
            normalize_path: false,
            double_encode_path: false,
            sign_payload_header: true,
            ..Self::default()
        }
    }
}

/// What to sign for: the scope of the signature.
#[derive(Debug, Clone, Copy)]
pub struct SigningScope<'a> {
    pub region: &'a str,
    pub service: &'a str,
    pub time: SystemTime,
}

/// The request to sign, exactly as it will go on the wire. `uri` is already percent-encoded.
#[derive(Debug, Clone, Copy)]
pub struct RequestToSign<'a> {
    pub method: &'a str,
    pub uri: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// What signing adds to the request.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature {
    /// Headers to add, e.g. `x-amz-date` and `authorization`.
    pub headers: Vec<(&'static str, String)>,
    /// Query parameters to add (presigning only).
    pub query: Vec<(&'static str, String)>,
    /// The hex signature.
    pub signature: String,
}

impl std::fmt::Debug for Signature {
    // The signature and the authorization header are credentials for a few minutes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| *n).collect();
        f.debug_struct("Signature")
            .field("headers", &names)
            .field("query_params", &self.query.len())
            .field("signature", &"** redacted **")
            .finish()
    }
}

/// Header names whose values are secrets and must be marked sensitive when sent.
pub fn is_secret_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("x-amz-security-token")
}

/// Signs `request` with SigV4 for `scope`.
pub fn sign_request(
    request: &RequestToSign<'_>,
    credentials: &Credentials,
    scope: &SigningScope<'_>,
    options: &SignatureOptions,
) -> Result<Signature, SigningError> {
    let mut settings = SigningSettings::default();
    settings.signature_location = match options.presign_expires_in {
        Some(_) => SignatureLocation::QueryParams,
        None => SignatureLocation::Headers,
    };
    settings.expires_in = options.presign_expires_in;
    settings.uri_path_normalization_mode = if options.normalize_path {
        UriPathNormalizationMode::Enabled
    } else {
        UriPathNormalizationMode::Disabled
    };
    settings.percent_encoding_mode = if options.double_encode_path {
        PercentEncodingMode::Double
    } else {
        PercentEncodingMode::Single
    };
    settings.payload_checksum_kind = if options.sign_payload_header {
        PayloadChecksumKind::XAmzSha256
    } else {
        PayloadChecksumKind::NoHeader
    };
    settings.session_token_mode = if options.session_token_after_signing {
        SessionTokenMode::Exclude
    } else {
        SessionTokenMode::Include
    };

    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(scope.region)
        .name(scope.service)
        .time(scope.time)
        .settings(settings)
        .build()
        .map_err(|e| SigningError::Sign(e.to_string()))?;
    let signable = SignableRequest::new(
        request.method,
        request.uri,
        request.headers.iter().copied(),
        SignableBody::Bytes(request.body),
    )
    .map_err(|e| SigningError::Sign(e.to_string()))?;
    let (instructions, signature) = sign(signable, &params.into())
        .map_err(|e| SigningError::Sign(e.to_string()))?
        .into_parts();
    let (headers, query) = instructions.into_parts();
    Ok(Signature {
        headers: headers
            .into_iter()
            .map(|h| (h.name(), h.value().to_owned()))
            .collect(),
        query: query
            .into_iter()
            .map(|(k, v)| (k, v.into_owned()))
            .collect(),
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example_credentials(token: Option<&str>) -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            token.map(str::to_owned),
            None,
            "test",
        )
    }

    /// The cross-check recorded with the test vectors: aws-sigv4 and botocore agree on this
    /// signature for a snapshot create against a domain.
    #[test]
    fn snapshot_create_matches_the_botocore_cross_check() {
        let body = br#"{"indices":"logs-*","ignore_unavailable":true,"include_global_state":false,"metadata":{"taken_by":"snapshot-lambda"}}"#;
        let request = RequestToSign {
            method: "PUT",
            uri: "https://search-demo-abc.us-east-1.es.amazonaws.com/_snapshot/my-repo/snap-2026.11.28?wait_for_completion=false",
            headers: &[
                ("host", "search-demo-abc.us-east-1.es.amazonaws.com"),
                ("content-type", "application/json"),
            ],
            body,
        };
        let scope = SigningScope {
            region: "us-east-1",
            service: "es",
            time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000),
        };
        let signed = sign_request(
            &request,
            &example_credentials(None),
            &scope,
            &SignatureOptions::default(),
        )
        .unwrap();
        assert_eq!(
            signed.signature,
            "83c5568edbe918c74a8c8d808b0f13150e542060a462b2c8c97307d4b27523d7"
        );
        let auth = &signed
            .headers
            .iter()
            .find(|(n, _)| *n == "authorization")
            .unwrap()
            .1;
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date,"),
            "{auth}"
        );
        assert!(auth.contains("Credential=AKIDEXAMPLE/20261118/us-east-1/es/aws4_request"));
        assert!(
            signed
                .headers
                .contains(&("x-amz-date", "20261118T110640Z".to_owned()))
        );
    }

    #[test]
    fn session_token_is_sent_and_signed() {
        let request = RequestToSign {
            method: "GET",
            uri: "https://search-a-b.us-east-1.es.amazonaws.com/",
            headers: &[("host", "search-a-b.us-east-1.es.amazonaws.com")],
            body: b"",
        };
        let scope = SigningScope {
            region: "us-east-1",
            service: "es",
            time: SystemTime::UNIX_EPOCH,
        };
        let signed = sign_request(
            &request,
            &example_credentials(Some("TOKEN")),
            &scope,
            &SignatureOptions::default(),
        )
        .unwrap();
        assert!(
            signed
                .headers
                .contains(&("x-amz-security-token", "TOKEN".to_owned()))
        );
        let auth = &signed
            .headers
            .iter()
            .find(|(n, _)| *n == "authorization")
            .unwrap()
            .1;
        assert!(auth.contains("x-amz-security-token"), "{auth}");
    }

    #[test]
    fn debug_output_hides_the_signature() {
        let signature = Signature {
            headers: vec![("authorization", "AWS4-HMAC-SHA256 secret-bits".into())],
            query: vec![],
            signature: "deadbeef".into(),
        };
        let shown = format!("{signature:?}");
        assert!(
            !shown.contains("secret-bits") && !shown.contains("deadbeef"),
            "{shown}"
        );
    }
}
