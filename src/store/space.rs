//! A realm's view of one tree: [`Space`].
//!
//! The default realm owns its trees outright (`users`, `api_keys`, …), keys as
//! they are, exactly as before realms existed. Every created realm shares one
//! second set of trees (`realm/users`, `realm/api_keys`, …) and sees only the
//! keys that start with its 8-byte id. Sharing them keeps the number of sled
//! trees fixed however many realms there are (sled rewrites its whole tree
//! directory on every tree it opens or drops, so a tree set per realm would
//! make creating the thousandth realm a thousand times dearer than the first),
//! and deleting a realm is a prefix scan.
//!
//! Keys handed out (by iteration) have the prefix taken off again, so the
//! modules above see the same keys in every realm.

use std::borrow::Cow;
use std::ops::Bound;

use sled::transaction::{
    ConflictableTransactionError, TransactionalTree, UnabortableTransactionError,
};
use sled::{IVec, Transactional};

use super::StoreError;

/// How a realm's keys begin: nothing for the default realm, its id (8 bytes,
/// big-endian) for a created one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    bytes: [u8; 8],
    len: usize,
}

impl Prefix {
    pub const DEFAULT: Prefix = Prefix {
        bytes: [0; 8],
        len: 0,
    };

    pub fn of_realm(id: u64) -> Prefix {
        Prefix {
            bytes: id.to_be_bytes(),
            len: 8,
        }
    }

    pub fn is_default(&self) -> bool {
        self.len == 0
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The realm id a created realm's key starts with.
    pub fn realm_of(key: &[u8]) -> Option<u64> {
        Some(u64::from_be_bytes(key.get(..8)?.try_into().ok()?))
    }

    /// The tree a realm with this prefix keeps `name`'s records in.
    pub fn tree_name(&self, name: &str) -> String {
        if self.is_default() {
            name.to_owned()
        } else {
            format!("realm/{name}")
        }
    }
}

/// One tree as one realm sees it. Cheap to clone.
#[derive(Clone)]
pub struct Space {
    tree: sled::Tree,
    prefix: Prefix,
}

impl Space {
    pub(crate) fn open(db: &sled::Db, name: &str, prefix: Prefix) -> Result<Space, StoreError> {
        Ok(Space {
            tree: db.open_tree(prefix.tree_name(name))?,
            prefix,
        })
    }

