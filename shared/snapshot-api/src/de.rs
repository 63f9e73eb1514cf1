//! Lenient readers for values the APIs send in more than one form: the repository GET answers
//! booleans as `"true"`, the cat APIs answer counts as `"120"` (and `null` for a closed
//! index).

use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum BoolOrText {
    Bool(bool),
    Text(String),
}

/// `true`, `"true"`, `false`, `"false"` or `null`.
pub(crate) fn bool_or_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<bool>, D::Error> {
    match Option::<BoolOrText>::deserialize(deserializer)? {
        None => Ok(None),
        Some(BoolOrText::Bool(b)) => Ok(Some(b)),
        Some(BoolOrText::Text(t)) => match t.as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            other => Err(serde::de::Error::custom(format!(
                "`{other}` is not a boolean"
            ))),
        },
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CountOrText {
    Count(u64),
    Text(String),
}

/// `120`, `"120"` or `null`.
pub(crate) fn count_or_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    match Option::<CountOrText>::deserialize(deserializer)? {
        None => Ok(None),
        Some(CountOrText::Count(n)) => Ok(Some(n)),
        Some(CountOrText::Text(t)) => t
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("`{t}` is not a count"))),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Row {
        #[serde(default, deserialize_with = "super::bool_or_string")]
        flag: Option<bool>,
        #[serde(default, deserialize_with = "super::count_or_string")]
        count: Option<u64>,
    }

    fn row(json: &str) -> Result<Row, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn reads_every_form_and_refuses_garbage() {
        for (json, flag, count) in [
            (r#"{"flag":true,"count":3}"#, Some(true), Some(3)),
            (r#"{"flag":"false","count":"42"}"#, Some(false), Some(42)),
            (r#"{"flag":null,"count":null}"#, None, None),
            ("{}", None, None),
        ] {
            let r = row(json).unwrap();
            assert_eq!((r.flag, r.count), (flag, count), "{json}");
        }
        assert!(row(r#"{"flag":"yes"}"#).is_err());
        assert!(row(r#"{"count":"1.2kb"}"#).is_err());
        assert!(row(r#"{"count":-1}"#).is_err());
    }
}
