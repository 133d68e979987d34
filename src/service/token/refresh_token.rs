//! Refresh tokens (`lk_rt_…`) and `grant_type=refresh_token` (RFC 6749 §6)
//! with rotation: every use returns a new refresh token; presenting a spent
//! one revokes its whole grant family (RFC 9700 §4.14.2).
//!
//! A refresh token is random and stored by its hash; its record names the
//! client (and the client's token epoch), the user, the granted scopes and the
//! grant family shared by every token of one authorization.

use std::sync::Arc;

use crate::domain::client::{self, Client};
use crate::domain::oauth;
use crate::domain::scope::ScopeSet;
use crate::domain::user::User;
use crate::error::{Error, Result};
use crate::secret::{fingerprint, Kind, Redacted};
use crate::service::access_token::{Acting, IssuedToken, Recipient};
use crate::service::id_token::{self, Subject};
use crate::service::{live, revocation};
use crate::state::AppState;
use crate::store::{RefreshRecord, Use};

use super::{invalid_grant, user_token};

/// A refresh token that may be used now, as the rest of the server sees it.
#[derive(Debug, Clone)]
pub struct LiveRefresh {
    pub client_id: String,
    pub user_id: String,
    pub scopes: ScopeSet,
    pub family: [u8; 16],
    pub issued_at: i64,
    pub expires_at: i64,
}

/// Keep a family's revocation until every token it could have issued expired.
pub(crate) fn family_horizon(state: &AppState) -> i64 {
    state
        .clock
        .now()
        .plus_secs(state.config.refresh_token_ttl.max(client::MAX_TTL_SECONDS))
        .unix()
}

pub(crate) fn family_of(bytes: &[u8]) -> Result<[u8; 16]> {
    bytes
        .try_into()
        .map_err(|_| Error::Internal("a stored grant family is not 16 bytes".into()))
}

/// Where a grant's refresh tokens come from: its family, user and sign-in.
#[derive(Clone, Copy)]
pub(crate) struct Origin<'a> {
    pub family: &'a [u8],
    pub user_id: &'a str,
    pub auth_time: i64,
    pub sid: Option<&'a str>,
}

/// Starts a refresh token for a grant: returns the secret and writes its
/// record (durable before it returns).
pub(crate) async fn start(
    state: &AppState,
    client: &Client,
    origin: Origin<'_>,
    scopes: &ScopeSet,
) -> Result<Redacted<String>> {
    let (secret, record) = new_refresh(state, client, origin, scopes);
    state
        .store
        .grants()
        .insert_refresh(&fingerprint(&secret), &record)
        .await?;
    Ok(Redacted::new(secret))
}

fn new_refresh(
    state: &AppState,
    client: &Client,
    origin: Origin<'_>,
    scopes: &ScopeSet,
) -> (String, RefreshRecord) {
    let now = state.clock.now();
    let record = RefreshRecord {
        family: origin.family.to_vec(),
        client_id: client.client_id.to_string(),
        client_epoch: client.token_epoch,
        user_id: origin.user_id.to_owned(),
        scopes: scopes.to_vec(),
        created_at: now.unix(),
        expires_at: state.clock.deadline(state.config.refresh_token_ttl).unix(),
        rotated: false,
        auth_time: origin.auth_time,
        sid: origin.sid.map(str::to_owned),
    };
    (Kind::RefreshToken.generate(), record)
}

/// Why a presented refresh token may not be used.
enum Unusable {
    /// Unknown, expired, revoked, another client's, or its client's epoch moved.
    Dead,
    /// Spent by an earlier rotation: a replay.
    Spent(RefreshRecord),
}

/// The one check of a presented refresh token: its record if it is usable now
/// — well-formed, known, not rotated, not expired, its family not revoked, its
/// client (`for_client`, else whichever it names) enabled and on the same
/// epoch, its user active.
fn usable(
    state: &AppState,
    token: &str,
    for_client: Option<&Client>,
) -> Result<std::result::Result<RefreshRecord, Unusable>> {
    if !Kind::RefreshToken.is_well_formed(token) {
        return Ok(Err(Unusable::Dead));
    }
    let Some(rec) = state.store.grants().refresh_token(&fingerprint(token))? else {
        return Ok(Err(Unusable::Dead));
    };
    let client_ok = match for_client {
        Some(c) => {
            c.client_id.as_str() == rec.client_id && live::same_epoch(state, c, rec.client_epoch)
        }
        None => live::client(state, &rec.client_id)?
            .is_some_and(|c| c.enabled && live::same_epoch(state, &c, rec.client_epoch)),
    };
    let family = family_of(&rec.family)?;
    if !client_ok
        || state.revocations.is_family_revoked(&family)
        || rec.expires_at <= state.clock.now().unix()
    {
        return Ok(Err(Unusable::Dead));
    }
    if rec.rotated {
        return Ok(Err(Unusable::Spent(rec)));
    }
    Ok(Ok(rec))
}

