//! The local worlds of `osnap demo` and `osnap standin`: the stand-in's S3 server and emulated
//! domains (the demo's source and target share one bucket), and sample data. Everything here is
//! the LOCAL STAND-IN; nothing reaches AWS.

use std::path::PathBuf;

use aws_credential_types::Credentials;
use http::Method;
use signing::{DomainClient, DomainRequest};
use standin::auth::TestPrincipal;
use standin::domain::DEFAULT_SNAPSHOT_ROLE;
use standin::s3::S3Server;
use standin::{Domain, DomainConfig};

/// Sample indices and their document counts.
pub const SAMPLE_INDICES: [(&str, usize); 3] = [
    ("logs-2026.11.27", 1_200),
    ("logs-2026.11.28", 800),
    ("orders", 350),
];
const BUCKET: &str = "osnap-demo-snapshots";

pub struct DemoFixture {
    root: PathBuf,
    s3: S3Server,
    source: Domain,
    target: Domain,
}

impl DemoFixture {
    pub async fn start() -> Result<Self, String> {
        let root = std::env::temp_dir().join(format!("osnap-demo-{}", std::process::id()));
        let principal = TestPrincipal::default_operator();
        let s3 = S3Server::start(&root, &principal.access_key, &principal.secret_key)
            .await
            .map_err(|e| e.to_string())?;
        s3.create_bucket(BUCKET).await.map_err(|e| e.to_string())?;
        let config = |name: &str| DomainConfig::new(name, s3.endpoint(), s3.credentials());
        let source = Domain::start(config("logs-old"))
            .await
            .map_err(|e| e.to_string())?;
        let target = Domain::start(config("logs-new"))
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self {
            root,
            s3,
            source,
            target,
        })
    }

    pub fn describe(&self) -> String {
        format!(
            "S3 {}, source {}, target {}",
            self.s3.endpoint(),
            self.source.endpoint(),
            self.target.endpoint()
        )
    }

    /// Where the functions' S3 calls go (the manifests).
    pub fn s3_endpoint(&self) -> String {
        self.s3.endpoint()
    }

    pub fn credentials(&self) -> Credentials {
        standin::client::operator_credentials()
    }

    pub fn source_endpoint(&self) -> String {
        self.source.endpoint()
    }

    pub fn target_endpoint(&self) -> String {
        self.target.endpoint()
    }

    pub fn bucket(&self) -> &str {
        BUCKET
    }

    pub fn region(&self) -> &str {
        standin::TEST_REGION
    }

    pub fn snapshot_role_arn(&self) -> &str {
        DEFAULT_SNAPSHOT_ROLE
    }

    fn client(&self, endpoint: &str) -> Result<DomainClient, String> {
        standin::client::operator_client(endpoint).map_err(|e| e.to_string())
    }

    /// Loads the sample data into the source.
    pub async fn load_sample_data(&self) -> Result<usize, String> {
        load_sample_data(&self.source.endpoint()).await
    }

    /// Documents in `from` on the source and `to` on the target, read directly.
    pub async fn count_pair(&self, from: &str, to: &str) -> Result<(u64, u64), String> {
        Ok((
            count(&self.client(&self.source.endpoint())?, from).await?,
            count(&self.client(&self.target.endpoint())?, to).await?,
        ))
    }

    pub async fn stop(self) {
        self.source.shutdown().await;
        self.target.shutdown().await;
        self.s3.shutdown().await;
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Indexes the sample documents into the domain at `endpoint` with `_bulk`, and adds the
/// alias `logs` over the log indices. Returns how many documents went in.
pub async fn load_sample_data(endpoint: &str) -> Result<usize, String> {
    let client = standin::client::operator_client(endpoint).map_err(|e| e.to_string())?;
    let mut total = 0;
    for (index, count) in SAMPLE_INDICES {
        let mut body = String::new();
        for n in 0..count {
            body.push_str(&format!(
                "{{\"index\":{{\"_index\":\"{index}\",\"_id\":\"{n}\"}}}}\n"
            ));
            body.push_str(&format!(
                "{{\"message\":\"event {n} of {index}\",\"level\":\"{}\",\"bytes\":{}}}\n",
                if n % 10 == 0 { "warn" } else { "info" },
                n * 37 % 5_000
            ));
        }
        let request = DomainRequest::new(Method::POST, &["_bulk"])
            .query("refresh", "true")
            .json_body(body);
        expect_ok(client.send(&request).await, "bulk load")?;
        total += count;
    }
    let aliases = r#"{"actions":[{"add":{"index":"logs-2026.11.27","alias":"logs"}},{"add":{"index":"logs-2026.11.28","alias":"logs","is_write_index":true}}]}"#;
    let request = DomainRequest::new(Method::POST, &["_aliases"]).json_body(aliases);
    expect_ok(client.send(&request).await, "alias")?;
    Ok(total)
}

async fn count(client: &DomainClient, index: &str) -> Result<u64, String> {
    let response = expect_ok(
        client.send(&DomainRequest::get(&[index, "_count"])).await,
        "count",
    )?;
    let value: serde_json::Value =
        serde_json::from_slice(&response.body).map_err(|e| e.to_string())?;
    value["count"]
        .as_u64()
        .ok_or_else(|| format!("no count for {index}"))
}

fn expect_ok(
    outcome: Result<signing::DomainResponse, signing::SigningError>,
    what: &str,
) -> Result<signing::DomainResponse, String> {
    let response = outcome.map_err(|e| format!("{what}: {e}"))?;
    if response.status.is_success() {
        Ok(response)
    } else {
        Err(format!(
            "{what}: {} {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        ))
    }
}
