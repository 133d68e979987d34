//! OAuth clients: registered by a user, who owns them; members' clients carry
//! the catalog's default scopes, client-admins and admins may grant any scope
//! and manage everyone's clients. The secret is shown at creation and on
//! regeneration only; disabling is checked live on every token.

use std::collections::BTreeSet;

use crate::domain::access::Principal;
use crate::domain::client::{self, ClientType, GrantType};
use crate::domain::scope;
use crate::domain::time::Timestamp;
use crate::domain::token;
use crate::domain::user::Role;
use crate::error::{AuthFailure, Error, Result};
use crate::secret::{fingerprint, random_bytes, Redacted};
use crate::service::{revocations, scopes, users};
use crate::state::AppState;
use crate::store::ClientRecord;

/// Most clients returned by one list call.
pub const MAX_PAGE: usize = 1000;

/// A client as the use cases see it.
#[derive(Debug, Clone)]
pub struct Client {
    pub client_id: String,
    pub owner_id: String,
    pub name: String,
    pub client_type: ClientType,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    pub access_token_ttl_seconds: Option<i64>,
    pub enabled: bool,
    pub skip_consent: bool,
    pub allow_plain_pkce: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A client with its secret: only create and regenerate return one.
#[derive(Debug)]
pub struct IssuedClient {
    pub client: Client,
    /// `None` for public clients.
    pub secret: Option<Redacted<String>>,
}

pub struct NewClient {
    pub name: String,
    pub client_type: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub access_token_ttl_seconds: Option<i64>,
    pub skip_consent: bool,
    pub allow_plain_pkce: bool,
}

/// A partial update; `None` leaves a field as it is.
#[derive(Default)]
pub struct ClientChange {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    /// `Some(None)` goes back to the server default.
    pub access_token_ttl_seconds: Option<Option<i64>>,
    pub skip_consent: Option<bool>,
    pub allow_plain_pkce: Option<bool>,
}

pub async fn create(state: &AppState, caller: &Principal, new: NewClient) -> Result<IssuedClient> {
    client::check_name(&new.name).map_err(|m| Error::invalid("name", m))?;
    let ty = ClientType::parse(&new.client_type).map_err(|m| Error::invalid("type", m))?;
    let grants = match &new.grant_types {
        Some(g) => client::check_grants(ty, g).map_err(|m| Error::invalid("grant_types", m))?,
        None => client::default_grants(ty),
    };
    client::check_redirect_uris(ty, &grants, &new.redirect_uris)
        .map_err(|m| Error::invalid("redirect_uris", m))?;
    if let Some(ttl) = new.access_token_ttl_seconds {
        client::check_ttl(ttl).map_err(|m| Error::invalid("access_token_ttl_seconds", m))?;
    }
    let scopes = client_scopes(state, caller, new.scopes.as_deref())?;
    if new.skip_consent {
        may_skip_consent(caller)?;
    }
    let secret =
        (ty == ClientType::Confidential).then(|| client::secret_from_random(random_bytes()));
    let now = state.clock.now().unix();
    let record = ClientRecord {
        client_id: client::id_from_random(random_bytes()),
        owner_id: caller.user.id.to_string(),
        name: new.name,
        client_type: ty.as_str().to_owned(),
        redirect_uris: new.redirect_uris,
        grant_types: grants.iter().map(|g| g.as_str().to_owned()).collect(),
        scopes,
        access_token_ttl_seconds: new.access_token_ttl_seconds,
        enabled: true,
        secret_hash: secret.as_ref().map(|s| fingerprint(s).to_vec()),
        token_epoch: u64::from_be_bytes(random_bytes()),
        created_at: now,
        updated_at: now,
        skip_consent: new.skip_consent,
        allow_plain_pkce: new.allow_plain_pkce,
    };
    state.store.clients().insert(&record).await?;
    // The owner may have been deleted while this request ran: take it back.
    if state.store.users().get(&record.owner_id)?.is_none() {
        state.store.clients().delete(&record.client_id).await?;
        return Err(Error::Unauthenticated(AuthFailure::BadPassword));
    }
    Ok(IssuedClient {
        client: view(record)?,
        secret: secret.map(Redacted::new),
    })
}

/// The caller's clients; client-admins and admins may list another user's
/// (`user_id`) or everyone's (`all`).
pub fn list(
    state: &AppState,
    caller: &Principal,
    user_id: Option<&str>,
    all: bool,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<Client>, Option<String>)> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(Error::invalid(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    let wants_others = all || user_id.is_some_and(|u| u != caller.user.id.as_str());
    if wants_others && !manages_all(caller) {
        return Err(Error::NotPermitted(
            "only client-admins and admins may list other users' clients".into(),
        ));
    }
    let owner = match (all, user_id) {
        (true, _) => None,
        (false, Some(u)) if u != caller.user.id.as_str() => {
            Some(users::get(state, u)?.id.to_string())
        }
        _ => Some(caller.user.id.to_string()),
    };
    let mut records = state
        .store
        .clients()
        .list(owner.as_deref(), after, limit + 1)?;
    let more = records.len() > limit;
    records.truncate(limit);
    let next = more
        .then(|| records.last().map(|r| r.client_id.clone()))
        .flatten();
    let clients = records.into_iter().map(view).collect::<Result<_>>()?;
    Ok((clients, next))
}

pub fn get(state: &AppState, caller: &Principal, client_id: &str) -> Result<Client> {
    view(visible(state, caller, client_id, Access::Read)?)
}

pub async fn update(
    state: &AppState,
    caller: &Principal,
    client_id: &str,
    change: ClientChange,
) -> Result<Client> {
    // Grant types and redirect URIs are checked together against the stored
    // record: two updates must not interleave between that check and the write.
    let _guard = state.client_writes.lock().await;
    let current = visible(state, caller, client_id, Access::Change)?;
    let ty = ClientType::parse(&current.client_type).map_err(Error::Internal)?;
    if let Some(name) = &change.name {
        client::check_name(name).map_err(|m| Error::invalid("name", m))?;
    }
    let grants = match &change.grant_types {
        Some(g) => client::check_grants(ty, g).map_err(|m| Error::invalid("grant_types", m))?,
        None => parse_grants(&current.grant_types)?,
    };
    let uris = change
        .redirect_uris
        .clone()
        .unwrap_or_else(|| current.redirect_uris.clone());
    client::check_redirect_uris(ty, &grants, &uris)
        .map_err(|m| Error::invalid("redirect_uris", m))?;
    if let Some(Some(ttl)) = change.access_token_ttl_seconds {
        client::check_ttl(ttl).map_err(|m| Error::invalid("access_token_ttl_seconds", m))?;
    }
    let scopes = match &change.scopes {
        Some(s) => Some(client_scopes(state, caller, Some(s))?),
        None => None,
    };
    if let Some(s) = &scopes {
        if current.owner_id != caller.user.id.as_str()
            && !caller.is_admin()
            && carries_latchkey_scopes(s)
        {
            return Err(Error::NotPermitted(
                "only an admin may put latchkey's own scopes on another user's client".into(),
            ));
        }
    }
    if change.skip_consent == Some(true) {
        may_skip_consent(caller)?;
    }
    // A first-party client skips consent: where it may send users, and how,
    // is for client-admins and admins to change.
    let redirects_change = change.redirect_uris.is_some() || change.grant_types.is_some();
    if current.skip_consent && change.skip_consent != Some(false) && redirects_change {
        may_skip_consent(caller)?;
    }
    let grant_names: Vec<String> = grants.iter().map(|g| g.as_str().to_owned()).collect();
    let now = state.clock.now().unix();
    let updated = apply(state, client_id, move |c| {
        if let Some(name) = &change.name {
            c.name = name.clone();
        }
        c.redirect_uris = uris.clone();
        c.grant_types = grant_names.clone();
        if let Some(s) = &scopes {
            c.scopes = s.clone();
        }
        if let Some(ttl) = change.access_token_ttl_seconds {
            c.access_token_ttl_seconds = ttl;
        }
        if let Some(skip) = change.skip_consent {
            c.skip_consent = skip;
        }
        if let Some(plain) = change.allow_plain_pkce {
            c.allow_plain_pkce = plain;
        }
        c.updated_at = now;
    })
    .await?;
    view(updated)
}

pub async fn set_enabled(
    state: &AppState,
    caller: &Principal,
    client_id: &str,
    enabled: bool,
) -> Result<Client> {
    let current = visible(state, caller, client_id, Access::Change)?;
    if enabled {
        within_caller_scopes(caller, &current)?;
    }
    let now = state.clock.now().unix();
    let updated = apply(state, client_id, move |c| {
        c.enabled = enabled;
        c.updated_at = now;
    })
    .await?;
    view(updated)
}

/// A new secret; the old one stops at once. With `revoke_tokens`, every token
/// issued so far is revoked too (the client moves to a new token epoch).
pub async fn regenerate_secret(
    state: &AppState,
    caller: &Principal,
    client_id: &str,
    revoke_tokens: bool,
) -> Result<IssuedClient> {
    let current = visible(state, caller, client_id, Access::Change)?;
    within_caller_scopes(caller, &current)?;
    if current.secret_hash.is_none() {
        return Err(Error::Conflict {
            code: "public_client",
            message: "a public client has no secret to regenerate".into(),
        });
    }
    if revoke_tokens {
        // A marker for the epoch being left, so its tokens stay revoked even if
        // the client is later deleted without `revoke_tokens`.
        revocations::revoke_client_epoch(state, client_id, current.token_epoch).await?;
    }
    let secret = client::secret_from_random(random_bytes());
    let hash = fingerprint(&secret).to_vec();
    let epoch = u64::from_be_bytes(random_bytes());
    let now = state.clock.now().unix();
    let updated = apply(state, client_id, move |c| {
        c.secret_hash = Some(hash.clone());
        if revoke_tokens {
            c.token_epoch = epoch;
        }
        c.updated_at = now;
    })
    .await?;
    Ok(IssuedClient {
        client: view(updated)?,
        secret: Some(Redacted::new(secret)),
    })
}

/// Deletes a client: no new tokens; existing ones live out their lifetime
/// unless `revoke_tokens`, which writes one marker for all of them.
pub async fn delete(
    state: &AppState,
    caller: &Principal,
    client_id: &str,
    revoke_tokens: bool,
) -> Result<()> {
    let current = visible(state, caller, client_id, Access::Change)?;
    remove(state, &current, revoke_tokens).await
}

/// Deletes a client: with `revoke_tokens` (or when it is disabled, so its
/// refused tokens do not come back) one marker revokes its tokens; the
/// consents given to it are forgotten.
async fn remove(state: &AppState, current: &ClientRecord, revoke_tokens: bool) -> Result<()> {
    let client_id = current.client_id.as_str();
    // A disabled client's tokens are refused; deleting it must not bring them
    // back, so they are revoked as with `revoke_tokens`.
    let revoke = revoke_tokens || !current.enabled;
    if revoke {
        // The marker first: should the delete fail, the tokens are still revoked.
        revocations::revoke_client_epoch(state, client_id, current.token_epoch).await?;
    }
    // Consents go first, so the delete's flush makes their removal durable too.
    state.store.grants().delete_consents_of_client(client_id)?;
    let result = state.store.clients().delete(client_id).await;
    state.auth_cache.invalidate();
    if let Some(deleted) = result? {
        // A change that landed between the read and the delete (a new epoch,
        // a disable) is covered too.
        let covered = revoke && deleted.token_epoch == current.token_epoch;
        if (revoke || !deleted.enabled) && !covered {
            revocations::revoke_client_epoch(state, client_id, deleted.token_epoch).await?;
        }
    }
    Ok(())
}

pub use crate::domain::client::SWAGGER_UI_CLIENT_ID;
/// Its redirect URI, relative: it matches this server's own origin, however the
/// server is reached (`localhost`, a container's mapped port, `--public-url`).
pub const SWAGGER_UI_REDIRECT: &str = "/docs/oauth-receiver.html";

/// Makes sure the built-in `swagger-ui` client exists (PKCE, public, latchkey's
/// own scopes, owned by an admin); recreated on start if it was deleted.
pub async fn ensure_swagger_ui(state: &AppState) -> Result<()> {
    if state.store.clients().get(SWAGGER_UI_CLIENT_ID)?.is_some() {
        return Ok(());
    }
    let mut owner = None;
    for record in state.store.users().all() {
        let user = users::from_record(record?)?;
        if user.is_active_admin() {
            owner = Some(user.id.to_string());
            break;
        }
    }
    let Some(owner_id) = owner else {
        return Ok(());
    };
    let now = state.clock.now().unix();
    let record = ClientRecord {
        client_id: SWAGGER_UI_CLIENT_ID.into(),
        owner_id,
        name: "Swagger UI".into(),
        client_type: ClientType::Public.as_str().into(),
        redirect_uris: vec![SWAGGER_UI_REDIRECT.into()],
        grant_types: vec![
            GrantType::AuthorizationCode.as_str().into(),
            GrantType::RefreshToken.as_str().into(),
        ],
        scopes: crate::domain::access::Permission::ALL
            .iter()
            .map(|p| p.scope().to_owned())
            .collect(),
        access_token_ttl_seconds: None,
        enabled: true,
        secret_hash: None,
        token_epoch: u64::from_be_bytes(random_bytes()),
        created_at: now,
        updated_at: now,
        skip_consent: false,
        allow_plain_pkce: false,
    };
    match state.store.clients().insert(&record).await {
        Ok(()) | Err(crate::store::StoreError::Duplicate(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Deletes every client of a user (when the user is deleted; their tokens
/// already fail because the user is gone).
pub async fn delete_all_of(state: &AppState, owner_id: &str) -> Result<()> {
    for id in state.store.clients().ids_of(owner_id)? {
        if let Some(client) = state.store.clients().get(&id)? {
            remove(state, &client, false).await?;
        }
    }
    Ok(())
}

/// Skipping consent speaks for every user of the application: only
/// client-admins and admins may mark a client first-party.
fn may_skip_consent(caller: &Principal) -> Result<()> {
    if manages_all(caller) {
        Ok(())
    } else {
        Err(Error::NotPermitted(
            "only client-admins and admins may set skip_consent (first-party applications)".into(),
        ))
    }
}

/// Whether the caller manages every user's clients.
fn manages_all(caller: &Principal) -> bool {
    caller.user.roles.contains(&Role::Admin) || caller.user.roles.contains(&Role::ClientAdmin)
}

/// What a caller wants to do with a client.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Change,
}

/// The client if the caller may reach it: their own, or any for client-admins
/// and admins. Anything else is "not found", so ids are not revealed. A client
/// carrying latchkey's own scopes is a credential to latchkey itself, acting as
/// its owner: only the owner or an admin may change it (a client-admin could
/// otherwise take a new secret and act as that user).
fn visible(
    state: &AppState,
    caller: &Principal,
    client_id: &str,
    access: Access,
) -> Result<ClientRecord> {
    let not_found = || Error::NotFound {
        kind: "client",
        id: client_id.to_owned(),
    };
    if !client::is_id(client_id) {
        return Err(not_found());
    }
    let record = state
        .store
        .clients()
        .get(client_id)?
        .ok_or_else(not_found)?;
    let own = record.owner_id == caller.user.id.as_str();
    if !own && !manages_all(caller) {
        return Err(not_found());
    }
    if access == Access::Change
        && !own
        && !caller.is_admin()
        && carries_latchkey_scopes(&record.scopes)
    {
        return Err(Error::NotPermitted(
            "this client carries latchkey's own scopes: only its owner or an admin may change it"
                .into(),
        ));
    }
    Ok(record)
}

fn carries_latchkey_scopes(scopes: &[String]) -> bool {
    scopes.iter().any(|s| scope::permission_of(s).is_some())
}

/// Refuses when a narrowed caller lacks one of the client's latchkey scopes:
/// a new secret or a re-enabled client hands that power back to the caller.
fn within_caller_scopes(caller: &Principal, client: &ClientRecord) -> Result<()> {
    if let Some(own) = &caller.credential_scopes {
        if let Some(missing) = client
            .scopes
            .iter()
            .find(|s| scope::permission_of(s).is_some() && !own.contains(*s))
        {
            return Err(Error::NotPermitted(format!(
                "this client carries the scope {missing:?}, which this credential does not"
            )));
        }
    }
    Ok(())
}

/// The scopes a new or changed client gets: the catalog's defaults when none
/// are named. Each must exist (400) and be grantable to clients by the caller's
/// roles (403); latchkey's own scopes must also be granted by the caller's roles
/// and, for a narrowed caller, carried by its credential (403), so no client can
/// do more than its maker. The joined list must fit in an access token.
fn client_scopes(
    state: &AppState,
    caller: &Principal,
    requested: Option<&[String]>,
) -> Result<Vec<String>> {
    let requested: Vec<String> = match requested {
        Some(r) => r.to_vec(),
        None => scopes::defaults(state)?,
    };
    if requested.len() > client::MAX_SCOPES {
        return Err(Error::invalid(
            "scopes",
            format!("at most {} scopes", client::MAX_SCOPES),
        ));
    }
    let mut out = BTreeSet::new();
    for name in &requested {
        let s = scopes::named(state, name)?;
        if !scope::may_grant_to_client(&caller.user.roles, &s) {
            return Err(Error::NotPermitted(format!(
                "members' clients carry only the catalog's default scopes; {name:?} is not one (ask a client-admin)"
            )));
        }
        if scope::permission_of(name).is_some() {
            scopes::check_grantable_by(caller, &s)?;
        }
        out.insert(name.clone());
    }
    let out: Vec<String> = out.into_iter().collect();
    if !token::scopes_fit(&out) {
        return Err(Error::invalid(
            "scopes",
            format!(
                "together the scope names must fit in {} bytes",
                token::MAX_SCOPE_BYTES
            ),
        ));
    }
    Ok(out)
}

async fn apply(
    state: &AppState,
    client_id: &str,
    change: impl Fn(&mut ClientRecord),
) -> Result<ClientRecord> {
    let result = state.store.clients().update(client_id, change).await;
    state.auth_cache.invalidate();
    result?.ok_or_else(|| Error::NotFound {
        kind: "client",
        id: client_id.to_owned(),
    })
}

fn parse_grants(names: &[String]) -> Result<Vec<GrantType>> {
    names
        .iter()
        .map(|n| {
            GrantType::parse(n)
                .ok_or_else(|| Error::Internal(format!("stored grant type {n:?} is unknown")))
        })
        .collect()
}

pub fn view(r: ClientRecord) -> Result<Client> {
    Ok(Client {
        client_type: ClientType::parse(&r.client_type).map_err(Error::Internal)?,
        grant_types: parse_grants(&r.grant_types)?,
        client_id: r.client_id,
        owner_id: r.owner_id,
        name: r.name,
        redirect_uris: r.redirect_uris,
        scopes: r.scopes,
        access_token_ttl_seconds: r.access_token_ttl_seconds,
        enabled: r.enabled,
        skip_consent: r.skip_consent,
        allow_plain_pkce: r.allow_plain_pkce,
        created_at: Timestamp(r.created_at),
        updated_at: Timestamp(r.updated_at),
    })
}
