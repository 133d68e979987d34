//! Group commit: one thread flushes sled, every writer waiting for it shares it.
//!
//! A writer applies its change in memory, then calls [`Flusher::flush`] and awaits
//! the answer. The flusher thread takes every request queued so far, runs one
//! `Db::flush()` (which persists all of them, since their writes happened before
//! they queued), and answers them all. Writers that arrive during a flush are
//! served by the next one. We do not use sled's `flush_async` from many tasks:
//! on 0.34.7 it can deadlock under concurrency (sled #1308).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::sync::Mutex;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

type Waiter = oneshot::Sender<Result<(), String>>;

pub(crate) struct Flusher {
    queue: Mutex<Option<mpsc::Sender<Waiter>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Flusher {
    pub(crate) fn start(db: sled::Db) -> std::io::Result<Flusher> {
        let (tx, rx) = mpsc::channel::<Waiter>();
        let thread = std::thread::Builder::new()
            .name("latchkey-flusher".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut waiters = vec![first];
                    waiters.extend(rx.try_iter());
                    let result = db.flush().map(drop).map_err(|e| e.to_string());
                    if let Err(e) = &result {
                        tracing::error!(error = %e, "flushing the store failed");
                    }
                    for waiter in waiters {
                        let _ = waiter.send(result.clone());
                    }
                }
                // Every sender is gone: the store is closing. One last flush.
                if let Err(e) = db.flush() {
                    tracing::error!(error = %e, "final flush of the store failed");
                }
            })?;
        Ok(Flusher {
            queue: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Resolves once everything written before the call is on disk.
    pub(crate) async fn flush(&self) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        {
            let queue = self.queue.lock().map_err(|_| "flusher lock poisoned")?;
            let sender = queue.as_ref().ok_or("the store is closed")?;
            sender.send(tx).map_err(|_| "the flusher has stopped")?;
        }
        rx.await
            .map_err(|_| "the flusher has stopped".to_string())?
    }

    /// Stops accepting flushes, lets the thread do its final flush, and waits for it.
    pub(crate) fn close(&self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.take();
        }
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.close();
    }
}

/// How cached copies of users, API keys and clients learn that they are stale:
/// a counter that every change to those trees moves. A reader takes the
/// current value *before* reading the store and trusts a cached entry only if
/// it was filled under the current value.
#[derive(Debug, Default)]
pub struct Generation(std::sync::atomic::AtomicU64);

impl Generation {
    pub fn current(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Acquire)
    }

    pub(crate) fn bump(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// How one realm's trees make their changes durable: through the shared
/// flusher, unless the realm defers durability (its start-up or creation,
/// made durable by one flush at the end). For users, API keys and clients,
/// [`commit`](Changes::commit) also moves the realm's generation as soon as the
/// change is applied (so a cached copy is stale at once, even if the flush then
/// fails): the one place where cache invalidation happens.
pub(crate) struct Changes {
    pub(crate) flusher: Arc<Flusher>,
    pub(crate) generation: Arc<Generation>,
    /// While set, writes do not wait for a flush of their own (see
    /// [`Store::defer_durability`](super::Store::defer_durability)).
    pub(crate) deferred: AtomicBool,
    /// Set when the realm is deleted: its writes fail from then on.
    pub(crate) retired: AtomicBool,
}

impl Changes {
    pub(crate) fn new(flusher: Arc<Flusher>) -> Changes {
        Changes {
            flusher,
            generation: Arc::default(),
            deferred: AtomicBool::new(false),
            retired: AtomicBool::new(false),
        }
    }

    /// Returns once the changes made so far are on disk (at once while deferred).
    pub(crate) async fn durable(&self) -> Result<(), super::StoreError> {
        if self.retired.load(Ordering::Acquire) {
            return Err(super::StoreError::RealmGone);
        }
        if self.deferred.load(Ordering::Acquire) {
            return Ok(());
        }
        self.flusher
            .flush()
            .await
            .map_err(super::StoreError::Durability)
    }

    pub(crate) async fn commit(&self) -> Result<(), super::StoreError> {
        self.generation.bump();
        self.durable().await
    }
}