/// A refresh token that is usable now, and its active user (introspection).
pub fn live(state: &AppState, token: &str) -> Result<Option<(LiveRefresh, Arc<User>)>> {
    let Ok(rec) = usable(state, token, None)? else {
        return Ok(None);
    };
    let Some(user) = live::active_user(state, &rec.user_id)? else {
        return Ok(None);
    };
    let refresh = LiveRefresh {
        family: family_of(&rec.family)?,
        scopes: ScopeSet::from_names(&rec.scopes),
        client_id: rec.client_id,
        user_id: rec.user_id,
        issued_at: rec.created_at,
        expires_at: rec.expires_at,
    };
    Ok(Some((refresh, user)))
}

/// The grant family and client of a stored refresh token, whatever its state
/// (revocation ends the family of any token it finds).
pub(crate) fn family_and_client(
    state: &AppState,
    token: &str,
) -> Result<Option<([u8; 16], String)>> {
    if !Kind::RefreshToken.is_well_formed(token) {
        return Ok(None);
    }
    match state.store.grants().refresh_token(&fingerprint(token))? {
        Some(rec) => Ok(Some((family_of(&rec.family)?, rec.client_id))),
        None => Ok(None),
    }
}

fn replayed() -> Error {
    invalid_grant("the refresh token was already used; every token of its grant is revoked")
}

