//! OAuth clients: `clients` (client id → record) and the `clients_by_owner`
//! index (owner id `/` client id → nothing). A client is found by its id and its
//! secret checked against the stored blake3 hash, so no secret index is needed.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sled::transaction::abort;

use super::codec::{self, Record};
use super::flusher::Changes;
use super::space::{transaction2, Prefix, Space};
use super::tree::{self, TxResult};
use super::StoreError;

/// Names kept exactly as registered (redirect URIs, grant-type names, scope
/// names): the store keeps strings, the domain parses them.
pub type Names = Vec<String>;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRecord {
    pub client_id: String,
    pub owner_id: String,
    pub name: String,
    /// `confidential` or `public`.
    pub client_type: String,
    pub redirect_uris: Names,
    pub grant_types: Names,
    pub scopes: Names,
    /// `None`: the server's default lifetime.
    pub access_token_ttl_seconds: Option<i64>,
    pub enabled: bool,
    /// blake3 of the current secret; `None` for public clients.
    pub secret_hash: Option<Vec<u8>>,
    /// Carried by every token issued; a new epoch revokes all earlier tokens.
    pub token_epoch: u64,
    pub created_at: i64,
    pub updated_at: i64,
    /// A first-party application: users are not asked to consent.
    pub skip_consent: bool,
    /// PKCE `plain` is accepted (else only `S256`).
    pub allow_plain_pkce: bool,
    /// `RS256`, `ES256` or `EdDSA`; `None`: `RS256`.
    pub id_token_alg: Option<String>,
    /// Where RP-initiated logout may send the browser back to (exact match).
    pub post_logout_redirect_uris: Names,
    /// `Some(alg)`: access tokens are RFC 9068 JWTs signed with `alg`;
    /// `None`: opaque `lk_at_` tokens.
    pub jwt_access_token_alg: Option<String>,
    /// The JWT access tokens' `aud`; empty: the client id.
    pub audience: Names,
    /// Custom claims for its client_credentials JWTs, as JSON text (`{}`: none).
    pub claims_json: String,
}

/// Version 1, before consent skipping and PKCE `plain` were settings.
#[derive(Deserialize)]
struct ClientRecordV1 {
    client_id: String,
    owner_id: String,
    name: String,
    client_type: String,
    redirect_uris: Vec<String>,
    grant_types: Vec<String>,
    scopes: Vec<String>,
    access_token_ttl_seconds: Option<i64>,
    enabled: bool,
    secret_hash: Option<Vec<u8>>,
    token_epoch: u64,
    created_at: i64,
    updated_at: i64,
}

/// Version 2, before OIDC's settings: version 1 and two flags (bincode lays
/// a nested struct out as its fields, so this reads the flat layout).
#[derive(Deserialize)]
struct ClientRecordV2 {
    v1: ClientRecordV1,
    skip_consent: bool,
    allow_plain_pkce: bool,
}

impl Record for ClientRecord {
    const VERSION: u8 = 3;
    const KIND: &'static str = "client";

    fn decode_older(version: u8, body: &[u8]) -> Result<Self, codec::CodecError> {
        match version {
            1 => Ok(codec::decode_shape::<ClientRecordV1>(Self::KIND, body)?.into()),
            2 => Ok(codec::decode_shape::<ClientRecordV2>(Self::KIND, body)?.into()),
            found => Err(codec::unreadable::<Self>(found)),
        }
    }
}

impl From<ClientRecordV1> for ClientRecord {
    fn from(v1: ClientRecordV1) -> ClientRecord {
        ClientRecordV2 {
            v1,
            skip_consent: false,
            allow_plain_pkce: false,
        }
        .into()
    }
}

