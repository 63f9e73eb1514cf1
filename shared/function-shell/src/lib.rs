//! The shell every osnap Lambda function shares: tracing (JSON when the function's log format
//! is JSON), the environment read once, clients built once and reused by every invocation,
//! and failures turned into errors whose `errorType` is osnap's stable name.

use std::future::Future;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use operations::connect::{Connector, CredentialMode};
use operations::contract::Defaults;
use operations::{Context, OsnapError};
use serde::Serialize;
use serde_json::Value;
use signing::{EndpointPolicy, SharedTimeSource, SystemTimeSource};
use tracing::Instrument;

/// Runs `handler` for every invocation until the runtime stops.
pub async fn run<F, Fut, O>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(Context, Value) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<O, OsnapError>> + Send,
    O: Serialize,
{
    lambda_runtime::tracing::init_default_subscriber();
    let context = context_from_env(|name| std::env::var(name).ok())?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let mut context = context.clone();
        context.deadline = Some(deadline(event.context.deadline));
        let handler = handler.clone();
        let span = tracing::info_span!("invocation", request_id = %event.context.request_id);
        async move {
            let outcome = handler(context, event.payload).await;
            if let Err(error) = &outcome {
                tracing::error!(error_type = error.error_type(), %error, "invocation failed");
            }
            outcome.map_err(diagnostic)
        }
        .instrument(span)
    }))
    .await
}

/// The process-wide context, from the environment read through `lookup`.
pub fn context_from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Context, OsnapError> {
    let defaults = Defaults::from_lookup(lookup);
    let policy = defaults
        .allowed_hosts
        .as_deref()
        .map_or_else(EndpointPolicy::aws_only, EndpointPolicy::from_list);
    let time = SharedTimeSource::new(SystemTimeSource::new());
    let connector = Connector::new(CredentialMode::Environment, policy, time.clone())?;
    Ok(Context {
        connector,
        defaults,
        time,
        deadline: None,
    })
}

/// Lambda's deadline, milliseconds since the Unix epoch, as a time.
fn deadline(epoch_millis: u64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_millis(epoch_millis)
}

/// The Lambda error for a failure: `errorType` is the taxonomy's stable name, which Step
/// Functions `Retry` and `Catch` match.
pub fn diagnostic(error: OsnapError) -> Diagnostic {
    Diagnostic {
        error_type: error.error_type().to_owned(),
        error_message: error.to_string(),
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
        };
        // Allowed by the list: the client is built (credentials are only fetched on use).
        assert!(context.connector.client(&allowed).await.is_ok());
    }
}
