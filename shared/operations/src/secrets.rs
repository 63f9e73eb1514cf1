//! A self-managed cluster's basic-authentication password, read from AWS Secrets Manager
//! (`GetSecretValue`, the AWS JSON 1.1 protocol, signed with the function's credentials).
//! The event names the secret by ARN; the password itself never travels in an event, an
//! output or a log line.

use serde::Deserialize;
use signing::{BasicCredentials, DomainClient, DomainRequest};

use crate::OsnapError;
use crate::api_error::from_signing;

/// `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>`: its region, or why not.
pub fn secret_region(arn: &str) -> Result<&str, OsnapError> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match parts.as_slice() {
        [
            "arn",
            partition,
            "secretsmanager",
            region,
            account,
            "secret",
            name,
        ] if partition.starts_with("aws")
            && !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && !name.is_empty() =>
        {
            Ok(region)
        }
        _ => Err(OsnapError::invalid(format!(
            "auth.secret_arn `{}` is not a Secrets Manager secret ARN \
             (arn:aws:secretsmanager:<region>:<account>:secret:<name>)",
            policy::quote::short(arn)
        ))),
    }
}

#[derive(Deserialize)]
struct SecretValue {
    #[serde(rename = "SecretString")]
    secret_string: Option<String>,
}

/// Secrets Manager's error body (`__type` may carry a namespace before `#`).
#[derive(Deserialize)]
struct AwsJsonError {
    #[serde(rename = "__type", default)]
    kind: String,
    #[serde(alias = "Message", default)]
    message: String,
}

/// The `{"username", "password"}` object AWS's console stores for credentials.
#[derive(Deserialize)]
struct StoredLogin {
    #[serde(default)]
    username: Option<String>,
    password: String,
}

/// Reads the secret at `arn` through `client` (Secrets Manager's endpoint) and makes the
/// basic credentials: the event's `username`, else the secret's.
pub async fn basic_credentials(
    client: &DomainClient,
    arn: &str,
    username: Option<&str>,
) -> Result<BasicCredentials, OsnapError> {
    let body = serde_json::json!({ "SecretId": arn }).to_string();
    let request = DomainRequest::new(http::Method::POST, &[] as &[&str])
        .aws_json("secretsmanager.GetSecretValue", body)
        .idempotent();
    let response = client.send(&request).await.map_err(|e| from_signing(&e))?;
    let quoted = policy::quote::short(arn);
    if !response.status.is_success() {
        return Err(secrets_error(response.status, &response.body, &quoted));
    }
    let value: SecretValue =
        serde_json::from_slice(&response.body).map_err(|e| OsnapError::DomainUnavailable {
            message: format!("Secrets Manager's answer could not be read: {e}"),
        })?;
    let Some(text) = value.secret_string else {
        return Err(OsnapError::invalid(format!(
            "secret {quoted} holds binary data: store the password as a string"
        )));
    };
    login(&text, username, &quoted)
}

/// The user and password a secret's text gives, with the event's user name.
fn login(text: &str, username: Option<&str>, quoted: &str) -> Result<BasicCredentials, OsnapError> {
    let (stored_user, password) = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(object)) => {
            let stored: StoredLogin = serde_json::from_value(serde_json::Value::Object(object))
                .map_err(|_| {
                    OsnapError::invalid(format!(
                        "secret {quoted} is a JSON object without a string `password`"
                    ))
                })?;
            (stored.username, stored.password)
        }
        _ => (None, text.to_owned()),
    };
    let user = match (username, stored_user.as_deref()) {
        (Some(given), Some(stored)) if given != stored => {
            return Err(OsnapError::invalid(format!(
                "auth.username differs from the username secret {quoted} holds: give one"
            )));
        }
        (Some(user), _) | (None, Some(user)) => user.to_owned(),
        (None, None) => {
            return Err(OsnapError::invalid(format!(
                "no user name: give auth.username, or store {{\"username\", \"password\"}} in \
                 secret {quoted}"
            )));
        }
    };
    BasicCredentials::new(&user, &password).map_err(|e| OsnapError::invalid(e.to_string()))
}

