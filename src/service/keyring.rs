//! The JWT signing keys in memory: what the JWKS shows, what id_tokens and JWT
//! access tokens are signed and checked with. Loaded from the store at start
//! and replaced as a whole after every durable change (by
//! [`crate::service::signing_keys`]). Must not import `state`.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::domain::jwt::{self, Alg, PrivateKey, PublicKey};
use crate::error::{Error, Result};
use crate::store::{SigningKeyRecord, Store};

/// One signing key.
#[derive(Debug)]
pub struct KeyEntry {
    pub kid: String,
    pub private: PrivateKey,
    pub public: PublicKey,
    pub created_at: i64,
    /// New tokens of its algorithm are signed with it.
    pub active: bool,
    /// When a retired key leaves the JWKS.
    pub retires_at: Option<i64>,
}

impl KeyEntry {
    pub fn alg(&self) -> Alg {
        self.private.alg()
    }
}

/// A stored key, decoded.
pub(crate) fn entry(r: &SigningKeyRecord) -> Result<KeyEntry> {
    let alg = Alg::parse(&r.alg)
        .ok_or_else(|| Error::Internal(format!("stored signing key alg {:?} is unknown", r.alg)))?;
    let private = PrivateKey::from_pkcs8_der(alg, &r.private_pkcs8).map_err(Error::Internal)?;
    Ok(KeyEntry {
        kid: r.kid.clone(),
        public: private.public(),
        private,
        created_at: r.created_at,
        active: r.active,
        retires_at: r.retires_at,
    })
}

pub struct Keyring {
    keys: RwLock<Arc<Vec<Arc<KeyEntry>>>>,
    /// Moves whenever the keys change, so a request waiting for a key being
    /// made in the background wakes up.
    version: tokio::sync::watch::Sender<u64>,
    /// Serializes key changes (first-start generation, rotation, sweeps).
    pub writes: tokio::sync::Mutex<()>,
}

impl Default for Keyring {
    fn default() -> Keyring {
        Keyring {
            keys: RwLock::default(),
            version: tokio::sync::watch::channel(0).0,
            writes: tokio::sync::Mutex::new(()),
        }
    }
}

impl Keyring {
    /// The keys in the store (at start).
    pub fn load(store: &Store) -> Result<Keyring> {
        let ring = Keyring::default();
        ring.replace(
            store
                .signing_keys()
                .all()?
                .iter()
                .map(entry)
                .collect::<Result<_>>()?,
        );
        Ok(ring)
    }

    /// Every key, active and retiring.
    pub fn all(&self) -> Arc<Vec<Arc<KeyEntry>>> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn replace(&self, entries: Vec<KeyEntry>) {
        let entries = Arc::new(entries.into_iter().map(Arc::new).collect());
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = entries;
        self.version.send_modify(|v| *v += 1);
    }

    /// The active key of `alg`, if there is one now.
    pub fn active(&self, alg: Alg) -> Option<Arc<KeyEntry>> {
        self.all()
            .iter()
            .find(|k| k.active && k.alg() == alg)
            .cloned()
    }

    /// Checks a JWT's header and signature against these keys (active or
    /// retiring); its claims are the caller's to check.
    pub fn verify(&self, token: &str) -> std::result::Result<jwt::Verified, jwt::JwtError> {
        let keys = self.all();
        jwt::verify(token, |kid| {
            keys.iter().find(|k| k.kid == kid).map(|k| &k.public)
        })
    }

    /// The key `kid`, active or retiring.
    pub fn find(&self, kid: &str) -> Option<Arc<KeyEntry>> {
        self.all().iter().find(|k| k.kid == kid).cloned()
    }

    /// The active key of `alg`, waiting up to `limit` for one being made in
    /// the background (an RSA key on first start).
    pub async fn wait_active(&self, alg: Alg, limit: Duration) -> Option<Arc<KeyEntry>> {
        let mut changes = self.version.subscribe();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(k) = self.active(alg) {
                return Some(k);
            }
            if tokio::time::timeout_at(deadline, changes.changed())
                .await
                .map_or(true, |r| r.is_err())
            {
                return self.active(alg);
            }
        }
    }
}
