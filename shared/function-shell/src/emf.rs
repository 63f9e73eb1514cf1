//! CloudWatch's Embedded Metric Format (EMF): one JSON object per log event whose `_aws`
//! member tells CloudWatch Logs which of its top-level members are metrics and which are
//! their dimensions. Written to a Lambda function's stdout, it becomes metrics with no
//! `PutMetricData` call or permission.
//!
//! The writer checks the specification's rules before it writes (AWS, "Specification:
//! Embedded metric format", and CloudWatch's `MetricDatum`/`Dimension` limits): a namespace
//! of 1-256 characters from `[A-Za-z0-9._#:/-]`, not `AWS/…`; at most 100 metrics per
//! directive, each named once; at most 30 dimensions per set; dimension names and values
//! non-blank ASCII (names at most 250 characters and not starting with `:`, values at most
//! 1024); metric values finite numbers; no member named twice at the top level; a time
//! CloudWatch takes (two weeks back to two hours ahead). A document
//! that breaks a rule is refused whole: CloudWatch would drop it silently.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Number, Value};

/// Metrics in one directive.
pub const MAX_METRICS: usize = 100;
/// Dimensions in one dimension set.
pub const MAX_DIMENSIONS: usize = 30;
const MAX_NAMESPACE_CHARS: usize = 256;
const MAX_METRIC_NAME_CHARS: usize = 255;
const MAX_DIMENSION_NAME_CHARS: usize = 250;
const MAX_DIMENSION_VALUE_CHARS: usize = 1024;
/// What the whole document may weigh: a CloudWatch Logs event's limit.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// How far from now a metric's time may be: CloudWatch takes data points from two weeks
/// ago to two hours ahead (`PutMetricData`), and drops the rest.
const MAX_PAST: Duration = Duration::from_secs(14 * 24 * 3600);
const MAX_FUTURE: Duration = Duration::from_secs(2 * 3600);
/// The top-level member EMF reserves for its metadata.
const METADATA: &str = "_aws";

/// The CloudWatch units osnap's metrics use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Seconds,
    Milliseconds,
    Bytes,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Seconds => "Seconds",
            Self::Milliseconds => "Milliseconds",
            Self::Bytes => "Bytes",
        }
    }
}

/// One value of one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: &'static str,
    pub unit: Unit,
    pub value: f64,
}

impl Metric {
    pub fn new(name: &'static str, unit: Unit, value: f64) -> Self {
        Self { name, unit, value }
    }

    pub fn count(name: &'static str, value: u64) -> Self {
        Self::new(name, Unit::Count, value as f64)
    }
}

/// Why a document was not written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmfError {
    #[error("namespace {namespace:?}: {reason}")]
    Namespace {
        namespace: String,
        reason: &'static str,
    },
    #[error("a document needs 1 to {MAX_METRICS} metrics, not {0}")]
    MetricCount(usize),
    #[error("metric {name:?}: {reason}")]
    Metric { name: String, reason: &'static str },
    #[error("a dimension set holds at most {MAX_DIMENSIONS} dimensions, not {0}")]
    DimensionCount(usize),
    #[error("dimension {name:?}: {reason}")]
    Dimension { name: String, reason: &'static str },
    #[error("{0:?} is named twice at the top of the document")]
    DuplicateMember(String),
    #[error("the document has {0} bytes, more than a log event may")]
    TooLarge(usize),
    #[error("its time is more than two weeks before, or two hours after, now")]
    OutOfTime,
}

/// An EMF document: the `dimensions` (one set, in order) and the `metrics` under
/// `namespace`, at `timestamp`, with `properties` (members that are neither, such as a request
/// id, kept for Logs Insights) beside them.
#[derive(Debug, Clone, PartialEq)]
pub struct Document<'a> {
    pub namespace: &'a str,
    /// The time the metrics are about.
    pub timestamp: SystemTime,
    /// The time the document is written, which `timestamp` must be near.
    pub now: SystemTime,
    pub dimensions: &'a [(&'a str, String)],
    pub metrics: &'a [Metric],
    pub properties: &'a [(&'a str, String)],
}