/// `grant_type=refresh_token`.
pub(super) async fn refresh(
    state: &AppState,
    client: &Client,
    to: &Recipient<'_>,
    token: &str,
    requested: Option<ScopeSet>,
) -> Result<IssuedToken> {
    let bad = || {
        invalid_grant(
            "the refresh token is unknown, expired, revoked, or was issued to another client",
        )
    };
    let current = match usable(state, token, Some(client))? {
        Ok(rec) => rec,
        Err(Unusable::Dead) => return Err(bad()),
        Err(Unusable::Spent(rec)) => {
            // A spent refresh token presented again: stolen, or a client bug.
            // RFC 9700 §4.14.2: revoke every token of the grant.
            revocation::revoke_family(state, &family_of(&rec.family)?, family_horizon(state))
                .await?;
            return Err(replayed());
        }
    };
    let family = family_of(&current.family)?;
    // Narrowing is allowed, widening never (RFC 6749 §6); and never beyond what
    // the client may still request (an admin may have taken a scope away since).
    let granted = ScopeSet::from_names(&current.scopes);
    let scopes = oauth::grant_scopes(requested, &granted)?.intersect(&client.scopes);
    let user = live::active_user(state, &current.user_id)?
        .ok_or_else(|| invalid_grant("the user who authorized this grant is disabled or gone"))?;
    let origin = Origin {
        family: &current.family,
        user_id: user.id.as_str(),
        auth_time: current.auth_time,
        sid: current.sid.as_deref(),
    };
    let (secret, successor) = new_refresh(state, client, origin, &granted);
    match state
        .store
        .grants()
        .rotate_refresh(&fingerprint(token), &fingerprint(&secret), &successor)
        .await?
    {
        Use::Fresh(_) => {}
        // Spent meanwhile by a concurrent request: that is reuse too (RFC 9700
        // §4.14.2 cannot tell a race from a theft), so the grant is revoked.
        Use::Replayed(_) => {
            revocation::revoke_family(state, &family, family_horizon(state)).await?;
            return Err(replayed());
        }
        Use::Unknown => return Err(bad()),
    }
    let acting = Acting::User {
        user: &user,
        auth_time: current.auth_time,
    };
    let mut issued = user_token(state, to, client, acting, scopes, family).await?;
    issued.refresh_token = Some(Redacted::new(secret));
    // OIDC Core §12.2: a new id_token for the same sign-in, without a nonce.
    let subject = Subject {
        user: &user,
        auth_time: current.auth_time,
        sid: current.sid.as_deref(),
        nonce: None,
    };
    issued.id_token = id_token::for_grant(state, to.issuer, client, subject, &issued).await?;
    Ok(issued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::access_token;

    use crate::domain::client::GrantType;
    use crate::domain::oauth::OAuthErrorCode as Code;
    use crate::service::testing::{oauth_code, Fixture, TO, USER_ID};

    const REFRESH: &[GrantType] = &[GrantType::AuthorizationCode, GrantType::RefreshToken];

    async fn started(f: &Fixture, client: &Client, scopes: &str) -> String {
        let granted = ScopeSet::parse(scopes).unwrap();
        let origin = Origin {
            family: &[5; 16],
            user_id: USER_ID,
            auth_time: f.state.clock.now().unix(),
            sid: None,
        };
        start(&f.state, client, origin, &granted)
            .await
            .unwrap()
            .into_inner()
    }

    #[tokio::test]
    async fn every_use_rotates_and_a_spent_token_revokes_the_family() {
        let f = Fixture::new().await;
        let client = f.client("app", true, REFRESH, &["read", "write"]).await;
        let first = started(&f, &client, "read write").await;
        let next = refresh(&f.state, &client, &TO, &first, None).await.unwrap();
        let second = next.refresh_token.clone().unwrap().into_inner();
        assert_ne!(first, second);
        assert_eq!(next.scopes.to_string(), "read write");
        assert!(live(&f.state, &first).unwrap().is_none(), "spent");
        assert!(live(&f.state, &second).unwrap().is_some());
        let replay = refresh(&f.state, &client, &TO, &first, None).await;
        assert_eq!(oauth_code(replay.unwrap_err()), Code::InvalidGrant);
        assert!(live(&f.state, &second).unwrap().is_none(), "family revoked");
        assert!(access_token::check(&f.state, next.token.expose())
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn scopes_narrow_never_widen_and_follow_the_client() {
        let f = Fixture::new().await;
        let client = f.client("app", true, REFRESH, &["read", "write"]).await;
        let token = started(&f, &client, "read write").await;
        let wide = refresh(
            &f.state,
            &client,
            &TO,
            &token,
            ScopeSet::parse("admin").ok(),
        )
        .await;
        assert_eq!(oauth_code(wide.unwrap_err()), Code::InvalidScope);
        let narrow = refresh(&f.state, &client, &TO, &token, ScopeSet::parse("read").ok())
            .await
            .unwrap();
        assert_eq!(narrow.scopes.to_string(), "read");
        // The successor keeps the whole grant: narrowing is per access token.
        let successor = narrow.refresh_token.unwrap().into_inner();
        let (view, _) = live(&f.state, &successor).unwrap().unwrap();
        assert_eq!(view.scopes.to_string(), "read write");
        // A client that lost a scope gets tokens without it.
        let fewer = f.client("fewer", true, REFRESH, &["write"]).await;
        let token = started(&f, &fewer, "read write").await;
        let issued = refresh(&f.state, &fewer, &TO, &token, None).await.unwrap();
        assert_eq!(issued.scopes.to_string(), "write");
    }

    #[tokio::test]
    async fn expired_foreign_and_malformed_tokens_are_dead() {
        let f = Fixture::new().await;
        let client = f.client("app", true, REFRESH, &["read"]).await;
        let other = f.client("other", true, REFRESH, &["read"]).await;
        let token = started(&f, &client, "read").await;
        let foreign = refresh(&f.state, &other, &TO, &token, None).await;
        assert_eq!(oauth_code(foreign.unwrap_err()), Code::InvalidGrant);
        assert!(
            live(&f.state, &token).unwrap().is_some(),
            "not spent by a foreign client"
        );
        for bad in ["lk_rt_", "lk_at_x", &format!("{token}x")] {
            let r = refresh(&f.state, &client, &TO, bad, None).await;
            assert_eq!(oauth_code(r.unwrap_err()), Code::InvalidGrant, "{bad}");
        }
        f.clock.advance(f.state.config.refresh_token_ttl);
        assert!(live(&f.state, &token).unwrap().is_none());
        let expired = refresh(&f.state, &client, &TO, &token, None).await;
        assert_eq!(oauth_code(expired.unwrap_err()), Code::InvalidGrant);
    }
}
