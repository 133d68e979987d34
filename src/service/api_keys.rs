//! API keys: created by a user, carrying that user's access narrowed to the
//! key's scopes; shown once; disabled, enabled, rolled and deleted.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::domain::access::{AuthMethod, Permission, Principal};
use crate::domain::api_key::{self, ApiKeyId, KeyState};
use crate::domain::time::Timestamp;
use crate::domain::user::User;
use crate::error::{AuthFailure, Error, Result};
use crate::secret::{constant_time_eq, fingerprint, random_bytes, Kind, Redacted};
use crate::service::auth_cache::Entry;
use crate::service::{scopes, users};
use crate::state::AppState;
use crate::store::ApiKeyRecord;

/// Longest lifetime and grace accepted (ten years).
pub const MAX_SECONDS: i64 = 10 * 365 * 24 * 3600;
/// Largest `meta` document, as JSON text.
pub const MAX_META_BYTES: usize = 4096;
/// Most keys returned by one list call.
pub const MAX_PAGE: usize = 1000;

/// A key as the use cases see it, with its usage merged in.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub meta_json: String,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub use_count: u64,
    /// Disabled by an administrator: only an administrator may enable it.
    pub disabled_by_admin: bool,
}

/// A key with its secret: only create and roll return one.
#[derive(Debug)]
pub struct IssuedKey {
    pub key: ApiKey,
    pub secret: Redacted<String>,
}

pub enum Expiry {
    Never,
    At(Timestamp),
    In(i64),
}

pub struct NewKey {
    pub name: String,
    pub scopes: Vec<String>,
    pub expiry: Expiry,
    /// JSON text of an object.
    pub meta_json: String,
}

pub async fn create(state: &AppState, caller: &Principal, new: NewKey) -> Result<IssuedKey> {
    api_key::check_name(&new.name).map_err(|m| Error::invalid("name", m))?;
    if new.meta_json.len() > MAX_META_BYTES {
        return Err(Error::invalid(
            "meta",
            format!("must be at most {MAX_META_BYTES} bytes of JSON"),
        ));
    }
    let now = state.clock.now();
    let expires_at = match new.expiry {
        Expiry::Never => None,
        Expiry::At(t) if t <= now => {
            return Err(Error::invalid("expires_at", "is in the past"));
        }
        Expiry::At(t) => Some(t),
        Expiry::In(s) if s <= 0 || s > MAX_SECONDS => {
            return Err(Error::invalid(
                "expires_in_seconds",
                format!("must be between 1 and {MAX_SECONDS}"),
            ));
        }
        Expiry::In(s) => Some(state.clock.deadline(s)),
    };
    let scopes = grantable_scopes(state, caller, &new.scopes)?;
    let secret = Kind::ApiKey.generate();
    let record = ApiKeyRecord {
        id: ApiKeyId::from_random(random_bytes()).to_string(),
        owner_id: caller.user.id.to_string(),
        name: new.name,
        prefix: api_key::display_prefix(&secret),
        secret_hash: fingerprint(&secret).to_vec(),
        previous_hash: None,
        previous_until: None,
        scopes,
        meta_json: new.meta_json,
        enabled: true,
        created_at: now.unix(),
        updated_at: now.unix(),
        expires_at: expires_at.map(Timestamp::unix),
        disabled_by_admin: None,
    };
    state.store.api_keys().insert(&record).await?;
    // The owner may have been deleted while this request ran (deletion removes
    // keys it finds; this one came after): take the key back.
    if state.store.users().get(&record.owner_id)?.is_none() {
        state.store.api_keys().delete(&record.id).await?;
        return Err(Error::Unauthenticated(AuthFailure::BadPassword));
    }
    Ok(IssuedKey {
        key: view(state, record)?,
        secret: Redacted::new(secret),
    })
}

/// Checks requested scopes: each must be in the catalog (400), grantable by the
/// caller's roles (403), and within a narrowed caller's own scopes (403).
fn grantable_scopes(
    state: &AppState,
    caller: &Principal,
    requested: &[String],
) -> Result<Vec<String>> {
    let mut out = BTreeSet::new();
    for name in requested {
        let s = scopes::named(state, name)?;
        scopes::check_grantable_by(caller, &s)?;
        out.insert(name.clone());
    }
    Ok(out.into_iter().collect())
}

