//! The revocation list: `revoked_tokens` (token id → until when the entry must
//! be kept, i.e. the token's expiry) and `revocation_markers` (a subject such as
//! a client's token epoch → until when). Entries past their time are swept;
//! sweeping needs no flush (an entry that comes back after a crash is swept again).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::codec::{self, Record};
use super::flusher::Changes;
use super::space::{Prefix, Space};
use super::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationRecord {
    pub revoked_at: i64,
    /// After this instant nothing the entry covers can be valid any more.
    pub keep_until: i64,
}

impl Record for RevocationRecord {
    const VERSION: u8 = 1;
    const KIND: &'static str = "revocation";
}

pub struct Revocations {
    pub(super) tokens: Space,
    pub(super) markers: Space,
    changes: Arc<Changes>,
}

impl Revocations {
    pub(crate) fn open(
        db: &sled::Db,
        prefix: Prefix,
        changes: Arc<Changes>,
    ) -> Result<Revocations, StoreError> {
        Ok(Revocations {
            tokens: Space::open(db, "revoked_tokens", prefix)?,
            markers: Space::open(db, "revocation_markers", prefix)?,
            changes,
        })
    }

    /// Records one revoked token, durably.
    pub async fn revoke_token(&self, id: &[u8], rec: RevocationRecord) -> Result<(), StoreError> {
        self.tokens.insert(id, codec::encode(&rec)?)?;
        self.changes.durable().await
    }

    /// Records a marker that revokes everything of `subject`, durably.
    pub async fn add_marker(&self, subject: &str, rec: RevocationRecord) -> Result<(), StoreError> {
        self.markers
            .insert(subject.as_bytes(), codec::encode(&rec)?)?;
        self.changes.durable().await
    }

    /// Every revoked token id with its record (to load the in-memory copy).
    pub fn tokens(&self) -> Result<Vec<(Vec<u8>, RevocationRecord)>, StoreError> {
        self.tokens
            .iter()
            .map(|e| {
                let (k, v) = e?;
                Ok((k.to_vec(), codec::decode(&v)?))
            })
            .collect()
    }

    /// Every marker with its record.
    pub fn markers(&self) -> Result<Vec<(String, RevocationRecord)>, StoreError> {
        self.markers
            .iter()
            .map(|e| {
                let (k, v) = e?;
                Ok((String::from_utf8_lossy(&k).into_owned(), codec::decode(&v)?))
            })
            .collect()
    }

    /// Removes entries whose `keep_until` is at or before `now`; returns how many.
    pub fn sweep(&self, now: i64) -> Result<usize, StoreError> {
        let mut removed = 0;
        for tree in [&self.tokens, &self.markers] {
            for entry in tree.iter() {
                let (k, v) = entry?;
                let rec: RevocationRecord = codec::decode(&v)?;
                if rec.keep_until <= now {
                    tree.remove(k)?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// Revoked token entries and markers currently stored.
    pub fn len(&self) -> (usize, usize) {
        (self.tokens.len(), self.markers.len())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Location, Store, DEFAULT_CACHE_BYTES};
    use super::*;

    #[tokio::test]
    async fn entries_live_until_their_time() {
        let store = Store::open(&Location::Ephemeral, DEFAULT_CACHE_BYTES).unwrap();
        let r = store.revocations();
        let rec = |until| RevocationRecord {
            revoked_at: 0,
            keep_until: until,
        };
        r.revoke_token(&[1; 16], rec(10)).await.unwrap();
        r.revoke_token(&[2; 16], rec(20)).await.unwrap();
        r.add_marker("client/c1/1", rec(15)).await.unwrap();
        assert_eq!(r.len(), (2, 1));
        assert_eq!(r.sweep(9).unwrap(), 0);
        assert_eq!(r.sweep(15).unwrap(), 2);
        assert_eq!(r.len(), (1, 0));
        assert_eq!(r.tokens().unwrap(), vec![(vec![2; 16], rec(20))]);
    }
}
