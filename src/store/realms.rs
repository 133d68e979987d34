//! The `realms` tree: realm name → [`RealmRecord`]. Only the default realm's
//! store has it; a realm's own records live in the shared realm trees under
//! its id (see [`super::space`]).

use serde::{Deserialize, Serialize};

use super::codec::{self, Record};
use super::StoreError;

/// Where a realm is in its life. A realm is written `Creating` before any of
/// its records and `Deleting` before any is removed, so a crash in between
/// leaves a record that says what to finish: start-up removes what such a
/// realm left behind, and only `Live` realms are ever served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RealmStatus {
    Creating,
    Live,
    Deleting,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealmRecord {
    /// The prefix of its keys in the realm trees; never reused.
    pub id: u64,
    pub name: String,
    pub created_at: i64,
    pub status: RealmStatus,
    /// The inline seed it was created with (JSON text; empty for none), what
    /// a reset puts back.
    pub seed_json: String,
}

/// Version 1, before resets kept the creation seed.
#[derive(Deserialize)]
struct RealmRecordV1 {
    id: u64,
    name: String,
    created_at: i64,
    status: RealmStatus,
}

impl Record for RealmRecord {
    const VERSION: u8 = 2;
    const KIND: &'static str = "realm";

    fn decode_older(version: u8, body: &[u8]) -> Result<Self, codec::CodecError> {
        match version {
            1 => {
                let v = codec::decode_shape::<RealmRecordV1>(Self::KIND, body)?;
                Ok(RealmRecord {
                    id: v.id,
                    name: v.name,
                    created_at: v.created_at,
                    status: v.status,
                    seed_json: String::new(),
                })
            }
            found => Err(codec::unreadable::<Self>(found)),
        }
    }
}

/// Access to the realm registry.
pub struct Realms {
    pub(super) tree: sled::Tree,
    pub(super) db: sled::Db,
}

impl Realms {
    pub fn get(&self, name: &str) -> Result<Option<RealmRecord>, StoreError> {
        match self.tree.get(name.as_bytes())? {
            Some(v) => Ok(Some(codec::decode(&v)?)),
            None => Ok(None),
        }
    }

    /// Every realm, in name order.
    pub fn all(&self) -> Result<Vec<RealmRecord>, StoreError> {
        self.tree
            .iter()
            .values()
            .map(|v| Ok(codec::decode(&v?)?))
            .collect()
    }

    /// A new id, never handed out before (sled's persistent counter; 0 is
    /// never one, so no realm id is all zeroes).
    pub fn new_id(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()? + 1)
    }

    /// Adds `rec` unless its name is taken (`Duplicate("realm")`). Not
    /// flushed here: the caller flushes once the realm is complete.
    pub fn insert(&self, rec: &RealmRecord) -> Result<(), StoreError> {
        let value = codec::encode(rec)?;
        let prior =
            self.tree
                .compare_and_swap(rec.name.as_bytes(), None as Option<&[u8]>, Some(value))?;
        prior.map_err(|_| StoreError::Duplicate("realm"))
    }

    /// Sets the status of the realm `name` if it exists with id `id`; whether it did.
    pub fn set_status(&self, name: &str, id: u64, status: RealmStatus) -> Result<bool, StoreError> {
        let Some(mut rec) = self.get(name)? else {
            return Ok(false);
        };
        if rec.id != id {
            return Ok(false);
        }
        rec.status = status;
        self.tree.insert(name.as_bytes(), codec::encode(&rec)?)?;
        Ok(true)
    }

    /// Writes `rec` over whatever the registry holds under its name (not flushed).
    pub fn put(&self, rec: &RealmRecord) -> Result<(), StoreError> {
        self.tree.insert(rec.name.as_bytes(), codec::encode(rec)?)?;
        Ok(())
    }

    pub fn remove(&self, name: &str) -> Result<(), StoreError> {
        self.tree.remove(name.as_bytes())?;
        Ok(())
    }
}
