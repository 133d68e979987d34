//! OAuth clients: registered by a user, who owns them; members' clients carry
//! the catalog's default scopes, client-admins and admins may grant any scope
//! and manage everyone's clients. The secret is shown at creation and on
//! regeneration only; disabling is checked live on every token.
//!
//! Registering, listing, reading and changing here; who may reach a client and
//! with which scopes in `rules`; enabling, new secrets and deletion in
//! `lifecycle`; the built-in Swagger UI client in `swagger_ui`.

mod lifecycle;
mod rules;
mod settings;
mod swagger_ui;

use crate::domain::access::Principal;
use crate::domain::client::{self, Client, ClientId, ClientType, GrantType};
use crate::domain::jwt::Alg;
use crate::domain::scope::ScopeSet;
use crate::domain::time::Timestamp;
use crate::error::{AuthFailure, Error, Result};
use crate::secret::{fingerprint, random_bytes, Kind, Redacted};
use crate::service::users;
use crate::state::AppState;
use crate::store::ClientRecord;

pub use lifecycle::{delete, delete_all_of, regenerate_secret, set_enabled};
pub use swagger_ui::{ensure_swagger_ui, SWAGGER_UI_CLIENT_ID, SWAGGER_UI_REDIRECT};

use rules::{
    carries_latchkey_scopes, client_scopes, manages_all, may_skip_consent, visible, Access,
};
use settings::{access_format, chosen_id, claims_json, id_token_alg};

/// Most clients returned by one list call.
pub const MAX_PAGE: usize = 1000;

/// A client with its secret: only create and regenerate return one.
#[derive(Debug)]
pub struct IssuedClient {
    pub client: Client,
    /// `None` for public clients.
    pub secret: Option<Redacted<String>>,
}

pub struct NewClient {
    /// A chosen id (Imply's guide: "Enter a client identifier"); `None`: generated.
    pub client_id: Option<String>,
    pub name: String,
    pub client_type: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub access_token_ttl_seconds: Option<i64>,
    pub skip_consent: bool,
    pub allow_plain_pkce: bool,
    /// `RS256` (default), `ES256` or `EdDSA`.
    pub id_token_signed_response_alg: Option<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// `opaque` (default) or `jwt`.
    pub access_token_format: Option<String>,
    /// For `jwt`: `RS256` (default), `ES256` or `EdDSA`.
    pub access_token_signed_response_alg: Option<String>,
    pub audience: Vec<String>,
    /// Custom claims (a JSON object) for its client_credentials JWTs.
    pub claims: Option<serde_json::Value>,
}

