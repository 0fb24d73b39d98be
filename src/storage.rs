//! Each mod's persistent key-value store: JSON values in one SQLite database in the data dir.
//!
//! Rows are keyed by mod id, so one mod never sees another's keys. The database runs in WAL
//! mode: every `set` and `delete` is its own committed transaction, a process killed mid-write
//! loses at most that write and never corrupts the file, and several `modhost` processes can
//! share a data dir (writers wait for each other, up to [`BUSY_TIMEOUT`]).
//!
//! What each mod keeps is counted in the database itself (a `usage` table that triggers keep
//! up to date with every change of `entries`), and a `set` reads it and writes in one
//! transaction that holds the write lock: the quota holds across every process sharing the
//! store, however their writes interleave.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, params};

use crate::runtime::Json;

/// The database file, in the data dir.
pub(crate) const FILE_NAME: &str = "storage.sqlite3";
/// How long a write waits for another process's write to finish.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest key, in bytes.
pub(crate) const MAX_KEY_BYTES: usize = 1024;
/// The largest value, as JSON text.
pub(crate) const MAX_VALUE_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot open the store `{}`: {message}", crate::paths::shown(path))]
    Open { path: PathBuf, message: String },
    #[error("the store failed: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("keys are at most {MAX_KEY_BYTES} bytes")]
    KeyTooLong,
    #[error("a stored value is at most {} KiB of JSON; this one is {} KiB", MAX_VALUE_BYTES / 1024, .0 / 1024)]
    ValueTooLarge(usize),
    #[error(
        "storage quota: the mod keeps {used} bytes and this would make {wanted}, past `storage_mb` = {quota_mb}; delete keys it no longer needs, or raise the limit in `config.toml`"
    )]
    Quota {
        used: u64,
        wanted: u64,
        quota_mb: u64,
    },
}

