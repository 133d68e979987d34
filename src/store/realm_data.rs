//! A realm's records as a whole: counting them, purging a created realm, and
//! sweeping what deleted realms left in the shared realm trees.

use super::space::{Prefix, Space};
use super::{Store, StoreError};

/// Every tree a realm has (the default realm's names; a created realm's are
/// these under `realm/`).
pub(super) const TREE_NAMES: [&str; 17] = [
    "users",
    "users_by_name",
    "scopes",
    "api_keys",
    "api_keys_by_hash",
    "api_keys_by_owner",
    "api_key_usage",
    "clients",
    "clients_by_owner",
    "revoked_tokens",
    "revocation_markers",
    "auth_codes",
    "refresh_tokens",
    "sessions",
    "consents",
    "signing_keys",
    "meta",
];

impl Store {
    /// Every tree of this realm, in one list (to purge or count them all).
    fn spaces(&self) -> [&Space; 17] {
        let i = &self.inner;
        [
            &i.users.users,
            &i.users.by_name,
            &i.scopes.tree,
            &i.api_keys.keys,
            &i.api_keys.by_hash,
            &i.api_keys.by_owner,
            &i.api_keys.usage,
            &i.clients.clients,
            &i.clients.by_owner,
            &i.revocations.tokens,
            &i.revocations.markers,
            &i.grants.codes,
            &i.grants.refresh,
            &i.grants.sessions,
            &i.grants.consents,
            &i.signing_keys.tree,
            &i.meta,
        ]
    }

    /// How many records this realm holds, in all its trees.
    pub fn record_count(&self) -> usize {
        self.spaces().iter().map(|s| s.len()).sum()
    }

    /// How many records the created realms hold together, in the shared
    /// realm trees (the default realm's are not counted).
    pub fn created_realm_records(&self) -> Result<usize, StoreError> {
        let mut n = 0;
        for name in TREE_NAMES {
            n += self
                .inner
                .base
                .db
                .open_tree(Prefix::of_realm(1).tree_name(name))?
                .len();
        }
        Ok(n)
    }

    /// Removes every record of this created realm (not flushed here); how
    /// many. The default realm cannot be purged.
    pub fn purge(&self) -> Result<usize, StoreError> {
        if self.inner.prefix.is_default() {
            return Ok(0);
        }
        let mut n = 0;
        for s in self.spaces() {
            n += s.purge()?;
        }
        Ok(n)
    }

    /// Removes whatever the realm trees hold under an id that is not one of
    /// `live` (what a realm deleted or half-made before a crash left); how many.
    pub fn purge_orphans(&self, live: &[u64]) -> Result<usize, StoreError> {
        let live: std::collections::HashSet<u64> = live.iter().copied().collect();
        let mut n = 0;
        for name in TREE_NAMES {
            let tree = self
                .inner
                .base
                .db
                .open_tree(Prefix::of_realm(1).tree_name(name))?;
            let mut batch = sled::Batch::default();
            for entry in tree.iter().keys() {
                let k = entry?;
                if Prefix::realm_of(&k).is_none_or(|id| !live.contains(&id)) {
                    batch.remove(k);
                    n += 1;
                }
            }
            tree.apply_batch(batch)?;
        }
        Ok(n)
    }
}
