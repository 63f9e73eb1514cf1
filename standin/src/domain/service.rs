//! The domain's HTTP front, in the order a request meets AWS and then the engine: latency,
//! the SigV4 check (on a self-managed cluster, its basic authentication instead), injected
//! faults (which answer for the gateway), then the endpoint.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::json;

use crate::auth::verify_request;
use crate::basic_auth::{self, BasicHeader};
use crate::domain::api::{
    aliases, cat, cluster_settings, data_streams, documents, indices, info, repository, restore,
    security, snapshot_views, snapshots, tiers,
};
use crate::domain::state::config::SelfManagedAccess;
use crate::domain::state::faults::Fault;
use crate::domain::state::{QueuedWork, Shared};
use crate::domain::wire::call::{Answer, Call};
use crate::domain::wire::challenge::{self, Refusal};
use crate::domain::wire::reply::{EsError, Reply};
use crate::domain::wire::routes::{self, Query, Route, check_params, decode_segment};

/// The largest body the engine accepts (`http.max_content_length`).
const MAX_BODY: usize = 100 * 1024 * 1024;

/// The longest request line the engine reads (`http.max_initial_line_length`, 4kb by default
/// and not changeable on AWS). Netty's `HttpObjectDecoder` counts the line's bytes with its
/// CR, and refuses the request past the limit before anything else looks at it.
const MAX_REQUEST_LINE: usize = 4096;

/// Closing the connection without an answer (an injected fault).
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by an injected fault")]
pub(crate) struct Dropped;

/// The hyper service of one domain.
#[derive(Debug, Clone)]
pub(crate) struct DomainService {
    shared: Arc<Shared>,
}

impl DomainService {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

impl hyper::service::Service<Request<Incoming>> for DomainService {
    type Response = Response<Body>;
    type Error = Dropped;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Dropped>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let shared = self.shared.clone();
        Box::pin(async move { handle(shared, request).await })
    }
}

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Dropped> {
    let (parts, body) = request.into_parts();
    shared.requests.record(&parts.method);
    if let Err(error) = check_request_line(&parts) {
        return Ok(respond(error.reply(), &parts.method, false));
    }
    let body = match axum::body::to_bytes(Body::new(body), MAX_BODY).await {
        Ok(body) => body,
        Err(_) => {
            return Ok(respond(
                Reply::plain_error(StatusCode::PAYLOAD_TOO_LARGE, "request body is too large"),
                &parts.method,
                false,
            ));
        }
    };
    let latency = shared.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let caller_arn = match authenticate(&shared, &parts, &body) {
        Ok(caller) => caller,
        Err(response) => return Ok(*response),
    };
    let query = Query::parse(parts.uri.query());
    let pretty = query.get("pretty").is_some();
    let call = Call {
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        segments: parts
            .uri
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(decode_segment)
            .collect(),
        query,
        raw_query: parts.uri.query().map(str::to_owned),
        content_type: parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body,
        caller_arn,
    };
    let fault = shared.faults.decide(&call.method, &call.path);
    let reply = match fault {
        None => answer(&shared, call).await,
        Some(Fault::DropConnection) => return Err(Dropped),
        Some(Fault::DropAfterActing) => {
            // As for the 504 after acting: the work ends before the connection is dropped.
            let worker = shared.clone();
            let _ = shared
                .spawn(async move { answer(&worker, call).await })
                .await;
            return Err(Dropped);
        }
        Some(Fault::TooManyRequests) => Reply::json(
            StatusCode::TOO_MANY_REQUESTS,
            &json!({"message": "Too Many Requests"}),
        ),
        Some(Fault::Throttled) => Reply::json(
            StatusCode::FORBIDDEN,
            &json!({"message": "Request throttled due to too many requests"}),
        ),
        Some(Fault::GatewayTimeout) => {
            // The work is its own task: it ends even if the caller hangs up meanwhile, and it
            // has ended before the 504 goes out, so the order is the same on every run.
            let worker = shared.clone();
            let work = shared.spawn(async move { answer(&worker, call).await });
            let _ = work.await;
            Reply::gateway_timeout()
        }
        Some(Fault::GatewayTimeoutQueued) => {
            let worker = shared.clone();
            shared.queue(QueuedWork(Box::pin(async move {
                answer(&worker, call).await;
            })));
            return Ok(respond(Reply::gateway_timeout(), &parts.method, false));
        }
        Some(Fault::LateArrival(after)) => {
            tokio::time::sleep(after).await;
            answer(&shared, call).await
        }
        Some(Fault::SlowAnswer(after)) => {
            // The work is its own task: it ends even if the caller hangs up meanwhile.
            let worker = shared.clone();
            let work = shared.spawn(async move { answer(&worker, call).await });
            tokio::time::sleep(after).await;
            work.await.unwrap_or_else(|_| Reply::gateway_timeout())
        }
    };
    // Work queued behind this request runs once its answer is ready and before it is sent.
    for work in shared.take_queued() {
        let _ = shared.spawn(work.0).await;
    }
    Ok(respond(reply, &parts.method, pretty))
}

