//! Snapshot tests of the `modhost` binary: each `tests/cmd/*.toml` runs one command in a
//! fixture pack from `tests/fixtures/` and compares its exit status, stdout and stderr with the
//! `.stdout` and `.stderr` files beside it. `TRYCMD=overwrite cargo test --test cli` updates them.
//! The same snapshots hold on Windows, but for the colors of `--color always`: the diagnostic
//! renderer draws gutters bright cyan there (as rustc does: bright blue is hard to read on a
//! Windows console).

#[test]
fn cli() {
    let cases = trycmd::TestCases::new();
    cases.case("tests/cmd/*.toml");
    if cfg!(windows) {
        cases.skip("tests/cmd/color-always.toml");
    }
}
