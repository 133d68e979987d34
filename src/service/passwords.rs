//! Password hashing off the async threads, on a small fixed pool.
//!
//! argon2id is deliberately slow and memory-hungry. Running it on tokio's worker
//! threads would stall every other request; running it on tokio's blocking pool
//! lets many threads each keep a 7 MiB argon2 buffer in their own malloc arena
//! (measured: RSS grew past 150 MiB under a login burst). So hashing runs on one
//! long-lived thread per CPU, fed by a queue, each reusing one argon2
//! [`Workspace`]: memory stays bounded by the pool size, extra work waits its turn.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::password::{PasswordHasher, Workspace};

type Job = Box<dyn FnOnce(&PasswordHasher, &mut Workspace) + Send>;

#[derive(Clone)]
pub struct Passwords {
    queue: mpsc::Sender<Job>,
    hasher: PasswordHasher,
    /// Whether the process has hashed before (see [`Passwords::hash`]).
    hashed_before: Arc<AtomicBool>,
}

impl Passwords {
    pub fn new() -> Result<Passwords> {
        let hasher = PasswordHasher::new().map_err(|e| Error::Internal(e.to_string()))?;
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers {
            let rx = rx.clone();
            let hasher = hasher.clone();
            std::thread::Builder::new()
                .name(format!("latchkey-argon2-{i}"))
                .spawn(move || {
                    let mut workspace = Workspace::default();
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&hasher, &mut workspace),
                            Err(_) => return, // every sender is gone
                        }
                    }
                })
                .map_err(|e| Error::Internal(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(Passwords {
            queue: tx,
            hasher,
            hashed_before: Arc::default(),
        })
    }

    /// A PHC string for a new password.
    ///
    /// The process's first hash (the bootstrap admin on first start) runs with
    /// fresh memory on a blocking thread: glibc serves that first 7 MiB block by
    /// `mmap` and returns it to the OS on free, so an idle server does not keep a
    /// hashing workspace it may never use again. Later hashes use the pool.
    pub async fn hash(&self, password: String) -> Result<String> {
        let result = if self.hashed_before.swap(true, Ordering::AcqRel) {
            self.run(move |h, ws| h.hash(&password, ws)).await?
        } else {
            let hasher = self.hasher.clone();
            tokio::task::spawn_blocking(move || hasher.hash(&password, &mut Workspace::default()))
                .await
                .map_err(|e| Error::Internal(format!("hashing task failed: {e}")))?
        };
        result.map_err(|e| Error::Internal(e.to_string()))
    }

    /// Whether `password` matches `phc`; with `None` (no such user) it spends the
    /// same time and answers false.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool> {
        self.run(move |h, ws| match phc {
            Some(phc) => h.verify(&password, &phc, ws),
            None => h.verify_decoy(&password, ws),
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&PasswordHasher, &mut Workspace) -> T + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |h, ws| {
            let _ = tx.send(f(h, ws));
        });
        self.queue
            .send(job)
            .map_err(|_| Error::Unavailable("the password workers have stopped".into()))?;
        rx.await
            .map_err(|_| Error::Internal("a password worker failed".into()))
    }
}
