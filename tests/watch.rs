//! `modhost run --watch` against the real binary: every way editors save gives exactly one
//! reload, state is carried over, a broken save keeps the old version running, and the
//! mods that depend on a reloaded mod see its new code. Waits are bounded (see `support`),
//! never sleeps used as assertions: each edit waits for the line its own reload prints.
//!
//! A save is one burst of file events only if the editor's writes come within the quiet period
//! of each other. Editors write in microseconds; this test writes from a thread a busy machine
//! may deschedule for tens of milliseconds between two writes, so the sessions here wait
//! longer than the default 10 ms ([`QUIET_MS`]). How soon a reload follows a save with the
//! default is measured in `benches/event_loop.rs`.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::{Running, fixture_copy};

/// The quiet period the sessions wait for: longer than a machine several times slower than
/// this one takes between two writes of one save here.
const QUIET_MS: u64 = 250;

struct Session {
    _dir: tempfile::TempDir,
    root: PathBuf,
    modhost: Running,
    version: usize,
}

impl Session {
    fn start() -> Session {
        Session::start_with(&format!("[watch]\ndebounce_ms = {QUIET_MS}\n"))
    }

    /// Starts, with `config` as `config.toml`.
    fn start_with(config: &str) -> Session {
        let dir = fixture_copy("watch");
        let root = dir.path().to_path_buf();
        write(&root.join("config.toml"), config);
        let mut modhost = Running::start(&root, &["run", "--watch"]);
        modhost.wait_for("watching `mods` for changes");
        Session {
            _dir: dir,
            root,
            modhost,
            version: 0,
        }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// The counter's source with a new version label, and that label. Marks the output, so
    /// that what follows waits for lines printed from here on.
    fn next_version(&mut self) -> (String, String) {
        self.modhost.mark();
        self.version += 1;
        let label = format!("VERSION-{}", self.version);
        let source = std::fs::read_to_string(self.path("mods/counter/main.js"))
            .expect("read counter")
            .replace(&format!("VERSION-{}", self.version - 1), &label)
            .replace("VERSION-A", &label);
        (source, label)
    }

    /// Waits for the counter and its dependent to come up with `label`.
    fn expect_reload(&mut self, label: &str) {
        self.modhost.wait_for(&format!("{label} attached"));
        self.modhost.wait_for(&format!("viewer sees {label}"));
        self.modhost.wait_for("counter, viewer in");
    }
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
}

#[test]
fn every_save_pattern_reloads_once_and_keeps_state() {
    let mut session = Session::start();
    let main = session.path("mods/counter/main.js");

    // In place.
    let (source, label) = session.next_version();
    write(&main, &source);
    session.expect_reload(&label);
    session.modhost.wait_for("state carried over: saves = 2");

    // Temp file and rename, as vim and JetBrains do, with vim's probe file and swap file.
    let (source, label) = session.next_version();
    write(&session.path("mods/counter/4913"), "");
    std::fs::remove_file(session.path("mods/counter/4913")).expect("remove probe");
    write(&session.path("mods/counter/.main.js.swp"), "swap");
    let temporary = session.path("mods/counter/main.js.tmp");
    write(&temporary, &source);
    std::fs::rename(&temporary, &main).expect("rename over");
    session.expect_reload(&label);
    session.modhost.wait_for("state carried over: saves = 3");

    // Delete and create.
    let (source, label) = session.next_version();
    std::fs::remove_file(&main).expect("delete");
    write(&main, &source);
    session.expect_reload(&label);
    session.modhost.wait_for("state carried over: saves = 4");

    // A burst of partial writes: only the finished file loads.
    let (source, label) = session.next_version();
    for cut in [10, source.len() / 2, source.len() - 3, source.len()] {
        write(&main, &source[..cut]);
        std::thread::sleep(Duration::from_millis(5));
    }
    session.expect_reload(&label);
    session.modhost.wait_for("state carried over: saves = 5");

    // A checkout touching many files in two mods: one reload each.
    let (source, label) = session.next_version();
    write(&main, &source);
    for index in 0..5 {
        write(
            &session.path(&format!("mods/counter/data-{index}.json")),
            "{}",
        );
    }
    write(
        &session.path("mods/bystander/main.js"),
        "function onAttach() { console.log(\"bystander v2\"); }\n",
    );
    session.modhost.wait_for("bystander v2");
    session.expect_reload(&label);
    session
        .modhost
        .wait_for("reloaded bystander, counter, viewer in");

    // A save that changes nothing reloads nothing; the next real one, a burst of its own,
    // still goes through.
    write(&main, &source);
    let (source, label) = session.next_version();
    std::thread::sleep(Duration::from_millis(2 * QUIET_MS));
    write(&main, &source);
    session.expect_reload(&label);

    session.modhost.stop();
    let modhost = std::mem::replace(
        &mut session.modhost,
        Running::start(&session.root, &["--version"]),
    );
    let (status, lines) = modhost.finish();
    assert!(status.success(), "{status}: {lines:#?}");
    for version in 1..=session.version {
        let attached = format!("VERSION-{version} attached");
        let times = lines.iter().filter(|line| line.contains(&attached)).count();
        assert_eq!(
            times,
            1,
            "`{attached}` appeared {times} times:\n{}",
            lines.join("\n")
        );
    }
    let bystander_reloads = lines
        .iter()
        .filter(|line| line.contains("bystander v2"))
        .count();
    assert_eq!(bystander_reloads, 1, "{}", lines.join("\n"));
    assert!(
        !lines
            .iter()
            .any(|line| line.contains("kept the running version")),
        "{}",
        lines.join("\n")
    );
}

#[test]
fn a_broken_save_keeps_the_old_version_until_the_fix() {
    let mut session = Session::start();
    let main = session.path("mods/counter/main.js");
    let good = std::fs::read_to_string(&main).expect("read");

    session.modhost.mark();
    write(&main, &good.replace("let saves = 0;", "let saves = ;"));
    let error = session.modhost.wait_for("error[syntax-error]");
    assert!(error.contains("SyntaxError"), "{error}");
    session.modhost.wait_for("--> mods/counter/main.js:2:13");
    session
        .modhost
        .wait_for("kept the running version of `counter`");

    // A broken manifest is kept out the same way.
    let manifest = session.path("mods/counter/manifest.json");
    let manifest_text = std::fs::read_to_string(&manifest).expect("read manifest");
    session.modhost.mark();
    write(&manifest, "{ \"name\": \"Counter\", ");
    session.modhost.wait_for("error[invalid-manifest]");
    session
        .modhost
        .wait_for("kept the running version of `counter`");
    session.modhost.mark();
    write(&manifest, &manifest_text);
    session
        .modhost
        .wait_for("kept the running version of `counter`");

    session.modhost.mark();
    write(&main, &good.replace("VERSION-A", "VERSION-FIXED"));
    session.expect_reload("VERSION-FIXED");
    // The old version was never detached, so its state is the one carried over.
    session.modhost.wait_for("state carried over: saves = 2");
}

#[test]
fn new_and_deleted_mod_folders_and_configuration_changes() {
    let mut session = Session::start();

    std::fs::create_dir(session.path("mods/newcomer")).expect("mkdir");
    write(
        &session.path("mods/newcomer/main.lua"),
        "function onAttach() print('newcomer here') end\n",
    );
    write(
        &session.path("mods/newcomer/mod.toml"),
        "name = \"Newcomer\"\nversion = \"1.0.0\"\nentry_point = \"main.lua\"\n",
    );
    session.modhost.wait_for("newcomer here");
    session.modhost.wait_for("loaded new newcomer");

    session.modhost.mark();
    write(
        &session.path("config.toml"),
        "[watch]\ndebounce_ms = 50\n\n[mods.counter]\nsettings = { step = 10 }\n",
    );
    session.modhost.wait_for("attached with step 10");
    session.modhost.wait_for("state carried over: saves = 11");

    session.modhost.mark();
    std::fs::remove_dir_all(session.path("mods/counter")).expect("delete counter");
    session.modhost.wait_for("removed counter");
    let blocked = session.modhost.wait_for("[viewer] blocked");
    assert!(blocked.contains("counter"), "{blocked}");
}

#[test]
fn polling_finds_changes_where_file_events_do_not_reach() {
    let mut session = Session::start_with("[watch]\ndebounce_ms = 50\npoll_ms = 100\n");
    let (source, label) = session.next_version();
    write(&session.path("mods/counter/main.js"), &source);
    session.expect_reload(&label);
    session.modhost.wait_for("state carried over: saves = 2");
}