pub struct Store {
    connection: Connection,
    /// Nanoseconds the running operation has waited for another process's write lock (the
    /// busy handler adds to it; [`Store::timing_lock_waits`] reads it).
    lock_waited: Arc<AtomicU64>,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Store, StorageError> {
        let path = data_dir.join(FILE_NAME);
        let open_error = |message: String| StorageError::Open {
            path: path.clone(),
            message,
        };
        crate::data_dir::ensure_private(data_dir).map_err(|error| open_error(error.to_string()))?;
        let mut connection =
            Connection::open(&path).map_err(|error| open_error(error.to_string()))?;
        // Every mod's data is in this file: the user's alone, like the socket and the token
        // (SQLite gives its `-wal` and `-shm` files the same mode).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|error| open_error(error.to_string()))?;
        }
        let lock_waited = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&lock_waited);
        connection
            .busy_handler(Some(move |attempt| wait_for_lock(attempt, &counted)))
            .and_then(|()| connection.pragma_update(None, "journal_mode", "WAL"))
            .and_then(|()| connection.pragma_update(None, "synchronous", "NORMAL"))
            .and_then(|()| Store::create_table(&connection))
            .map_err(|error| open_error(error.to_string()))?;
        Ok(Store {
            connection,
            lock_waited,
        })
    }

    /// Runs `operation` on the store, and says how long it waited for another process's
    /// write lock.
    pub fn timing_lock_waits<R>(&self, operation: impl FnOnce(&Store) -> R) -> (R, Duration) {
        self.lock_waited.store(0, Ordering::Relaxed);
        let result = operation(self);
        let waited = self.lock_waited.swap(0, Ordering::Relaxed);
        (result, Duration::from_nanos(waited))
    }

    /// A store that lives in memory and goes with it (`modhost test`).
    pub fn in_memory() -> Result<Store, StorageError> {
        let open_error = |message: String| StorageError::Open {
            path: PathBuf::from(":memory:"),
            message,
        };
        let connection =
            Connection::open_in_memory().map_err(|error| open_error(error.to_string()))?;
        Store::create_table(&connection).map_err(|error| open_error(error.to_string()))?;
        Ok(Store {
            connection,
            lock_waited: Arc::default(),
        })
    }

    fn create_table(connection: &Connection) -> rusqlite::Result<()> {
        connection.execute_batch(
            "BEGIN IMMEDIATE;
            CREATE TABLE IF NOT EXISTS entries (
                mod TEXT NOT NULL,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (mod, key)
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS usage (
                mod TEXT PRIMARY KEY,
                bytes INTEGER NOT NULL
            ) WITHOUT ROWID;
            -- A store made before `usage` existed is counted once.
            INSERT OR IGNORE INTO usage (mod, bytes)
                SELECT mod, SUM(length(CAST(key AS BLOB)) + length(CAST(value AS BLOB)))
                FROM entries GROUP BY mod;
            CREATE TRIGGER IF NOT EXISTS usage_on_insert AFTER INSERT ON entries BEGIN
                INSERT INTO usage (mod, bytes)
                    VALUES (new.mod, length(CAST(new.key AS BLOB)) + length(CAST(new.value AS BLOB)))
                    ON CONFLICT (mod) DO UPDATE SET bytes = bytes + excluded.bytes;
            END;
            CREATE TRIGGER IF NOT EXISTS usage_on_update AFTER UPDATE ON entries BEGIN
                UPDATE usage SET bytes = bytes
                    - (length(CAST(old.key AS BLOB)) + length(CAST(old.value AS BLOB)))
                    + (length(CAST(new.key AS BLOB)) + length(CAST(new.value AS BLOB)))
                    WHERE mod = new.mod;
            END;
            CREATE TRIGGER IF NOT EXISTS usage_on_delete AFTER DELETE ON entries BEGIN
                UPDATE usage SET bytes = bytes
                    - (length(CAST(old.key AS BLOB)) + length(CAST(old.value AS BLOB)))
                    WHERE mod = old.mod;
            END;
            COMMIT;",
        )
    }

    /// Runs `write` in a transaction that holds the store's write lock from the start, so that
    /// what it reads is still true when it writes; rolled back when it fails.
    fn exclusively<T>(
        &self,
        write: impl FnOnce() -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        self.connection.execute_batch("BEGIN IMMEDIATE")?;
        match write() {
            Ok(value) => {
                self.connection.execute_batch("COMMIT")?;
                Ok(value)
            }
            Err(error) => {
                let _ = self.connection.execute_batch("ROLLBACK");
                Err(error)
            }
        }
    }

    pub fn get(&self, mod_id: &str, key: &str) -> Result<Option<Json>, StorageError> {
        let text: Option<String> = self
            .connection
            .prepare_cached("SELECT value FROM entries WHERE mod = ?1 AND key = ?2")?
            .query_row(params![mod_id, key], |row| row.get(0))
            .optional()?;
        Ok(text.map(|text| serde_json::from_str(&text).unwrap_or(Json::Null)))
    }

    /// Stores `value` under `key`, unless the mod would then keep more than `quota_mb`.
    pub fn set(
        &self,
        mod_id: &str,
        key: &str,
        value: &Json,
        quota_mb: u64,
    ) -> Result<(), StorageError> {
        if key.len() > MAX_KEY_BYTES {
            return Err(StorageError::KeyTooLong);
        }
        let text = value.to_string();
        if text.len() > MAX_VALUE_BYTES {
            return Err(StorageError::ValueTooLarge(text.len()));
        }
        self.exclusively(|| {
            let replaced = self.entry_bytes(mod_id, key)?;
            let used = self.bytes_used(mod_id)?;
            let wanted = used.saturating_sub(replaced) + (key.len() + text.len()) as u64;
            if wanted > used && wanted > quota_mb.saturating_mul(1024 * 1024) {
                return Err(StorageError::Quota {
                    used,
                    wanted,
                    quota_mb,
                });
            }
            self.connection
                .prepare_cached("INSERT INTO entries (mod, key, value) VALUES (?1, ?2, ?3) ON CONFLICT (mod, key) DO UPDATE SET value = excluded.value")?
                .execute(params![mod_id, key, text])?;
            Ok(())
        })
    }

    /// Whether the key existed.
    pub fn delete(&self, mod_id: &str, key: &str) -> Result<bool, StorageError> {
        let deleted = self
            .connection
            .prepare_cached("DELETE FROM entries WHERE mod = ?1 AND key = ?2")?
            .execute(params![mod_id, key])?;
        Ok(deleted > 0)
    }

    /// The bytes of one entry's key and value (0 when there is none).
    fn entry_bytes(&self, mod_id: &str, key: &str) -> Result<u64, StorageError> {
        let bytes: Option<i64> = self
            .connection
            .prepare_cached(
                "SELECT length(CAST(key AS BLOB)) + length(CAST(value AS BLOB)) FROM entries WHERE mod = ?1 AND key = ?2",
            )?
            .query_row(params![mod_id, key], |row| row.get(0))
            .optional()?;
        Ok(bytes.unwrap_or(0).max(0) as u64)
    }

    /// How many bytes of keys and values the mod keeps, as the database counts them.
    pub fn bytes_used(&self, mod_id: &str) -> Result<u64, StorageError> {
        let bytes: Option<i64> = self
            .connection
            .prepare_cached("SELECT bytes FROM usage WHERE mod = ?1")?
            .query_row(params![mod_id], |row| row.get(0))
            .optional()?;
        Ok(bytes.unwrap_or(0).max(0) as u64)
    }

    /// The mod's keys that start with `prefix`, sorted.
    pub fn keys(&self, mod_id: &str, prefix: &str) -> Result<Vec<String>, StorageError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT key FROM entries WHERE mod = ?1 AND substr(key, 1, length(?2)) = ?2 ORDER BY key",
        )?;
        let keys = statement
            .query_map(params![mod_id, prefix], |row| row.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(keys)
    }
}

