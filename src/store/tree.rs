//! Helpers every tree module shares: typed reads (plain and inside a
//! transaction), and the `owner / id` index that lists a user's keys and clients.

use sled::transaction::{abort, ConflictableTransactionError};

use super::codec::{self, Record};
use super::space::{Space, TxSpace};
use super::StoreError;

pub(crate) type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

/// The record stored under `key`, decoded.
pub(crate) fn get<R: Record>(tree: &Space, key: &[u8]) -> Result<Option<R>, StoreError> {
    match tree.get(key)? {
        Some(v) => Ok(Some(codec::decode(&v)?)),
        None => Ok(None),
    }
}

/// The record stored under `key`, decoded, inside a transaction (a value that
/// does not decode aborts it).
pub(crate) fn read_tx<R: Record>(tree: &TxSpace<'_>, key: &[u8]) -> TxResult<Option<R>> {
    match tree.get(key)? {
        Some(bytes) => decode_tx(&bytes).map(Some),
        None => Ok(None),
    }
}

pub(crate) fn decode_tx<R: Record>(bytes: &[u8]) -> TxResult<R> {
    codec::decode(bytes).or_else(|e| abort(StoreError::Codec(e)))
}

pub(crate) fn encode_tx<R: Record>(r: &R) -> TxResult<Vec<u8>> {
    codec::encode(r).or_else(|e| abort(StoreError::Codec(e)))
}

/// The key of an owner index entry: `owner/id`.
pub(crate) fn owner_key(owner: &str, id: &str) -> Vec<u8> {
    format!("{owner}/{id}").into_bytes()
}

/// Ids in an owner index: `owner`'s, in id order, after the id `after`, at most `limit`.
pub(crate) fn ids_of_owner(
    index: &Space,
    owner: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let prefix = format!("{owner}/");
    let start = match after {
        Some(a) => owner_key(owner, a),
        None => prefix.clone().into_bytes(),
    };
    let bound = match after {
        Some(_) => std::ops::Bound::Excluded(start.as_slice()),
        None => std::ops::Bound::Included(start.as_slice()),
    };
    let mut out = Vec::new();
    for entry in index.range_from(bound) {
        let (k, _) = entry?;
        let Some(id) = k.strip_prefix(prefix.as_bytes()) else {
            break;
        };
        if out.len() >= limit {
            break;
        }
        out.push(String::from_utf8_lossy(id).into_owned());
    }
    Ok(out)
}
