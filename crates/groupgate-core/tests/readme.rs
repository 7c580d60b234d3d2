//! The root README's library example, compiled and run here, and kept
//! identical to the README's text.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[rustfmt::skip]
fn readme_example() -> Result<(), Box<dyn std::error::Error>> {
    // README:BEGIN
    use groupgate_core::{CompiledPolicy, DirectorySnapshot, Outcome, Request, evaluate_with_snapshot};

    let policy = CompiledPolicy::from_yaml_str(&std::fs::read_to_string("examples/policy.yaml")?, "policy.yaml")?;
    let directory: DirectorySnapshot = groupgate_core::input::from_yaml(&std::fs::read_to_string("examples/directory.yaml")?, &Default::default())?;
    let request: Request = groupgate_core::input::from_yaml(&std::fs::read_to_string("examples/requests/finance-bi.yaml")?, &Default::default())?;

    // In a service: policy.resolve(&request) tells which group's facts to fetch,
    // then policy.evaluate(&request, &facts, now). Pure: no I/O, no clock.
    let decision = evaluate_with_snapshot(&policy, &request, &directory, "2026-11-25T10:00:00Z".parse()?);
    assert_eq!(decision.outcome, Outcome::NeedsApproval);
    for reason in &decision.reasons {
        println!("{} {}", reason.code, reason.message());
    }
    // README:END
    Ok(())
}

#[test]
fn the_readme_example_runs_from_the_repository_root() {
    std::env::set_current_dir(root()).unwrap();
    readme_example().unwrap();
}

#[test]
fn the_readme_shows_exactly_this_example() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let (_, after) = readme
        .split_once("## Using the library")
        .expect("the README has a library section");
    let (_, block) = after.split_once("```rust\n").expect("with a rust block");
    let (shown, _) = block.split_once("```").unwrap();

    let this = include_str!("readme.rs");
    let (_, region) = this.split_once("// README:BEGIN\n").unwrap();
    let (region, _) = region.split_once("    // README:END").unwrap();
    let tested: String = region
        .lines()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        shown, tested,
        "README.md's library example differs from tests/readme.rs"
    );
}
