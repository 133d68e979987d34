//! JWT access tokens already verified once, by the blake3 hash of the whole
//! token, so a busy resource server's repeated token costs one hash and one
//! map lookup instead of a signature check. Only the signature is cached:
//! expiry, revocation and the live state of client and user are checked on
//! every use. Bounded: a full cache starts over. Must not import `state`.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::token::AccessClaims;

const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct JwtCache {
    verified: Mutex<HashMap<[u8; 32], AccessClaims>>,
}

impl JwtCache {
    pub fn get(&self, hash: &[u8; 32]) -> Option<AccessClaims> {
        self.verified.lock().ok()?.get(hash).cloned()
    }

    pub fn insert(&self, hash: [u8; 32], claims: AccessClaims) {
        if let Ok(mut map) = self.verified.lock() {
            if map.len() >= CAPACITY {
                map.clear();
            }
            map.insert(hash, claims);
        }
    }
}
