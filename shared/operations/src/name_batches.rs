//! Lists of names in request paths, cut to fit. OpenSearch and Elasticsearch refuse a request
//! line over 4 KB (`too_long_frame_exception`; `http.max_initial_line_length`, which AWS does
//! not let anyone change), so every request that carries a list of names in its path is sent
//! in batches whose encoded length leaves room for the rest of the line.

use signing::DomainRequest;

/// The longest request target (path and query) osnap sends with a list of names: half the
/// engine's limit, which leaves room for the method, the version and any growth of the query.
pub(crate) const MAX_TARGET_LEN: usize = 2_048;

/// A name as it appears in a request path, percent-encoded.
pub(crate) fn encoded_len(name: &str) -> usize {
    DomainRequest::get(&[name]).path().len() - 1
}

/// What is left of [`MAX_TARGET_LEN`] for the comma-separated names that follow the path
/// `segments` in a request with query `query` (as sent, with its `?`).
pub(crate) fn room(segments: &[&str], query: &str) -> usize {
    let mut path: Vec<&str> = segments.to_vec();
    path.push("");
    let fixed = DomainRequest::get(&path).path().len() + query.len();
    MAX_TARGET_LEN.saturating_sub(fixed)
}

/// Splits `names`, in order, into batches of at most `max_count` names whose encoded,
/// comma-separated length is at most `room`. A single name longer than `room` goes alone
/// (the engine's own limit on names, 255 bytes, keeps that from happening with the room
/// osnap leaves).
pub(crate) fn batches<'n, 'a>(
    names: &'n [&'a str],
    max_count: usize,
    room: usize,
    encoded_len: impl Fn(&str) -> usize,
) -> Vec<&'n [&'a str]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut length = 0;
    for (at, name) in names.iter().enumerate() {
        let own = encoded_len(name);
        let full = at - start >= max_count.max(1);
        if at > start && (full || length + 1 + own > room) {
            out.push(&names[start..at]);
            start = at;
            length = own;
        } else if at > start {
            length += 1 + own;
        } else {
            length = own;
        }
    }
    if start < names.len() {
        out.push(&names[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_keep_the_order_and_stay_within_count_and_encoded_length() {
        let names: Vec<String> = (0..120).map(|i| format!("nightly-{i:03}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        // By count: 11-byte names, room enough for all.
        let by_count = batches(&names, 50, 10_000, encoded_len);
        assert_eq!(
            by_count.iter().map(|b| b.len()).collect::<Vec<_>>(),
            [50, 50, 20]
        );
        assert_eq!(by_count.concat(), names);
        // By length: 11 bytes and a comma each, so 8 names (95 bytes) fit in 100.
        let by_length = batches(&names, 50, 100, encoded_len);
        assert!(by_length.iter().all(|b| b.len() == 8 || b.len() == 120 % 8));
        assert_eq!(by_length.concat(), names);
        assert_eq!(batches(&names[..8], 50, 95, encoded_len).len(), 1);
        assert_eq!(batches(&names[..8], 50, 94, encoded_len).len(), 2);
        assert!(batches(&[], 50, 100, encoded_len).is_empty());
    }

    #[test]
    fn batches_count_names_as_encoded() {
        // `é` is two bytes, six once percent-encoded.
        assert_eq!(encoded_len("ééé"), 18);
        let names = ["ééé", "ééé", "ééé"];
        assert_eq!(batches(&names, 50, 37, encoded_len).len(), 2);
        assert_eq!(batches(&names, 50, 56, encoded_len).len(), 1);
        // A name longer than the room goes alone rather than never.
        assert_eq!(batches(&names, 50, 10, encoded_len).len(), 3);
    }

    #[test]
    fn every_batch_request_stays_well_under_the_domains_4_kb_limit() {
        let repository = "nightly";
        let query = "?ignore_unavailable=true";
        // The longest names the domain allows, with characters that encode to three bytes.
        let long: Vec<String> = (0..200)
            .map(|i| format!("{i:03}{}", "%".repeat(80)))
            .collect();
        let names: Vec<&str> = long.iter().map(String::as_str).collect();
        let all = batches(
            &names,
            50,
            room(&["_snapshot", repository], query),
            encoded_len,
        );
        assert!(all.len() > 1);
        for batch in all {
            let joined = batch.join(",");
            let read = DomainRequest::get(&["_snapshot", repository, &joined]);
            assert!(read.path().len() + query.len() <= MAX_TARGET_LEN);
        }
    }
}
