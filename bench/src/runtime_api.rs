//! A minimal Lambda Runtime API on loopback, so that the moments a function asks for its
//! first event and posts its answer are seen exactly, and the function's process can be
//! sampled (CPU, peak memory) at each of them.
//!
//! It serves the queued events in order, one per `GET …/invocation/next`; once they are all
//! served, `next` never answers (the function waits there, as in Lambda, until it is stopped).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::BenchError;
use crate::process::{Sample, sample};

/// What the function did, in order.
#[derive(Debug, Clone)]
pub enum Mark {
    /// It asked for an event (the process sampled as it asked).
    Next { at: Instant, sample: Sample },
    /// It posted the answer to an event.
    Response {
        at: Instant,
        sample: Sample,
        body: Bytes,
    },
    /// It posted an invocation error.
    Error { at: Instant, body: Bytes },
    /// It failed before asking for an event.
    InitError { at: Instant, body: Bytes },
}

#[derive(Debug)]
struct Shared {
    events: Mutex<VecDeque<Value>>,
    served: Mutex<u64>,
    pid: OnceLock<u32>,
    marks: mpsc::UnboundedSender<Mark>,
}

impl Shared {
    /// The function's pid. It is set as soon as the process is spawned, which is before the
    /// function can ask for anything; the wait only guards against a scheduling race.
    async fn pid(&self) -> Option<u32> {
        for _ in 0..1_000 {
            if let Some(pid) = self.pid.get() {
                return Some(*pid);
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        None
    }

    fn mark(&self, mark: Mark) {
        // The receiver is gone only when the measurement was abandoned.
        let _ = self.marks.send(mark);
    }
}

/// A running Runtime API for one function process.
#[derive(Debug)]
pub struct RuntimeApi {
    address: SocketAddr,
    shared: Arc<Shared>,
    marks: mpsc::UnboundedReceiver<Mark>,
    task: JoinHandle<()>,
}

const API: &str = "/2018-06-01/runtime";

impl RuntimeApi {
    /// Serves `events` on `127.0.0.1:0`.
    pub async fn start(events: Vec<Value>) -> Result<Self, BenchError> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| BenchError::io("bind the Runtime API", e))?;
        let address = listener
            .local_addr()
            .map_err(|e| BenchError::io("read the Runtime API's address", e))?;
        let (sender, marks) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            events: Mutex::new(events.into()),
            served: Mutex::new(0),
            pid: OnceLock::new(),
            marks: sender,
        });
        let app = Router::new()
            .route(&format!("{API}/invocation/next"), get(next))
            .route(&format!("{API}/invocation/{{id}}/response"), post(response))
            .route(&format!("{API}/invocation/{{id}}/error"), post(error))
            .route(&format!("{API}/init/error"), post(init_error))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            address,
            shared,
            marks,
            task,
        })
    }

    /// `127.0.0.1:PORT`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Tells the API which process is the function (for sampling it).
    pub fn set_pid(&self, pid: u32) {
        let _ = self.shared.pid.set(pid);
    }

    /// The next thing the function did.
    pub async fn next_mark(&mut self) -> Option<Mark> {
        self.marks.recv().await
    }

    pub fn stop(self) {
        self.task.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let at = Instant::now();
    let pid = shared.pid().await;
    shared.mark(Mark::Next {
        at,
        sample: pid.map(sample).unwrap_or_default(),
    });
    let event = shared
        .events
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop_front();
    let Some(event) = event else {
        // Nothing more to do: the function waits here until it is stopped.
        return std::future::pending().await;
    };
    let id = {
        let mut served = shared.served.lock().unwrap_or_else(PoisonError::into_inner);
        *served += 1;
        format!("osnap-bench-{served}")
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        + 900_000;
    let mut headers = HeaderMap::new();
    let values = [
        ("lambda-runtime-aws-request-id", id),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:123456789012:function:osnap-bench".to_owned(),
        ),
        (
            "lambda-runtime-trace-id",
            "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
        ),
        ("content-type", "application/json".to_owned()),
    ];
    for (name, value) in values {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    (StatusCode::OK, headers, event.to_string()).into_response()
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(_id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let at = Instant::now();
    let pid = shared.pid().await;
    shared.mark(Mark::Response {
        at,
        sample: pid.map(sample).unwrap_or_default(),
        body,
    });
    StatusCode::ACCEPTED
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(_id): Path<String>,
    body: Bytes,
) -> StatusCode {
    shared.mark(Mark::Error {
        at: Instant::now(),
        body,
    });
    StatusCode::ACCEPTED
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    shared.mark(Mark::InitError {
        at: Instant::now(),
        body,
    });
    StatusCode::ACCEPTED
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;

    use super::*;

    /// A client playing the function: it gets the event, answers, and asks again.
    #[tokio::test]
    async fn serves_events_in_order_and_records_what_the_function_did() {
        let mut api = RuntimeApi::start(vec![json!({"n": 1})]).await.unwrap();
        api.set_pid(std::process::id());
        let base = format!("http://{}{API}", api.address());
        let http = reqwest::Client::new();
        let event = http
            .get(format!("{base}/invocation/next"))
            .send()
            .await
            .unwrap();
        let id = event.headers()["lambda-runtime-aws-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(event.text().await.unwrap(), r#"{"n":1}"#);
        let posted = http
            .post(format!("{base}/invocation/{id}/response"))
            .body("{\"ok\":true}")
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 202);
        // No more events: the next poll stays open.
        let waiting = http
            .get(format!("{base}/invocation/next"))
            .timeout(Duration::from_millis(200))
            .send()
            .await;
        assert!(waiting.is_err());

        let Some(Mark::Next { sample, .. }) = api.next_mark().await else {
            panic!("expected next");
        };
        assert!(sample.peak_rss_bytes > 0);
        let Some(Mark::Response { body, .. }) = api.next_mark().await else {
            panic!("expected a response");
        };
        assert_eq!(&body[..], b"{\"ok\":true}");
        assert!(matches!(api.next_mark().await, Some(Mark::Next { .. })));
        api.stop();
    }
}
