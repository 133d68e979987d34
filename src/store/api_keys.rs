//! API keys: `api_keys` (id → record), the `api_keys_by_hash` index
//! (blake3(secret) → id, for the current and a rolled-away secret), the
//! `api_keys_by_owner` index (owner id `/` key id → nothing), and `api_key_usage`
//! (id → advisory last-used time and use count, written in batches without a
//! flush of its own).

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sled::transaction::abort;

use super::codec::{self, Record};
use super::flusher::Changes;
use super::space::{transaction2, transaction3, transaction4, Prefix, Space};
use super::tree::{self, TxResult};
use super::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    /// The first characters of the secret, for recognition; not a secret.
    pub prefix: String,
    /// blake3 of the whole current secret.
    pub secret_hash: Vec<u8>,
    /// blake3 of a rolled-away secret that still works until `previous_until`.
    pub previous_hash: Option<Vec<u8>>,
    pub previous_until: Option<i64>,
    pub scopes: Vec<String>,
    /// The caller's `meta` object, as JSON text.
    pub meta_json: String,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: Option<i64>,
    /// Disabled by an administrator (this user id), not its owner: only an
    /// administrator may enable it again.
    pub disabled_by_admin: Option<String>,
}

impl Record for ApiKeyRecord {
    const VERSION: u8 = 2;
    const KIND: &'static str = "API key";

    fn decode_older(version: u8, body: &[u8]) -> Result<Self, codec::CodecError> {
        match version {
            1 => Ok(codec::decode_shape::<ApiKeyRecordV1>(Self::KIND, body)?.into()),
            found => Err(codec::unreadable::<Self>(found)),
        }
    }
}

/// Version 1, before administrators' disables were kept apart.
#[derive(Deserialize)]
struct ApiKeyRecordV1 {
    id: String,
    owner_id: String,
    name: String,
    prefix: String,
    secret_hash: Vec<u8>,
    previous_hash: Option<Vec<u8>>,
    previous_until: Option<i64>,
    scopes: Vec<String>,
    meta_json: String,
    enabled: bool,
    created_at: i64,
    updated_at: i64,
    expires_at: Option<i64>,
}

impl From<ApiKeyRecordV1> for ApiKeyRecord {
    fn from(v: ApiKeyRecordV1) -> ApiKeyRecord {
        ApiKeyRecord {
            id: v.id,
            owner_id: v.owner_id,
            name: v.name,
            prefix: v.prefix,
            secret_hash: v.secret_hash,
            previous_hash: v.previous_hash,
            previous_until: v.previous_until,
            scopes: v.scopes,
            meta_json: v.meta_json,
            enabled: v.enabled,
            created_at: v.created_at,
            updated_at: v.updated_at,
            expires_at: v.expires_at,
            disabled_by_admin: None,
        }
    }
}

impl ApiKeyRecord {
    pub(super) fn hashes(&self) -> BTreeSet<Vec<u8>> {
        std::iter::once(self.secret_hash.clone())
            .chain(self.previous_hash.clone())
            .collect()
    }

    pub(super) fn owner_key(&self) -> Vec<u8> {
        tree::owner_key(&self.owner_id, &self.id)
    }
}

/// Advisory usage of a key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRecord {
    pub last_used_at: Option<i64>,
    pub use_count: u64,
}

impl Record for UsageRecord {
    const VERSION: u8 = 1;
    const KIND: &'static str = "API key usage";
}

pub struct ApiKeys {
    pub(super) keys: Space,
    pub(super) by_hash: Space,
    pub(super) by_owner: Space,
    pub(super) usage: Space,
    changes: Arc<Changes>,
}

impl ApiKeys {
    pub(crate) fn open(
        db: &sled::Db,
        prefix: Prefix,
        changes: Arc<Changes>,
    ) -> Result<ApiKeys, StoreError> {
        Ok(ApiKeys {
            keys: Space::open(db, "api_keys", prefix)?,
            by_hash: Space::open(db, "api_keys_by_hash", prefix)?,
            by_owner: Space::open(db, "api_keys_by_owner", prefix)?,
            usage: Space::open(db, "api_key_usage", prefix)?,
            changes,
        })
    }

    pub fn get(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        tree::get(&self.keys, id.as_bytes())
    }

    /// The key whose current or previous secret hashes to `hash`.
    pub fn find_by_hash(&self, hash: &[u8]) -> Result<Option<ApiKeyRecord>, StoreError> {
        match self.by_hash.get(hash)? {
            Some(id) => self.get(&String::from_utf8_lossy(&id)),
            None => Ok(None),
        }
    }

    /// Keys of one owner, in id order, up to `limit` after `after`.
    pub fn list_by_owner(
        &self,
        owner: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let mut out = Vec::new();
        for id in tree::ids_of_owner(&self.by_owner, owner, after, limit)? {
            if let Some(rec) = self.get(&id)? {
                out.push(rec);
            }
        }
        Ok(out)
    }