impl From<ClientRecordV2> for ClientRecord {
    fn from(v2: ClientRecordV2) -> ClientRecord {
        let v = v2.v1;
        ClientRecord {
            client_id: v.client_id,
            owner_id: v.owner_id,
            name: v.name,
            client_type: v.client_type,
            redirect_uris: v.redirect_uris,
            grant_types: v.grant_types,
            scopes: v.scopes,
            access_token_ttl_seconds: v.access_token_ttl_seconds,
            enabled: v.enabled,
            secret_hash: v.secret_hash,
            token_epoch: v.token_epoch,
            created_at: v.created_at,
            updated_at: v.updated_at,
            skip_consent: v2.skip_consent,
            allow_plain_pkce: v2.allow_plain_pkce,
            id_token_alg: None,
            post_logout_redirect_uris: Vec::new(),
            jwt_access_token_alg: None,
            audience: Vec::new(),
            claims_json: String::new(),
        }
    }
}

pub struct Clients {
    pub(super) clients: Space,
    pub(super) by_owner: Space,
    changes: Arc<Changes>,
}

impl Clients {
    pub(crate) fn open(
        db: &sled::Db,
        prefix: Prefix,
        changes: Arc<Changes>,
    ) -> Result<Clients, StoreError> {
        Ok(Clients {
            clients: Space::open(db, "clients", prefix)?,
            by_owner: Space::open(db, "clients_by_owner", prefix)?,
            changes,
        })
    }

    pub fn get(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        tree::get(&self.clients, client_id.as_bytes())
    }

    /// Clients of one owner (or of everyone with `owner: None`), in id order,
    /// up to `limit` after the client id `after`.
    pub fn list(
        &self,
        owner: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ClientRecord>, StoreError> {
        let mut out = Vec::new();
        match owner {
            Some(owner) => {
                for id in tree::ids_of_owner(&self.by_owner, owner, after, limit)? {
                    if let Some(rec) = self.get(&id)? {
                        out.push(rec);
                    }
                }
            }
            None => {
                let range = match after {
                    Some(a) => self
                        .clients
                        .range_from(std::ops::Bound::Excluded(a.as_bytes())),
                    None => self.clients.iter(),
                };
                for entry in range.take(limit) {
                    let (_, v) = entry?;
                    out.push(codec::decode(&v)?);
                }
            }
        }
        Ok(out)
    }

    /// Ids of every client of `owner` (for deleting a user).
    pub fn ids_of(&self, owner: &str) -> Result<Vec<String>, StoreError> {
        tree::ids_of_owner(&self.by_owner, owner, None, usize::MAX)
    }

    /// Stores a new client; `Duplicate` when the id is taken.
    pub async fn insert(&self, client: &ClientRecord) -> Result<(), StoreError> {
        let value = codec::encode(client)?;
        transaction2(
            (&self.clients, &self.by_owner),
            |clients, owners| -> TxResult<()> {
                if clients.get(client.client_id.as_bytes())?.is_some() {
                    return abort(StoreError::Duplicate("client id"));
                }
                clients.insert(client.client_id.as_bytes(), value.as_slice())?;
                owners.insert(tree::owner_key(&client.owner_id, &client.client_id), &[])?;
                Ok(())
            },
        )?;
        self.changes.commit().await
    }

    /// Applies `change` to the stored client in one transaction (it may run more
    /// than once: it must be pure). `None` when the client no longer exists.
    pub async fn update(
        &self,
        client_id: &str,
        change: impl Fn(&mut ClientRecord),
    ) -> Result<Option<ClientRecord>, StoreError> {
        let updated = self
            .clients
            .transaction(|clients| -> TxResult<Option<ClientRecord>> {
                let Some(mut client) =
                    tree::read_tx::<ClientRecord>(clients, client_id.as_bytes())?
                else {
                    return Ok(None);
                };
                change(&mut client);
                clients.insert(client_id.as_bytes(), tree::encode_tx(&client)?)?;
                Ok(Some(client))
            })?;
        if updated.is_some() {
            self.changes.commit().await?;
        }
        Ok(updated)
    }

    pub async fn delete(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        let removed = transaction2(
            (&self.clients, &self.by_owner),
            |clients, owners| -> TxResult<Option<ClientRecord>> {
                let Some(old) = tree::read_tx::<ClientRecord>(clients, client_id.as_bytes())?
                else {
                    return Ok(None);
                };
                clients.remove(client_id.as_bytes())?;
                owners.remove(tree::owner_key(&old.owner_id, client_id))?;
                Ok(Some(old))
            },
        )?;
        // Flush even when nothing was removed here: a concurrent delete may have
        // won, and its removal must be on disk before this caller reports success.
        self.changes.commit().await?;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Location, Store, DEFAULT_CACHE_BYTES};
    use super::*;

    fn client(id: &str, owner: &str) -> ClientRecord {
        ClientRecord {
            client_id: id.into(),
            owner_id: owner.into(),
            name: "app".into(),
            client_type: "confidential".into(),
            redirect_uris: vec![],
            grant_types: vec!["client_credentials".into()],
            scopes: vec!["read".into()],
            access_token_ttl_seconds: None,
            enabled: true,
            secret_hash: Some(vec![1; 32]),
            token_epoch: 7,
            created_at: 0,
            updated_at: 0,
            skip_consent: false,
            allow_plain_pkce: false,
            ..ClientRecord::default()
        }
    }

    /// A version 2 record (no OIDC settings) reads with the defaults: its
    /// layout is version 3's without the five trailing fields (`None`, an empty
    /// list, `None`, an empty list, an empty string: one byte each).
    #[test]
    fn version_2_records_are_upgraded() {
        let current = client("c2", "u1");
        let v3 = codec::encode(&current).unwrap();
        let mut v2 = vec![2u8];
        v2.extend_from_slice(&v3[1..v3.len() - 5]);
        assert_eq!(codec::decode::<ClientRecord>(&v2).unwrap(), current);
    }

    /// A client stored by the previous version still reads.
    #[test]
    fn version_1_records_are_upgraded() {
        #[derive(Serialize)]
        struct V1<'a>(
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            Vec<String>,
            Vec<String>,
            Vec<String>,
            Option<i64>,
            bool,
            Option<Vec<u8>>,
            u64,
            i64,
            i64,
        );
        let mut bytes = vec![1u8];
        let v1 = V1(
            "c1",
            "u1",
            "app",
            "public",
            vec![],
            vec!["implicit".into()],
            vec![],
            Some(5),
            true,
            None,
            9,
            1,
            2,
        );
        bytes.extend(bincode::serde::encode_to_vec(&v1, bincode::config::standard()).unwrap());
        let c: ClientRecord = codec::decode(&bytes).unwrap();
        assert_eq!(c.client_id, "c1");
        assert_eq!(c.access_token_ttl_seconds, Some(5));
        assert_eq!(c.token_epoch, 9);
        assert!(!c.skip_consent && !c.allow_plain_pkce);
    }