    /// `key` as stored: borrowed as it is in the default realm.
    fn full<'k>(&self, key: &'k [u8]) -> Cow<'k, [u8]> {
        if self.prefix.is_default() {
            Cow::Borrowed(key)
        } else {
            let mut k = Vec::with_capacity(8 + key.len());
            k.extend_from_slice(self.prefix.as_bytes());
            k.extend_from_slice(key);
            Cow::Owned(k)
        }
    }

    fn strip(&self, key: IVec) -> IVec {
        if self.prefix.is_default() {
            key
        } else {
            let n = self.prefix.len;
            key.subslice(n, key.len() - n)
        }
    }

    pub fn get(&self, key: impl AsRef<[u8]>) -> sled::Result<Option<IVec>> {
        self.tree.get(self.full(key.as_ref()))
    }

    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> sled::Result<bool> {
        self.tree.contains_key(self.full(key.as_ref()))
    }

    pub fn insert(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<IVec>,
    ) -> sled::Result<Option<IVec>> {
        self.tree.insert(self.full(key.as_ref()), value)
    }

    pub fn remove(&self, key: impl AsRef<[u8]>) -> sled::Result<Option<IVec>> {
        self.tree.remove(self.full(key.as_ref()))
    }

    pub fn compare_and_swap(
        &self,
        key: impl AsRef<[u8]>,
        old: Option<&[u8]>,
        new: Option<impl Into<IVec>>,
    ) -> sled::Result<Result<(), sled::CompareAndSwapError>> {
        self.tree
            .compare_and_swap(self.full(key.as_ref()), old, new)
    }

    pub fn update_and_fetch(
        &self,
        key: impl AsRef<[u8]>,
        f: impl FnMut(Option<&[u8]>) -> Option<Vec<u8>>,
    ) -> sled::Result<Option<IVec>> {
        self.tree.update_and_fetch(self.full(key.as_ref()), f)
    }

    /// Applies `batch`, whose keys are the realm's (unprefixed) keys.
    pub fn apply(&self, batch: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> sled::Result<()> {
        let mut b = sled::Batch::default();
        for (k, v) in batch {
            match v {
                Some(v) => b.insert(self.full(&k).into_owned(), v),
                None => b.remove(self.full(&k).into_owned()),
            }
        }
        self.tree.apply_batch(b)
    }

    /// Every entry of the realm, in key order.
    pub fn iter(&self) -> Entries {
        self.scan_prefix(b"")
    }

    /// Entries whose key (unprefixed) starts with `p`.
    pub fn scan_prefix(&self, p: impl AsRef<[u8]>) -> Entries {
        Entries {
            inner: self.tree.scan_prefix(self.full(p.as_ref())),
            space: self.clone(),
        }
    }

    /// Entries with keys (unprefixed) from `start` on, in key order.
    pub fn range_from(&self, start: Bound<&[u8]>) -> Entries {
        let start = match start {
            Bound::Included(k) => Bound::Included(self.full(k).into_owned()),
            Bound::Excluded(k) => Bound::Excluded(self.full(k).into_owned()),
            Bound::Unbounded => Bound::Included(self.prefix.as_bytes().to_vec()),
        };
        let inner = match self.end() {
            Some(end) => self.tree.range((start, Bound::Excluded(end))),
            None => self.tree.range((start, Bound::Unbounded)),
        };
        Entries {
            inner,
            space: self.clone(),
        }
    }

    /// The first key past the realm's (none for the default realm, which owns
    /// its tree to the end).
    fn end(&self) -> Option<Vec<u8>> {
        if self.prefix.is_default() {
            return None;
        }
        let id = u64::from_be_bytes(self.prefix.bytes);
        Some(id.checked_add(1)?.to_be_bytes().to_vec())
    }

    pub fn is_empty(&self) -> bool {
        if self.prefix.is_default() {
            return self.tree.is_empty();
        }
        self.iter().next().is_none()
    }

    pub fn len(&self) -> usize {
        if self.prefix.is_default() {
            return self.tree.len();
        }
        self.iter().count()
    }

    /// Removes every entry of the realm; how many there were.
    pub(crate) fn purge(&self) -> Result<usize, StoreError> {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for entry in self.tree.scan_prefix(self.prefix.as_bytes()) {
            let (k, _) = entry?;
            batch.remove(k);
            n += 1;
        }
        self.tree.apply_batch(batch)?;
        Ok(n)
    }

    /// The realm's view of this tree inside a transaction over it.
    pub(crate) fn tx<'t>(&self, t: &'t TransactionalTree) -> TxSpace<'t> {
        TxSpace {
            tree: t,
            prefix: self.prefix,
        }
    }

    /// A transaction over this tree alone.
    pub(crate) fn transaction<A>(
        &self,
        f: impl Fn(&TxSpace<'_>) -> Result<A, ConflictableTransactionError<StoreError>>,
    ) -> Result<A, StoreError> {
        self.tree
            .transaction(|t| f(&self.tx(t)))
            .map_err(super::transaction_error)
    }
}

/// A transaction over two trees.
pub(crate) fn transaction2<A>(
    (a, b): (&Space, &Space),
    f: impl Fn(&TxSpace<'_>, &TxSpace<'_>) -> Result<A, ConflictableTransactionError<StoreError>>,
) -> Result<A, StoreError> {
    (&a.tree, &b.tree)
        .transaction(|(ta, tb)| f(&a.tx(ta), &b.tx(tb)))
        .map_err(super::transaction_error)
}

/// A transaction over three trees.
pub(crate) fn transaction3<A>(
    (a, b, c): (&Space, &Space, &Space),
    f: impl Fn(
        &TxSpace<'_>,
        &TxSpace<'_>,
        &TxSpace<'_>,
    ) -> Result<A, ConflictableTransactionError<StoreError>>,
) -> Result<A, StoreError> {
    (&a.tree, &b.tree, &c.tree)
        .transaction(|(ta, tb, tc)| f(&a.tx(ta), &b.tx(tb), &c.tx(tc)))
        .map_err(super::transaction_error)
}

