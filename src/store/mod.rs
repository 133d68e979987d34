//! Storage: the only module that knows sled and bincode.
//!
//! One tree per record kind plus secondary-index trees; values go through
//! [`codec`]. Every mutating method is `async` and returns only after the change
//! is on disk (group commit through [`flusher`]), so a caller cannot send a 2xx
//! for a change that a `kill -9` would lose. Multi-record changes are sled
//! transactions. Knows nothing of HTTP, and nothing of the domain's rules: it
//! stores the plain records defined beside each tree.

pub mod api_keys;
pub mod check;
pub mod clients;
pub mod codec;
mod flusher;
pub mod grants;
mod realm_data;
pub mod realms;
pub mod revocations;
pub mod scopes;
pub mod signing_keys;
pub mod space;
mod tree;
pub mod users;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub use flusher::Generation;
use flusher::{Changes, Flusher};

pub use api_keys::{ApiKeyRecord, ApiKeys, UsageRecord};
pub use clients::{ClientRecord, Clients};
pub use grants::{CodeRecord, ConsentRecord, Grants, RefreshRecord, SessionRecord, Use};
pub use realms::{RealmRecord, RealmStatus, Realms};
pub use revocations::{RevocationRecord, Revocations};
pub use scopes::{ScopeRecord, Scopes};
pub use signing_keys::{SigningKeyRecord, SigningKeys};
pub use space::Prefix;
use space::Space;
pub use users::{UserRecord, Users};

/// sled's page cache. Its 1 GiB default lets a busy server grow to ~100 MB of RSS;
/// a dev/test identity provider's working set is a few megabytes.
pub const DEFAULT_CACHE_BYTES: u64 = 8 * 1024 * 1024;

/// The on-disk layout this build reads and writes, kept in the `meta` tree.
const STORE_FORMAT: u8 = 1;
const META_FORMAT_KEY: &[u8] = b"store_format";

/// Where the store lives.
#[derive(Debug, Clone)]
pub enum Location {
    /// A directory that persists across restarts.
    Dir(PathBuf),
    /// A fresh temporary directory, removed when the store is dropped.
    Ephemeral,
}

