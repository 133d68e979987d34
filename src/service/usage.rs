//! Advisory key usage (`last_used_at`, `use_count`), counted in memory and
//! written in batches, so that authenticating with a key never waits for a disk.
//!
//! `record` is called on every authentication; a background task calls `drain`
//! every [`INTERVAL`] and once more at shutdown. Reads add the pending counts to
//! the stored ones, so an API answer is exact even before a drain.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::domain::time::Timestamp;
use crate::store::{Store, StoreError};

pub const INTERVAL: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct Usage {
    pending: Mutex<HashMap<String, (i64, u64)>>,
}

impl Usage {
    pub fn record(&self, key_id: &str, now: Timestamp) {
        if let Ok(mut p) = self.pending.lock() {
            // The common case (a key already counted) allocates nothing.
            if let Some(e) = p.get_mut(key_id) {
                e.0 = e.0.max(now.unix());
                e.1 += 1;
            } else {
                p.insert(key_id.to_owned(), (now.unix(), 1));
            }
        }
    }

    /// Pending (not yet written) uses of one key.
    pub fn pending(&self, key_id: &str) -> Option<(i64, u64)> {
        self.pending.lock().ok()?.get(key_id).copied()
    }

    /// Writes every pending use to the store.
    pub fn drain(&self, store: &Store) -> Result<(), StoreError> {
        let batch: Vec<(String, i64, u64)> = match self.pending.lock() {
            Ok(mut p) => p.drain().map(|(k, (t, n))| (k, t, n)).collect(),
            Err(_) => return Ok(()),
        };
        if batch.is_empty() {
            return Ok(());
        }
        store.api_keys().add_usage(&batch)
    }
}