/// A transaction over four trees.
pub(crate) fn transaction4<A>(
    (a, b, c, d): (&Space, &Space, &Space, &Space),
    f: impl Fn(
        &TxSpace<'_>,
        &TxSpace<'_>,
        &TxSpace<'_>,
        &TxSpace<'_>,
    ) -> Result<A, ConflictableTransactionError<StoreError>>,
) -> Result<A, StoreError> {
    (&a.tree, &b.tree, &c.tree, &d.tree)
        .transaction(|(ta, tb, tc, td)| f(&a.tx(ta), &b.tx(tb), &c.tx(tc), &d.tx(td)))
        .map_err(super::transaction_error)
}

/// A realm's view of a tree inside a transaction.
pub(crate) struct TxSpace<'t> {
    tree: &'t TransactionalTree,
    prefix: Prefix,
}

type TxOp<T> = Result<T, UnabortableTransactionError>;

impl TxSpace<'_> {
    fn full<'k>(&self, key: &'k [u8]) -> Cow<'k, [u8]> {
        if self.prefix.is_default() {
            Cow::Borrowed(key)
        } else {
            let mut k = self.prefix.as_bytes().to_vec();
            k.extend_from_slice(key);
            Cow::Owned(k)
        }
    }

    pub fn get(&self, key: impl AsRef<[u8]>) -> TxOp<Option<IVec>> {
        self.tree.get(self.full(key.as_ref()))
    }

    pub fn insert(&self, key: impl AsRef<[u8]>, value: impl Into<IVec>) -> TxOp<Option<IVec>> {
        self.tree
            .insert(self.full(key.as_ref()).into_owned(), value)
    }

    pub fn remove(&self, key: impl AsRef<[u8]>) -> TxOp<Option<IVec>> {
        self.tree.remove(self.full(key.as_ref()).into_owned())
    }
}

/// Entries of a [`Space`], keys without the realm's prefix.
pub struct Entries {
    inner: sled::Iter,
    space: Space,
}

impl Iterator for Entries {
    type Item = sled::Result<(IVec, IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.inner.next()?;
        Some(item.map(|(k, v)| (self.space.strip(k), v)))
    }
}

impl DoubleEndedIterator for Entries {
    fn next_back(&mut self) -> Option<Self::Item> {
        let item = self.inner.next_back()?;
        Some(item.map(|(k, v)| (self.space.strip(k), v)))
    }
}

impl Entries {
    pub fn values(self) -> impl Iterator<Item = sled::Result<IVec>> {
        self.map(|r| r.map(|(_, v)| v))
    }

    pub fn keys(self) -> impl Iterator<Item = sled::Result<IVec>> {
        self.map(|r| r.map(|(k, _)| k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realms_see_only_their_own_keys() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let a = Space::open(&db, "t", Prefix::of_realm(1)).unwrap();
        let b = Space::open(&db, "t", Prefix::of_realm(2)).unwrap();
        let d = Space::open(&db, "t", Prefix::DEFAULT).unwrap();
        a.insert("k1", "a1").unwrap();
        a.insert("k2", "a2").unwrap();
        b.insert("k1", "b1").unwrap();
        d.insert("k1", "d1").unwrap();
        assert_eq!(a.get("k1").unwrap().unwrap(), "a1");
        assert_eq!(b.get("k1").unwrap().unwrap(), "b1");
        assert_eq!(d.get("k1").unwrap().unwrap(), "d1");
        assert!(b.get("k2").unwrap().is_none());
        let keys: Vec<_> = a.iter().keys().map(|k| k.unwrap()).collect();
        assert_eq!(keys, vec![IVec::from("k1"), IVec::from("k2")]);
        let after: Vec<_> = a
            .range_from(Bound::Excluded(b"k1"))
            .keys()
            .map(|k| k.unwrap())
            .collect();
        assert_eq!(after, vec![IVec::from("k2")]);
        assert_eq!((a.len(), b.len(), d.len()), (2, 1, 1));
        transaction2((&a, &b), |ta, tb| {
            ta.insert("k3", "a3")?;
            tb.remove("k1")?;
            Ok(())
        })
        .unwrap();
        assert!(b.is_empty());
        assert_eq!(a.purge().unwrap(), 3);
        assert!(a.is_empty());
        assert_eq!(d.get("k1").unwrap().unwrap(), "d1");
    }
}
