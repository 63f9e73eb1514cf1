//! The shell every osnap Lambda function shares: tracing (JSON when the function's log format
//! is JSON), the environment read once, clients built once and reused by every invocation,
//! each outcome's metrics written as one Embedded Metric Format line ([`measure`], [`emf`]),
//! and failures turned into errors whose `errorType` is osnap's stable name.

pub mod calendar;
pub mod emf;
pub mod measure;

use std::future::Future;
use std::io::Write;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use operations::connect::{Connector, CredentialMode};
use operations::contract::{Defaults, peek_target};
use operations::{Context, OsnapError};
use serde::Serialize;
use serde_json::Value;
use signing::{EndpointPolicy, SharedTimeSource, SystemTimeSource};
use tracing::Instrument;

use crate::measure::{Labels, Measured};

/// Runs `handler` for every invocation until the runtime stops.
pub async fn run<F, Fut, O>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(Context, Value) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<O, OsnapError>> + Send,
    O: Serialize + Measured,
{
    lambda_runtime::tracing::init_default_subscriber();
    let context = context_from_env(|name| std::env::var(name).ok())?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let mut context = context.clone();
        let now = std::time::SystemTime::now();
        context.deadline = deadline(event.context.deadline, now)
            .map(|deadline| calendar::on_calendar(deadline, now, context.time.now()));
        let handler = handler.clone();
        let request_id = event.context.request_id;
        let span = tracing::info_span!("invocation", request_id = %request_id);
        let labels = peek_target(&event.payload, &context.defaults).and_then(|t| Labels::of(&t));
        // Metrics carry real times, whatever calendar the function decides by.
        let time = SharedTimeSource::new(SystemTimeSource::new());
        async move {
            let outcome = handler(context, event.payload).await;
            if let Err(error) = &outcome {
                let message = policy::quote::bounded_message(&error.to_string());
                tracing::error!(error_type = error.error_type(), error = %message, "invocation failed");
            }
            let now = time.now();
            let (metrics, at) = match &outcome {
                Ok(output) => (output.metrics(), output.measured_at(now)),
                Err(error) => (O::error_metrics(error), now),
            };
            if let Some(labels) = &labels {
                emit(measure::emf_line(labels, &metrics, &request_id, at, now));
            }
            outcome.map_err(diagnostic)
        }
        .instrument(span)
    }))
    .await
}

/// Writes an EMF line to stdout, where Lambda takes each line as a log event and CloudWatch
/// Logs extracts its metrics. One `write_all` of the whole line, so that it never interleaves
/// with the JSON log lines tracing writes to the same stream.
fn emit(line: Option<Result<String, emf::EmfError>>) {
    match line {
        None => {}
        Some(Ok(mut line)) => {
            line.push('\n');
            if let Err(error) = std::io::stdout().lock().write_all(line.as_bytes()) {
                tracing::warn!(%error, "the metrics line could not be written");
            }
        }
        Some(Err(error)) => {
            let message = policy::quote::bounded_message(&error.to_string());
            tracing::warn!(error = %message, "metrics not written: they break the EMF rules");
        }
    }
}

/// The process-wide context, from the environment read through `lookup`.
pub fn context_from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Context, OsnapError> {
    context_with_credentials(lookup, CredentialMode::Environment)
}

/// As [`context_from_env`], signing with credentials from `mode` (the command line's
/// `--profile`); the endpoint guard is the same.
pub fn context_with_credentials(
    lookup: impl Fn(&str) -> Option<String>,
    mode: CredentialMode,
) -> Result<Context, OsnapError> {
    let defaults = Defaults::from_lookup(&lookup);
    let mut policy = defaults
        .allowed_hosts
        .as_deref()
        .map_or_else(EndpointPolicy::aws_only, EndpointPolicy::from_list);
    let testing = EndpointPolicy::loopback_switch_is_set(&lookup);
    if testing {
        tracing::warn!(
            switch = signing::endpoint::LOOPBACK_SWITCH,
            "signing for loopback addresses: this is for tests against a local stand-in only"
        );
        policy = policy.allowing_loopback_for_tests();
    }
    // Signing keeps the real clock; decisions follow the calendar (the real clock, but in
    // tests against the stand-in).
    let connector = Connector::new(mode, policy, SharedTimeSource::new(SystemTimeSource::new()))?;
    Ok(Context {
        connector,
        defaults,
        time: calendar::from_lookup(&lookup, testing),
        deadline: None,
    })
}

/// Lambda's deadline, milliseconds since the Unix epoch, as a time. One already past when the
/// invocation arrives is not a real deadline (Lambda's is always ahead; a local emulator may
/// send a duration instead): it is ignored, with a warning, rather than taken to mean that
/// no request may be sent.
fn deadline(epoch_millis: u64, now: std::time::SystemTime) -> Option<std::time::SystemTime> {
    let deadline = std::time::UNIX_EPOCH + std::time::Duration::from_millis(epoch_millis);
    if deadline <= now {
        tracing::warn!(
            epoch_millis,
            "the invocation's deadline is already past; ignored"
        );
        return None;
    }
    Some(deadline)
}

/// The Lambda error for a failure: `errorType` is the taxonomy's stable name, which Step
/// Functions `Retry` and `Catch` match.
pub fn diagnostic(error: OsnapError) -> Diagnostic {
    Diagnostic {
        error_type: error.error_type().to_owned(),
        error_message: policy::quote::bounded_message(&error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_carry_the_stable_error_type() {
        let d = diagnostic(OsnapError::RepositoryMissing {
            repository: "nightly".into(),
        });
        assert_eq!(d.error_type, "RepositoryMissing");
        assert!(d.error_message.contains("nightly"), "{}", d.error_message);
    }

    #[test]
    fn a_deadline_already_past_is_no_deadline() {
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000);
        let ahead = 1_795_000_000_000 + 60_000;
        assert_eq!(
            deadline(ahead, now),
            Some(now + std::time::Duration::from_secs(60))
        );
        // What a local emulator sends: 600,000 ms, i.e. 1970.
        assert_eq!(deadline(600_000, now), None);
    }

    #[test]
    fn a_diagnostic_never_carries_a_huge_value_whole() {
        let huge = "x".repeat(70_000);
        let d = diagnostic(OsnapError::InvalidRequest {
            reason: format!("field `{huge}` is unknown"),
        });
        assert!(d.error_message.len() < 2_200, "{}", d.error_message.len());
        assert!(d.error_message.contains("more characters"));
    }

    #[tokio::test]
    async fn environment_defaults_reach_the_context() {
        let context = context_from_env(|name| match name {
            "OSNAP_REPOSITORY" => Some("nightly".into()),
            "OSNAP_ALLOWED_HOSTS" => Some("search.example.com".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(context.defaults.repository.as_deref(), Some("nightly"));
        let allowed = operations::contract::DomainInput {
            endpoint: "https://search.example.com".into(),
            region: Some("eu-west-1".into()),
            assume_role_arn: None,
            auth: None,
        };
        // Allowed by the list: the client is built (credentials are only fetched on use).
        assert!(context.connector.client(&allowed).await.is_ok());
    }
}
