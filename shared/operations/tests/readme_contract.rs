//! The README's contract table names exactly the fields each function's request type accepts:
//! a field added to a request and not documented, or documented and not accepted (which the
//! function would refuse as unknown), fails here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use operations::requests::{
    PruneRequest, RegisterRequest, RestoreRequest, SnapshotRequest, VerifyRequest,
};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde_aux::serde_introspection::serde_introspect;

/// Fields every request has, documented once above the table.
const COMMON: [&str; 2] = ["domain", "repository"];

/// The README's tables, each row as its cells, inline code kept in backticks.
fn tables(markdown: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut cell: Option<String> = None;
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::TableRow | Tag::TableHead) => row.clear(),
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::Text(text) => {
                if let Some(c) = cell.as_mut() {
                    c.push_str(&text);
                }
            }
            Event::Code(code) => {
                if let Some(c) = cell.as_mut() {
                    c.push('`');
                    c.push_str(&code);
                    c.push('`');
                }
            }
            Event::End(TagEnd::TableCell) => row.extend(cell.take()),
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => rows.push(std::mem::take(&mut row)),
            _ => {}
        }
    }
    rows
}

/// The field names a contract cell documents: the code spans outside `{…}` (a field's own
/// fields) and `(…)` (defaults and values).
fn documented_fields(cell: &str) -> BTreeSet<String> {
    let mut fields = BTreeSet::new();
    let mut depth = 0usize;
    let mut in_code = false;
    let mut code = String::new();
    for c in cell.chars() {
        match c {
            '`' if in_code => {
                in_code = false;
                if depth == 0 {
                    fields.insert(std::mem::take(&mut code));
                }
                code.clear();
            }
            '`' => in_code = true,
            _ if in_code => code.push(c),
            '{' | '(' => depth += 1,
            '}' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    fields
}

fn accepted<T: serde::de::DeserializeOwned>() -> BTreeSet<String> {
    serde_introspect::<T>()
        .iter()
        .filter(|f| !COMMON.contains(f))
        .map(|f| (*f).to_owned())
        .collect()
}

#[test]
fn the_contract_table_documents_every_request_field_and_no_other() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let contract: BTreeMap<String, BTreeSet<String>> = tables(&readme)
        .into_iter()
        .filter(|row| row.len() == 3)
        .filter_map(|row| {
            let function = row[0].strip_prefix('`')?.strip_suffix('`')?.to_owned();
            Some((function, documented_fields(&row[1])))
        })
        .collect();
    let types = [
        ("register", accepted::<RegisterRequest>()),
        ("snapshot", accepted::<SnapshotRequest>()),
        ("verify", accepted::<VerifyRequest>()),
        ("restore", accepted::<RestoreRequest>()),
        ("prune", accepted::<PruneRequest>()),
    ];
    for (function, fields) in types {
        let documented = contract
            .get(function)
            .unwrap_or_else(|| panic!("the README's contract table has no row for `{function}`"));
        assert_eq!(
            documented, &fields,
            "README contract row for `{function}` (left) against its request type (right)"
        );
    }
}

#[test]
fn documented_fields_skip_nested_fields_and_defaults() {
    let cell = "`settings` {`bucket`, `region`?}, `check`? (`snapshot`\\|`restore`), `match`?";
    let fields: Vec<String> = documented_fields(cell).into_iter().collect();
    assert_eq!(fields, ["check", "match", "settings"]);
}