/// SQLite's busy handler: waits for another connection's write lock to go (the `attempt`th
/// wait of this operation, from 0), adding the time slept to `waited` in nanoseconds; `false`
/// once [`BUSY_TIMEOUT`] has passed, and the operation fails as busy.
fn wait_for_lock(attempt: i32, waited: &AtomicU64) -> bool {
    let Some(step) = lock_wait_step(usize::try_from(attempt).unwrap_or(0)) else {
        return false;
    };
    let sleeping = Instant::now();
    std::thread::sleep(step);
    waited.fetch_add(sleeping.elapsed().as_nanos() as u64, Ordering::Relaxed);
    true
}

/// How long the `attempt`th wait for a lock sleeps: the steps of SQLite's own busy timeout,
/// short at first, until they add up to [`BUSY_TIMEOUT`]; `None` after.
fn lock_wait_step(attempt: usize) -> Option<Duration> {
    const STEPS_MS: [u64; 12] = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];
    let longest = STEPS_MS[STEPS_MS.len() - 1];
    let before_ms: u64 = STEPS_MS.iter().take(attempt).sum::<u64>()
        + attempt.saturating_sub(STEPS_MS.len()) as u64 * longest;
    let left_ms = (BUSY_TIMEOUT.as_millis() as u64).saturating_sub(before_ms);
    let step_ms = STEPS_MS
        .get(attempt)
        .copied()
        .unwrap_or(longest)
        .min(left_ms);
    (step_ms > 0).then(|| Duration::from_millis(step_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_per_mod_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .set(
                "a",
                "score",
                &crate::value!({"points": [1, 2.5], "name": "é"}),
                64,
            )
            .unwrap();
        store.set("a", "score:old", &crate::value!(3), 64).unwrap();
        store
            .set("b", "score", &crate::value!("b's own"), 64)
            .unwrap();
        assert_eq!(store.get("a", "missing").unwrap(), None);
        assert_eq!(store.keys("a", "score").unwrap(), ["score", "score:old"]);
        assert_eq!(store.keys("a", "").unwrap().len(), 2);
        assert!(store.delete("a", "score:old").unwrap());
        assert!(!store.delete("a", "score:old").unwrap());
        drop(store);

        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.get("a", "score").unwrap(),
            Some(crate::value!({"points": [1, 2.5], "name": "é"}))
        );
        assert_eq!(
            store.get("b", "score").unwrap(),
            Some(crate::value!("b's own"))
        );
    }

    #[test]
    fn keys_and_values_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let long_key = "k".repeat(MAX_KEY_BYTES + 1);
        assert!(matches!(
            store.set("a", &long_key, &crate::value!(1), 64),
            Err(StorageError::KeyTooLong)
        ));
        let big = crate::value!("x".repeat(MAX_VALUE_BYTES));
        assert!(matches!(
            store.set("a", "big", &big, 64),
            Err(StorageError::ValueTooLarge(_))
        ));
    }

    #[test]
    fn a_wait_for_another_process_s_lock_is_counted_and_ends_after_the_busy_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let holder = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            holder.execute_batch("COMMIT").unwrap();
        });
        let (set, waited) =
            store.timing_lock_waits(|store| store.set("a", "k", &crate::value!(1), 64));
        set.unwrap();
        release.join().unwrap();
        assert!(waited >= Duration::from_millis(150), "{waited:?}");
        let (set, waited) =
            store.timing_lock_waits(|store| store.set("a", "k", &crate::value!(2), 64));
        set.unwrap();
        assert_eq!(waited, Duration::ZERO, "no lock to wait for");

        let steps: Vec<Duration> = (0..).map_while(lock_wait_step).collect();
        assert_eq!(steps.iter().sum::<Duration>(), BUSY_TIMEOUT);
        assert_eq!(steps[0], Duration::from_millis(1), "short at first");
    }

    #[test]
    fn prefixes_are_literal() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for key in ["a%b", "a_b", "axb", "a"] {
            store.set("m", key, &crate::value!(key), 64).unwrap();
        }
        assert_eq!(store.keys("m", "a%").unwrap(), ["a%b"]);
        assert_eq!(store.keys("m", "a_").unwrap(), ["a_b"]);
    }

    #[test]
    fn the_quota_holds_across_stores_sharing_a_file() {
        // Two processes' stores on one data dir, writing in turns: each sees the other's.
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (
            Store::open(dir.path()).unwrap(),
            Store::open(dir.path()).unwrap(),
        );
        let chunk = crate::value!("x".repeat(300 * 1024));
        first.set("a", "one", &chunk, 1).unwrap();
        second.set("a", "two", &chunk, 1).unwrap();
        first.set("a", "three", &chunk, 1).unwrap();
        assert!(matches!(
            second.set("a", "four", &chunk, 1),
            Err(StorageError::Quota { quota_mb: 1, .. })
        ));
        assert!(first.set("a", "four", &chunk, 1).is_err());
        // Deleting in one frees room for the other.
        assert!(second.delete("a", "one").unwrap());
        first.set("a", "four", &chunk, 1).unwrap();
        assert_eq!(
            first.bytes_used("a").unwrap(),
            second.bytes_used("a").unwrap()
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_store_is_the_user_s_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.set("a", "k", &crate::value!(1), 1).unwrap();
        for file in [FILE_NAME.to_owned(), format!("{FILE_NAME}-wal")] {
            let mode = std::fs::metadata(dir.path().join(&file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
    }

    #[test]
    fn a_store_made_before_usage_was_counted_is_counted_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let old = Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE entries (mod TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (mod, key)) WITHOUT ROWID;
             INSERT INTO entries VALUES ('a', 'k', '\"vvvv\"');",
        )
        .unwrap();
        drop(old);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.bytes_used("a").unwrap(), 1 + 6);
        drop(store);
        assert_eq!(Store::open(dir.path()).unwrap().bytes_used("a").unwrap(), 7);
    }

    #[test]
    fn each_mod_keeps_at_most_its_quota() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let chunk = crate::value!("x".repeat(300 * 1024));
        store.set("a", "one", &chunk, 1).unwrap();
        store.set("a", "two", &chunk, 1).unwrap();
        store.set("a", "three", &chunk, 1).unwrap();
        let error = store.set("a", "four", &chunk, 1).unwrap_err();
        assert!(
            matches!(error, StorageError::Quota { quota_mb: 1, .. }),
            "{error}"
        );
        // Replacing a value with one of the same size, or deleting, is always possible.
        store.set("a", "one", &chunk, 1).unwrap();
        assert!(store.delete("a", "two").unwrap());
        store.set("a", "four", &chunk, 1).unwrap();
        // Another mod has a quota of its own.
        store.set("b", "one", &chunk, 1).unwrap();
        assert!(store.bytes_used("a").unwrap() <= 1024 * 1024);
    }
}
