//! The state machines only catch and retry errors the functions really raise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use operations::OsnapError;
use serde_json::Value;

fn error_names(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "ErrorEquals" {
                    found.extend(
                        v.as_array()
                            .unwrap()
                            .iter()
                            .map(|e| e.as_str().unwrap().to_owned()),
                    );
                } else {
                    error_names(v, found);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| error_names(v, found)),
        _ => {}
    }
}

#[test]
fn every_error_equals_is_a_documented_error_type() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/statemachines");
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let definition: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut names = Vec::new();
        error_names(&definition, &mut names);
        assert!(
            !names.is_empty(),
            "{}: no Retry or Catch at all",
            path.display()
        );
        for name in names {
            let known = OsnapError::ERROR_TYPES.contains(&name.as_str())
                || name.starts_with("States.")
                || name.starts_with("Lambda.");
            assert!(
                known,
                "{}: `{name}` is not an errorType osnap raises",
                path.display()
            );
        }
        files += 1;
    }
    assert_eq!(files, 2);
}
