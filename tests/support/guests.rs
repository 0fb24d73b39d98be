//! Real WebAssembly guests, built from source for the tests: the demo pack's Rust mod (with
//! extism-pdk, through its own `build.sh`) and C files (with `zig cc`, from `pip install
//! ziglang`, or clang). `.ci/run` installs both toolchains, so CI never skips them; off CI a
//! missing toolchain fails the test with what to install.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where guests' Cargo builds go, kept between runs (so a rebuild is quick): `target/<name>`.
fn guest_target_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(name)
}

/// Runs a mod's `build.sh` in `dir` (a copy of a Rust mod's folder). Builds take turns: copies
/// of one crate share the build folder, where each build's module is written.
pub fn build_rust_mod(dir: &Path) {
    build_rust_mod_into(dir, "guests");
}

/// [`build_rust_mod`] with a build folder of its own, `target/<target>`: for a test that
/// changes a crate's source, which Cargo would otherwise take for the copies other tests build
/// (a build that finds nothing to do does not write the module again).
pub fn build_rust_mod_into(dir: &Path, target: &str) {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let output = Command::new("sh")
        .arg("build.sh")
        .arg("--quiet")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", guest_target_dir(target))
        .output()
        .expect("sh runs");
    assert!(
        output.status.success(),
        "building the Rust mod in {} failed (it needs `rustup target add wasm32-unknown-unknown`):\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Compiles `source` (C, with the demo pack's `extism.h` on the include path) to `output`.
pub fn build_c(source: &Path, output: &Path) {
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/polyglot/mods/checksum");
    let flags = |command: &mut Command| {
        command
            .args(["-O2", "-nostdlib", "-Wl,--no-entry", "-I"])
            .arg(&include)
            .arg("-o")
            .arg(output)
            .arg(source);
    };
    let compilers: [(&str, &[&str]); 3] = [
        ("zig", &["cc", "--target=wasm32-freestanding"]),
        (
            "python3",
            &["-m", "ziglang", "cc", "--target=wasm32-freestanding"],
        ),
        ("clang", &["--target=wasm32"]),
    ];
    let mut tried = Vec::new();
    for (program, first) in compilers {
        let mut command = Command::new(program);
        command.args(first);
        flags(&mut command);
        match command.output() {
            Ok(done) if done.status.success() => return,
            Ok(done) => tried.push(format!(
                "{program}: {}",
                String::from_utf8_lossy(&done.stderr).trim()
            )),
            Err(error) => tried.push(format!("{program}: {error}")),
        }
    }
    panic!(
        "no C compiler for wasm32 worked (`pip install ziglang` provides one):\n{}",
        tried.join("\n")
    );
}

/// A copy of the demo pack `examples/polyglot` with its Rust and C mods built.
pub fn polyglot_copy() -> tempfile::TempDir {
    let copy = super::example_copy("polyglot");
    build_rust_mod(&copy.path().join("mods/stats"));
    let checksum = copy.path().join("mods/checksum");
    build_c(
        &checksum.join("checksum.c"),
        &checksum.join("checksum.wasm"),
    );
    copy
}
