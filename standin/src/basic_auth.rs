//! HTTP basic authentication (RFC 7617) for the self-managed clusters the stand-in emulates:
//! the `Authorization: Basic base64(user:password)` value tests send, and how the engines read
//! it back.

/// `Basic base64(username:password)`, the header value a client sends.
pub fn authorization(username: &str, password: &str) -> String {
    format!(
        "Basic {}",
        encode(format!("{username}:{password}").as_bytes())
    )
}

/// What a request's `Authorization` header holds, as the engines' basic authenticators read
/// it (OpenSearch security's `HTTPHelper.extractCredentials`, Elasticsearch's
/// `UsernamePasswordToken.extractToken`: the scheme `basic` in any case).
#[derive(Clone, PartialEq, Eq)]
pub enum BasicHeader {
    /// No header, or another scheme (a SigV4 `AWS4-HMAC-SHA256 …` one included): no
    /// credentials for the basic authenticator.
    Absent,
    /// `Basic` with a value that is not base64 of `user:password`.
    Malformed,
    Credentials {
        username: String,
        password: String,
    },
}

impl std::fmt::Debug for BasicHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Absent => f.write_str("Absent"),
            Self::Malformed => f.write_str("Malformed"),
            Self::Credentials { username, .. } => f
                .debug_struct("Credentials")
                .field("username", username)
                .finish_non_exhaustive(),
        }
    }
}

/// Reads an `Authorization` header value (`None`: no header).
pub fn parse(value: Option<&str>) -> BasicHeader {
    let Some(value) = value else {
        return BasicHeader::Absent;
    };
    let value = value.trim();
    let Some(scheme) = value.get(..6) else {
        return BasicHeader::Absent;
    };
    if !scheme.eq_ignore_ascii_case("basic ") {
        return BasicHeader::Absent;
    }
    let Some(pair) = decode(value[6..].trim()).and_then(|b| String::from_utf8(b).ok()) else {
        return BasicHeader::Malformed;
    };
    // The user name ends at the first colon; the password may hold more of them.
    match pair.split_once(':') {
        Some((username, password)) if !username.is_empty() => BasicHeader::Credentials {
            username: username.to_owned(),
            password: password.to_owned(),
        },
        _ => BasicHeader::Malformed,
    }
}

/// Standard base64 with padding (RFC 4648).
pub fn encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Standard base64 with padding; `None` for anything else.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_rfc_4648_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), coded);
            assert_eq!(decode(coded).unwrap(), plain.as_bytes());
        }
        assert_eq!(decode("Zg=a"), None);
        assert_eq!(decode("Zm9"), None);
        assert_eq!(decode("Z!=="), None);
    }

    #[test]
    fn headers_are_read_as_the_engines_read_them() {
        assert_eq!(authorization("admin", "pa:ss"), "Basic YWRtaW46cGE6c3M=");
        assert_eq!(
            parse(Some("basic YWRtaW46cGE6c3M=")),
            BasicHeader::Credentials {
                username: "admin".into(),
                password: "pa:ss".into()
            }
        );
        assert_eq!(parse(None), BasicHeader::Absent);
        assert_eq!(
            parse(Some("AWS4-HMAC-SHA256 Credential=AKID/2026")),
            BasicHeader::Absent
        );
        assert_eq!(parse(Some("Basic !!!")), BasicHeader::Malformed);
        // `:secret`: no user name.
        assert_eq!(parse(Some("Basic OnNlY3JldA==")), BasicHeader::Malformed);
    }
}