/// A partial update; `None` leaves a field as it is.
#[derive(Default)]
pub struct ClientChange {
    // OpenID Connect and JWT settings.
    pub id_token_signed_response_alg: Option<String>,
    pub access_token_format: Option<String>,
    pub access_token_signed_response_alg: Option<String>,
    pub audience: Option<Vec<String>>,
    /// Replaces the custom claims as a whole.
    pub claims: Option<serde_json::Value>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    // OAuth settings.
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
    client::check_post_logout_uris(&new.post_logout_redirect_uris)
        .map_err(|m| Error::invalid("post_logout_redirect_uris", m))?;
    client::check_audience(&new.audience).map_err(|m| Error::invalid("audience", m))?;
    let client_id = match new.client_id.as_deref() {
        None => ClientId::from_random(random_bytes()),
        Some(chosen) => chosen_id(chosen)?,
    };
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
    let secret = (ty == ClientType::Confidential).then(|| Kind::ClientSecret.generate());
    let now = state.clock.now().unix();
    let record = ClientRecord {
        client_id: client_id.to_string(),
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
        id_token_alg: id_token_alg(new.id_token_signed_response_alg.as_deref())?,
        post_logout_redirect_uris: new.post_logout_redirect_uris,
        jwt_access_token_alg: access_format(
            new.access_token_format.as_deref(),
            new.access_token_signed_response_alg.as_deref(),
            None,
        )?,
        audience: new.audience,
        claims_json: claims_json(new.claims.as_ref())?,
    };
    match state.store.clients().insert(&record).await {
        Err(crate::store::StoreError::Duplicate(_)) => {
            return Err(Error::Conflict {
                code: "client_id_taken",
                message: format!("the client id {:?} is taken", record.client_id),
            })
        }
        other => other?,
    }
    // The owner may have been deleted while this request ran: take it back.
    if state.store.users().get(&record.owner_id)?.is_none() {
        state.store.clients().delete(&record.client_id).await?;
        return Err(Error::Unauthenticated(AuthFailure::BadPassword));
    }
    Ok(IssuedClient {
        client: from_record(record)?,
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
    let clients = records
        .into_iter()
        .map(from_record)
        .collect::<Result<_>>()?;
    Ok((clients, next))
}

pub fn get(state: &AppState, caller: &Principal, client_id: &str) -> Result<Client> {
    from_record(visible(state, caller, client_id, Access::Read)?)
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
    if let Some(uris) = &change.post_logout_redirect_uris {
        client::check_post_logout_uris(uris)
            .map_err(|m| Error::invalid("post_logout_redirect_uris", m))?;
    }
    if let Some(a) = &change.audience {
        client::check_audience(a).map_err(|m| Error::invalid("audience", m))?;
    }
    let new_claims = match &change.claims {
        Some(c) => Some(claims_json(Some(c))?),
        None => None,
    };
    let access_alg = match (
        &change.access_token_format,
        &change.access_token_signed_response_alg,
    ) {
        (None, None) => None,
        (format, alg) => Some(access_format(
            format.as_deref(),
            alg.as_deref(),
            current.jwt_access_token_alg.as_deref(),
        )?),
    };
    let id_token_alg = match &change.id_token_signed_response_alg {
        Some(a) => Some(id_token_alg(Some(a))?),
        None => None,
    };
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
        if let Some(alg) = &id_token_alg {
            c.id_token_alg = alg.clone();
        }
        if let Some(uris) = &change.post_logout_redirect_uris {
            c.post_logout_redirect_uris = uris.clone();
        }
        if let Some(alg) = &access_alg {
            c.jwt_access_token_alg = alg.clone();
        }
        if let Some(a) = &change.audience {
            c.audience = a.clone();
        }
        if let Some(claims) = &new_claims {
            c.claims_json = claims.clone();
        }
        if let Some(plain) = change.allow_plain_pkce {
            c.allow_plain_pkce = plain;
        }
        c.updated_at = now;
    })
    .await?;
    from_record(updated)
}

pub(super) async fn apply(
    state: &AppState,
    client_id: &str,
    change: impl Fn(&mut ClientRecord),
) -> Result<ClientRecord> {
    state
        .store
        .clients()
        .update(client_id, change)
        .await?
        .ok_or_else(|| Error::NotFound {
            kind: "client",
            id: client_id.to_owned(),
        })
}

pub(super) fn parse_grants(names: &[String]) -> Result<Vec<GrantType>> {
    names
        .iter()
        .map(|n| {
            GrantType::parse(n)
                .ok_or_else(|| Error::Internal(format!("stored grant type {n:?} is unknown")))
        })
        .collect()
}

/// The domain's client from its stored record.
pub fn from_record(r: ClientRecord) -> Result<Client> {
    Ok(Client {
        client_id: ClientId::parse(&r.client_id).ok_or_else(|| {
            Error::Internal(format!("stored client id {:?} is malformed", r.client_id))
        })?,
        client_type: ClientType::parse(&r.client_type).map_err(Error::Internal)?,
        grant_types: parse_grants(&r.grant_types)?,
        owner_id: r.owner_id,
        name: r.name,
        redirect_uris: r.redirect_uris,
        scopes: ScopeSet::from_names(&r.scopes),
        access_token_ttl_seconds: r.access_token_ttl_seconds,
        enabled: r.enabled,
        skip_consent: r.skip_consent,
        allow_plain_pkce: r.allow_plain_pkce,
        post_logout_redirect_uris: r.post_logout_redirect_uris,
        audience: r.audience,
        claims: crate::domain::claims::from_stored(&r.claims_json)
            .map_err(|m| Error::Internal(format!("client {}: {m}", r.client_id)))?,
        jwt_access_alg: match r.jwt_access_token_alg.as_deref() {
            None => None,
            Some(a) => Some(Alg::parse(a).ok_or_else(|| {
                Error::Internal(format!("stored access token alg {a:?} is unknown"))
            })?),
        },
        id_token_alg: match r.id_token_alg.as_deref() {
            None => Alg::RS256,
            Some(a) => Alg::parse(a)
                .ok_or_else(|| Error::Internal(format!("stored id_token alg {a:?} is unknown")))?,
        },
        secret_hash: r.secret_hash,
        token_epoch: r.token_epoch,
        created_at: Timestamp(r.created_at),
        updated_at: Timestamp(r.updated_at),
    })
}
