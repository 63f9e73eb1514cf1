//! `osnap demo`, as a new user runs it: it completes a migration, reports equal document
//! counts for every index and restores no system index.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::function_binary;

#[test]
fn the_demo_migrates_every_index_with_all_its_documents() {
    let output = std::process::Command::new(function_binary("osnap").unwrap())
        .arg("demo")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "demo failed:\n{stdout}\n{stderr}");
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.ends_with("equal") || l.ends_with("DIFFERENT"))
        .collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    assert!(rows.iter().all(|r| r.ends_with("equal")), "{stdout}");
    assert!(stdout.contains("system indices restored: none"), "{stdout}");
    assert!(
        stdout.contains("drilled the snapshot on the source: DRILL_PASSED — 3 of 3 indices"),
        "{stdout}"
    );
    assert!(
        stdout.contains("LOCAL STAND-IN"),
        "the demo must say it runs on the stand-in"
    );
}
