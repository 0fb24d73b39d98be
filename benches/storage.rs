//! Storage throughput: `set` + `get` pairs per second through a mod's `modhost.storage`,
//! through the `Store` directly, and through raw rusqlite with the same settings (the
//! baseline), each on a fresh database in the same run.

mod support;

use std::time::Instant;

use modhost::Overrides;
use modhost::internal::storage::Store;
use modhost::{Config, Host, Pack};
use support::write_mod;

const PAIRS: usize = 20_000;

fn rate(pairs: usize, started: Instant) -> f64 {
    pairs as f64 / started.elapsed().as_secs_f64()
}

fn raw_rusqlite() -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let connection = rusqlite::Connection::open(dir.path().join("raw.sqlite3")).expect("open");
    connection
        .pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    connection
        .pragma_update(None, "synchronous", "NORMAL")
        .expect("sync");
    connection
        .execute_batch("CREATE TABLE entries (mod TEXT, key TEXT, value TEXT, PRIMARY KEY (mod, key)) WITHOUT ROWID;")
        .expect("schema");
    let started = Instant::now();
    for index in 0..PAIRS {
        let key = format!("key-{index}");
        connection
            .prepare_cached("INSERT INTO entries VALUES ('m', ?1, ?2) ON CONFLICT (mod, key) DO UPDATE SET value = excluded.value")
            .expect("prepare")
            .execute(rusqlite::params![key, "{\"score\":1}"])
            .expect("insert");
        let _: String = connection
            .prepare_cached("SELECT value FROM entries WHERE mod = 'm' AND key = ?1")
            .expect("prepare")
            .query_row([&key], |row| row.get(0))
            .expect("select");
    }
    rate(PAIRS, started)
}

fn store() -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("store");
    let started = Instant::now();
    for index in 0..PAIRS {
        let key = format!("key-{index}");
        store
            .set("m", &key, &modhost::value!({ "score": 1 }), 1024)
            .expect("set");
        store.get("m", &key).expect("get");
    }
    rate(PAIRS, started)
}

fn through_a_mod() -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let mods = dir.path().join("mods");
    write_mod(
        &mods,
        "writer",
        "main.js",
        "function pairs(n) { for (let i = 0; i < n; i++) { modhost.storage.set('key-' + i, { score: 1 }); modhost.storage.get('key-' + i); } return n; }\n",
        "",
    );
    let mut config = Config::load(&Overrides {
        mods_dir: Some(mods),
        config_file: Some(dir.path().join("none.toml")).filter(|path| path.exists()),
        ..Overrides::default()
    })
    .expect("config");
    config.data_dir = dir.path().join("data");
    config.limits.call_timeout_ms = 60_000;
    let host = Host::new(Pack::load(&config).expect("pack"), config);
    host.start();
    let started = Instant::now();
    host.call("writer", "pairs", &[modhost::Value::from(PAIRS)])
        .expect("pairs");
    rate(PAIRS, started)
}

fn main() {
    let raw = raw_rusqlite();
    let direct = store();
    let hosted = through_a_mod();
    println!(
        "storage set+get pairs per second: from a mod {hosted:.0}, Store {direct:.0}, raw rusqlite {raw:.0} (mod / raw = {:.2})",
        hosted / raw
    );
}
