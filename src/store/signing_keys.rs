//! The `signing_keys` tree: the JWT signing keys, kid → record. The private
//! key (PKCS #8 DER) lives here and nowhere else; it is never returned by the
//! API nor logged.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::codec::{self, Record};
use super::flusher::Changes;
use super::space::Space;
use super::StoreError;

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKeyRecord {
    pub kid: String,
    /// `RS256`, `ES256` or `EdDSA`.
    pub alg: String,
    /// PKCS #8 DER of the private key.
    pub private_pkcs8: Vec<u8>,
    pub created_at: i64,
    /// The key new tokens of its algorithm are signed with.
    pub active: bool,
    /// Set when a rotation retires the key: it leaves the JWKS at this time,
    /// after every token it signed has expired.
    pub retires_at: Option<i64>,
}

impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

impl Record for SigningKeyRecord {
    const VERSION: u8 = 1;
    const KIND: &'static str = "signing key";
}

/// The tree and the durability its changes wait for (made by `Store::open`).
pub struct SigningKeys {
    pub(super) tree: Space,
    pub(super) changes: Arc<Changes>,
}

impl SigningKeys {
    /// Every key, in kid order (a handful: three active, a few retiring).
    pub fn all(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        self.tree
            .iter()
            .values()
            .map(|v| Ok(codec::decode(&v?)?))
            .collect()
    }

    /// Writes these records (new or changed) and removes `gone`, in one batch,
    /// durable before it returns: a rotation is all or nothing.
    pub async fn apply(&self, put: &[SigningKeyRecord], gone: &[String]) -> Result<(), StoreError> {
        let mut batch = Vec::with_capacity(put.len() + gone.len());
        for r in put {
            batch.push((r.kid.as_bytes().to_vec(), Some(codec::encode(r)?)));
        }
        for kid in gone {
            batch.push((kid.as_bytes().to_vec(), None));
        }
        self.tree.apply(batch)?;
        self.changes.durable().await
    }
}
