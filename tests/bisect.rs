//! `modhost bisect` (SPEC section 14) through the real binary, on `tests/fixtures/bisect`:
//! ten mods, of which `left` and `right` fail only together (and `right` requires `lib`).

mod support;

/// `modhost bisect ARGS` in `dir`.
fn bisect(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    support::run_with_status(dir, &[&["bisect"], args].concat())
}

use std::path::Path;

use support::fixture_copy;

#[test]
fn two_mods_that_break_the_pack_only_together_are_found_with_check_smoke() {
    let pack = fixture_copy("bisect");
    let (status, stdout, stderr) = bisect(pack.path(), &[]);
    assert_eq!(status, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.starts_with(
            "these mods fail only together: left, right (with what they require: lib); found in "
        ),
        "{stdout}"
    );
    assert!(stdout.contains(" runs of `check --smoke`"), "{stdout}");
    // The trial runs' logs are not shown.
    assert!(!stderr.contains("alpha here"), "{stderr}");
}

#[test]
fn a_command_decides_with_modhost_config_naming_each_subset() {
    let pack = fixture_copy("bisect");
    let modhost = env!("CARGO_BIN_EXE_modhost");
    let (status, stdout, stderr) = bisect(pack.path(), &["--", modhost, "check", "--smoke"]);
    assert_eq!(status, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("these mods fail only together: left, right"),
        "{stdout}"
    );

    // A command that never fails: the whole pack passes, exit 1.
    let (status, stdout, _) = bisect(pack.path(), &["--", "true"]);
    assert_eq!(status, Some(1));
    assert!(
        stdout.contains("the whole pack passes `true`: nothing to bisect"),
        "{stdout}"
    );
}

#[test]
fn one_broken_mod_is_the_culprit_and_tests_can_decide() {
    let pack = fixture_copy("bisect");
    let dir = pack.path();
    std::fs::remove_dir_all(dir.join("mods/left")).unwrap();
    std::fs::write(dir.join("mods/delta/main.js"), "function onAttach( {\n").unwrap();
    let (status, stdout, _) = bisect(dir, &[]);
    assert_eq!(status, Some(0), "{stdout}");
    assert!(stdout.starts_with("culprit: delta; found in "), "{stdout}");

    std::fs::write(dir.join("mods/delta/main.js"), "function onAttach() {}\n").unwrap();
    let (status, _, _) = bisect(dir, &[]);
    assert_eq!(status, Some(1), "the pack passes again");
    std::fs::create_dir_all(dir.join("mods/golf/tests")).unwrap();
    std::fs::write(
        dir.join("mods/golf/tests/golf.test.js"),
        "it('fails', () => expect(1).toBe(2));\n",
    )
    .unwrap();
    let (status, stdout, _) = bisect(dir, &["--test"]);
    assert_eq!(status, Some(0), "{stdout}");
    assert!(
        stdout.starts_with("culprit: golf; found in ") && stdout.contains("`modhost test`"),
        "{stdout}"
    );
}

#[test]
fn a_failure_that_no_mod_causes_is_not_blamed_on_one() {
    let pack = fixture_copy("bisect");
    let (status, stdout, _) = bisect(pack.path(), &["--", "false"]);
    assert_eq!(status, Some(1));
    assert!(
        stdout.starts_with("it fails even with every mod left out, so no mod is the cause"),
        "{stdout}"
    );
}

/// A command that cannot run is a mistake in the invocation (exit 2, with its own error), not
/// a pack where every subset fails.
#[test]
fn a_command_that_cannot_run_is_a_usage_error_with_its_own_words() {
    let pack = fixture_copy("bisect");
    let (status, _, stderr) = bisect(pack.path(), &["--", "./nonexistent.sh"]);
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot run `./nonexistent.sh`") && stderr.contains("No such file"),
        "{stderr}"
    );
    let (status, _, stderr) = bisect(pack.path(), &["--", "sh", "-c", "exec ./nonexistent.sh"]);
    assert_eq!(status, Some(2), "{stderr}");
    assert!(stderr.contains("not found"), "{stderr}");
}
