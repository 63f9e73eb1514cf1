//! Turning an event's `domain` into a signed client, reusing credentials and connections
//! across invocations of a warm function.

use std::collections::HashMap;
use std::sync::Arc;

use aws_credential_types::Credentials;
use signing::sigv4::SignatureOptions;
use signing::{
    Authentication, BasicCredentials, CredentialSource, DomainClient, DomainEndpoint,
    EndpointError, EndpointPolicy, SharedTimeSource,
};
use tokio::sync::Mutex;

use crate::OsnapError;
use crate::contract::{ClusterAuth, DomainInput};

/// Where signing credentials come from.
#[derive(Debug, Clone)]
pub enum CredentialMode {
    /// The default AWS chain (the function's role); `assume_role_arn` is honoured.
    Environment,
    /// A named profile of the shared AWS config files (the command line's `--profile`);
    /// `assume_role_arn` is honoured.
    Profile(String),
    /// Fixed credentials (the local stand-in). `assume_role_arn` is refused.
    Fixed(Credentials),
}

/// Builds and caches clients for the domains events name.
#[derive(Debug, Clone)]
pub struct Connector {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    mode: CredentialMode,
    policy: EndpointPolicy,
    time: SharedTimeSource,
    http: reqwest::Client,
    /// One credential source per assumed role (`None`: the base credentials), so each is
    /// fetched once and refreshed only near expiry.
    credentials: Mutex<HashMap<Option<String>, CredentialSource>>,
    /// Self-managed clusters' logins by secret ARN, read again after [`LOGIN_LIFETIME`] so a
    /// rotated password is picked up by a warm function.
    logins: Mutex<HashMap<String, (std::time::Instant, BasicCredentials)>>,
}

/// How long a password read from Secrets Manager is reused.
const LOGIN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(300);

