//! The `scopes` tree: the scope catalog, name → record.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::codec::{self, Record};
use super::flusher::Changes;
use super::space::{Prefix, Space};
use super::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeRecord {
    pub name: String,
    pub description: String,
    pub default: bool,
    pub builtin: bool,
}

impl Record for ScopeRecord {
    const VERSION: u8 = 1;
    const KIND: &'static str = "scope";
}

pub struct Scopes {
    pub(super) tree: Space,
    changes: Arc<Changes>,
}

impl Scopes {
    pub(crate) fn open(
        db: &sled::Db,
        prefix: Prefix,
        changes: Arc<Changes>,
    ) -> Result<Scopes, StoreError> {
        Ok(Scopes {
            tree: Space::open(db, "scopes", prefix)?,
            changes,
        })
    }

    pub fn get(&self, name: &str) -> Result<Option<ScopeRecord>, StoreError> {
        super::tree::get(&self.tree, name.as_bytes())
    }

    /// The whole catalog in name order (it is small: tens of entries).
    pub fn all(&self) -> Result<Vec<ScopeRecord>, StoreError> {
        self.tree
            .iter()
            .values()
            .map(|v| Ok(codec::decode(&v?)?))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// Adds `record` unless the name exists; `Duplicate("scope")` otherwise.
    pub async fn insert(&self, record: &ScopeRecord) -> Result<(), StoreError> {
        let value = codec::encode(record)?;
        let prior = self.tree.compare_and_swap(
            record.name.as_bytes(),
            None as Option<&[u8]>,
            Some(value),
        )?;
        if prior.is_err() {
            return Err(StoreError::Duplicate("scope"));
        }
        self.changes.durable().await
    }

    /// Adds every record whose name is missing, in one batch; returns how many.
    pub async fn insert_missing(&self, records: &[ScopeRecord]) -> Result<usize, StoreError> {
        let mut batch = Vec::new();
        for r in records {
            if !self.tree.contains_key(r.name.as_bytes())? {
                batch.push((r.name.as_bytes().to_vec(), Some(codec::encode(r)?)));
            }
        }
        let added = batch.len();
        if added > 0 {
            self.tree.apply(batch)?;
            self.changes.durable().await?;
        }
        Ok(added)
    }

    /// Replaces an existing record; false when it does not exist.
    pub async fn replace(&self, record: &ScopeRecord) -> Result<bool, StoreError> {
        let value = codec::encode(record)?;
        let updated = self
            .tree
            .update_and_fetch(record.name.as_bytes(), |old| old.map(|_| value.clone()))?;
        if updated.is_none() {
            return Ok(false);
        }
        self.changes.durable().await?;
        Ok(true)
    }

    pub async fn delete(&self, name: &str) -> Result<bool, StoreError> {
        let removed = self.tree.remove(name.as_bytes())?.is_some();
        if removed {
            self.changes.durable().await?;
        }
        Ok(removed)
    }
}
