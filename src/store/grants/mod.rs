//! User-delegated grants: `auth_codes` and `refresh_tokens` (blake3 of the
//! secret → record), browser `sessions` (blake3 of the cookie → record) and
//! remembered `consents` (user id `/` client id → scopes). Single use and
//! rotation are sled transactions, so of two concurrent redemptions exactly
//! one wins. Expired entries are swept.

use std::sync::Arc;

use super::codec::{self, Record};
use super::flusher::Changes;
use super::space::{Prefix, Space};
use super::StoreError;

mod records;

pub use records::{CodeRecord, ConsentRecord, RefreshRecord, SessionRecord};

/// The outcome of presenting a code or a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Use<R> {
    /// First use: now marked used.
    Fresh(R),
    /// Used before: a replay.
    Replayed(R),
    Unknown,
}

pub struct Grants {
    pub(super) codes: Space,
    pub(super) refresh: Space,
    pub(super) sessions: Space,
    pub(super) consents: Space,
    changes: Arc<Changes>,
}

use super::tree::{self, decode_tx, encode_tx, TxResult};

impl Grants {
    pub(crate) fn open(
        db: &sled::Db,
        prefix: Prefix,
        changes: Arc<Changes>,
    ) -> Result<Grants, StoreError> {
        Ok(Grants {
            codes: Space::open(db, "auth_codes", prefix)?,
            refresh: Space::open(db, "refresh_tokens", prefix)?,
            sessions: Space::open(db, "sessions", prefix)?,
            consents: Space::open(db, "consents", prefix)?,
            changes,
        })
    }

    pub async fn insert_code(&self, hash: &[u8], rec: &CodeRecord) -> Result<(), StoreError> {
        self.codes.insert(hash, codec::encode(rec)?)?;
        self.changes.durable().await
    }

    /// Marks the code used; says whether it was fresh, replayed or unknown.
    pub async fn redeem_code(&self, hash: &[u8]) -> Result<Use<CodeRecord>, StoreError> {
        let outcome = self
            .codes
            .transaction(|codes| -> TxResult<Use<CodeRecord>> {
                let Some(bytes) = codes.get(hash)? else {
                    return Ok(Use::Unknown);
                };
                let mut rec: CodeRecord = decode_tx(&bytes)?;
                if rec.used {
                    return Ok(Use::Replayed(rec));
                }
                rec.used = true;
                codes.insert(hash, encode_tx(&rec)?)?;
                rec.used = false;
                Ok(Use::Fresh(rec))
            })?;
        self.changes.durable().await?;
        Ok(outcome)
    }

    pub fn refresh_token(&self, hash: &[u8]) -> Result<Option<RefreshRecord>, StoreError> {
        tree::get(&self.refresh, hash)
    }

    pub async fn insert_refresh(&self, hash: &[u8], rec: &RefreshRecord) -> Result<(), StoreError> {
        self.refresh.insert(hash, codec::encode(rec)?)?;
        self.changes.durable().await
    }

    /// Exchanges the refresh token `old` for `new` in one transaction: of two
    /// concurrent rotations of one token exactly one is `Fresh`.
    pub async fn rotate_refresh(
        &self,
        old: &[u8],
        new: &[u8],
        successor: &RefreshRecord,
    ) -> Result<Use<RefreshRecord>, StoreError> {
        let value = codec::encode(successor)?;
        let outcome = self
            .refresh
            .transaction(|tree| -> TxResult<Use<RefreshRecord>> {
                let Some(bytes) = tree.get(old)? else {
                    return Ok(Use::Unknown);
                };
                let mut rec: RefreshRecord = decode_tx(&bytes)?;
                if rec.rotated {
                    return Ok(Use::Replayed(rec));
                }
                rec.rotated = true;
                tree.insert(old, encode_tx(&rec)?)?;
                tree.insert(new, value.as_slice())?;
                rec.rotated = false;
                Ok(Use::Fresh(rec))
            })?;
        self.changes.durable().await?;
        Ok(outcome)
    }

    /// No flush of its own: a session lost to a crash means signing in again;
    /// the code or page that follows is what must be durable.
    pub fn insert_session(&self, hash: &[u8], rec: &SessionRecord) -> Result<(), StoreError> {
        self.sessions.insert(hash, codec::encode(rec)?)?;
        Ok(())
    }

    pub fn session(&self, hash: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        tree::get(&self.sessions, hash)
    }

    pub async fn delete_session(&self, hash: &[u8]) -> Result<(), StoreError> {
        self.sessions.remove(hash)?;
        self.changes.durable().await
    }

    pub fn consent(
        &self,
        user_id: &str,
        client_id: &str,
    ) -> Result<Option<ConsentRecord>, StoreError> {
        tree::get(&self.consents, &consent_key(user_id, client_id))
    }

    /// No flush of its own: the code written next in the same request is
    /// flushed, and group commit carries this write with it.
    pub fn put_consent(
        &self,
        user_id: &str,
        client_id: &str,
        rec: &ConsentRecord,
    ) -> Result<(), StoreError> {
        self.consents
            .insert(consent_key(user_id, client_id), codec::encode(rec)?)?;
        Ok(())
    }

