//! Puts the commit modhost was built from into `modhost --version` (as `MODHOST_VERSION`):
//! `0.1.0 (3f9c2a1b7d4e 2026-12-04)` from a git checkout, `0.1.0` from a crate archive or
//! where git is missing. A bug report then says exactly which build it is about.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty()).then(|| text.to_owned())
}

fn main() {
    let package = env!("CARGO_PKG_VERSION");
    let version = match (
        git(&["rev-parse", "--short=12", "HEAD"]),
        git(&["log", "-1", "--format=%cs"]),
    ) {
        (Some(commit), Some(date)) => format!("{package} ({commit} {date})"),
        (Some(commit), None) => format!("{package} ({commit})"),
        _ => package.to_owned(),
    };
    println!("cargo:rustc-env=MODHOST_VERSION={version}");
    // A new commit moves HEAD or the branch it names; nothing else changes the version.
    for path in [
        git(&["rev-parse", "--git-path", "HEAD"]),
        git(&["symbolic-ref", "-q", "HEAD"])
            .and_then(|branch| git(&["rev-parse", "--git-path", &branch])),
        git(&["rev-parse", "--git-path", "packed-refs"]),
    ]
    .into_iter()
    .flatten()
    {
        println!("cargo:rerun-if-changed={path}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