/// Keys of the caller, or with `user_id` (admins only) of another user.
pub fn list(
    state: &AppState,
    caller: &Principal,
    user_id: Option<&str>,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<ApiKey>, Option<String>)> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(Error::invalid(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    let owner = match user_id {
        Some(u) if u != caller.user.id.as_str() => {
            caller.require(Permission::UsersRead).map_err(|_| {
                Error::NotPermitted("only admins may list another user's keys".into())
            })?;
            users::get(state, u)?.id.to_string()
        }
        _ => caller.user.id.to_string(),
    };
    let mut records = state
        .store
        .api_keys()
        .list_by_owner(&owner, after, limit + 1)?;
    let more = records.len() > limit;
    records.truncate(limit);
    let next = more.then(|| records.last().map(|r| r.id.clone())).flatten();
    let keys = records
        .into_iter()
        .map(|r| view(state, r))
        .collect::<Result<_>>()?;
    Ok((keys, next))
}

pub fn get(state: &AppState, caller: &Principal, id: &str) -> Result<ApiKey> {
    view(state, visible(state, caller, id, Access::Read)?)
}

pub async fn delete(state: &AppState, caller: &Principal, id: &str) -> Result<()> {
    let record = visible(state, caller, id, Access::Change)?;
    state.store.api_keys().delete(&record.id).await?;
    Ok(())
}

pub async fn set_enabled(
    state: &AppState,
    caller: &Principal,
    id: &str,
    enabled: bool,
) -> Result<ApiKey> {
    let record = visible(state, caller, id, Access::Change)?;
    let own = record.owner_id == caller.user.id.as_str();
    let admin_caller = caller.require(Permission::UsersWrite).is_ok();
    if enabled {
        // Re-enabling hands the key's power back: only within the caller's own.
        within_caller_scopes(caller, &record)?;
        // An administrator's disable (of someone else's key) sticks until an
        // administrator lifts it: its owner cannot undo it.
        if record.disabled_by_admin.is_some() && !admin_caller {
            return Err(admin_lock());
        }
    }
    let admin_disable = (!enabled && !own).then(|| caller.user.id.to_string());
    let now = state.clock.now().unix();
    let updated = update(state, id, move |k| {
        // Checked again inside the transaction: an administrator's disable
        // landing meanwhile is not overwritten by the owner's enable.
        if enabled && k.disabled_by_admin.is_some() && !admin_caller {
            return;
        }
        k.enabled = enabled;
        k.disabled_by_admin = if enabled {
            None
        } else {
            admin_disable.clone().or(k.disabled_by_admin.take())
        };
        k.updated_at = now;
    })
    .await?;
    if enabled && !updated.enabled {
        return Err(admin_lock());
    }
    view(state, updated)
}

fn admin_lock() -> Error {
    Error::NotPermitted(
        "an administrator disabled this key; only an administrator can enable it".into(),
    )
}

/// A new secret for the same key; the old one keeps working for `grace_seconds`.
pub async fn roll(
    state: &AppState,
    caller: &Principal,
    id: &str,
    grace_seconds: i64,
) -> Result<IssuedKey> {
    if !(0..=MAX_SECONDS).contains(&grace_seconds) {
        return Err(Error::invalid(
            "grace_seconds",
            format!("must be between 0 and {MAX_SECONDS}"),
        ));
    }
    let record = visible(state, caller, id, Access::Change)?;
    // The new secret carries the key's scopes: hand it out only to a caller
    // whose own credential carries them all.
    within_caller_scopes(caller, &record)?;
    let now = state.clock.now();
    let secret = Kind::ApiKey.generate();
    let new_hash = fingerprint(&secret).to_vec();
    let prefix = api_key::display_prefix(&secret);
    let until = state.clock.deadline(grace_seconds).unix();
    let record = update(state, id, move |k| {
        let old = std::mem::replace(&mut k.secret_hash, new_hash.clone());
        if grace_seconds > 0 {
            k.previous_hash = Some(old);
            k.previous_until = Some(until);
        } else {
            k.previous_hash = None;
            k.previous_until = None;
        }
        k.prefix = prefix.clone();
        k.updated_at = now.unix();
    })
    .await?;
    Ok(IssuedKey {
        key: view(state, record)?,
        secret: Redacted::new(secret),
    })
}

/// `Authorization: Bearer lk_key_…`: the owner, narrowed to the key's scopes.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal> {
    let entry = check_cached(state, token)
        .await?
        .ok_or(Error::Unauthenticated(AuthFailure::InvalidToken))?;
    entry.usage.record(state.clock.now());
    let record = &entry.key;
    Ok(Principal {
        user: entry.owner.clone(),
        method: AuthMethod::ApiKey {
            id: record.id.clone(),
            name: record.name.clone(),
        },
        credential_scopes: Some(record.scopes.iter().cloned().collect()),
    })
}

/// The key and its owner if `token` is a usable key secret right now (enabled,
/// not expired, not rolled away past its grace, owner enabled); `None` if not.
/// Records no usage (introspection uses it too).
pub async fn check(state: &AppState, token: &str) -> Result<Option<(ApiKeyRecord, User)>> {
    Ok(check_cached(state, token)
        .await?
        .map(|e| (e.key.clone(), User::clone(&e.owner))))
}