    pub async fn insert(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let value = codec::encode(key)?;
        transaction3(
            (&self.keys, &self.by_hash, &self.by_owner),
            |keys, hashes, owners| -> TxResult<()> {
                if keys.get(key.id.as_bytes())?.is_some() {
                    return abort(StoreError::Duplicate("API key id"));
                }
                for h in key.hashes() {
                    if hashes.get(&h)?.is_some() {
                        return abort(StoreError::Duplicate("API key secret"));
                    }
                    hashes.insert(h, key.id.as_bytes())?;
                }
                keys.insert(key.id.as_bytes(), value.as_slice())?;
                owners.insert(key.owner_key(), &[])?;
                Ok(())
            },
        )?;
        self.changes.commit().await
    }

    /// Applies `change` to the stored key inside one transaction, so concurrent
    /// changes (a disable racing a roll) cannot overwrite each other. `change`
    /// may run more than once (sled retries conflicts): it must be pure.
    /// Returns the new record, or `None` when the key no longer exists.
    pub async fn update(
        &self,
        id: &str,
        change: impl Fn(&mut ApiKeyRecord),
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let updated = transaction2(
            (&self.keys, &self.by_hash),
            |keys, hashes| -> TxResult<Option<ApiKeyRecord>> {
                let Some(old) = tree::read_tx::<ApiKeyRecord>(keys, id.as_bytes())? else {
                    return Ok(None);
                };
                let mut key = old.clone();
                change(&mut key);
                let value = tree::encode_tx(&key)?;
                let (old_h, new_h) = (old.hashes(), key.hashes());
                for h in old_h.difference(&new_h) {
                    hashes.remove(h.as_slice())?;
                }
                for h in new_h.difference(&old_h) {
                    if hashes.get(h)?.is_some() {
                        return abort(StoreError::Duplicate("API key secret"));
                    }
                    hashes.insert(h.as_slice(), key.id.as_bytes())?;
                }
                keys.insert(key.id.as_bytes(), value)?;
                Ok(Some(key))
            },
        )?;
        if updated.is_some() {
            self.changes.commit().await?;
        }
        Ok(updated)
    }

    pub async fn delete(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let removed = transaction4(
            (&self.keys, &self.by_hash, &self.by_owner, &self.usage),
            |keys, hashes, owners, usage| -> TxResult<Option<ApiKeyRecord>> {
                let Some(old) = tree::read_tx::<ApiKeyRecord>(keys, id.as_bytes())? else {
                    return Ok(None);
                };
                for h in old.hashes() {
                    hashes.remove(h)?;
                }
                keys.remove(id.as_bytes())?;
                owners.remove(old.owner_key())?;
                usage.remove(id.as_bytes())?;
                Ok(Some(old))
            },
        )?;
        if removed.is_some() {
            self.changes.commit().await?;
        }
        Ok(removed)
    }

    pub fn usage(&self, id: &str) -> Result<UsageRecord, StoreError> {
        match self.usage.get(id.as_bytes())? {
            Some(v) => Ok(codec::decode(&v)?),
            None => Ok(UsageRecord::default()),
        }
    }

    /// Adds counted uses in one transaction. Advisory data: no flush of its own
    /// (sled's background flush and the next durable write carry it), and uses of
    /// keys deleted meanwhile are dropped.
    pub fn add_usage(&self, uses: &[(String, i64, u64)]) -> Result<(), StoreError> {
        transaction2((&self.keys, &self.usage), |keys, usage| -> TxResult<()> {
            for (id, last_used_at, count) in uses {
                // Checked in the same transaction as the write, so a key
                // deleted meanwhile never gets a usage row back.
                if keys.get(id.as_bytes())?.is_none() {
                    continue;
                }
                let mut u = tree::read_tx::<UsageRecord>(usage, id.as_bytes())?.unwrap_or_default();
                u.last_used_at = Some(
                    u.last_used_at
                        .map_or(*last_used_at, |t| t.max(*last_used_at)),
                );
                u.use_count = u.use_count.saturating_add(*count);
                usage.insert(id.as_bytes(), tree::encode_tx(&u)?)?;
            }
            Ok(())
        })
    }
}

