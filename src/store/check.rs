//! Whether the secondary indexes agree with the records: every index entry
//! points at a record that derives it, and every record's entries are there.
//! `latchkey check-store` runs it on a stopped server's directory (the crash
//! loop does after every `kill -9`).

use std::collections::BTreeMap;

use super::codec::{self, Record};
use super::space::Space;
use super::{tree, ApiKeyRecord, ApiKeys, ClientRecord, Clients, StoreError, UserRecord, Users};

/// What one index check found.
#[derive(Debug, Default)]
pub struct IndexReport {
    /// Records read, by kind.
    pub records: Vec<(&'static str, usize)>,
    /// Disagreements, each a sentence; empty when the store is consistent.
    pub problems: Vec<String>,
}

/// An index entry a record derives: its key in the index tree and the value
/// stored under it.
pub(crate) type Entry = (Vec<u8>, Vec<u8>);

/// Checks `index` against what `entries` derives from each record of
/// `records`: no dangling, missing or mismatched entry; every record decodes.
fn index<R: Record>(
    records: &Space,
    index: &Space,
    index_name: &str,
    entries: impl Fn(&R) -> Vec<Entry>,
    report: &mut IndexReport,
) -> Result<usize, StoreError> {
    let mut expected: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut count = 0;
    for item in records.iter() {
        let (key, value) = item?;
        count += 1;
        let record = match codec::decode::<R>(&value) {
            Ok(r) => r,
            Err(e) => {
                report.problems.push(format!(
                    "{} {}: {e}",
                    R::KIND,
                    String::from_utf8_lossy(&key)
                ));
                continue;
            }
        };
        expected.extend(entries(&record));
    }
    for item in index.iter() {
        let (key, value) = item?;
        match expected.remove(key.as_ref()) {
            Some(want) if want == value.as_ref() => {}
            Some(_) => report.problems.push(format!(
                "{index_name}: the entry {} points at another {} than the one deriving it",
                printable(&key),
                R::KIND
            )),
            None => report.problems.push(format!(
                "{index_name}: the entry {} points at no {}",
                printable(&key),
                R::KIND
            )),
        }
    }
    for key in expected.keys() {
        report.problems.push(format!(
            "{index_name}: the entry {} of a stored {} is missing",
            printable(key),
            R::KIND
        ));
    }
    Ok(count)
}

/// `users_by_name` against the users.
pub(crate) fn users(users: &Users, report: &mut IndexReport) -> Result<usize, StoreError> {
    let entries = |u: &UserRecord| {
        vec![(
            u.username_key.clone().into_bytes(),
            u.id.clone().into_bytes(),
        )]
    };
    index(
        &users.users,
        &users.by_name,
        "users_by_name",
        entries,
        report,
    )
}

/// `api_keys_by_hash` and `api_keys_by_owner` against the keys.
pub(crate) fn api_keys(keys: &ApiKeys, report: &mut IndexReport) -> Result<usize, StoreError> {
    let hashes = |k: &ApiKeyRecord| {
        k.hashes()
            .into_iter()
            .map(|h| (h, k.id.clone().into_bytes()))
            .collect()
    };
    index(
        &keys.keys,
        &keys.by_hash,
        "api_keys_by_hash",
        hashes,
        report,
    )?;
    let owners = |k: &ApiKeyRecord| vec![(k.owner_key(), Vec::new())];
    index(
        &keys.keys,
        &keys.by_owner,
        "api_keys_by_owner",
        owners,
        report,
    )
}

/// `clients_by_owner` against the clients.
pub(crate) fn clients(clients: &Clients, report: &mut IndexReport) -> Result<usize, StoreError> {
    let owners = |c: &ClientRecord| vec![(tree::owner_key(&c.owner_id, &c.client_id), Vec::new())];
    index(
        &clients.clients,
        &clients.by_owner,
        "clients_by_owner",
        owners,
        report,
    )
}

/// An index key for a message: text as it is, hashes in hex.
fn printable(key: &[u8]) -> String {
    match std::str::from_utf8(key) {
        Ok(s) if !s.chars().any(char::is_control) => format!("{s:?}"),
        _ => key.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::users::tests::record as user;
    use super::super::{Location, Store, DEFAULT_CACHE_BYTES};

    #[tokio::test]
    async fn dangling_missing_and_mismatched_entries_are_reported() {
        let store = Store::open(&Location::Ephemeral, DEFAULT_CACHE_BYTES).unwrap();
        store.users().insert(&user("u1", "ann")).await.unwrap();
        store.users().insert(&user("u2", "bob")).await.unwrap();
        let report = store.check_indexes().unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(report.records[0], ("users", 2));

        let index = store.inner.base.db.open_tree("users_by_name").unwrap();
        index.remove("ann").unwrap();
        index.insert("bob", "u1").unwrap();
        index.insert("ghost", "u9").unwrap();
        let problems = store.check_indexes().unwrap().problems;
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems
            .iter()
            .any(|p| p.contains("\"ann\"") && p.contains("missing")));
        assert!(problems
            .iter()
            .any(|p| p.contains("\"bob\"") && p.contains("another")));
        assert!(problems
            .iter()
            .any(|p| p.contains("\"ghost\"") && p.contains("no user")));
    }
}