fn respond(reply: Reply, method: &Method, pretty: bool) -> Response<Body> {
    let body = if pretty && reply.content_type.starts_with("application/json") {
        serde_json::from_slice::<serde_json::Value>(&reply.body)
            .ok()
            .and_then(|v| serde_json::to_vec_pretty(&v).ok())
            .map(Bytes::from)
            .unwrap_or(reply.body)
    } else {
        reply.body
    };
    let body = if *method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(body)
    };
    let mut response = Response::new(body);
    *response.status_mut() = reply.status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(reply.content_type),
    );
    if let Some(server) = reply.server {
        response
            .headers_mut()
            .insert(http::header::SERVER, HeaderValue::from_static(server));
    }
    response
}

/// Who sent the request: the SigV4 signer's ARN on an AWS domain, the basic user's name on a
/// self-managed cluster (empty on one without authentication); or the answer refusing it.
fn authenticate(
    shared: &Shared,
    parts: &http::request::Parts,
    body: &[u8],
) -> Result<String, Box<Response<Body>>> {
    match &shared.config.self_managed {
        None => match verify_request(parts, body, &shared.auth, SystemTime::now()) {
            Ok(principal) => Ok(principal.arn.clone()),
            Err(failure) => {
                let reply = Reply {
                    status: failure.status(),
                    body: Bytes::from(failure.body()),
                    content_type: "application/json",
                    server: None,
                };
                Err(Box::new(respond(reply, &parts.method, false)))
            }
        },
        // No security plugin: nothing reads the Authorization header.
        Some(SelfManagedAccess::Open) => Ok(String::new()),
        Some(SelfManagedAccess::Basic { username, password }) => {
            let header = parts
                .headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            let refusal = match basic_auth::parse(header) {
                BasicHeader::Credentials {
                    username: sent,
                    password: sent_password,
                } => {
                    if sent == *username && sent_password == *password {
                        return Ok(sent);
                    }
                    Refusal::WrongCredentials { username: sent }
                }
                BasicHeader::Absent => Refusal::NoCredentials,
                BasicHeader::Malformed => {
                    return Err(Box::new(respond(
                        challenge::malformed_basic_header(),
                        &parts.method,
                        false,
                    )));
                }
            };
            let uri = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            let answer = challenge::unauthorized(&shared.config.engine.policy(), &refusal, uri);
            // The engine's error channel honours `pretty` as for any other error.
            let pretty = Query::parse(parts.uri.query()).get("pretty").is_some();
            let mut response = respond(answer.reply, &parts.method, pretty);
            response.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static(answer.www_authenticate),
            );
            Err(Box::new(response))
        }
    }
}

/// `METHOD SP request-target SP HTTP/1.1` and its CR must fit in [`MAX_REQUEST_LINE`].
fn check_request_line(parts: &http::request::Parts) -> Result<(), EsError> {
    let target = parts.uri.path_and_query().map_or(1, |p| p.as_str().len());
    let line = parts.method.as_str().len() + 1 + target + 1 + "HTTP/1.1".len();
    if line + 1 > MAX_REQUEST_LINE {
        return Err(EsError::bad_request(
            "too_long_frame_exception",
            format!("An HTTP line is larger than {MAX_REQUEST_LINE} bytes."),
        ));
    }
    Ok(())
}

/// Accepted body types: JSON for every endpoint, NDJSON too for bulk.
fn check_content_type(call: &Call) -> Result<(), Reply> {
    if call.body.is_empty() {
        return Ok(());
    }
    let declared = call.content_type.as_deref().unwrap_or("");
    let media = declared.split(';').next().unwrap_or("").trim();
    if matches!(media, "application/json" | "application/x-ndjson") {
        Ok(())
    } else {
        Err(Reply::plain_error(
            StatusCode::NOT_ACCEPTABLE,
            &format!("Content-Type header [{declared}] is not supported"),
        ))
    }
}

/// Routes an authenticated request and runs its endpoint.
pub(crate) async fn answer(shared: &Arc<Shared>, call: Call) -> Reply {
    let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    shared.record_seen(crate::domain::SeenRequest {
        method: call.method.to_string(),
        segments: call.segments.clone(),
        query: call.query.names().map(str::to_owned).collect(),
    });
    if let Some(refusal) = routes::not_modelled(&call.method, &segments, &call.query) {
        return Reply::json(StatusCode::NOT_IMPLEMENTED, &json!({ "error": refusal }));
    }
    if !shared.config.is_aws() && aws_only_path(&segments) {
        return no_handler(&call);
    }
    let Some(route) = routes::route(&call.method, &segments) else {
        return routes::unmatched(&call.method, &segments, &call.uri());
    };
    if let Err(error) = check_params(&route, &call.query, &call.path, &shared.capabilities()) {
        shared.record_unrecognized(&error.reason);
        return error.reply();
    }
    if let Err(reply) = check_content_type(&call) {
        return reply;
    }
    if let Some(plugin) = &shared.security
        && let Err(reply) = security::authorize(shared, plugin, &call, &route).await
    {
        return reply;
    }
    match dispatch(shared, &call, route).await {
        Ok(reply) | Err(reply) => reply,
    }
}