/// A record for unit tests anywhere in the crate: enabled, named `k`, no
/// scopes, no expiry, its secret hash `hash` repeated.
#[cfg(test)]
impl ApiKeyRecord {
    pub(crate) fn for_tests(id: &str, owner: &str, hash: u8) -> ApiKeyRecord {
        ApiKeyRecord {
            id: id.into(),
            owner_id: owner.into(),
            name: "k".into(),
            prefix: "lk_key_abcd".into(),
            secret_hash: vec![hash; 32],
            previous_hash: None,
            previous_until: None,
            scopes: vec![],
            meta_json: "{}".into(),
            enabled: true,
            created_at: 0,
            updated_at: 0,
            expires_at: None,
            disabled_by_admin: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Location, Store, DEFAULT_CACHE_BYTES};
    use super::*;

    fn key(id: &str, owner: &str, hash: u8) -> ApiKeyRecord {
        ApiKeyRecord::for_tests(id, owner, hash)
    }

    /// A key stored by the previous version still reads.
    #[test]
    fn version_1_records_are_upgraded() {
        let v1 = (
            "k1",
            "u1",
            "k",
            "lk_key_abcd",
            vec![1u8; 32],
            None::<Vec<u8>>,
            None::<i64>,
            vec!["keys:read".to_string()],
            "{}",
            true,
            5i64,
            6i64,
            Some(7i64),
        );
        let mut bytes = vec![1u8];
        bytes.extend(bincode::serde::encode_to_vec(&v1, bincode::config::standard()).unwrap());
        let k: ApiKeyRecord = codec::decode(&bytes).unwrap();
        assert_eq!(k.id, "k1");
        assert_eq!(k.expires_at, Some(7));
        assert_eq!(k.disabled_by_admin, None);
    }

    #[tokio::test]
    async fn the_hash_index_follows_rolls_and_deletes() {
        let store = Store::open(&Location::Ephemeral, DEFAULT_CACHE_BYTES).unwrap();
        let keys = store.api_keys();
        keys.insert(&key("k1", "u1", 1)).await.unwrap();
        assert_eq!(keys.find_by_hash(&[1; 32]).unwrap().unwrap().id, "k1");

        let mut rolled = key("k1", "u1", 2);
        rolled.previous_hash = Some(vec![1; 32]);
        let r = rolled.clone();
        assert!(keys
            .update("k1", move |k| *k = r.clone())
            .await
            .unwrap()
            .is_some());
        assert!(
            keys.find_by_hash(&[1; 32]).unwrap().is_some(),
            "grace keeps the old hash"
        );
        assert!(keys.find_by_hash(&[2; 32]).unwrap().is_some());

        assert!(keys
            .update("k1", |k| *k = key("k1", "u1", 3))
            .await
            .unwrap()
            .is_some());
        assert!(keys.find_by_hash(&[1; 32]).unwrap().is_none());
        assert!(keys.find_by_hash(&[2; 32]).unwrap().is_none());

        keys.delete("k1").await.unwrap().unwrap();
        assert!(keys.find_by_hash(&[3; 32]).unwrap().is_none());
        assert!(keys.list_by_owner("u1", None, 10).unwrap().is_empty());
    }

    #[tokio::test]
    async fn owners_see_only_their_keys_in_pages() {
        let store = Store::open(&Location::Ephemeral, DEFAULT_CACHE_BYTES).unwrap();
        let keys = store.api_keys();
        for (i, owner) in ["u1", "u2", "u1", "u10", "u1"].iter().enumerate() {
            keys.insert(&key(&format!("k{i}"), owner, i as u8))
                .await
                .unwrap();
        }
        let ids = |v: Vec<ApiKeyRecord>| v.into_iter().map(|k| k.id).collect::<Vec<_>>();
        assert_eq!(
            ids(keys.list_by_owner("u1", None, 10).unwrap()),
            ["k0", "k2", "k4"]
        );
        assert_eq!(
            ids(keys.list_by_owner("u1", None, 2).unwrap()),
            ["k0", "k2"]
        );
        assert_eq!(
            ids(keys.list_by_owner("u1", Some("k2"), 2).unwrap()),
            ["k4"]
        );
    }

    #[tokio::test]
    async fn usage_adds_up_and_skips_deleted_keys() {
        let store = Store::open(&Location::Ephemeral, DEFAULT_CACHE_BYTES).unwrap();
        let keys = store.api_keys();
        keys.insert(&key("k1", "u1", 1)).await.unwrap();
        keys.add_usage(&[("k1".into(), 10, 2), ("gone".into(), 10, 1)])
            .unwrap();
        keys.add_usage(&[("k1".into(), 5, 3)]).unwrap();
        assert_eq!(
            keys.usage("k1").unwrap(),
            UsageRecord {
                last_used_at: Some(10),
                use_count: 5
            }
        );
        assert_eq!(keys.usage("gone").unwrap(), UsageRecord::default());
    }

    #[tokio::test]
    async fn a_secret_hash_cannot_belong_to_two_keys() {
        let store = Store::open(&Location::Ephemeral, DEFAULT_CACHE_BYTES).unwrap();
        store.api_keys().insert(&key("k1", "u1", 9)).await.unwrap();
        let err = store
            .api_keys()
            .insert(&key("k2", "u1", 9))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Duplicate(_)));
        assert!(store.api_keys().get("k2").unwrap().is_none());
    }
}