impl Connector {
    pub fn new(
        mode: CredentialMode,
        policy: EndpointPolicy,
        time: SharedTimeSource,
    ) -> Result<Self, OsnapError> {
        let http = signing::client::http_client().map_err(|e| OsnapError::InvalidRequest {
            reason: format!("cannot build the HTTP client: {e}"),
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                mode,
                policy,
                time,
                http,
                credentials: Mutex::new(HashMap::new()),
                logins: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// A client for `domain`, after the endpoint guard.
    pub async fn client(&self, domain: &DomainInput) -> Result<DomainClient, OsnapError> {
        self.client_for(domain, None).await
    }

    /// A client for `domain`; a self-managed cluster's password is read from Secrets Manager,
    /// or from `secrets_endpoint` (a local stand-in) when given.
    pub async fn client_for(
        &self,
        domain: &DomainInput,
        secrets_endpoint: Option<&str>,
    ) -> Result<DomainClient, OsnapError> {
        let endpoint = self.domain_endpoint(domain)?;
        let Some(auth) = &domain.auth else {
            return self.signed_client(endpoint, domain).await;
        };
        if endpoint.is_aws_domain_host() {
            return Err(OsnapError::invalid(
                "an Amazon OpenSearch Service domain is reached with SigV4 only: leave `auth` \
                 out (it is for self-managed clusters listed in OSNAP_ALLOWED_HOSTS)",
            ));
        }
        if domain.assume_role_arn.is_some() {
            return Err(OsnapError::invalid(
                "assume_role_arn is for AWS domains in another account; a self-managed \
                 cluster with `auth` takes none",
            ));
        }
        let authentication = match auth {
            ClusterAuth::None => Authentication::Anonymous,
            ClusterAuth::Basic {
                secret_arn,
                username,
            } => Authentication::Basic(
                self.login(secret_arn, username.as_deref(), secrets_endpoint)
                    .await?,
            ),
        };
        Ok(DomainClient::with_authentication(
            self.inner.http.clone(),
            endpoint,
            authentication,
            self.inner.time.clone(),
        ))
    }

    /// The basic credentials in secret `arn`, read with the function's own credentials.
    async fn login(
        &self,
        arn: &str,
        username: Option<&str>,
        secrets_endpoint: Option<&str>,
    ) -> Result<BasicCredentials, OsnapError> {
        let key = format!("{arn}\n{}", username.unwrap_or_default());
        if let Some((read_at, login)) = self.inner.logins.lock().await.get(&key)
            && read_at.elapsed() < LOGIN_LIFETIME
        {
            return Ok(login.clone());
        }
        let region = crate::secrets::secret_region(arn)?;
        let endpoint =
            DomainEndpoint::secrets_manager(region, secrets_endpoint, &self.inner.policy)
                .map_err(endpoint_error)?;
        let client = DomainClient::with_http_client(
            self.inner.http.clone(),
            endpoint,
            self.credentials(None).await?,
            self.inner.time.clone(),
        );
        let login = crate::secrets::basic_credentials(&client, arn, username).await?;
        self.inner
            .logins
            .lock()
            .await
            .insert(key, (std::time::Instant::now(), login.clone()));
        Ok(login)
    }

    /// A client for S3 in the domain's region (or at `override_endpoint`), signing with the
    /// same credentials as the domain, so a cross-account domain's bucket is read as that
    /// account.
    pub async fn s3_client(
        &self,
        domain: &DomainInput,
        override_endpoint: Option<&str>,
    ) -> Result<DomainClient, OsnapError> {
        self.s3_client_in(domain, None, override_endpoint).await
    }

    /// As [`Connector::s3_client`], for a bucket in `bucket_region` (`None`: the domain's).
    pub async fn s3_client_in(
        &self,
        domain: &DomainInput,
        bucket_region: Option<&str>,
        override_endpoint: Option<&str>,
    ) -> Result<DomainClient, OsnapError> {
        let domain_endpoint = self.domain_endpoint(domain)?;
        // A domain on loopback is a local stand-in: its bucket is never in AWS.
        if override_endpoint.is_none() && domain_endpoint.is_loopback() {
            return Err(OsnapError::invalid(
                "a domain on loopback has its bucket on a local S3: give its endpoint \
                 (OSNAP_S3_ENDPOINT)",
            ));
        }
        let region = match bucket_region {
            Some(region) => region.to_owned(),
            None => domain_endpoint.region().to_owned(),
        };
        let endpoint = DomainEndpoint::s3(&region, override_endpoint, &self.inner.policy)
            .map_err(endpoint_error)?;
        Ok(self
            .signed_client(endpoint, domain)
            .await?
            .with_signature_options(SignatureOptions::s3()))
    }

    fn domain_endpoint(&self, domain: &DomainInput) -> Result<DomainEndpoint, OsnapError> {
        DomainEndpoint::parse(
            &domain.endpoint,
            domain.region.as_deref(),
            &self.inner.policy,
        )
        .map_err(endpoint_error)
    }

    /// A client for `endpoint` with the credentials `domain` asks for.
    async fn signed_client(
        &self,
        endpoint: DomainEndpoint,
        domain: &DomainInput,
    ) -> Result<DomainClient, OsnapError> {
        let credentials = self.credentials(domain.assume_role_arn.as_deref()).await?;
        Ok(DomainClient::with_http_client(
            self.inner.http.clone(),
            endpoint,
            credentials,
            self.inner.time.clone(),
        ))
    }

    async fn credentials(&self, role: Option<&str>) -> Result<CredentialSource, OsnapError> {
        let mut cache = self.inner.credentials.lock().await;
        let key = role.map(str::to_owned);
        if let Some(found) = cache.get(&key) {
            return Ok(found.clone());
        }
        let source = match (&self.inner.mode, role) {
            (CredentialMode::Fixed(credentials), None) => {
                CredentialSource::fixed(credentials.clone(), self.inner.time.clone())
            }
            (CredentialMode::Fixed(_), Some(_)) => {
                return Err(OsnapError::InvalidRequest {
                    reason: "assume_role_arn cannot be used with fixed credentials".into(),
                });
            }
            (CredentialMode::Environment, role) => {
                if let Some(role) = role {
                    crate::validate::validate_role_arn(role, "assume_role_arn")?;
                }
                CredentialSource::from_environment(role, self.inner.time.clone())
                    .await
                    .map_err(|e| crate::api_error::from_signing(&e))?
            }
            (CredentialMode::Profile(profile), role) => {
                if let Some(role) = role {
                    crate::validate::validate_role_arn(role, "assume_role_arn")?;
                }
                CredentialSource::from_profile(profile, role, self.inner.time.clone())
                    .await
                    .map_err(|e| crate::api_error::from_signing(&e))?
            }
        };
        cache.insert(key, source.clone());
        Ok(source)
    }
}

fn endpoint_error(error: EndpointError) -> OsnapError {
    match error {
        EndpointError::NotAllowed { .. } => OsnapError::EndpointNotAllowed {
            reason: error.to_string(),
        },
        other => OsnapError::InvalidRequest {
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_endpoint_guard_applies_before_anything_else() {
        let connector = Connector::new(
            CredentialMode::Fixed(Credentials::new("a", "b", None, None, "t")),
            EndpointPolicy::aws_only().allowing_loopback_for_tests(),
            SharedTimeSource::default(),
        )
        .unwrap();
        let domain = DomainInput {
            endpoint: "https://example.com".into(),
            region: Some("us-east-1".into()),
            assume_role_arn: None,
            auth: None,
        };
        let error = connector.client(&domain).await.unwrap_err();
        assert_eq!(error.error_type(), "EndpointNotAllowed");

        let domain = DomainInput {
            endpoint: "http://127.0.0.1:9".into(),
            region: Some("us-east-1".into()),
            assume_role_arn: Some("arn:aws:iam::222233334444:role/x".into()),
            auth: None,
        };
        let error = connector.client(&domain).await.unwrap_err();
        assert_eq!(error.error_type(), "InvalidRequest");
    }

    #[tokio::test]
    async fn a_self_managed_login_is_only_for_hosts_that_are_not_aws_domains() {
        let connector = Connector::new(
            CredentialMode::Fixed(Credentials::new("a", "b", None, None, "t")),
            EndpointPolicy::with_allowed_hosts(["es.corp.example.com"]),
            SharedTimeSource::default(),
        )
        .unwrap();
        let open = |endpoint: &str| DomainInput {
            endpoint: endpoint.into(),
            region: Some("us-east-1".into()),
            assume_role_arn: None,
            auth: Some(ClusterAuth::None),
        };
        let listed = connector
            .client(&open("https://es.corp.example.com:9200"))
            .await
            .unwrap();
        assert_eq!(listed.endpoint().host(), "es.corp.example.com");
        let aws = connector
            .client(&open("https://search-logs-abc.us-east-1.es.amazonaws.com"))
            .await
            .unwrap_err();
        assert!(aws.to_string().contains("SigV4 only"), "{aws}");
        let unlisted = connector
            .client(&open("https://es.elsewhere.example.com"))
            .await
            .unwrap_err();
        assert_eq!(unlisted.error_type(), "EndpointNotAllowed");
        let plain = connector
            .client(&open("http://es.corp.example.com:9200"))
            .await
            .unwrap_err();
        assert_eq!(plain.error_type(), "EndpointNotAllowed", "https only");
        let mut assumed = open("https://es.corp.example.com");
        assumed.assume_role_arn = Some("arn:aws:iam::222233334444:role/x".into());
        assert_eq!(
            connector.client(&assumed).await.unwrap_err().error_type(),
            "InvalidRequest"
        );
        let mut bad_secret = open("https://es.corp.example.com");
        bad_secret.auth = Some(ClusterAuth::Basic {
            secret_arn: "my-password".into(),
            username: None,
        });
        assert_eq!(
            connector
                .client(&bad_secret)
                .await
                .unwrap_err()
                .error_type(),
            "InvalidRequest"
        );
    }

    #[tokio::test]
    async fn a_loopback_domain_never_reaches_s3_in_aws() {
        let connector = Connector::new(
            CredentialMode::Fixed(Credentials::new("a", "b", None, None, "t")),
            EndpointPolicy::aws_only().allowing_loopback_for_tests(),
            SharedTimeSource::default(),
        )
        .unwrap();
        let local = DomainInput {
            endpoint: "http://127.0.0.1:9".into(),
            region: Some("us-east-1".into()),
            assume_role_arn: None,
            auth: None,
        };
        let error = connector
            .s3_client_in(&local, Some("eu-west-1"), None)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("OSNAP_S3_ENDPOINT"), "{error}");
        let overridden = connector
            .s3_client_in(&local, Some("eu-west-1"), Some("http://127.0.0.1:10"))
            .await
            .unwrap();
        assert_eq!(overridden.endpoint().region(), "eu-west-1");
        let aws = DomainInput {
            endpoint: "https://search-logs-abc.us-east-1.es.amazonaws.com".into(),
            region: None,
            assume_role_arn: None,
            auth: None,
        };
        let in_region = connector
            .s3_client_in(&aws, Some("eu-west-1"), None)
            .await
            .unwrap();
        assert_eq!(in_region.endpoint().host(), "s3.eu-west-1.amazonaws.com");
    }
}
