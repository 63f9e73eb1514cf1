//! Where signing credentials come from, cached so that a warm Lambda does not ask for them
//! (or call STS) on every request.

use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_async::time::SharedTimeSource;
use tokio::sync::Mutex;

use crate::SigningError;

/// Credentials are refreshed this long before they expire, so that a request signed now is
/// still valid when it arrives.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Session name that appears in the other account's CloudTrail for assumed-role calls.
const SESSION_NAME: &str = "osnap";

/// A credentials provider with a cache in front of it.
#[derive(Clone)]
pub struct CredentialSource {
    provider: SharedCredentialsProvider,
    time: SharedTimeSource,
    cached: Arc<Mutex<Option<Credentials>>>,
}

impl std::fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialSource")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl CredentialSource {
    pub fn new(provider: impl ProvideCredentials + 'static, time: SharedTimeSource) -> Self {
        Self {
            provider: SharedCredentialsProvider::new(provider),
            time,
            cached: Arc::new(Mutex::new(None)),
        }
    }

    /// Fixed credentials (tests, the local stand-in).
    pub fn fixed(credentials: Credentials, time: SharedTimeSource) -> Self {
        Self::new(credentials, time)
    }

    /// The default AWS chain (in Lambda: the function's role), optionally assuming
    /// `assume_role_arn` for a domain in another account. Nothing is fetched until the first
    /// request is signed.
    pub async fn from_environment(
        assume_role_arn: Option<&str>,
        time: SharedTimeSource,
    ) -> Result<Self, SigningError> {
        // Lambda passes the function role's credentials in the environment, where the default
        // chain looks first. Read them there directly: loading the whole AWS configuration
        // also builds an HTTPS client (reading every system root certificate), milliseconds
        // of a cold start for a client only STS and the other providers use.
        if assume_role_arn.is_none()
            && std::env::var_os("AWS_ACCESS_KEY_ID").is_some()
            && std::env::var_os("AWS_SECRET_ACCESS_KEY").is_some()
        {
            return Ok(Self::new(
                EnvironmentVariableCredentialsProvider::new(),
                time,
            ));
        }
        let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
        let base = config.credentials_provider().ok_or_else(|| {
            SigningError::Credentials(
                aws_credential_types::provider::error::CredentialsError::not_loaded(
                    "no credentials provider in the environment",
                ),
            )
        })?;
        Ok(Self::assuming(base, &config, assume_role_arn, time).await)
    }

    /// The named profile of the shared AWS config and credentials files, as the AWS CLI's
    /// `--profile` reads it: the profile wins over credentials in the environment.
    /// Optionally assumes `assume_role_arn` on top of it.
    pub async fn from_profile(
        profile: &str,
        assume_role_arn: Option<&str>,
        time: SharedTimeSource,
    ) -> Result<Self, SigningError> {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .profile_name(profile)
            .load()
            .await;
        let base = SharedCredentialsProvider::new(
            aws_config::profile::ProfileFileCredentialsProvider::builder()
                .profile_name(profile)
                .build(),
        );
        Ok(Self::assuming(base, &config, assume_role_arn, time).await)
    }

    /// `base`, or `assume_role_arn` assumed with it.
    async fn assuming(
        base: SharedCredentialsProvider,
        config: &aws_config::SdkConfig,
        assume_role_arn: Option<&str>,
        time: SharedTimeSource,
    ) -> Self {
        match assume_role_arn {
            None => Self::new(base, time),
            Some(role_arn) => {
                let provider = AssumeRoleProvider::builder(role_arn)
                    .session_name(SESSION_NAME)
                    .configure(config)
                    .build_from_provider(base)
                    .await;
                Self::new(provider, time)
            }
        }
    }

    /// Current credentials, from the cache unless they are missing or about to expire.
    pub async fn credentials(&self) -> Result<Credentials, SigningError> {
        let mut cached = self.cached.lock().await;
        if let Some(credentials) = cached.as_ref()
            && self.still_fresh(credentials)
        {
            return Ok(credentials.clone());
        }
        let fresh = self
            .provider
            .provide_credentials()
            .await
            .map_err(SigningError::Credentials)?;
        *cached = Some(fresh.clone());
        Ok(fresh)
    }

    fn still_fresh(&self, credentials: &Credentials) -> bool {
        match credentials.expiry() {
            None => true,
            Some(expiry) => self.time.now() + REFRESH_MARGIN < expiry,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::SystemTime;

    use aws_credential_types::provider::future;
    use aws_smithy_async::time::StaticTimeSource;

    use super::*;

    #[derive(Debug)]
    struct CountingProvider {
        calls: Arc<AtomicU32>,
        lifetime: Option<Duration>,
    }

    impl ProvideCredentials for CountingProvider {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            let expiry = self.lifetime.map(|l| SystemTime::UNIX_EPOCH + l);
            future::ProvideCredentials::ready(Ok(Credentials::new(
                format!("AKID{n}"),
                "secret",
                None,
                expiry,
                "counting",
            )))
        }
    }

    fn counting_source(
        lifetime: Option<Duration>,
        now_secs: u64,
    ) -> (CredentialSource, Arc<AtomicU32>) {
        let calls = Arc::new(AtomicU32::new(0));
        let provider = CountingProvider {
            calls: calls.clone(),
            lifetime,
        };
        let time = SharedTimeSource::new(StaticTimeSource::from_secs(now_secs));
        (CredentialSource::new(provider, time), calls)
    }

    #[tokio::test]
    async fn long_lived_credentials_are_loaded_once() {
        let (source, calls) = counting_source(None, 0);
        for _ in 0..3 {
            assert_eq!(source.credentials().await.unwrap().access_key_id(), "AKID0");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn credentials_near_expiry_are_refreshed() {
        // Expire 4 minutes from "now": inside the refresh margin, so every call refreshes.
        let (source, calls) = counting_source(Some(Duration::from_secs(1_000 + 240)), 1_000);
        source.credentials().await.unwrap();
        let second = source.credentials().await.unwrap();
        assert_eq!(second.access_key_id(), "AKID1");
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let (source, calls) = counting_source(Some(Duration::from_secs(1_000 + 3_600)), 1_000);
        source.credentials().await.unwrap();
        source.credentials().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn debug_never_shows_secrets() {
        let time = SharedTimeSource::new(StaticTimeSource::from_secs(0));
        let source = CredentialSource::fixed(
            Credentials::new(
                "AKIDEXAMPLE",
                "very-secret-key",
                Some("tok".into()),
                None,
                "t",
            ),
            time,
        );
        let shown = format!("{source:?}");
        assert!(
            !shown.contains("very-secret-key") && !shown.contains("tok\""),
            "{shown}"
        );
    }
}