/// Secrets Manager's refusals in the taxonomy ("Common errors" and `GetSecretValue`'s errors
/// in its API reference).
fn secrets_error(status: http::StatusCode, body: &[u8], quoted: &str) -> OsnapError {
    let error: AwsJsonError = serde_json::from_slice(body).unwrap_or(AwsJsonError {
        kind: String::new(),
        message: String::from_utf8_lossy(body).into_owned(),
    });
    let kind = error.kind.rsplit('#').next().unwrap_or_default();
    let message = policy::quote::bounded_message(&error.message);
    match kind {
        "ResourceNotFoundException" => OsnapError::invalid(format!(
            "secret {quoted} does not exist in Secrets Manager: {message}"
        )),
        "AccessDeniedException"
        | "DecryptionFailure"
        | "UnrecognizedClientException"
        | "InvalidSignatureException" => OsnapError::AccessDenied {
            message: format!("Secrets Manager refused to give secret {quoted}: {message}"),
            advice: "; the function's role needs secretsmanager:GetSecretValue on the secret \
                     (the template's SourceSecretArns), and kms:Decrypt on its key if it has \
                     its own"
                .into(),
        },
        "ThrottlingException" => OsnapError::Throttled { message },
        _ if status == http::StatusCode::TOO_MANY_REQUESTS => OsnapError::Throttled { message },
        _ if status.is_server_error() => OsnapError::DomainUnavailable {
            message: format!("Secrets Manager answered {status}: {message}"),
        },
        _ => OsnapError::invalid(format!(
            "Secrets Manager refused to give secret {quoted} ({status} {}): {message}",
            policy::quote::short(kind)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:osnap/source-AbCdEf";

    #[test]
    fn the_region_comes_from_the_arn() {
        assert_eq!(secret_region(ARN).unwrap(), "eu-west-1");
        for bad in [
            "osnap/source",
            "arn:aws:secretsmanager:eu-west-1:1111:secret:x",
            "arn:aws:ssm:eu-west-1:111122223333:parameter/x",
            "arn:aws:secretsmanager:eu-west-1:111122223333:secret:",
        ] {
            assert_eq!(
                secret_region(bad).unwrap_err().error_type(),
                "InvalidRequest",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_secret_is_a_login_object_or_the_password_itself() {
        assert!(login(r#"{"username":"osnap","password":"p"}"#, None, "s").is_ok());
        assert!(login(r#"{"username":"osnap","password":"p"}"#, Some("osnap"), "s").is_ok());
        assert!(login("plain password", Some("osnap"), "s").is_ok());
        let mismatch = login(r#"{"username":"a","password":"p"}"#, Some("b"), "s");
        assert!(mismatch.unwrap_err().to_string().contains("differs"));
        assert!(login("plain password", None, "s").is_err());
        assert!(login(r#"{"username":"a"}"#, None, "s").is_err());
        assert!(login(r#"{"password":"p"}"#, Some("a:b"), "s").is_err());
    }

    #[test]
    fn refusals_are_typed_and_never_carry_the_secret() {
        let body = br#"{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}"#;
        let error = secrets_error(http::StatusCode::BAD_REQUEST, body, "s");
        assert_eq!(error.error_type(), "InvalidRequest");
        let body = br#"{"__type":"AccessDeniedException","Message":"User: arn:aws:sts::1:assumed-role/f is not authorized"}"#;
        let error = secrets_error(http::StatusCode::BAD_REQUEST, body, "s");
        assert_eq!(error.error_type(), "AccessDenied");
        assert!(error.to_string().contains("secretsmanager:GetSecretValue"));
        let error = secrets_error(http::StatusCode::SERVICE_UNAVAILABLE, b"", "s");
        assert_eq!(error.error_type(), "DomainUnavailable");
        let error = secrets_error(
            http::StatusCode::BAD_REQUEST,
            br#"{"__type":"com.amazonaws#ThrottlingException","message":"Rate exceeded"}"#,
            "s",
        );
        assert_eq!(error.error_type(), "Throttled");
    }
}
