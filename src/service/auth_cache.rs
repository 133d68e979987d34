//! A memory of recently authenticated API keys, and of the clients and users
//! that access tokens name, so the hot path of a busy client costs one hash and
//! one map lookup instead of two store reads.
//!
//! Correctness rests on the store's generation counter ([`Generation`]): the
//! store moves it with every change to a key, a user or a client (disable,
//! roll, delete, password, roles, secret …), in the one commit step those trees
//! share, and an entry is trusted only if it was filled under the current
//! generation. Nothing else invalidates: a new writer cannot forget to.
//! A reader takes the generation *before* reading the store, so a change that
//! lands meanwhile makes its entry stale at once. Time-based rules (expiry, a
//! rolled secret's grace) are checked on every use against the cached record.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, RwLock};

use crate::domain::client::Client;
use crate::domain::user::User;
use crate::service::usage::Counter;
use crate::store::{ApiKeyRecord, Generation};

/// Most entries kept; a full cache starts over.
const CAPACITY: usize = 10_000;

/// Every map is read under a read lock (readers never wait for each other; a
/// writer comes only with a miss), and a hit costs an `Arc` clone, not a copy
/// of the records.
pub struct AuthCache {
    generation: Arc<Generation>,
    keys: RwLock<HashMap<[u8; 32], Arc<Entry>, ByFingerprint>>,
    clients: RwLock<HashMap<String, (u64, Arc<Client>)>>,
    users: RwLock<HashMap<String, (u64, Arc<User>)>>,
}

/// An authenticated API key: its record, its owner, and its usage counter.
pub struct Entry {
    generation: u64,
    pub key: ApiKeyRecord,
    pub owner: Arc<User>,
    /// Where this key's uses are counted (shared with [`crate::service::usage::Usage`]).
    pub usage: Arc<Counter>,
}

/// Keys of the API-key map are blake3 fingerprints: uniformly distributed
/// already, so their first eight bytes are the hash (no SipHash of 32 bytes per
/// request). An attacker cannot aim at a bucket: only fingerprints of valid
/// keys, whose secrets the server generated, are ever stored.
type ByFingerprint = BuildHasherDefault<FingerprintHasher>;

#[derive(Default)]
pub struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8).take(1) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(word);
        }
    }

    /// The slice length `Hash` writes first: always 32 here.
    fn write_usize(&mut self, _: usize) {}
}

impl AuthCache {
    /// A cache that follows the store's `generation`.
    pub fn new(generation: Arc<Generation>) -> AuthCache {
        AuthCache {
            generation,
            keys: RwLock::default(),
            clients: RwLock::default(),
            users: RwLock::default(),
        }
    }

    /// The generation to pass to `insert` for what is about to be read.
    pub fn generation(&self) -> u64 {
        self.generation.current()
    }

    pub fn get(&self, hash: &[u8; 32]) -> Option<Arc<Entry>> {
        let current = self.generation();
        let keys = self.keys.read().ok()?;
        keys.get(hash).filter(|e| e.generation == current).cloned()
    }

    pub fn client(&self, client_id: &str) -> Option<Arc<Client>> {
        lookup(&self.clients, client_id, self.generation())
    }

    pub fn insert_client(&self, generation: u64, client: Arc<Client>) {
        store(
            &self.clients,
            client.client_id.to_string(),
            generation,
            client,
        );
    }

    pub fn user(&self, user_id: &str) -> Option<Arc<User>> {
        lookup(&self.users, user_id, self.generation())
    }

    pub fn insert_user(&self, generation: u64, user: Arc<User>) {
        store(&self.users, user.id.to_string(), generation, user);
    }

    /// Remembers an authenticated key; returns the entry as cached.
    pub fn insert(
        &self,
        hash: [u8; 32],
        generation: u64,
        key: ApiKeyRecord,
        owner: Arc<User>,
        usage: Arc<Counter>,
    ) -> Arc<Entry> {
        let entry = Arc::new(Entry {
            generation,
            key,
            owner,
            usage,
        });
        if let Ok(mut keys) = self.keys.write() {
            if keys.len() >= CAPACITY {
                keys.clear();
            }
            keys.insert(hash, entry.clone());
        }
        entry
    }
}

fn lookup<V: Clone>(map: &RwLock<HashMap<String, (u64, V)>>, id: &str, current: u64) -> Option<V> {
    let map = map.read().ok()?;
    map.get(id)
        .filter(|(generation, _)| *generation == current)
        .map(|(_, v)| v.clone())
}

fn store<V>(map: &RwLock<HashMap<String, (u64, V)>>, id: String, generation: u64, value: V) {
    if let Ok(mut map) = map.write() {
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(id, (generation, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::Timestamp;
    use crate::domain::user::{Role, UserId, Username};

    fn entry() -> (ApiKeyRecord, Arc<User>) {
        let key = ApiKeyRecord::for_tests("key_1", "usr_1", 1);
        let owner = User {
            id: UserId::from_random([1; 12]),
            username: Username::parse("u").unwrap(),
            email: None,
            name: None,
            password_hash: String::new(),
            roles: [Role::Member].into(),
            disabled: false,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
            claims: Default::default(),
        };
        (key, Arc::new(owner))
    }

    fn cache() -> (AuthCache, Arc<Generation>) {
        let generation = Arc::new(Generation::default());
        (AuthCache::new(generation.clone()), generation)
    }

    #[test]
    fn entries_die_with_any_change() {
        let (cache, changes) = cache();
        let (k, u) = entry();
        cache.insert([1; 32], cache.generation(), k, u, Arc::default());
        assert!(cache.get(&[1; 32]).is_some());
        changes.bump();
        assert!(cache.get(&[1; 32]).is_none());
    }

    /// A read that started before a change must not be trusted after it.
    #[test]
    fn a_read_racing_a_change_is_not_trusted() {
        let (cache, changes) = cache();
        let (k, u) = entry();
        let generation = cache.generation(); // reader starts
        changes.bump(); // a change lands while the reader reads the store
        cache.insert([1; 32], generation, k, u.clone(), Arc::default()); // reader fills with what it read
        assert!(cache.get(&[1; 32]).is_none());
        cache.insert_user(generation, u.clone());
        assert!(cache.user(u.id.as_str()).is_none());
        cache.insert_user(cache.generation(), u.clone());
        assert!(cache.user(u.id.as_str()).is_some());
        changes.bump();
        assert!(cache.user(u.id.as_str()).is_none());
    }
}
