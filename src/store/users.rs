//! The `users` tree (id → record) and its `users_by_name` index
//! (lowercased username → id). Both change together in one transaction.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sled::transaction::abort;

use super::codec::{self, Record};
use super::flusher::Changes;
use super::space::{transaction2, Prefix, Space};
use super::tree::{self, TxResult};
use super::StoreError;

/// A user as stored. `username_key` is the index key (the lowercased username).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: String,
    pub username: String,
    pub username_key: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub password_hash: String,
    pub roles: Vec<String>,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// Custom claims as checked JSON text; empty for none.
    pub claims_json: String,
}

/// Version 1, before custom claims.
#[derive(Deserialize)]
struct UserRecordV1 {
    id: String,
    username: String,
    username_key: String,
    email: Option<String>,
    name: Option<String>,
    password_hash: String,
    roles: Vec<String>,
    disabled: bool,
    created_at: i64,
    updated_at: i64,
}

impl Record for UserRecord {
    const VERSION: u8 = 2;
    const KIND: &'static str = "user";

    fn decode_older(version: u8, body: &[u8]) -> Result<Self, codec::CodecError> {
        match version {
            1 => {
                let v = codec::decode_shape::<UserRecordV1>(Self::KIND, body)?;
                Ok(UserRecord {
                    id: v.id,
                    username: v.username,
                    username_key: v.username_key,
                    email: v.email,
                    name: v.name,
                    password_hash: v.password_hash,
                    roles: v.roles,
                    disabled: v.disabled,
                    created_at: v.created_at,
                    updated_at: v.updated_at,
                    claims_json: String::new(),
                })
            }
            found => Err(codec::unreadable::<Self>(found)),
        }
    }
}

/// Access to users. Every mutation is durable when it returns `Ok`.
pub struct Users {
    pub(super) users: Space,
    pub(super) by_name: Space,
    changes: Arc<Changes>,
}

impl Users {
    pub(crate) fn open(
        db: &sled::Db,
        prefix: Prefix,
        changes: Arc<Changes>,
    ) -> Result<Users, StoreError> {
        Ok(Users {
            users: Space::open(db, "users", prefix)?,
            by_name: Space::open(db, "users_by_name", prefix)?,
            changes,
        })
    }

    pub fn get(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        tree::get(&self.users, id.as_bytes())
    }

    pub fn get_by_username(&self, username_key: &str) -> Result<Option<UserRecord>, StoreError> {
        match self.by_name.get(username_key.as_bytes())? {
            Some(id) => self.get(&String::from_utf8_lossy(&id)),
            None => Ok(None),
        }
    }

    /// Whether there is no user at all (first start).
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Up to `limit` users in username order, starting after `after_key`.
    pub fn list(
        &self,
        after_key: Option<&str>,
        limit: usize,
    ) -> Result<Vec<UserRecord>, StoreError> {
        let range = match after_key {
            Some(k) => self
                .by_name
                .range_from(std::ops::Bound::Excluded(k.as_bytes())),
            None => self.by_name.iter(),
        };
        let mut out = Vec::with_capacity(limit.min(256));
        for entry in range.take(limit) {
            let (_, id) = entry?;
            if let Some(user) = self.get(&String::from_utf8_lossy(&id))? {
                out.push(user);
            }
        }
        Ok(out)
    }

