//! Consent and the answer to the client: whether to ask, the scopes shown on
//! the page, and — once the user allowed — remembering it and issuing the code
//! or (implicit) access token.

use crate::domain::scope::{self, ScopeSet};
use crate::domain::user::User;
use crate::error::Result;
use crate::secret::{fingerprint, random_bytes, Kind};
use crate::service::{access_token, scopes};
use crate::state::AppState;
use crate::store::{CodeRecord, ConsentRecord};

use super::{AuthzRequest, Reply, Session, CODE_TTL};
use crate::service::id_token::{self, Companions, Subject};

/// Whether the user must be asked: not for first-party clients, nor when the
/// user already consented to (a superset of) these scopes for this client.
pub fn needs_consent(state: &AppState, user: &User, req: &AuthzRequest) -> Result<bool> {
    // latchkey's own scopes make the token a credential to latchkey itself
    // (acting as this user): a person always says yes to that, first-party or not.
    let own_powers = req.scopes.iter().any(|s| scope::permission_of(s).is_some());
    if req.client.skip_consent && !own_powers {
        return Ok(false);
    }
    let given = state
        .store
        .grants()
        .consent(user.id.as_str(), req.client.client_id.as_str())?;
    Ok(!given.is_some_and(|c| req.scopes.is_subset(&ScopeSet::from_names(&c.scopes))))
}

/// The scopes of a request with their catalog descriptions, for the consent page.
pub fn describe_scopes(state: &AppState, req: &AuthzRequest) -> Result<Vec<(String, String)>> {
    let catalog = scopes::list(state)?;
    Ok(req
        .scopes
        .iter()
        .map(|name| {
            let description = catalog
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.description.clone())
                .unwrap_or_default();
            (name.to_owned(), description)
        })
        .collect())
}

/// The user said no (RFC 6749 §4.1.2.1 `access_denied`).
pub fn deny(req: &AuthzRequest) -> Reply {
    req.error("access_denied", "the user denied the request")
}

/// The user allowed the request: remember the consent (when asked), issue the
/// code or the token, and say where it goes.
pub async fn approve(
    state: &AppState,
    session: &Session,
    req: &AuthzRequest,
    remember: bool,
) -> Result<Reply> {
    let user = session.user.as_ref();
    let now = state.clock.now();
    let client_id = req.client.client_id.as_str();
    if remember {
        let given = state
            .store
            .grants()
            .consent(user.id.as_str(), client_id)?
            .map(|c| ScopeSet::from_names(&c.scopes))
            .unwrap_or_default();
        state.store.grants().put_consent(
            user.id.as_str(),
            client_id,
            &ConsentRecord {
                scopes: given.union(&req.scopes).to_vec(),
                granted_at: now.unix(),
            },
        )?;
    }
    let mut params: Vec<(&'static str, String)> = Vec::new();
    let rt = req.response_type;
    let mut code = None;
    if rt.code {
        let secret = Kind::Code.generate();
        let rec = CodeRecord {
            client_id: client_id.to_owned(),
            user_id: user.id.to_string(),
            redirect_uri: req.redirect_uri.clone(),
            redirect_uri_given: req.redirect_uri_given,
            scopes: req.scopes.to_vec(),
            code_challenge: req.challenge.as_ref().map(|c| c.0.clone()),
            code_challenge_method: req.challenge.as_ref().map(|c| c.1.as_str().to_owned()),
            nonce: req.nonce.clone(),
            family: random_bytes::<16>().to_vec(),
            client_epoch: req.client.token_epoch,
            created_at: now.unix(),
            expires_at: state.clock.deadline(CODE_TTL).unix(),
            used: false,
            auth_time: session.auth_time,
            sid: Some(session.sid.clone()),
        };
        state
            .store
            .grants()
            .insert_code(&fingerprint(&secret), &rec)
            .await?;
        params.push(("code", secret.clone()));
        code = Some(secret);
    }
    let mut access = None;
    if rt.token {
        let to = access_token::Recipient {
            issuer: &req.issuer,
            resource: None,
        };
        let issued = access_token::mint(
            state,
            &to,
            access_token::Acting::User {
                user,
                auth_time: session.auth_time,
            },
            &req.client,
            req.scopes.clone(),
            None,
        )
        .await?;
        let token = issued.token.into_inner();
        params.push(("access_token", token.clone()));
        params.push(("token_type", "Bearer".into()));
        params.push(("expires_in", issued.expires_in.to_string()));
        params.push(("scope", issued.scopes.to_string()));
        access = Some(token);
    }
    if rt.id_token {
        // OIDC Core §3.2.2.10, §3.3.2.11: bound to what travels with it.
        let subject = Subject {
            user,
            auth_time: session.auth_time,
            sid: Some(&session.sid),
            nonce: req.nonce.as_deref(),
        };
        let with = Companions {
            access_token: access.as_deref(),
            code: code.as_deref(),
        };
        let signed =
            id_token::issue(state, &req.issuer, &req.client, subject, &req.scopes, with).await?;
        params.push(("id_token", signed));
    }
    if let Some(s) = &req.state {
        params.push(("state", s.clone()));
    }
    params.push(("iss", req.issuer.clone()));
    Ok(Reply {
        delivery: req.delivery(),
        params,
        is_error: false,
    })
}
