//! The revocation list in memory.
//!
//! The store holds the durable list (see `store::revocations`); this is its
//! copy, loaded at start and updated after every durable write (by
//! [`crate::service::revocation`]), so validating a token never reads the
//! disk. Three kinds of entry: one token (by id, kept until the token's
//! expiry), a marker that revokes every token of one client epoch (kept until
//! the longest-lived token of that epoch has expired), and a marker for one
//! grant family. Must not import `state` (the state holds this list).

use std::collections::HashMap;
use std::sync::RwLock;

use crate::domain::token::{hex, unhex};
use crate::error::Result;
use crate::store::Store;

/// What the revocation list looks like in memory.
#[derive(Default)]
pub struct RevocationList {
    tokens: RwLock<HashMap<[u8; 16], i64>>,
    /// client id → revoked token epoch → kept until.
    client_epochs: RwLock<HashMap<String, HashMap<u64, i64>>>,
    /// Revoked grant families (a code and its refresh tokens) → kept until.
    families: RwLock<HashMap<[u8; 16], i64>>,
}

impl RevocationList {
    /// Reads the durable list.
    pub fn load(store: &Store) -> Result<RevocationList> {
        let list = RevocationList::default();
        for (id, rec) in store.revocations().tokens()? {
            if let Ok(id) = <[u8; 16]>::try_from(id.as_slice()) {
                list.remember_token(id, rec.keep_until);
            }
        }
        for (subject, rec) in store.revocations().markers()? {
            if let Some((client_id, epoch)) = parse_client_marker(&subject) {
                list.remember_epoch(client_id, epoch, rec.keep_until);
            } else if let Some(family) = parse_family_marker(&subject) {
                list.remember_family(family, rec.keep_until);
            }
        }
        Ok(list)
    }

    pub fn is_token_revoked(&self, id: &[u8; 16]) -> bool {
        read(&self.tokens).contains_key(id)
    }

    pub fn is_epoch_revoked(&self, client_id: &str, epoch: u64) -> bool {
        read(&self.client_epochs)
            .get(client_id)
            .is_some_and(|e| e.contains_key(&epoch))
    }

    pub fn is_family_revoked(&self, family: &[u8; 16]) -> bool {
        read(&self.families).contains_key(family)
    }

    /// Revoked token ids held in memory.
    pub fn token_count(&self) -> usize {
        read(&self.tokens).len()
    }

    pub(crate) fn remember_token(&self, id: [u8; 16], keep_until: i64) {
        write(&self.tokens).insert(id, keep_until);
    }

    pub(crate) fn remember_family(&self, family: [u8; 16], keep_until: i64) {
        write(&self.families).insert(family, keep_until);
    }

    /// Drops what the store's sweep at `now` dropped (same rule, same instant;
    /// entries remembered meanwhile are newer, so they stay).
    pub(crate) fn forget_expired(&self, now: i64) {
        write(&self.tokens).retain(|_, until| *until > now);
        write(&self.client_epochs).retain(|_, epochs| {
            epochs.retain(|_, until| *until > now);
            !epochs.is_empty()
        });
        write(&self.families).retain(|_, until| *until > now);
    }

    pub(crate) fn remember_epoch(&self, client_id: &str, epoch: u64, keep_until: i64) {
        write(&self.client_epochs)
            .entry(client_id.to_owned())
            .or_default()
            .insert(epoch, keep_until);
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn client_marker(client_id: &str, epoch: u64) -> String {
    format!("client/{epoch:016x}/{client_id}")
}

fn parse_client_marker(subject: &str) -> Option<(&str, u64)> {
    let rest = subject.strip_prefix("client/")?;
    let (epoch, client_id) = rest.split_once('/')?;
    Some((client_id, u64::from_str_radix(epoch, 16).ok()?))
}

pub(crate) fn family_marker(family: &[u8; 16]) -> String {
    format!("family/{}", hex(family))
}

fn parse_family_marker(subject: &str) -> Option<[u8; 16]> {
    unhex(subject.strip_prefix("family/")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_markers_round_trip() {
        let m = client_marker("cli_1/odd", 0xabc);
        assert_eq!(parse_client_marker(&m), Some(("cli_1/odd", 0xabc)));
        assert_eq!(parse_client_marker("user/x"), None);
    }

    #[test]
    fn family_markers_round_trip() {
        let f = [0xa5; 16];
        assert_eq!(parse_family_marker(&family_marker(&f)), Some(f));
        assert_eq!(parse_family_marker("family/zz"), None);
    }

    #[test]
    fn memory_answers_what_was_remembered() {
        let list = RevocationList::default();
        list.remember_token([1; 16], 10);
        list.remember_epoch("c", 5, 10);
        assert!(list.is_token_revoked(&[1; 16]));
        assert!(!list.is_token_revoked(&[2; 16]));
        assert!(list.is_epoch_revoked("c", 5));
        assert!(!list.is_epoch_revoked("c", 6));
        assert!(!list.is_epoch_revoked("d", 5));
    }
}