    /// Forgets every consent given by `user_id` (the user was deleted).
    pub fn delete_consents_of_user(&self, user_id: &str) -> Result<(), StoreError> {
        for entry in self.consents.scan_prefix(format!("{user_id}/").as_bytes()) {
            self.consents.remove(entry?.0)?;
        }
        Ok(())
    }

    /// Forgets every consent given to `client_id` (the client was deleted, so
    /// a client later registered under that id starts without any).
    pub fn delete_consents_of_client(&self, client_id: &str) -> Result<(), StoreError> {
        let suffix = format!("/{client_id}");
        for entry in self.consents.iter() {
            let (k, _) = entry?;
            if k.ends_with(suffix.as_bytes()) {
                self.consents.remove(k)?;
            }
        }
        Ok(())
    }

    /// Removes codes, refresh tokens and sessions whose `expires_at` is at or
    /// before `now`; returns how many.
    /// A value that does not decode is removed too (it could never be used).
    pub fn sweep(&self, now: i64) -> Result<usize, StoreError> {
        let mut removed = 0;
        removed += sweep_tree::<CodeRecord>(&self.codes, now, |r| r.expires_at)?;
        removed += sweep_tree::<RefreshRecord>(&self.refresh, now, |r| r.expires_at)?;
        removed += sweep_tree::<SessionRecord>(&self.sessions, now, |r| r.expires_at)?;
        Ok(removed)
    }
}

fn sweep_tree<R: Record>(
    tree: &Space,
    now: i64,
    expires_at: impl Fn(&R) -> i64,
) -> Result<usize, StoreError> {
    let mut removed = 0;
    for entry in tree.iter() {
        let (k, v) = entry?;
        let expired = match codec::decode::<R>(&v) {
            Ok(r) => expires_at(&r) <= now,
            Err(e) => {
                tracing::warn!(error = %e, "removing an unreadable {}", R::KIND);
                true
            }
        };
        if expired {
            tree.remove(k)?;
            removed += 1;
        }
    }
    Ok(removed)
}

fn consent_key(user_id: &str, client_id: &str) -> Vec<u8> {
    format!("{user_id}/{client_id}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::super::{Location, Store, DEFAULT_CACHE_BYTES};
    use super::*;

    fn refresh(expires_at: i64) -> RefreshRecord {
        RefreshRecord {
            family: vec![1; 16],
            client_id: "c".into(),
            client_epoch: 1,
            user_id: "u".into(),
            scopes: vec!["read".into()],
            created_at: 0,
            expires_at,
            rotated: false,
            auth_time: 0,
            sid: None,
        }
    }

    /// Version 1 codes and refresh tokens (before `auth_time` and `sid`) read
    /// with `auth_time` = their creation: the layout is version 2's without the
    /// two trailing fields (0 and `None`, one byte each).
    #[test]
    fn version_1_grants_are_upgraded() {
        let r = refresh(99);
        let v2 = codec::encode(&r).unwrap();
        let mut v1 = vec![1u8];
        v1.extend_from_slice(&v2[1..v2.len() - 2]);
        assert_eq!(codec::decode::<RefreshRecord>(&v1).unwrap(), r);
        let c = code();
        let v2 = codec::encode(&c).unwrap();
        let mut v1 = vec![1u8];
        v1.extend_from_slice(&v2[1..v2.len() - 2]);
        assert_eq!(codec::decode::<CodeRecord>(&v1).unwrap(), c);
    }

    fn code() -> CodeRecord {
        CodeRecord {
            client_id: "c".into(),
            user_id: "u".into(),
            redirect_uri: "https://a.example/cb".into(),
            redirect_uri_given: true,
            scopes: vec![],
            code_challenge: None,
            code_challenge_method: None,
            nonce: None,
            family: vec![2; 16],
            client_epoch: 1,
            created_at: 0,
            expires_at: 600,
            used: false,
            auth_time: 0,
            sid: None,
        }
    }

    #[tokio::test]
    async fn codes_are_single_use() {
        let store = Store::open(&Location::Ephemeral, DEFAULT_CACHE_BYTES).unwrap();
        let g = store.grants();
        let code = code();
        g.insert_code(b"h1", &code).await.unwrap();
        assert_eq!(
            g.redeem_code(b"h1").await.unwrap(),
            Use::Fresh(code.clone())
        );
        assert!(matches!(
            g.redeem_code(b"h1").await.unwrap(),
            Use::Replayed(_)
        ));
        assert_eq!(g.redeem_code(b"nope").await.unwrap(), Use::Unknown);
        assert_eq!(g.sweep(599).unwrap(), 0);
        assert_eq!(g.sweep(600).unwrap(), 1);
    }

    #[tokio::test]
    async fn of_concurrent_rotations_exactly_one_wins() {
        let store = Store::open(&Location::Ephemeral, DEFAULT_CACHE_BYTES).unwrap();
        g_insert(&store).await;
        let mut tasks = Vec::new();
        for i in 0..8u8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .grants()
                    .rotate_refresh(b"old", &[i; 4], &refresh(100))
                    .await
                    .unwrap()
            }));
        }
        let mut fresh = 0;
        for t in tasks {
            if matches!(t.await.unwrap(), Use::Fresh(_)) {
                fresh += 1;
            }
        }
        assert_eq!(fresh, 1);
    }

    async fn g_insert(store: &Store) {
        store
            .grants()
            .insert_refresh(b"old", &refresh(100))
            .await
            .unwrap();
    }
}
