//! Snapshot tests of the `modhost` binary: each `tests/cmd/*.toml` runs one command in a
//! fixture pack from `tests/fixtures/` and compares its exit status, stdout and stderr with the
//! `.stdout` and `.stderr` files beside it. `TRYCMD=overwrite cargo test --test cli` updates them.

#[test]
fn cli() {
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}