impl Location {
    /// Whether opening it makes a new, empty store (no sled database there yet).
    pub fn is_new(&self) -> bool {
        match self {
            Location::Dir(p) => !p.join("db").exists(),
            Location::Ephemeral => true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    #[error(transparent)]
    Codec(#[from] codec::CodecError),
    #[error("could not make the change durable: {0}")]
    Durability(String),
    #[error("{0} already exists")]
    Duplicate(&'static str),
    /// A write to a realm deleted meanwhile (what it wrote is removed with
    /// the rest of the realm).
    #[error("the realm was deleted")]
    RealmGone,
    #[error("cannot open the store at {path}: {message}")]
    Open { path: String, message: String },
}

/// One realm's view of the database. Cheap to clone; every realm's views
/// share one sled instance and one flusher.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    users: Users,
    scopes: Scopes,
    api_keys: ApiKeys,
    clients: Clients,
    revocations: Revocations,
    grants: Grants,
    signing_keys: SigningKeys,
    meta: Space,
    changes: Arc<Changes>,
    prefix: Prefix,
    base: Arc<Base>,
}

/// What every realm's view shares.
struct Base {
    db: sled::Db,
    realms: Realms,
    // Field order matters on drop: the flusher's final flush runs before the
    // temporary directory is removed.
    flusher: Arc<Flusher>,
    _temp: Option<tempfile::TempDir>,
}

impl Store {
    /// Opens the database and returns the default realm's view of it.
    pub fn open(location: &Location, cache_bytes: u64) -> Result<Store, StoreError> {
        let (path, temp) = match location {
            Location::Dir(p) => (p.clone(), None),
            Location::Ephemeral => {
                let dir = tempfile::Builder::new()
                    .prefix("latchkey-")
                    .tempdir()
                    .map_err(|e| open_error(Path::new("(temp dir)"), e))?;
                (dir.path().to_path_buf(), Some(dir))
            }
        };
        let db = open_db(&path, cache_bytes)?;
        check_format(&db.open_tree("meta")?, &path)?;
        let flusher = Arc::new(Flusher::start(db.clone()).map_err(|e| open_error(&path, e))?);
        let base = Arc::new(Base {
            realms: Realms {
                tree: db.open_tree("realms")?,
                db: db.clone(),
            },
            db,
            flusher,
            _temp: temp,
        });
        Store::view(base, Prefix::DEFAULT)
    }

    fn view(base: Arc<Base>, prefix: Prefix) -> Result<Store, StoreError> {
        let db = &base.db;
        let changes = Arc::new(Changes::new(base.flusher.clone()));
        Ok(Store {
            inner: Arc::new(Inner {
                users: Users::open(db, prefix, changes.clone())?,
                scopes: Scopes::open(db, prefix, changes.clone())?,
                api_keys: ApiKeys::open(db, prefix, changes.clone())?,
                clients: Clients::open(db, prefix, changes.clone())?,
                revocations: Revocations::open(db, prefix, changes.clone())?,
                grants: Grants::open(db, prefix, changes.clone())?,
                signing_keys: SigningKeys {
                    tree: Space::open(db, "signing_keys", prefix)?,
                    changes: changes.clone(),
                },
                meta: Space::open(db, "meta", prefix)?,
                changes,
                prefix,
                base: base.clone(),
            }),
        })
    }

    /// The view of the realm whose keys start with `prefix`, on the same database.
    pub fn realm(&self, prefix: Prefix) -> Result<Store, StoreError> {
        Store::view(self.inner.base.clone(), prefix)
    }

    /// Refuses this realm's writes from now on (it is being deleted).
    pub fn retire(&self) {
        self.inner.changes.retired.store(true, Ordering::Release);
    }

    /// Which realm this view is of.
    pub fn prefix(&self) -> Prefix {
        self.inner.prefix
    }

    /// The realm registry (shared by every view).
    pub fn realms(&self) -> &Realms {
        &self.inner.base.realms
    }

    /// Moves with every change to a user, an API key or a client (see
    /// [`Generation`]).
    pub fn generation(&self) -> Arc<Generation> {
        self.inner.changes.generation.clone()
    }

    /// Whether every secondary index agrees with its records (users by
    /// name, API keys by hash and owner, clients by owner); with the record
    /// counts, the revocation list's included.
    pub fn check_indexes(&self) -> Result<check::IndexReport, StoreError> {
        let mut report = check::IndexReport::default();
        let users = check::users(&self.inner.users, &mut report)?;
        let keys = check::api_keys(&self.inner.api_keys, &mut report)?;
        let clients = check::clients(&self.inner.clients, &mut report)?;
        let (revoked, markers) = self.inner.revocations.len();
        report.records = vec![
            ("users", users),
            ("API keys", keys),
            ("clients", clients),
            ("revoked tokens", revoked),
            ("revocation markers", markers),
        ];
        Ok(report)
    }

    pub fn users(&self) -> &Users {
        &self.inner.users
    }

    pub fn scopes(&self) -> &Scopes {
        &self.inner.scopes
    }

    pub fn api_keys(&self) -> &ApiKeys {
        &self.inner.api_keys
    }

    pub fn clients(&self) -> &Clients {
        &self.inner.clients
    }

    pub fn signing_keys(&self) -> &SigningKeys {
        &self.inner.signing_keys
    }

    pub fn revocations(&self) -> &Revocations {
        &self.inner.revocations
    }

    pub fn grants(&self) -> &Grants {
        &self.inner.grants
    }

    /// The server secret called `name`, stored on first use as `fresh`. It is
    /// not flushed here: start-up flushes once after bootstrap, before the
    /// server is ready to sign anything with it.
    pub fn server_secret(&self, name: &str, fresh: [u8; 32]) -> Result<[u8; 32], StoreError> {
        let key = format!("secret/{name}");
        let stored = match self.inner.meta.compare_and_swap(
            key.as_bytes(),
            None as Option<&[u8]>,
            Some(&fresh[..]),
        )? {
            Ok(()) => fresh.to_vec(),
            Err(cas) => cas.current.map(|v| v.to_vec()).unwrap_or_default(),
        };
        stored.try_into().map_err(|_| StoreError::Open {
            path: "(meta tree)".into(),
            message: format!("the stored server secret {name:?} is not 32 bytes"),
        })
    }

    /// A cheap read that fails when the database cannot serve requests.
    pub fn check(&self) -> Result<(), StoreError> {
        self.inner.meta.get(META_FORMAT_KEY)?;
        Ok(())
    }

    /// Waits until everything written so far is on disk.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.inner
            .base
            .flusher
            .flush()
            .await
            .map_err(StoreError::Durability)
    }

    /// Until the guard is dropped, writes return without waiting for a flush;
    /// [`flush`](Self::flush) still waits for one. For start-up only: its
    /// writes are made durable together by one flush before the server is
    /// ready, and until then no request can change anything (the readiness
    /// gate answers 503), so no caller is ever told of a change that is not on
    /// disk.
    pub fn defer_durability(&self) -> DeferredDurability {
        self.inner.changes.deferred.store(true, Ordering::Release);
        DeferredDurability {
            changes: self.inner.changes.clone(),
        }
    }

    /// Final flush for shutdown; later writes are refused.
    pub fn close(&self) {
        self.inner.base.flusher.close();
        if let Err(e) = self.inner.base.db.flush() {
            tracing::error!(error = %e, "flushing the store at shutdown failed");
        }
    }
}

/// See [`Store::defer_durability`]; dropping it makes every later write wait
/// for its flush again.
pub struct DeferredDurability {
    changes: Arc<Changes>,
}

impl Drop for DeferredDurability {
    fn drop(&mut self) {
        self.changes.deferred.store(false, Ordering::Release);
    }
}

/// Opens sled, waiting up to ten seconds for the directory's lock: a store
/// closed a moment ago (a restart, a test reopening it) releases it once the
/// last task holding it (sled's own background thread, a connection still
/// winding down) lets go, shortly after `close` returns.
fn open_db(path: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
    let config = sled::Config::new().path(path).cache_capacity(cache_bytes);
    let mut tries = 0;
    loop {
        match config.open() {
            Ok(db) => return Ok(db),
            // sled reports a held lock as an `Other` I/O error with this text.
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock") && tries < 200 =>
            {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => return Err(open_error(path, e)),
        }
    }
}

fn open_error(path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Open {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Stamps a new store with the format byte; refuses one written by another format.
fn check_format(meta: &sled::Tree, path: &Path) -> Result<(), StoreError> {
    match meta.get(META_FORMAT_KEY)? {
        None => {
            meta.insert(META_FORMAT_KEY, &[STORE_FORMAT])?;
            Ok(())
        }
        Some(v) if v.as_ref() == [STORE_FORMAT] => Ok(()),
        Some(v) => Err(open_error(
            path,
            format!(
                "it holds store format {:?}, this build reads format {STORE_FORMAT}",
                v.as_ref()
            ),
        )),
    }
}

/// Runs a sled transaction, folding its error type into ours.
pub(crate) fn transaction_error(e: sled::transaction::TransactionError<StoreError>) -> StoreError {
    match e {
        sled::transaction::TransactionError::Abort(e) => e,
        sled::transaction::TransactionError::Storage(e) => StoreError::Sled(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_of_another_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store =
                Store::open(&Location::Dir(dir.path().into()), DEFAULT_CACHE_BYTES).unwrap();
            store.inner.meta.insert(META_FORMAT_KEY, &[99]).unwrap();
            store.close();
        }
        let err = Store::open(&Location::Dir(dir.path().into()), DEFAULT_CACHE_BYTES)
            .err()
            .unwrap();
        assert!(err.to_string().contains("format [99]"), "{err}");
    }

    /// A restart right after a close waits for the lock instead of failing.
    #[test]
    fn opening_waits_for_a_store_that_is_closing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Location::Dir(dir.path().into()), DEFAULT_CACHE_BYTES).unwrap();
        let closer = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            store.close();
            drop(store);
        });
        let again = Store::open(&Location::Dir(dir.path().into()), DEFAULT_CACHE_BYTES);
        closer.join().unwrap();
        assert!(again.is_ok(), "{:?}", again.err());
    }

    #[test]
    fn a_server_secret_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = {
            let store =
                Store::open(&Location::Dir(dir.path().into()), DEFAULT_CACHE_BYTES).unwrap();
            let a = store.server_secret("t", [1; 32]).unwrap();
            assert_eq!(store.server_secret("t", [2; 32]).unwrap(), a);
            store.close();
            a
        };
        assert_eq!(first, [1; 32]);
        let store = Store::open(&Location::Dir(dir.path().into()), DEFAULT_CACHE_BYTES).unwrap();
        assert_eq!(store.server_secret("t", [3; 32]).unwrap(), [1; 32]);
    }

    #[tokio::test]
    async fn many_concurrent_flushes_all_complete() {
        let store = Store::open(&Location::Ephemeral, DEFAULT_CACHE_BYTES).unwrap();
        let mut tasks = Vec::new();
        for i in 0..64u32 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store.inner.meta.insert(i.to_be_bytes(), &[1]).unwrap();
                store.flush().await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
    }
}
