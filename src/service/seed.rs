//! Applying a `--seed` file at start: creates what is missing and brings what
//! exists in line with the file, so starting twice with the same seed changes
//! nothing and a test suite's fixed credentials always work.

use crate::domain::client::{self, ClientType};
use crate::domain::user::{Role, Roles, Username};
use crate::error::{Error, Result};
use crate::secret::{fingerprint, random_bytes, Redacted};
use crate::seed::Seed;
use crate::service::scopes;
use crate::service::users::{self, NewUser, Patch, UserChanges};
use crate::state::AppState;
use crate::store::{ApiKeyRecord, ClientRecord};

pub async fn apply(state: &AppState, seed: &Seed) -> Result<()> {
    for s in &seed.scopes {
        match scopes::get(state, &s.name) {
            Ok(existing) if existing.builtin => {}
            Ok(_) => {
                scopes::update(state, &s.name, Some(s.description.clone()), Some(s.default))
                    .await?;
            }
            Err(Error::NotFound { .. }) => {
                scopes::create(state, s.name.clone(), s.description.clone(), s.default).await?;
            }
            Err(e) => return Err(e),
        }
    }
    for u in &seed.users {
        let roles: Option<Roles> = match &u.roles {
            Some(r) => Some(
                r.iter()
                    .map(|r| r.parse::<Role>().map_err(|m| Error::invalid("roles", m)))
                    .collect::<Result<_>>()?,
            ),
            None => None,
        };
        let key = Username::parse(&u.username)
            .map_err(|m| Error::invalid("username", m))?
            .key();
        match state.store.users().get_by_username(&key)? {
            Some(existing) => {
                let patch = |v: &Option<String>| match v {
                    Some(v) => Patch::Set(v.clone()),
                    None => Patch::Clear,
                };
                // Re-hashing an unchanged password would end the user's
                // browser sessions at every start: hash only a new one.
                let same_password = state
                    .passwords
                    .verify(u.password.clone(), Some(existing.password_hash.clone()))
                    .await?;
                users::update(
                    state,
                    &existing.id,
                    UserChanges {
                        // Roles left out keep what the user has (a seeded
                        // `admin` without roles stays an admin).
                        roles,
                        password: (!same_password).then(|| Redacted::new(u.password.clone())),
                        disabled: Some(u.disabled),
                        email: patch(&u.email),
                        name: patch(&u.name),
                        // Claims left out are none: the file says the whole user.
                        claims: Some(u.claims.clone().unwrap_or_else(|| serde_json::json!({}))),
                    },
                )
                .await?;
            }
            None => {
                users::create(
                    state,
                    NewUser {
                        username: u.username.clone(),
                        password: Redacted::new(u.password.clone()),
                        email: u.email.clone(),
                        name: u.name.clone(),
                        roles: roles.unwrap_or_else(|| [Role::Member].into()),
                        disabled: u.disabled,
                        claims: u.claims.clone(),
                    },
                )
                .await?;
            }
        }
    }
    for c in &seed.clients {
        let owner = owner_id(state, c.owner.as_deref(), "clients", &c.client_id)?;
        let ty = ClientType::parse(&c.client_type).map_err(|m| Error::invalid("type", m))?;
        let grants = match &c.grant_types {
            Some(g) => client::check_grants(ty, g).map_err(|m| Error::invalid("grant_types", m))?,
            None => client::default_grants(ty),
        };
        let scope_list = match &c.scopes {
            Some(list) => {
                for s in list {
                    scopes::get(state, s).map_err(|_| {
                        Error::invalid(
                            "scopes",
                            format!("client {:?}: unknown scope {s:?}", c.client_id),
                        )
                    })?;
                }
                let mut list = list.clone();
                list.sort();
                list.dedup();
                if !crate::domain::token::scopes_fit(&list) {
                    return Err(Error::invalid(
                        "scopes",
                        format!(
                            "client {:?}: too many scopes to fit in a token",
                            c.client_id
                        ),
                    ));
                }
                list
            }
            None => scopes::defaults(state)?,
        };
        let now = state.clock.now().unix();
        let record = ClientRecord {
            client_id: c.client_id.clone(),
            owner_id: owner,
            name: c.name.clone(),
            client_type: ty.as_str().into(),
            redirect_uris: c.redirect_uris.clone(),
            grant_types: grants.iter().map(|g| g.as_str().to_owned()).collect(),
            scopes: scope_list,
            access_token_ttl_seconds: c.access_token_ttl_seconds,
            enabled: c.enabled,
            secret_hash: c.client_secret.as_ref().map(|s| fingerprint(s).to_vec()),
            token_epoch: u64::from_be_bytes(random_bytes()),
            created_at: now,
            updated_at: now,
            skip_consent: c.skip_consent,
            allow_plain_pkce: c.allow_plain_pkce,
            id_token_alg: c.id_token_signed_response_alg.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            jwt_access_token_alg: c.jwt_access_token_alg.clone(),
            audience: c.audience.clone(),
            claims_json: match &c.claims {
                Some(v) => {
                    crate::domain::claims::to_stored(v).map_err(|m| Error::invalid("claims", m))?
                }
                None => String::new(),
            },
        };
        let clients = state.store.clients();
        match clients.get(&c.client_id)? {
            Some(existing) if existing.owner_id == record.owner_id => {
                let unchanged = ClientRecord {
                    token_epoch: existing.token_epoch,
                    created_at: existing.created_at,
                    updated_at: existing.updated_at,
                    ..record.clone()
                } == existing;
                if !unchanged {
                    clients
                        .update(&c.client_id, |stored| {
                            *stored = ClientRecord {
                                token_epoch: stored.token_epoch,
                                created_at: stored.created_at,
                                ..record.clone()
                            };
                        })
                        .await?;
                }
            }
            Some(_) => {
                // Another owner: the owner index moves with a delete and insert;
                // consents given to the previous owner's app do not carry over.
                state
                    .store
                    .grants()
                    .delete_consents_of_client(&c.client_id)?;
                clients.delete(&c.client_id).await?;
                clients.insert(&record).await?;
            }
            None => clients.insert(&record).await?,
        }
    }
    for k in &seed.api_keys {
        let owner = owner_id(state, Some(&k.owner), "api_keys", &k.name)?;
        for s in &k.scopes {
            scopes::get(state, s).map_err(|_| {
                Error::invalid(
                    "scopes",
                    format!("API key {:?}: unknown scope {s:?}", k.name),
                )
            })?;
        }
        let hash = fingerprint(&k.secret).to_vec();
        let now = state.clock.now().unix();
        // A seeded key is its owner's key of that name: found by its secret, or
        // by name when the seed gave it a new secret.
        let keys = state.store.api_keys();
        let mut found = keys.find_by_hash(&hash)?.filter(|f| f.owner_id == owner);
        if found.is_none() {
            found = keys
                .list_by_owner(&owner, None, usize::MAX)?
                .into_iter()
                .find(|f| f.name == k.name);
        }
        if let Some(other) = keys.find_by_hash(&hash)? {
            if found.as_ref().is_none_or(|f| f.id != other.id) {
                // The secret belongs to a key of someone else: the seed wins.
                keys.delete(&other.id).await?;
            }
        }
        match found {
            Some(existing) => {
                let (name, scopes, enabled) = (k.name.clone(), k.scopes.clone(), k.enabled);
                let prefix = crate::domain::api_key::display_prefix(&k.secret);
                let hash = hash.clone();
                keys.update(&existing.id, move |key| {
                    key.name = name.clone();
                    key.scopes = scopes.clone();
                    key.enabled = enabled;
                    // A roll since the last start is undone: the seed's
                    // secret is the one that works.
                    key.secret_hash = hash.clone();
                    key.previous_hash = None;
                    key.previous_until = None;
                    key.prefix = prefix.clone();
                    key.expires_at = None;
                    key.disabled_by_admin = None;
                })
                .await?;
            }
            None => {
                let record = ApiKeyRecord {
                    id: crate::domain::api_key::ApiKeyId::from_random(random_bytes()).to_string(),
                    owner_id: owner,
                    name: k.name.clone(),
                    prefix: crate::domain::api_key::display_prefix(&k.secret),
                    secret_hash: hash,
                    previous_hash: None,
                    previous_until: None,
                    scopes: k.scopes.clone(),
                    meta_json: "{}".into(),
                    enabled: k.enabled,
                    created_at: now,
                    updated_at: now,
                    expires_at: None,
                    disabled_by_admin: None,
                };
                keys.insert(&record).await?;
            }
        }
    }
    for k in &seed.signing_keys {
        crate::service::signing_keys::install(state, &k.kid, k.key.clone()).await?;
    }
    Ok(())
}

/// The id of the seeded owner (default: the bootstrap admin).
fn owner_id(state: &AppState, username: Option<&str>, section: &str, what: &str) -> Result<String> {
    let name = username.unwrap_or(crate::service::bootstrap::ADMIN_USERNAME);
    let key = Username::parse(name)
        .map_err(|m| Error::invalid("owner", m))?
        .key();
    state
        .store
        .users()
        .get_by_username(&key)?
        .map(|u| u.id)
        .ok_or_else(|| {
            Error::invalid(
                "owner",
                format!("[[{section}]] {what:?}: no user {name:?} (seed it under [[users]])"),
            )
        })
}
