//! The store under stress: a process killed mid-write leaves an intact store that lost at
//! most the write in flight, and two processes can share one data dir.

mod support;

use std::path::Path;

/// `modhost -q call ARGS` in `dir`: the function's result as JSON text.
fn call(dir: &Path, args: &[&str]) -> String {
    support::modhost(dir, &[&["-q", "call"], args].concat())
}

use support::{Running, fixture_copy};

fn integrity(dir: &Path) -> String {
    let connection =
        rusqlite::Connection::open(dir.join(".modhost/storage.sqlite3")).expect("open the store");
    connection
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity check")
}

#[test]
fn a_kill_mid_write_loses_at_most_that_write() {
    let pack = fixture_copy("sandbox");
    let mut modhost = Running::start(pack.path(), &["run"]);
    modhost.wait_for("keeper wrote 1000");
    modhost.kill();
    let (status, _) = modhost.finish();
    assert!(!status.success(), "killed");

    assert_eq!(integrity(pack.path()), "ok");
    let count: u64 = call(pack.path(), &["keeper", "count"])
        .parse()
        .expect("a number");
    assert!(count >= 1000, "every reported write is there: {count}");
    // Keys are written in order, one transaction each: no holes, whatever the kill hit.
    assert_eq!(call(pack.path(), &["keeper", "gaps"]), "0");
}

#[test]
fn two_processes_share_a_data_dir() {
    let pack = fixture_copy("sandbox");
    // One write a millisecond each: two writers that never pause would only measure how
    // fairly SQLite hands its write lock around.
    std::fs::write(
        pack.path().join("config.toml"),
        "[mods.keeper]\nsettings = { writes_per_tick = 1 }\n",
    )
    .expect("write config");
    // Each listening on its own socket (a pipe on Windows), so that `stop` reaches each.
    let mut first = Running::start(pack.path(), &["run", "--listen", "first.sock"]);
    let mut second = Running::start(pack.path(), &["run", "--listen", "second.sock"]);
    first.wait_for("keeper wrote 1000");
    second.wait_for("keeper wrote 1000");
    first.stop();
    second.stop();
    for modhost in [first, second] {
        let (status, lines) = modhost.finish();
        assert!(status.success(), "{status}: {lines:#?}");
        assert!(
            !lines.iter().any(|line| line.contains("ERROR")),
            "no write failed: {lines:#?}"
        );
    }
    assert_eq!(integrity(pack.path()), "ok");
}

/// `storage_mb` holds for a mod across every process sharing the data dir: a running host
/// and a `modhost call` beside it, writing in turns, keep at most the quota between them (the
/// host counted usage once and trusted its count, so together they kept twice the quota).
#[test]
fn the_quota_holds_across_processes_sharing_the_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    support::one_mod_pack(
        dir.path(),
        "[limits]\nstorage_mb = 1\n",
        "hoarder",
        "main.js",
        "function store(prefix, count) { for (let i = 0; i < count; i++) modhost.storage.set(prefix + i, 'x'.repeat(100000)); return count; }\n",
    );
    let mut host = Running::start(dir.path(), &["run"]);
    host.wait_for("running");
    let ctl =
        |args: &[&str]| support::run_with_status(dir.path(), &[&["ctl", "call"], args].concat());
    // The running host writes first (and counts), then another process adds to it.
    assert_eq!(ctl(&["hoarder", "store", "a", "1"]).0, Some(0));
    assert_eq!(call(dir.path(), &["hoarder", "store", "b", "8"]), "8");
    // Now the host's own writes meet what the other process stored.
    let (status, _, stderr) = ctl(&["hoarder", "store", "c", "8"]);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(stderr.contains("`storage_mb` = 1"), "{stderr}");
    let connection = rusqlite::Connection::open(dir.path().join(".modhost/storage.sqlite3"))
        .expect("open the store");
    let kept: i64 = connection
        .query_row(
            "SELECT SUM(length(CAST(key AS BLOB)) + length(CAST(value AS BLOB))) FROM entries WHERE mod = 'hoarder'",
            [],
            |row| row.get(0),
        )
        .expect("sum");
    assert!(kept <= 1024 * 1024, "the mod keeps {kept} bytes");
    host.stop();
    assert!(host.finish().0.success());
}

/// Takes the write lock of the store `file` (making the file if there is none), as another
/// process writing would, and gives it back after `held_ms` on a thread of its own.
fn hold_write_lock(file: &Path, held_ms: u64) -> std::thread::JoinHandle<()> {
    let holder = rusqlite::Connection::open(file).expect("open the store");
    holder
        .execute_batch(
            "PRAGMA journal_mode = WAL; BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS held (x);",
        )
        .expect("hold the write lock");
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(held_ms));
        holder.execute_batch("COMMIT").expect("release the lock");
    })
}

/// Opening the store is the host's work, not the mod's: a mod's first `storage.set`, which
/// waits for the store to open, still has its whole `call_timeout_ms`. Here the wait is
/// another process holding the store's write lock past the limit; in CI it was a busy disk
/// taking over a second to create the file.
#[test]
fn waiting_for_the_store_to_open_is_not_the_mod_s_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    support::one_mod_pack(
        dir.path(),
        "data_dir = \"data\"\n[limits]\ncall_timeout_ms = 500\n",
        "saver",
        "main.js",
        "function save() { modhost.storage.set('k', 41); return modhost.storage.get('k') + 1; }\n",
    );
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    // Long enough to outlast the limit even on a machine slow to start `modhost`, and short of
    // the store's own 5 s wait for a lock.
    let released = hold_write_lock(&data.join("storage.sqlite3"), 3_000);
    let saved = call(dir.path(), &["saver", "save"]);
    released.join().expect("released");
    assert_eq!(saved, "42");
}

/// Waiting for another process's write lock on the open store is not the mod's time either:
/// a `storage.set` that waits 2.5 s under a 300 ms `call_timeout_ms` succeeds, in both
/// languages, and the watchdog (which ends a host whose mod keeps control 2 s past its limit)
/// does not take the wait for a mod that cannot be interrupted.
#[test]
fn waiting_for_another_process_s_lock_is_not_the_mod_s_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    support::write(
        &dir.path().join("config.toml"),
        "data_dir = \"data\"\n[limits]\ncall_timeout_ms = 300\n",
    );
    support::write_mod(
        dir.path(),
        "js-saver",
        "main.js",
        "function open() { return modhost.storage.get('k'); }\nfunction save() { modhost.storage.set('k', 41); return modhost.storage.get('k') + 1; }\n",
    );
    support::write_mod(
        dir.path(),
        "lua-saver",
        "main.lua",
        "function open() return modhost.storage.get('k') end\nfunction save() modhost.storage.set('k', 41) return modhost.storage.get('k') + 1 end\n",
    );
    let (running, mut rpc) = Running::start_rpc(dir.path(), &["run", "--stdio"]);
    rpc.initialize(serde_json::json!({}));
    let call = |rpc: &mut support::rpc::Rpc, id: &str, function: &str| {
        rpc.result(
            "mods/call",
            serde_json::json!({ "mod": id, "function": function, "args": [] }),
        )
    };
    for id in ["js-saver", "lua-saver"] {
        call(&mut rpc, id, "open");
        // Past the limit and the watchdog's 2 s beyond it, short of SQLite's 5 s wait.
        let released = hold_write_lock(&dir.path().join("data/storage.sqlite3"), 2_500);
        assert_eq!(call(&mut rpc, id, "save"), serde_json::json!(42), "{id}");
        released.join().expect("released");
    }
    rpc.close();
    let (status, lines) = running.finish();
    assert!(status.success(), "{lines:#?}");
}
