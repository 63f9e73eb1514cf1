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

/// Without `retention` the backup workflow passes on a prune result of its own; it must have
/// the shape the Prune task's `ResultSelector` gives a real one, and say nothing was pruned.
#[test]
fn the_result_without_retention_has_the_shape_of_a_real_prune() {
    use operations::bounded::Bounded;
    use policy::retention::Protected;

    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/statemachines/backup.asl.json");
    let definition: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let states = &definition["States"]["BackupEachDomain"]["ItemProcessor"]["States"];
    let result = states["NoRetentionGiven"]["Result"].as_object().unwrap();
    let selector = states["Prune"]["ResultSelector"].as_object().unwrap();
    let mut selected: Vec<&str> = selector
        .keys()
        .map(|k| k.strip_suffix(".$").unwrap())
        .collect();
    let mut given: Vec<&str> = result.keys().map(String::as_str).collect();
    selected.sort_unstable();
    given.sort_unstable();
    assert_eq!(given, selected);
    for list in ["deleted", "kept", "pending"] {
        let bounded: Bounded = serde_json::from_value(result[list].clone()).unwrap();
        assert_eq!(bounded, Bounded::from_slice::<&str>(&[]), "{list}");
    }
    let protected: Protected = serde_json::from_value(result["protected"].clone()).unwrap();
    assert_eq!(protected, Protected::default());
}
