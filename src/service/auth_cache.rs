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
use std::sync::{Arc, Mutex};

use crate::domain::client::Client;
use crate::domain::user::User;
use crate::store::{ApiKeyRecord, Generation};

/// Most entries kept; a full cache starts over.
const CAPACITY: usize = 10_000;

pub struct AuthCache {
    generation: Arc<Generation>,
    keys: Mutex<HashMap<[u8; 32], Entry>>,
    clients: Mutex<HashMap<String, (u64, Arc<Client>)>>,
    users: Mutex<HashMap<String, (u64, Arc<User>)>>,
}

#[derive(Clone)]
pub struct Entry {
    generation: u64,
    pub key: ApiKeyRecord,
    pub owner: User,
}

impl AuthCache {
    /// A cache that follows the store's `generation`.
    pub fn new(generation: Arc<Generation>) -> AuthCache {
        AuthCache {
            generation,
            keys: Mutex::default(),
            clients: Mutex::default(),
            users: Mutex::default(),
        }
    }

    /// The generation to pass to `insert` for what is about to be read.
    pub fn generation(&self) -> u64 {
        self.generation.current()
    }

    pub fn get(&self, hash: &[u8; 32]) -> Option<Entry> {
        let current = self.generation();
        let keys = self.keys.lock().ok()?;
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

    pub fn insert(&self, hash: [u8; 32], generation: u64, key: ApiKeyRecord, owner: User) {
        if let Ok(mut keys) = self.keys.lock() {
            if keys.len() >= CAPACITY {
                keys.clear();
            }
            keys.insert(
                hash,
                Entry {
                    generation,
                    key,
                    owner,
                },
            );
        }
    }
}

fn lookup<V: Clone>(map: &Mutex<HashMap<String, (u64, V)>>, id: &str, current: u64) -> Option<V> {
    let map = map.lock().ok()?;
    map.get(id)
        .filter(|(generation, _)| *generation == current)
        .map(|(_, v)| v.clone())
}

fn store<V>(map: &Mutex<HashMap<String, (u64, V)>>, id: String, generation: u64, value: V) {
    if let Ok(mut map) = map.lock() {
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

    fn entry() -> (ApiKeyRecord, User) {
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
        };
        (key, owner)
    }

    fn cache() -> (AuthCache, Arc<Generation>) {
        let generation = Arc::new(Generation::default());
        (AuthCache::new(generation.clone()), generation)
    }

    #[test]
    fn entries_die_with_any_change() {
        let (cache, changes) = cache();
        let (k, u) = entry();
        cache.insert([1; 32], cache.generation(), k, u);
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
        cache.insert([1; 32], generation, k, u.clone()); // reader fills with what it read
        assert!(cache.get(&[1; 32]).is_none());
        cache.insert_user(generation, Arc::new(u.clone()));
        assert!(cache.user(u.id.as_str()).is_none());
        cache.insert_user(cache.generation(), Arc::new(u.clone()));
        assert!(cache.user(u.id.as_str()).is_some());
        changes.bump();
        assert!(cache.user(u.id.as_str()).is_none());
    }
}
