//! Log hygiene: no credential, session token or request signature in anything a function
//! writes (its log lines, its answers and error messages). Every function the harness runs is
//! checked when it stops and on every answer, so the whole end-to-end, fault and workflow
//! suite is covered, not one test.

/// What a stand-in credential looks like wherever it was issued: the fixed test secret, the
/// stand-in STS's session secrets and tokens (`standin/src/sts.rs`), and the tests' cluster
/// passwords.
const ISSUED_SECRETS: [&str; 4] = [
    "standin-secret",
    "session-secret-for-",
    "standin-session-token-",
    // Self-managed clusters' passwords in the tests (read from the stand-in's Secrets Manager).
    "standin-cluster-password",
];

/// Parts of a signed request that must never be logged: the signature itself (header or
/// query form) and a presigned URL's credential scope.
const SIGNATURE_MARKERS: [&str; 3] = ["Signature=", "X-Amz-Signature", "X-Amz-Credential="];

/// The places in `text` that give a secret away, each quoted short; `secrets` are the values
/// this process was given (its secret key, its session token).
pub fn leaks(text: &str, secrets: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let given = secrets.iter().map(String::as_str).filter(|s| s.len() >= 8);
    for needle in ISSUED_SECRETS
        .into_iter()
        .chain(given)
        .chain(SIGNATURE_MARKERS)
    {
        for (at, _) in text.match_indices(needle) {
            let start = text[..at]
                .char_indices()
                .rev()
                .nth(40)
                .map_or(0, |(i, _)| i);
            let end = (at + needle.len() + 40).min(text.len());
            let end = (end..=text.len())
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(text.len());
            found.push(format!("`{needle}` in …{}…", &text[start..end]));
        }
    }
    found
}

/// Panics, naming where, when `text` gives a secret away.
pub fn assert_clean(what: &str, text: &str, secrets: &[String]) {
    let leaks = leaks(text, secrets);
    assert!(
        leaks.is_empty(),
        "{what} gives a secret away ({} places): {leaks:#?}",
        leaks.len()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_credentials_tokens_and_signatures() {
        let given = vec!["my-own-secret-value".to_owned()];
        assert!(leaks(r#"{"level":"INFO","message":"restore started"}"#, &given).is_empty());
        for line in [
            "secret=standin-secret",
            "token standin-session-token-osnap",
            "key session-secret-for-osnap",
            "Authorization: AWS4-HMAC-SHA256 Credential=AKID/x, SignedHeaders=host, Signature=abc",
            "GET /x?X-Amz-Signature=00ff",
            "env my-own-secret-value",
        ] {
            assert!(!leaks(line, &given).is_empty(), "{line}");
        }
        // Header names are not secrets; a short given value is not looked for.
        assert!(
            leaks(
                "signed host;x-amz-date;x-amz-security-token",
                &["abc".into()]
            )
            .is_empty()
        );
    }
}