impl Document<'_> {
    /// The document as one line of JSON, or why it breaks the specification.
    pub fn to_line(&self) -> Result<String, EmfError> {
        check_namespace(self.namespace)?;
        let too_old = self
            .now
            .duration_since(self.timestamp)
            .is_ok_and(|d| d > MAX_PAST);
        let too_new = self
            .timestamp
            .duration_since(self.now)
            .is_ok_and(|d| d > MAX_FUTURE);
        if too_old || too_new {
            return Err(EmfError::OutOfTime);
        }
        if self.metrics.is_empty() || self.metrics.len() > MAX_METRICS {
            return Err(EmfError::MetricCount(self.metrics.len()));
        }
        if self.dimensions.len() > MAX_DIMENSIONS {
            return Err(EmfError::DimensionCount(self.dimensions.len()));
        }
        let mut root = Map::new();
        let mut put = |name: &str, value: Value| {
            if name == METADATA || root.insert(name.to_owned(), value).is_some() {
                return Err(EmfError::DuplicateMember(name.to_owned()));
            }
            Ok(())
        };
        for (name, value) in self.dimensions {
            check_dimension(name, value)?;
            put(name, Value::String(value.clone()))?;
        }
        let mut definitions = Vec::with_capacity(self.metrics.len());
        for metric in self.metrics {
            let value = check_metric(metric)?;
            put(metric.name, Value::Number(value))?;
            let mut definition = Map::new();
            definition.insert("Name".into(), metric.name.into());
            definition.insert("Unit".into(), metric.unit.as_str().into());
            definitions.push(Value::Object(definition));
        }
        for (name, value) in self.properties {
            put(name, Value::String(value.clone()))?;
        }
        let dimension_set: Vec<Value> = self
            .dimensions
            .iter()
            .map(|(name, _)| Value::from(*name))
            .collect();
        let mut directive = Map::new();
        directive.insert("Namespace".into(), self.namespace.into());
        directive.insert(
            "Dimensions".into(),
            Value::Array(vec![Value::Array(dimension_set)]),
        );
        directive.insert("Metrics".into(), Value::Array(definitions));
        let mut metadata = Map::new();
        metadata.insert("Timestamp".into(), epoch_millis(self.timestamp).into());
        metadata.insert(
            "CloudWatchMetrics".into(),
            Value::Array(vec![Value::Object(directive)]),
        );
        root.insert(METADATA.into(), Value::Object(metadata));
        let line = Value::Object(root).to_string();
        if line.len() > MAX_DOCUMENT_BYTES {
            return Err(EmfError::TooLarge(line.len()));
        }
        Ok(line)
    }
}

fn epoch_millis(time: SystemTime) -> u64 {
    let millis = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    u64::try_from(millis).unwrap_or(u64::MAX)
}

