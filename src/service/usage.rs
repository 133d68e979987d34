//! Advisory key usage (`last_used_at`, `use_count`), counted in memory and
//! written in batches, so that authenticating with a key never waits for a disk.
//!
//! Each key that has been used has one [`Counter`] of two atomics. The
//! authentication cache keeps the key's counter beside its record, so counting
//! a use is two atomic operations: no lock, no map lookup, no allocation. A
//! background task calls `drain` every [`INTERVAL`] and once more at shutdown.
//! Reads add the pending counts to the stored ones, so an API answer is exact
//! even before a drain.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::domain::time::Timestamp;
use crate::store::{Store, StoreError};

pub const INTERVAL: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct Usage {
    counters: Mutex<HashMap<String, Arc<Counter>>>,
}

/// Uses of one key not yet written: how many, and the latest time.
pub struct Counter {
    last: AtomicI64,
    count: AtomicU64,
}

impl Default for Counter {
    fn default() -> Counter {
        Counter {
            last: AtomicI64::new(i64::MIN),
            count: AtomicU64::new(0),
        }
    }
}

impl Counter {
    pub fn record(&self, now: Timestamp) {
        self.last.fetch_max(now.unix(), Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Release);
    }
}

impl Usage {
    /// The counter of `key_id` (made on its first use).
    pub fn counter(&self, key_id: &str) -> Arc<Counter> {
        match self.counters.lock() {
            Ok(mut c) => match c.get(key_id) {
                Some(counter) => counter.clone(),
                None => c.entry(key_id.to_owned()).or_default().clone(),
            },
            // A poisoned map counts nothing more (usage is advisory).
            Err(_) => Arc::default(),
        }
    }

    /// Pending (not yet written) uses of one key.
    pub fn pending(&self, key_id: &str) -> Option<(i64, u64)> {
        let counters = self.counters.lock().ok()?;
        let c = counters.get(key_id)?;
        let n = c.count.load(Ordering::Acquire);
        (n > 0).then(|| (c.last.load(Ordering::Relaxed), n))
    }

    /// Writes every pending use to the store.
    pub fn drain(&self, store: &Store) -> Result<(), StoreError> {
        let batch: Vec<(String, i64, u64)> = match self.counters.lock() {
            Ok(mut counters) => {
                let mut batch = Vec::new();
                for (id, c) in counters.iter() {
                    let n = c.count.swap(0, Ordering::AcqRel);
                    if n > 0 {
                        batch.push((id.clone(), c.last.load(Ordering::Relaxed), n));
                    }
                }
                // A counter nobody else holds (no cached key points at it) and
                // with nothing pending can go: no one can reach it without
                // this lock, so no use can land on it meanwhile.
                counters
                    .retain(|_, c| Arc::strong_count(c) > 1 || c.count.load(Ordering::Acquire) > 0);
                batch
            }
            Err(_) => return Ok(()),
        };
        if batch.is_empty() {
            return Ok(());
        }
        store.api_keys().add_usage(&batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ApiKeyRecord, Location, DEFAULT_CACHE_BYTES};

    /// Uses counted through a cached counter are pending until a drain writes
    /// them; a use landing after the drain is pending again, none is lost.
    #[tokio::test]
    async fn counted_uses_are_pending_then_written_once() {
        let store = Store::open(&Location::Ephemeral, DEFAULT_CACHE_BYTES).unwrap();
        store
            .api_keys()
            .insert(&ApiKeyRecord::for_tests("k1", "u1", 1))
            .await
            .unwrap();
        let usage = Usage::default();
        let cached = usage.counter("k1");
        cached.record(Timestamp(10));
        usage.counter("k1").record(Timestamp(5));
        assert_eq!(usage.pending("k1"), Some((10, 2)));
        usage.drain(&store).unwrap();
        assert_eq!(usage.pending("k1"), None);
        cached.record(Timestamp(12));
        assert_eq!(usage.pending("k1"), Some((12, 1)));
        usage.drain(&store).unwrap();
        let stored = store.api_keys().usage("k1").unwrap();
        assert_eq!((stored.last_used_at, stored.use_count), (Some(12), 3));
        // Nobody holds it and nothing is pending: the counter is dropped.
        drop(cached);
        usage.drain(&store).unwrap();
        assert!(usage.counters.lock().unwrap().is_empty());
    }
}