/// [`check`], answering with the authentication cache's entry (no copy of the
/// records on a hit: one hash, one map lookup).
async fn check_cached(state: &AppState, token: &str) -> Result<Option<Arc<Entry>>> {
    if !Kind::ApiKey.is_well_formed(token) {
        return Ok(None);
    }
    let hash = fingerprint(token);
    let entry = match state.auth_cache.get(&hash) {
        Some(hit) => hit,
        None => {
            let generation = state.auth_cache.generation();
            let Some(record) = state.store.api_keys().find_by_hash(&hash)? else {
                return Ok(None);
            };
            let Some(owner) = state
                .store
                .users()
                .get(&record.owner_id)?
                .map(users::from_record)
                .transpose()?
            else {
                return Ok(None);
            };
            let usage = state.usage.counter(&record.id);
            state
                .auth_cache
                .insert(hash, generation, record, Arc::new(owner), usage)
        }
    };
    let record = &entry.key;
    let is_current = constant_time_eq(&record.secret_hash, &hash);
    let is_previous = record
        .previous_hash
        .as_deref()
        .is_some_and(|p| constant_time_eq(p, &hash));
    if !is_current && !is_previous {
        return Ok(None);
    }
    let usable = api_key::check_usable(
        KeyState {
            enabled: record.enabled,
            expires_at: record.expires_at.map(Timestamp),
            presented_previous: !is_current,
            previous_until: record.previous_until.map(Timestamp),
        },
        state.clock.now(),
    );
    if usable.is_err() || entry.owner.disabled {
        return Ok(None);
    }
    Ok(Some(entry))
}

/// Deletes every key of a user (when the user is deleted).
pub async fn delete_all_of(state: &AppState, owner_id: &str) -> Result<()> {
    loop {
        let batch = state.store.api_keys().list_by_owner(owner_id, None, 100)?;
        if batch.is_empty() {
            return Ok(());
        }
        for k in batch {
            state.store.api_keys().delete(&k.id).await?;
        }
    }
}

/// What a caller wants to do with a key.
#[derive(Clone, Copy)]
enum Access {
    Read,
    Change,
}

/// The key `id` if the caller may reach it: their own, or another user's when the
/// credential has the admin permission for it (`users:read` to read, `users:write`
/// to change). Anything else is "not found", so other users' key ids are not revealed.
fn visible(state: &AppState, caller: &Principal, id: &str, access: Access) -> Result<ApiKeyRecord> {
    let not_found = || Error::NotFound {
        kind: "API key",
        id: id.to_owned(),
    };
    if !api_key::is_id(id) {
        return Err(not_found());
    }
    let record = state.store.api_keys().get(id)?.ok_or_else(not_found)?;
    if record.owner_id != caller.user.id.as_str() {
        let needed = match access {
            Access::Read => Permission::UsersRead,
            Access::Change => Permission::UsersWrite,
        };
        caller.require(needed).map_err(|_| not_found())?;
    }
    Ok(record)
}

/// Refuses when a narrowed caller lacks one of the key's scopes (403 naming it).
fn within_caller_scopes(caller: &Principal, key: &ApiKeyRecord) -> Result<()> {
    if let Some(own) = &caller.credential_scopes {
        if let Some(missing) = key.scopes.iter().find(|s| !own.contains(*s)) {
            return Err(Error::NotPermitted(format!(
                "this key carries the scope {missing:?}, which this credential does not"
            )));
        }
    }
    Ok(())
}

/// Applies a change to a key transactionally (the store's commit makes cached
/// copies stale).
async fn update(
    state: &AppState,
    id: &str,
    change: impl Fn(&mut ApiKeyRecord),
) -> Result<ApiKeyRecord> {
    state
        .store
        .api_keys()
        .update(id, change)
        .await?
        .ok_or_else(|| Error::NotFound {
            kind: "API key",
            id: id.to_owned(),
        })
}

fn view(state: &AppState, r: ApiKeyRecord) -> Result<ApiKey> {
    let stored = state.store.api_keys().usage(&r.id)?;
    let (pending_at, pending_n) = state.usage.pending(&r.id).unwrap_or((i64::MIN, 0));
    let last = stored
        .last_used_at
        .into_iter()
        .chain((pending_n > 0).then_some(pending_at))
        .max();
    Ok(ApiKey {
        id: r.id,
        owner_id: r.owner_id,
        name: r.name,
        prefix: r.prefix,
        scopes: r.scopes,
        meta_json: r.meta_json,
        enabled: r.enabled,
        created_at: Timestamp(r.created_at),
        expires_at: r.expires_at.map(Timestamp),
        last_used_at: last.map(Timestamp),
        use_count: stored.use_count + pending_n,
        disabled_by_admin: r.disabled_by_admin.is_some(),
    })
}
