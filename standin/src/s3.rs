//! A real S3 protocol server on loopback (s3s over a folder), with SigV4 checked on every
//! request, and the S3 client the emulated domains write snapshots through.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use aws_credential_types::Credentials;
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::SimpleAuth;
use s3s::path::S3Path;
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{S3Result, s3_error};
use tokio::net::TcpListener;
use tokio::sync::{RwLockReadGuard, RwLockWriteGuard};

use crate::s3_faults::S3FaultControl;
use crate::server::{ServerHandle, serve};
use crate::{StandinError, TEST_REGION};

/// The stand-in S3 server.
#[derive(Debug)]
pub struct S3Server {
    handle: ServerHandle,
    access_key: String,
    secret_key: String,
    regions: BucketRegions,
    faults: S3FaultControl,
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
        builder.set_access(BucketMustExist {
            root: root.to_owned(),
        });
        let regions = BucketRegions::default();
        let faults = S3FaultControl::default();
        let service = S3Front {
            inner: builder.build(),
            regions: regions.clone(),
            locks: Arc::default(),
            faults: faults.clone(),
        };
        let address = address.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = TcpListener::bind(address)
            .await
            .map_err(|e| StandinError::io("bind the S3 server", e))?;
        let handle = serve(listener, service)?;
        Ok(Self {
            handle,
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
            regions,
            faults,
        })
    }

    /// The errors this server answers, changed at run time.
    pub fn faults(&self) -> &S3FaultControl {
        &self.faults
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

    /// Creates a bucket that S3 reports to be in `region` (buckets are in the test region
    /// otherwise).
    pub async fn create_bucket_in(&self, bucket: &str, region: &str) -> Result<(), StandinError> {
        self.create_bucket(bucket).await?;
        self.regions.set(bucket, region);
        Ok(())
    }

    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }
}

/// An S3 client for a loopback S3 endpoint (path-style addressing, fixed credentials).
pub fn s3_client(endpoint: &str, credentials: Credentials) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(loopback_config(endpoint, credentials).build())
}

fn loopback_config(endpoint: &str, credentials: Credentials) -> aws_sdk_s3::config::Builder {
    aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new(TEST_REGION))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(credentials)
}

/// The S3 client an emulated domain stores its snapshots with. It retries as the engines'
/// `repository-s3` client does: `max_retries` defaults to 3 (the plugin's client settings, in
/// the Elasticsearch and OpenSearch S3 repository documentation), so four attempts, and the
/// AWS SDK retries 500s and 503 `SlowDown`. The backoff is kept short: nothing measures it.
pub fn engine_s3_client(endpoint: &str, credentials: Credentials) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::retry::RetryConfig;
    let retry = RetryConfig::standard()
        .with_max_attempts(ENGINE_S3_ATTEMPTS)
        .with_initial_backoff(std::time::Duration::from_millis(5))
        .with_max_backoff(std::time::Duration::from_millis(40));
    aws_sdk_s3::Client::from_conf(
        loopback_config(endpoint, credentials)
            .retry_config(retry)
            .build(),
    )
}

/// One request and `repository-s3`'s default three retries.
pub const ENGINE_S3_ATTEMPTS: u32 = 4;

/// The region each bucket is in, for the answers that name it.
#[derive(Debug, Clone, Default)]
struct BucketRegions(Arc<Mutex<HashMap<String, String>>>);

impl BucketRegions {
    fn set(&self, bucket: &str, region: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(bucket.to_owned(), region.to_owned());
    }

    fn of(&self, bucket: &str) -> String {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(bucket)
            .cloned()
            .unwrap_or_else(|| TEST_REGION.to_owned())
    }
}

/// s3s over a folder, made to behave as S3 where the tests can tell:
/// - HeadBucket names the bucket's region in `x-amz-bucket-region`. (Real S3 also answers 301
///   to a HeadBucket signed for another region; the emulated domains sign every S3 request
///   for the test region, so that redirect is not emulated.)
/// - A write is atomic for readers: the file store renames the object into place and then
///   writes its checksums apart, so a read in between would pair new bytes with old
///   checksums. A write to an object excludes other requests for that object (writes to
///   different objects run side by side, as S3 does); other writes, such as `DeleteObjects`,
///   exclude every request.
#[derive(Clone)]
struct S3Front {
    inner: S3Service,
    regions: BucketRegions,
    locks: Arc<ObjectLocks>,
    faults: S3FaultControl,
}

/// One lock over the bucket-level requests, and a few locks shared out among the objects.
#[derive(Debug, Default)]
struct ObjectLocks {
    all: tokio::sync::RwLock<()>,
    objects: [tokio::sync::RwLock<()>; 16],
}

/// The locks one request holds while the file store serves it (released when dropped).
enum Held<'a> {
    Read {
        _bucket: RwLockReadGuard<'a, ()>,
        _object: Option<RwLockReadGuard<'a, ()>>,
    },
    ObjectWrite {
        _bucket: RwLockReadGuard<'a, ()>,
        _object: RwLockWriteGuard<'a, ()>,
    },
    BucketWrite {
        _everything: RwLockWriteGuard<'a, ()>,
    },
}

