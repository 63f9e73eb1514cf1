//! A count of the requests a domain was sent, by method (benchmarks read it).

use std::sync::atomic::{AtomicU64, Ordering};

use http::Method;

/// Requests a domain was sent, by method (signature failures and faults included).
#[derive(Debug, Default)]
pub(crate) struct RequestCounter {
    get: AtomicU64,
    put: AtomicU64,
    post: AtomicU64,
    delete: AtomicU64,
    head: AtomicU64,
    other: AtomicU64,
}

impl RequestCounter {
    pub fn record(&self, method: &Method) {
        let slot = match *method {
            Method::GET => &self.get,
            Method::PUT => &self.put,
            Method::POST => &self.post,
            Method::DELETE => &self.delete,
            Method::HEAD => &self.head,
            _ => &self.other,
        };
        slot.fetch_add(1, Ordering::Relaxed);
    }

    pub fn counts(&self) -> RequestCounts {
        RequestCounts {
            get: self.get.load(Ordering::Relaxed),
            put: self.put.load(Ordering::Relaxed),
            post: self.post.load(Ordering::Relaxed),
            delete: self.delete.load(Ordering::Relaxed),
            head: self.head.load(Ordering::Relaxed),
            other: self.other.load(Ordering::Relaxed),
        }
    }
}

/// How many requests a domain was sent, by method, since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestCounts {
    pub get: u64,
    pub put: u64,
    pub post: u64,
    pub delete: u64,
    pub head: u64,
    pub other: u64,
}

impl RequestCounts {
    pub fn total(&self) -> u64 {
        self.get + self.put + self.post + self.delete + self.head + self.other
    }

    /// The requests sent between `earlier` and this count.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            get: self.get.saturating_sub(earlier.get),
            put: self.put.saturating_sub(earlier.put),
            post: self.post.saturating_sub(earlier.post),
            delete: self.delete.saturating_sub(earlier.delete),
            head: self.head.saturating_sub(earlier.head),
            other: self.other.saturating_sub(earlier.other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_told_apart_by_method() {
        let counter = RequestCounter::default();
        counter.record(&Method::GET);
        counter.record(&Method::GET);
        counter.record(&Method::DELETE);
        counter.record(&Method::PATCH);
        let counts = counter.counts();
        assert_eq!((counts.get, counts.delete, counts.other), (2, 1, 1));
        assert_eq!(counts.total(), 4);
        let earlier = RequestCounts {
            get: 1,
            ..RequestCounts::default()
        };
        assert_eq!(counts.since(&earlier).get, 1);
    }
}