    #[tokio::test]
    async fn insert_list_update_delete() {
        let store = Store::open(&Location::Ephemeral, DEFAULT_CACHE_BYTES).unwrap();
        let clients = store.clients();
        for (id, owner) in [("c1", "u1"), ("c2", "u2"), ("c3", "u1")] {
            clients.insert(&client(id, owner)).await.unwrap();
        }
        let err = clients.insert(&client("c1", "u2")).await.unwrap_err();
        assert!(matches!(err, StoreError::Duplicate(_)));

        let ids = |v: Vec<ClientRecord>| v.into_iter().map(|c| c.client_id).collect::<Vec<_>>();
        assert_eq!(
            ids(clients.list(Some("u1"), None, 10).unwrap()),
            ["c1", "c3"]
        );
        assert_eq!(ids(clients.list(None, None, 2).unwrap()), ["c1", "c2"]);
        assert_eq!(ids(clients.list(None, Some("c2"), 2).unwrap()), ["c3"]);
        assert_eq!(clients.ids_of("u1").unwrap(), ["c1", "c3"]);

        let updated = clients.update("c1", |c| c.enabled = false).await.unwrap();
        assert!(!updated.unwrap().enabled);
        assert!(clients
            .update("nope", |c| c.enabled = false)
            .await
            .unwrap()
            .is_none());

        assert!(clients.delete("c1").await.unwrap().is_some());
        assert!(clients.get("c1").unwrap().is_none());
        assert_eq!(clients.ids_of("u1").unwrap(), ["c3"]);
        assert!(clients.delete("c1").await.unwrap().is_none());
    }
}
