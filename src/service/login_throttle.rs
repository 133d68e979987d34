//! Slowing down password guessing, per username, on the login page and on
//! `Authorization: Basic` alike, without locking anyone out for good.
//!
//! Every verification counts as a failure *before* it runs (so parallel
//! guesses cannot all slip through) and a success wipes the count. From the
//! `FREE_ATTEMPTS`th failure in a row each further one doubles the wait (2 s,
//! 4 s, … at most `MAX_WAIT`); a username left alone for `FORGET_AFTER` starts
//! afresh. Usernames are kept as blake3 digests, so memory per entry
//! is fixed whatever was typed.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::time::Timestamp;

const FREE_ATTEMPTS: u32 = 5;
const MAX_WAIT: i64 = 300;
/// Failures older than this are forgotten.
const FORGET_AFTER: i64 = 900;
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct LoginThrottle {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
}

#[derive(Clone, Copy)]
struct Entry {
    failures: u32,
    locked_until: i64,
    last_failure: i64,
}

impl LoginThrottle {
    /// Records an attempt for `username` (assumed to fail until
    /// [`succeeded`](Self::succeeded)); `Err(seconds)` while it must wait.
    pub fn attempt(&self, username: &str, now: Timestamp) -> Result<(), i64> {
        let now = now.unix();
        let key = *blake3::hash(username.as_bytes()).as_bytes();
        let Ok(mut entries) = self.entries.lock() else {
            return Ok(());
        };
        if let Some(e) = entries.get(&key) {
            if e.locked_until > now {
                return Err(e.locked_until - now);
            }
        }
        if entries.len() >= CAPACITY && !entries.contains_key(&key) {
            // Forget what no longer matters; keep every username still waiting,
            // so a spray of other names cannot unlock one under attack.
            entries.retain(|_, e| e.locked_until > now || now - e.last_failure < FORGET_AFTER);
            if entries.len() >= CAPACITY {
                entries.retain(|_, e| e.locked_until > now);
            }
            if entries.len() >= CAPACITY {
                // Full of waiting usernames: this one goes untracked for now.
                return Ok(());
            }
        }
        let e = entries.entry(key).or_insert(Entry {
            failures: 0,
            locked_until: 0,
            last_failure: now,
        });
        if now - e.last_failure >= FORGET_AFTER {
            e.failures = 0;
        }
        e.failures = e.failures.saturating_add(1);
        e.last_failure = now;
        if e.failures >= FREE_ATTEMPTS {
            let wait = 2i64
                .checked_shl(e.failures - FREE_ATTEMPTS)
                .unwrap_or(MAX_WAIT)
                .min(MAX_WAIT);
            e.locked_until = now + wait;
        }
        Ok(())
    }

    /// The attempt succeeded: the username starts afresh.
    pub fn succeeded(&self, username: &str) {
        let key = *blake3::hash(username.as_bytes()).as_bytes();
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_is_bounded_and_forgets() {
        let t = LoginThrottle::default();
        let now = Timestamp(1000);
        for _ in 0..4 {
            assert_eq!(t.attempt("bob", now), Ok(()));
        }
        assert_eq!(t.attempt("bob", now), Ok(()), "the fifth still runs");
        assert_eq!(t.attempt("bob", now), Err(2), "then waits");
        assert_eq!(t.attempt("alice", now), Ok(()), "others are not affected");
        let later = now.plus_secs(2);
        assert_eq!(t.attempt("bob", later), Ok(()));
        assert_eq!(t.attempt("bob", later), Err(4));
        // Never longer than MAX_WAIT.
        let mut at = later;
        for _ in 0..20 {
            at = at.plus_secs(MAX_WAIT);
            let _ = t.attempt("bob", at);
        }
        assert_eq!(t.attempt("bob", at), Err(MAX_WAIT));
        // Left alone long enough, the count starts over.
        let quiet = at.plus_secs(MAX_WAIT + FORGET_AFTER);
        for _ in 0..5 {
            assert_eq!(t.attempt("bob", quiet), Ok(()));
        }
        t.succeeded("bob");
        assert_eq!(t.attempt("bob", quiet), Ok(()));
    }
}
