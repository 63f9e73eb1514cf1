//! A real S3 protocol server on loopback (s3s over a folder), with SigV4 checked on every
//! request, and the S3 client the emulated domains write snapshots through.

use std::net::SocketAddr;
use std::path::Path;

use aws_credential_types::Credentials;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;

use crate::server::{ServerHandle, serve};
use crate::{StandinError, TEST_REGION};

/// The stand-in S3 server.
#[derive(Debug)]
pub struct S3Server {
    handle: ServerHandle,
    access_key: String,
    secret_key: String,
}

impl S3Server {
    /// Serves the folder `root` (one sub-folder per bucket) on `127.0.0.1:0`, accepting only
    /// requests signed with the given key pair.
    pub async fn start(
        root: &Path,
        access_key: &str,
        secret_key: &str,
    ) -> Result<Self, StandinError> {
        Self::start_on(root, access_key, secret_key, "127.0.0.1:0".parse().ok()).await
    }

    /// As [`S3Server::start`], on a given address.
    pub async fn start_on(
        root: &Path,
        access_key: &str,
        secret_key: &str,
        address: Option<SocketAddr>,
    ) -> Result<Self, StandinError> {
        std::fs::create_dir_all(root).map_err(|e| StandinError::io("create the S3 root", e))?;
        let fs = s3s_fs::FileSystem::new(root)
            .map_err(|e| StandinError::Setup(format!("S3 file system: {e:?}")))?;
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(access_key, secret_key));
        let service = builder.build();
        let address = address.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = TcpListener::bind(address)
            .await
            .map_err(|e| StandinError::io("bind the S3 server", e))?;
        let handle = serve(listener, service)?;
        Ok(Self {
            handle,
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.handle.address())
    }

    pub fn credentials(&self) -> Credentials {
        Credentials::new(&self.access_key, &self.secret_key, None, None, "standin-s3")
    }

    /// An S3 client for this server.
    pub fn client(&self) -> aws_sdk_s3::Client {
        s3_client(&self.endpoint(), self.credentials())
    }

    /// Creates a bucket (succeeds if it already exists and is ours).
    pub async fn create_bucket(&self, bucket: &str) -> Result<(), StandinError> {
        let client = self.client();
        match client.create_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let already = e.as_service_error().is_some_and(|s| {
                    s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()
                });
                if already {
                    Ok(())
                } else {
                    Err(StandinError::S3(format!("create bucket {bucket}: {e}")))
                }
            }
        }
    }

    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }
}

/// An S3 client for a loopback S3 endpoint (path-style addressing, fixed credentials).
pub fn s3_client(endpoint: &str, credentials: Credentials) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new(TEST_REGION))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(credentials)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}
