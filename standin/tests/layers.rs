//! The emulated domain's layers, read from its sources so they cannot silently rot:
//! `wire` (bottom) imports no other layer, `state` imports only `wire`, an `api` module
//! imports `state` and `wire` but never a sibling API module, and only `service.rs`,
//! `benchmarks.rs` and `mod.rs` live outside the three layers.
//!
//! References are found by a scan of the code (line comments dropped): every
//! `crate::domain::<name>` path must name an allowed layer, and `super::` may appear only as
//! a test module's `use super::*;`, so no path reaches a sibling unseen.

use std::path::{Path, PathBuf};

/// Files of `src/domain` that sit above the layers.
const TOP: [&str; 3] = ["mod.rs", "service.rs", "benchmarks.rs"];

/// The layers, bottom first, with the layers each may import.
const LAYERS: [(&str, &[&str]); 3] = [
    ("wire", &["wire"]),
    ("state", &["wire", "state"]),
    ("api", &["wire", "state"]),
];

/// The code of `source` without its line comments (doc comments included).
fn code_lines(source: &str) -> impl Iterator<Item = (usize, &str)> {
    source
        .lines()
        .enumerate()
        .map(|(n, line)| (n + 1, line))
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
}

/// The identifier (or `{`, `*`) that follows each occurrence of `prefix` in `line`.
fn segments_after<'a>(line: &'a str, prefix: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(prefix) {
        // `foo_super::x` is not `super::x`.
        let before = rest[..at].chars().next_back();
        let after = &rest[at + prefix.len()..];
        let end = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let segment = if end == 0 {
            &after[..after.len().min(1)]
        } else {
            &after[..end]
        };
        if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            out.push(segment);
        }
        rest = after;
    }
    out
}

/// Every reference in `source` (a file of `layer`) that breaks the layering, as
/// `line: reason`.
fn violations(layer: &str, source: &str) -> Vec<String> {
    let allowed = LAYERS
        .iter()
        .find(|(name, _)| *name == layer)
        .map_or(&[][..], |(_, allowed)| *allowed);
    let mut out = Vec::new();
    for (n, line) in code_lines(source) {
        for segment in segments_after(line, "crate::domain::") {
            if !allowed.contains(&segment) {
                out.push(format!(
                    "{n}: `crate::domain::{segment}` from the {layer} layer (it may import {})",
                    allowed.join(", ")
                ));
            }
        }
        for segment in segments_after(line, "super::") {
            if segment != "*" {
                out.push(format!(
                    "{n}: `super::{segment}` (name the layer: `crate::domain::{layer}::…`)"
                ));
            }
        }
    }
    out
}

fn rust_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[test]
fn the_domain_is_layered() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain");
    let files = rust_files(&root).unwrap();
    let mut problems = Vec::new();
    let mut checked = [0_usize; 3];
    for file in &files {
        let relative = file.strip_prefix(&root).expect("a file under the domain");
        let parts: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        match parts.as_slice() {
            [top] if TOP.contains(&top.as_str()) => continue,
            [layer, _] => {
                let Some(index) = LAYERS.iter().position(|(name, _)| name == layer) else {
                    problems.push(format!("{}: not in a layer", relative.display()));
                    continue;
                };
                checked[index] += 1;
                let source = std::fs::read_to_string(file).expect("read a source file");
                problems.extend(
                    violations(layer, &source)
                        .into_iter()
                        .map(|v| format!("{}:{v}", relative.display())),
                );
            }
            _ => problems.push(format!(
                "{}: every file is in wire/, state/ or api/ (one level), or is {}",
                relative.display(),
                TOP.join(", ")
            )),
        }
    }
    assert!(
        problems.is_empty(),
        "layering broken:\n{}",
        problems.join("\n")
    );
    // The scan saw every layer, so an empty result is not a scan of nothing.
    assert!(
        checked.iter().all(|&c| c >= 5),
        "files per layer: {checked:?}"
    );
}

#[test]
fn the_scan_sees_what_breaks_the_layers() {
    let api = "use crate::domain::state::Shared;\n\
               use crate::domain::api::snapshots::read_index;\n\
               use crate::domain::{Shared, indices};\n\
               use super::snapshots;\n\
               // crate::domain::api::restore in a comment is no import\n\
               #[cfg(test)]\nmod tests {\n    use super::*;\n}\n";
    let found = violations("api", api);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found[0].starts_with("2: `crate::domain::api`"), "{found:?}");
    assert!(found[1].starts_with("3: `crate::domain::{`"), "{found:?}");
    assert!(found[2].starts_with("4: `super::snapshots`"), "{found:?}");

    let state = "fn f() { crate::domain::api::recovery::x(); crate::domain::service::answer(); }";
    assert_eq!(violations("state", state).len(), 2);
    let wire =
        "use crate::domain::state::cluster::Cluster;\nuse crate::domain::wire::reply::EsError;";
    assert_eq!(violations("wire", wire).len(), 1);
    assert!(violations("state", "use crate::domain::wire::call::Call;").is_empty());
    assert!(violations("wire", "let my_super::x = 1;").is_empty());
}