    /// Every user; for rules that look at all of them (how many admins remain).
    pub fn all(&self) -> impl Iterator<Item = Result<UserRecord, StoreError>> + '_ {
        self.users
            .iter()
            .values()
            .map(|v| Ok(codec::decode::<UserRecord>(&v?)?))
    }

    /// Adds a new user; `Duplicate("username")` if the name is taken in any case.
    pub async fn insert(&self, user: &UserRecord) -> Result<(), StoreError> {
        let value = codec::encode(user)?;
        transaction2(
            (&self.users, &self.by_name),
            |users, names| -> TxResult<()> {
                if names.get(user.username_key.as_bytes())?.is_some() {
                    return abort(StoreError::Duplicate("username"));
                }
                if users.get(user.id.as_bytes())?.is_some() {
                    return abort(StoreError::Duplicate("user id"));
                }
                users.insert(user.id.as_bytes(), value.as_slice())?;
                names.insert(user.username_key.as_bytes(), user.id.as_bytes())?;
                Ok(())
            },
        )?;
        self.changes.commit().await
    }

    /// Replaces a stored user, re-indexing if the username changed. Returns false
    /// when the user no longer exists.
    pub async fn replace(&self, user: &UserRecord) -> Result<bool, StoreError> {
        let value = codec::encode(user)?;
        let found = transaction2(
            (&self.users, &self.by_name),
            |users, names| -> TxResult<bool> {
                let Some(old) = tree::read_tx::<UserRecord>(users, user.id.as_bytes())? else {
                    return Ok(false);
                };
                if old.username_key != user.username_key {
                    if names.get(user.username_key.as_bytes())?.is_some() {
                        return abort(StoreError::Duplicate("username"));
                    }
                    names.remove(old.username_key.as_bytes())?;
                    names.insert(user.username_key.as_bytes(), user.id.as_bytes())?;
                }
                users.insert(user.id.as_bytes(), value.as_slice())?;
                Ok(true)
            },
        )?;
        if found {
            self.changes.commit().await?;
        }
        Ok(found)
    }

    /// Removes a user and its index entry; returns what was removed.
    pub async fn delete(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let removed = transaction2(
            (&self.users, &self.by_name),
            |users, names| -> TxResult<Option<UserRecord>> {
                let Some(old) = tree::read_tx::<UserRecord>(users, id.as_bytes())? else {
                    return Ok(None);
                };
                users.remove(id.as_bytes())?;
                names.remove(old.username_key.as_bytes())?;
                Ok(Some(old))
            },
        )?;
        if removed.is_some() {
            self.changes.commit().await?;
        }
        Ok(removed)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::{Location, Store, DEFAULT_CACHE_BYTES};
    use super::*;

    pub(crate) fn record(id: &str, name: &str) -> UserRecord {
        UserRecord {
            id: id.into(),
            username: name.into(),
            username_key: name.to_ascii_lowercase(),
            email: None,
            name: None,
            password_hash: "$argon2id$…".into(),
            roles: vec!["member".into()],
            disabled: false,
            created_at: 1,
            updated_at: 1,
            claims_json: String::new(),
        }
    }

    /// A user stored before custom claims still reads, with none.
    #[test]
    fn version_1_records_are_upgraded() {
        let current = record("u1", "Alice");
        let v2 = codec::encode(&current).unwrap();
        // An empty string is one length byte at the end of the layout.
        let mut v1 = vec![1u8];
        v1.extend_from_slice(&v2[1..v2.len() - 1]);
        assert_eq!(codec::decode::<UserRecord>(&v1).unwrap(), current);
    }

    #[tokio::test]
    async fn usernames_are_unique_through_the_index() {
        let store = Store::open(&Location::Ephemeral, DEFAULT_CACHE_BYTES).unwrap();
        store.users().insert(&record("u1", "Alice")).await.unwrap();
        let err = store
            .users()
            .insert(&record("u2", "alice"))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Duplicate("username")));
        assert_eq!(
            store.users().len(),
            1,
            "the failed insert left nothing behind"
        );
        assert_eq!(
            store.users().get_by_username("alice").unwrap().unwrap().id,
            "u1"
        );
    }

    #[tokio::test]
    async fn delete_removes_the_index_entry_too() {
        let store = Store::open(&Location::Ephemeral, DEFAULT_CACHE_BYTES).unwrap();
        store.users().insert(&record("u1", "bob")).await.unwrap();
        assert!(store.users().delete("u1").await.unwrap().is_some());
        assert!(store.users().get_by_username("bob").unwrap().is_none());
        store.users().insert(&record("u2", "BOB")).await.unwrap();
        assert!(store.users().delete("u1").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn renaming_moves_the_index_entry() {
        let store = Store::open(&Location::Ephemeral, DEFAULT_CACHE_BYTES).unwrap();
        store.users().insert(&record("u1", "carol")).await.unwrap();
        store.users().insert(&record("u2", "dave")).await.unwrap();
        let taken = store
            .users()
            .replace(&record("u1", "Dave"))
            .await
            .unwrap_err();
        assert!(matches!(taken, StoreError::Duplicate("username")));
        assert!(store.users().replace(&record("u1", "erin")).await.unwrap());
        assert!(store.users().get_by_username("carol").unwrap().is_none());
        assert_eq!(
            store.users().get_by_username("erin").unwrap().unwrap().id,
            "u1"
        );
        assert!(!store.users().replace(&record("u9", "zed")).await.unwrap());
    }

    #[tokio::test]
    async fn list_pages_in_username_order() {
        let store = Store::open(&Location::Ephemeral, DEFAULT_CACHE_BYTES).unwrap();
        for (id, name) in [("u1", "c"), ("u2", "a"), ("u3", "b")] {
            store.users().insert(&record(id, name)).await.unwrap();
        }
        let first: Vec<_> = store
            .users()
            .list(None, 2)
            .unwrap()
            .into_iter()
            .map(|u| u.username)
            .collect();
        assert_eq!(first, ["a", "b"]);
        let rest: Vec<_> = store
            .users()
            .list(Some("b"), 2)
            .unwrap()
            .into_iter()
            .map(|u| u.username)
            .collect();
        assert_eq!(rest, ["c"]);
    }

    #[tokio::test]
    async fn users_survive_reopening_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let loc = Location::Dir(dir.path().into());
        {
            let store = Store::open(&loc, DEFAULT_CACHE_BYTES).unwrap();
            store.users().insert(&record("u1", "frank")).await.unwrap();
            store.close();
        }
        let store = Store::open(&loc, DEFAULT_CACHE_BYTES).unwrap();
        assert_eq!(
            store.users().get("u1").unwrap().unwrap(),
            record("u1", "frank")
        );
    }
}