fn check_namespace(namespace: &str) -> Result<(), EmfError> {
    let refuse = |reason| {
        Err(EmfError::Namespace {
            namespace: policy::quote::short(namespace),
            reason,
        })
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._#:/-".contains(c);
    if namespace.is_empty() || namespace.chars().count() > MAX_NAMESPACE_CHARS {
        refuse("must have 1 to 256 characters")
    } else if !namespace.chars().all(allowed) {
        refuse("may hold only letters, digits and . _ # : / -")
    } else if namespace.starts_with("AWS/") {
        refuse("AWS/ namespaces are AWS's own")
    } else {
        Ok(())
    }
}

fn check_dimension(name: &str, value: &str) -> Result<(), EmfError> {
    let refuse = |reason| {
        Err(EmfError::Dimension {
            name: policy::quote::short(name),
            reason,
        })
    };
    let blank = |s: &str| s.trim().is_empty();
    if blank(name) || name.chars().count() > MAX_DIMENSION_NAME_CHARS {
        refuse("its name must have 1 to 250 characters, not all blank")
    } else if !name.is_ascii() || name.starts_with(':') {
        refuse("its name must be ASCII and must not start with `:`")
    } else if blank(value) || value.chars().count() > MAX_DIMENSION_VALUE_CHARS {
        refuse("its value must have 1 to 1024 characters, not all blank")
    } else if !value.is_ascii() {
        refuse("its value must be ASCII")
    } else {
        Ok(())
    }
}

fn check_metric(metric: &Metric) -> Result<Number, EmfError> {
    let refuse = |reason| {
        Err(EmfError::Metric {
            name: policy::quote::short(metric.name),
            reason,
        })
    };
    if metric.name.trim().is_empty() || metric.name.chars().count() > MAX_METRIC_NAME_CHARS {
        return refuse("its name must have 1 to 255 characters, not all blank");
    }
    // A whole value is written as an integer (`1`, not `1.0`), as CloudWatch shows it.
    let whole = metric.value.fract() == 0.0 && metric.value.abs() < 2f64.powi(53);
    let number = if whole {
        Some(Number::from(metric.value as i64))
    } else {
        Number::from_f64(metric.value)
    };
    match number {
        Some(number) => Ok(number),
        None => refuse("its value must be a finite number"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: u64 = 1_795_000_000_123;

    fn at() -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(AT)
    }

    fn line(dimensions: &[(&str, String)], metrics: &[Metric]) -> Result<Value, EmfError> {
        let document = Document {
            namespace: "osnap",
            timestamp: at(),
            now: at(),
            dimensions,
            metrics,
            properties: &[("request_id", "r-1".to_owned())],
        };
        let text = document.to_line()?;
        assert!(!text.contains('\n'), "one line: {text}");
        Ok(serde_json::from_str(&text).unwrap())
    }

    fn dims() -> Vec<(&'static str, String)> {
        vec![
            ("Domain", "search-a.eu-west-1.es.amazonaws.com".to_owned()),
            ("Repository", "nightly".to_owned()),
        ]
    }

    #[test]
    fn a_document_has_the_specified_shape() {
        let doc = line(
            &dims(),
            &[
                Metric::count("SnapshotSucceeded", 1),
                Metric::new("SnapshotDuration", Unit::Milliseconds, 1_500.0),
                Metric::new("Ratio", Unit::Count, 0.25),
            ],
        )
        .unwrap();
        let aws = &doc["_aws"];
        assert_eq!(
            aws["Timestamp"], AT,
            "milliseconds since the epoch, a number"
        );
        let directives = aws["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 1);
        let directive = &directives[0];
        assert_eq!(directive["Namespace"], "osnap");
        assert_eq!(
            directive["Dimensions"],
            serde_json::json!([["Domain", "Repository"]])
        );
        assert_eq!(
            directive["Metrics"],
            serde_json::json!([
                {"Name": "SnapshotSucceeded", "Unit": "Count"},
                {"Name": "SnapshotDuration", "Unit": "Milliseconds"},
                {"Name": "Ratio", "Unit": "Count"},
            ])
        );
        // Every name the directive refers to is a top-level member of the right type.
        assert_eq!(doc["Domain"], "search-a.eu-west-1.es.amazonaws.com");
        assert_eq!(doc["Repository"], "nightly");
        assert!(doc["SnapshotSucceeded"].is_u64());
        assert_eq!(doc["SnapshotSucceeded"], 1);
        assert_eq!(doc["SnapshotDuration"], 1_500);
        assert_eq!(doc["Ratio"], 0.25);
        assert_eq!(doc["request_id"], "r-1", "a property beside the metrics");
    }

    #[test]
    fn no_metric_or_more_than_a_hundred_is_refused() {
        assert_eq!(line(&dims(), &[]), Err(EmfError::MetricCount(0)));
        let names: Vec<&'static str> = (0..101)
            .map(|i| &*Box::leak(format!("M{i}").into_boxed_str()))
            .collect();
        let metrics: Vec<Metric> = names.iter().map(|n| Metric::count(n, 1)).collect();
        assert!(line(&dims(), &metrics[..100]).is_ok());
        assert_eq!(line(&dims(), &metrics), Err(EmfError::MetricCount(101)));
    }

    #[test]
    fn more_than_thirty_dimensions_are_refused() {
        let names: Vec<&'static str> = (0..31)
            .map(|i| &*Box::leak(format!("D{i}").into_boxed_str()))
            .collect();
        let dimensions: Vec<(&str, String)> = names.iter().map(|n| (*n, "v".into())).collect();
        let metrics = [Metric::count("M", 1)];
        assert!(line(&dimensions[..30], &metrics).is_ok());
        assert_eq!(
            line(&dimensions, &metrics),
            Err(EmfError::DimensionCount(31))
        );
    }

    #[test]
    fn values_must_be_finite_numbers() {
        for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let refused = line(&dims(), &[Metric::new("M", Unit::Count, value)]);
            assert!(
                matches!(refused, Err(EmfError::Metric { .. })),
                "{value}: {refused:?}"
            );
        }
    }

    #[test]
    fn dimension_names_and_values_are_checked() {
        let metrics = [Metric::count("M", 1)];
        for (name, value) in [
            ("", "v"),
            ("  ", "v"),
            (":Domain", "v"),
            ("Dömain", "v"),
            ("Domain", ""),
            ("Domain", " "),
            ("Domain", "dömain"),
        ] {
            let refused = line(&[(name, value.to_owned())], &metrics);
            assert!(
                matches!(refused, Err(EmfError::Dimension { .. })),
                "{name:?}={value:?}: {refused:?}"
            );
        }
        let long = "a".repeat(MAX_DIMENSION_VALUE_CHARS);
        assert!(line(&[("Domain", long.clone())], &metrics).is_ok());
        assert!(line(&[("Domain", format!("{long}a"))], &metrics).is_err());
    }

    #[test]
    fn a_member_is_never_named_twice() {
        let clash = line(
            &[("Repository", "nightly".into())],
            &[Metric::count("Repository", 1)],
        );
        assert_eq!(clash, Err(EmfError::DuplicateMember("Repository".into())));
        let twice = line(&dims(), &[Metric::count("M", 1), Metric::count("M", 2)]);
        assert_eq!(twice, Err(EmfError::DuplicateMember("M".into())));
        let metadata = line(&[("_aws", "x".into())], &[Metric::count("M", 1)]);
        assert_eq!(metadata, Err(EmfError::DuplicateMember("_aws".into())));
    }

    #[test]
    fn a_time_cloudwatch_would_drop_is_refused() {
        let write = |timestamp| {
            Document {
                namespace: "osnap",
                timestamp,
                now: at(),
                dimensions: &[],
                metrics: &[Metric::count("M", 1)],
                properties: &[],
            }
            .to_line()
        };
        assert!(write(at() - MAX_PAST).is_ok());
        assert_eq!(
            write(at() - MAX_PAST - Duration::from_secs(1)),
            Err(EmfError::OutOfTime)
        );
        assert!(write(at() + MAX_FUTURE).is_ok());
        assert_eq!(
            write(at() + MAX_FUTURE + Duration::from_secs(1)),
            Err(EmfError::OutOfTime)
        );
    }

    #[test]
    fn namespaces_are_checked() {
        for namespace in ["", "AWS/Lambda", "os snap", "osnap!", &"a".repeat(257)] {
            let document = Document {
                namespace,
                timestamp: at(),
                now: at(),
                dimensions: &[],
                metrics: &[Metric::count("M", 1)],
                properties: &[],
            };
            assert!(
                matches!(document.to_line(), Err(EmfError::Namespace { .. })),
                "{namespace:?}"
            );
        }
        let document = Document {
            namespace: "osnap/backups_1.x#2:a-b",
            timestamp: at(),
            now: at(),
            dimensions: &[],
            metrics: &[Metric::count("M", 1)],
            properties: &[],
        };
        let doc: Value = serde_json::from_str(&document.to_line().unwrap()).unwrap();
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            serde_json::json!([[]]),
            "an empty dimension set is allowed"
        );
    }
}
