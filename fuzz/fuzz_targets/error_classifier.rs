//! An arbitrary status (the first two bytes) and body (the rest) to the classifier that
//! turns a domain's refusal into an `ApiError`. It must never panic, its `status()` must be
//! the answer's status where it reports one, and its `Display` must stay bounded: at most a
//! few times the body (no amplification, always checked) and within the absolute cap.
#![no_main]

use http::StatusCode;
use libfuzzer_sys::fuzz_target;
use snapshot_api::{ApiError, parse_error};

fuzz_target!(|data: &[u8]| {
    let Some((code, body)) = data.split_first_chunk::<2>() else {
        return;
    };
    // Only codes `http` accepts: the client never sees any other.
    let Ok(status) = StatusCode::from_u16(u16::from_be_bytes(*code)) else {
        return;
    };
    let error = parse_error(status, body);
    match &error {
        ApiError::Throttled { status: s, .. }
        | ApiError::Unavailable { status: s, .. }
        | ApiError::Server { status: s, .. } => {
            assert_eq!(*s, status, "the status was not kept: {error:?}");
        }
        ApiError::Transport(_) | ApiError::Decode { .. } | ApiError::InvalidArgument(_) => {
            panic!("an answer classified as if nothing had been answered: {error:?}");
        }
        _ => {}
    }
    if matches!(error, ApiError::Unavailable { .. }) {
        assert!(
            matches!(status.as_u16(), 502..=504),
            "unavailable with {status}"
        );
    }
    let display = error.to_string();
    // Debug-quoting may escape a character into up to ten bytes, and a few variants quote the
    // same text twice: anything beyond that is amplification.
    let linear_cap = 24 * body.len() + 1024;
    assert!(
        display.len() <= linear_cap,
        "a {}-byte body made a {}-byte message",
        body.len(),
        display.len()
    );
    osnap_fuzz::assert_bounded("parse_error", &display);
});
