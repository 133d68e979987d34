//! Password hashing off the async threads, with a bound on how many run at once.
//!
//! argon2id is deliberately slow and memory-hungry; running it on tokio's worker
//! threads would stall every other request, and running unboundedly many at once
//! would let a burst of bad logins take the machine's memory. So: blocking
//! threads, at most one per CPU at a time.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::password::PasswordHasher;

#[derive(Clone)]
pub struct Passwords {
    hasher: PasswordHasher,
    permits: Arc<Semaphore>,
}

impl Passwords {
    pub fn new() -> Result<Passwords> {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Passwords {
            hasher: PasswordHasher::new().map_err(|e| Error::Internal(e.to_string()))?,
            permits: Arc::new(Semaphore::new(cpus)),
        })
    }

    /// A PHC string for a new password.
    pub async fn hash(&self, password: String) -> Result<String> {
        let hasher = self.hasher.clone();
        self.run(move || hasher.hash(&password))
            .await?
            .map_err(|e| Error::Internal(e.to_string()))
    }

    /// Whether `password` matches `phc`; with `None` (no such user) it spends the
    /// same time and answers false.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool> {
        let hasher = self.hasher.clone();
        self.run(move || match phc {
            Some(phc) => hasher.verify(&password, &phc),
            None => hasher.verify_decoy(&password),
        })
        .await
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Unavailable("the server is shutting down".into()))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| Error::Internal(format!("password task failed: {e}")))
    }
}