impl ObjectLocks {
    /// Takes what a request needs: a read of an object shares its lock; a write to an object
    /// excludes that object only; any other write excludes everything.
    async fn hold(&self, object: Option<&str>, writes: bool) -> Held<'_> {
        match (object, writes) {
            (object, false) => Held::Read {
                _bucket: self.all.read().await,
                _object: match object {
                    Some(object) => Some(self.of(object).read().await),
                    None => None,
                },
            },
            (Some(object), true) => Held::ObjectWrite {
                _bucket: self.all.read().await,
                _object: self.of(object).write().await,
            },
            (None, true) => Held::BucketWrite {
                _everything: self.all.write().await,
            },
        }
    }

    fn of(&self, object: &str) -> &tokio::sync::RwLock<()> {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(object);
        let at = usize::try_from(hash % self.objects.len() as u64).unwrap_or(0);
        &self.objects[at]
    }
}

impl hyper::service::Service<http::Request<hyper::body::Incoming>> for S3Front {
    type Response = http::Response<s3s::Body>;
    type Error = s3s::HttpError;
    type Future =
        std::pin::Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn call(&self, request: http::Request<hyper::body::Incoming>) -> Self::Future {
        let head_bucket = (request.method() == http::Method::HEAD)
            .then(|| bucket_of_path(request.uri().path()))
            .flatten();
        let object = is_object_path(request.uri().path()).then(|| request.uri().path().to_owned());
        let reads_only = matches!(*request.method(), http::Method::GET | http::Method::HEAD);
        let service = self.inner.clone();
        let regions = self.regions.clone();
        let locks = self.locks.clone();
        if let Some(fault) = self.faults.decide(request.method(), request.uri().path()) {
            let body = if request.method() == http::Method::HEAD {
                String::new()
            } else {
                fault.body(request.uri().path())
            };
            let mut response = http::Response::new(s3s::Body::from(body));
            *response.status_mut() = fault.status();
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/xml"),
            );
            return Box::pin(async move { Ok(response) });
        }
        Box::pin(async move {
            let _held = locks.hold(object.as_deref(), !reads_only).await;
            let mut response = service.call(request.map(s3s::Body::from)).await?;
            if let Some(bucket) = head_bucket
                && (response.status().is_success()
                    || response.status() == http::StatusCode::FORBIDDEN)
                && let Ok(region) = http::HeaderValue::from_str(&regions.of(&bucket))
            {
                response.headers_mut().insert("x-amz-bucket-region", region);
            }
            Ok(response)
        })
    }
}

/// Refuses anonymous requests (as s3s does by default) and, as S3 does, answers
/// `NoSuchBucket` to object requests and `DeleteObjects` in a bucket that does not exist: the
/// file store would create the bucket on a put, and answer `NoSuchKey` or report deletions.
struct BucketMustExist {
    root: PathBuf,
}

#[async_trait::async_trait]
impl S3Access for BucketMustExist {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        if cx.credentials().is_none() {
            return Err(s3_error!(AccessDenied, "Signature is required"));
        }
        let bucket = match cx.s3_path() {
            S3Path::Object { bucket, .. } => Some(bucket),
            S3Path::Bucket { bucket } if cx.s3_op().name() == "DeleteObjects" => Some(bucket),
            _ => None,
        };
        match bucket {
            Some(bucket) if !self.root.join(&**bucket).is_dir() => Err(s3_error!(
                NoSuchBucket,
                "The specified bucket does not exist"
            )),
            _ => Ok(()),
        }
    }
}

/// Whether a path-style path names an object (`/bucket/key`).
fn is_object_path(path: &str) -> bool {
    path.trim_start_matches('/')
        .split_once('/')
        .is_some_and(|(_, key)| !key.is_empty())
}

/// `bucket` for a path-style bucket request (`/bucket` or `/bucket/`).
fn bucket_of_path(path: &str) -> Option<String> {
    let name = path.trim_start_matches('/').trim_end_matches('/');
    (!name.is_empty() && !name.contains('/')).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_buckets_or_objects() {
        assert_eq!(bucket_of_path("/snapshots"), Some("snapshots".to_owned()));
        assert_eq!(bucket_of_path("/snapshots/"), Some("snapshots".to_owned()));
        assert_eq!(bucket_of_path("/snapshots/a.json"), None);
        assert!(is_object_path("/snapshots/base/a.json"));
        assert!(!is_object_path("/snapshots/"));
        assert!(!is_object_path("/snapshots"));
        assert!(!is_object_path("/"));
    }

    #[test]
    fn every_object_has_one_lock() {
        let locks = ObjectLocks::default();
        let a: *const _ = locks.of("/b/k1");
        assert!(std::ptr::eq(a, locks.of("/b/k1")));
        let spread: std::collections::HashSet<*const _> = (0..64)
            .map(|i| locks.of(&format!("/b/k{i}")) as *const _)
            .collect();
        assert!(spread.len() > 1, "objects share out the locks");
    }
}