async fn dispatch(shared: &Arc<Shared>, call: &Call, route: Route) -> Answer {
    match route {
        Route::Root => Ok(info::root(shared)),
        Route::ClusterHealth(index) => info::health(shared, call, index.as_deref()).await,
        Route::Recovery(index) => info::recovery(shared, call, index.as_deref()),
        Route::CreateIndex(name) => indices::create(shared, call, &name),
        Route::DeleteIndex(name) => indices::delete(shared, call, &name),
        Route::GetIndex(name) => indices::get(shared, call, &name),
        Route::GetSettings { index, names } => {
            indices::get_settings(shared, call, &index, names.as_deref())
        }
        Route::ColdIndices => tiers::cold_indices(shared),
        Route::IndexExists(name) => indices::exists(shared, call, &name),
        Route::OpenIndex(name) => indices::set_open(shared, call, &name, true),
        Route::CloseIndex(name) => indices::set_open(shared, call, &name, false),
        Route::IndexDoc { index, id, create } => {
            documents::index_doc(shared, call, &index, id.as_deref(), create)
        }
        Route::Bulk(index) => documents::bulk(shared, call, index.as_deref()),
        Route::Count(index) => documents::count(shared, call, index.as_deref()),
        Route::CatIndices(pattern) => cat::indices(shared, call, pattern.as_deref()),
        Route::CatAllocation(nodes) => cat::allocation(shared, call, nodes.as_deref()),
        Route::CatShards(pattern) => cat::shards(shared, call, pattern.as_deref()),
        Route::AuthInfo { opendistro } => match &shared.security {
            Some(plugin) if opendistro || shared.opensearch() => {
                Ok(security::authinfo(plugin, call))
            }
            _ => Err(no_handler(call)),
        },
        Route::CatSnapshots(repository) => {
            cat::snapshots(shared, call, repository.as_deref()).await
        }
        Route::GetAliases { index, name } => {
            aliases::get(shared, call, index.as_deref(), name.as_deref())
        }
        Route::UpdateAliases => aliases::update(shared, call),
        Route::PutAlias { index, name } => aliases::put(shared, call, &index, &name),
        Route::DeleteAlias { index, name } => aliases::delete(shared, call, &index, &name),
        Route::PutRepository(name) => repository::put(shared, call, &name).await,
        Route::GetRepositories(names) => repository::get(shared, names.as_deref()),
        Route::VerifyRepository(name) => repository::verify(shared, &name).await,
        Route::DeleteRepository(name) => repository::delete(shared, call, &name),
        Route::CreateSnapshot {
            repository,
            snapshot,
        } => snapshots::create(shared, call, &repository, &snapshot).await,
        Route::GetSnapshots {
            repository,
            snapshots,
        } => snapshot_views::get(shared, call, &repository, &snapshots).await,
        Route::SnapshotStatus {
            repository,
            snapshots,
        } => {
            snapshot_views::status(shared, call, repository.as_deref(), snapshots.as_deref()).await
        }
        Route::DeleteSnapshots {
            repository,
            snapshots,
        } => snapshots::delete(shared, call, &repository, &snapshots).await,
        Route::Restore {
            repository,
            snapshot,
        } => restore::restore(shared, call, &repository, &snapshot).await,
        Route::GetClusterSettings => cluster_settings::get(shared, call),
        Route::PutIndexTemplate(name) => data_streams::put_template(shared, call, &name),
        Route::GetIndexTemplates(name) => data_streams::get_templates(shared, name.as_deref()),
        Route::PutDataStream(name) => data_streams::create(shared, &name),
        Route::GetDataStreams(name) => data_streams::get(shared, name.as_deref()),
        Route::DeleteDataStream(name) => data_streams::delete(shared, call, &name),
        Route::Rollover(target) => data_streams::rollover(shared, &target),
        Route::PutClusterSettings => cluster_settings::put(shared, call),
        Route::PutSecurityConfig {
            opendistro,
            kind,
            name,
        } => match &shared.security {
            // Open Distro's security plugin on Elasticsearch serves only its own prefix.
            Some(plugin) if opendistro || shared.opensearch() => {
                security::put_config(plugin, call, &kind, &name)
            }
            // Without the plugin the path is served by nothing.
            _ => Err(no_handler(call)),
        },
    }
}

/// Paths only Amazon OpenSearch Service serves: cold storage's `_cold`, UltraWarm's
/// `_ultrawarm` and its `_warm`/`_hot` index expressions (Developer Guide, `ultrawarm.md`,
/// `cold-storage.md`). A self-managed cluster has none of them.
fn aws_only_path(segments: &[&str]) -> bool {
    segments
        .first()
        .is_some_and(|s| matches!(*s, "_cold" | "_ultrawarm"))
        || segments.iter().any(|s| matches!(*s, "_warm" | "_hot"))
}

/// The engine's answer for a path nothing serves (a plugin's path, the plugin off).
fn no_handler(call: &Call) -> Reply {
    Reply::json(
        StatusCode::BAD_REQUEST,
        &json!({"error": format!(
            "no handler found for uri [{}] and method [{}]",
            call.uri(),
            call.method
        )}),
    )
}
