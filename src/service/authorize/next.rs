//! What the authorization endpoint does next for a validated request: ask
//! for the password, ask for consent, or answer the client at once — the
//! rules of `prompt`, `max_age` and `id_token_hint` (OIDC Core §3.1.2.1),
//! in one place for every page.

use crate::error::Result;
use crate::state::AppState;

use super::{approve, needs_consent, AuthzRequest, Reply, Session};

/// The next step of an authorization request.
pub enum Next {
    /// Show the login page (no usable session, or `prompt=login`).
    SignIn,
    /// Show the consent page to this signed-in user.
    Consent(Session),
    /// Answer the client: what was issued, or a `prompt=none` error.
    Reply(Reply),
}

/// The first step, with the browser's session if it has one. A session
/// serves only within `max_age` and only for the user an `id_token_hint`
/// names; `prompt=none` never shows a page.
pub async fn first(state: &AppState, req: &AuthzRequest, session: Option<Session>) -> Result<Next> {
    let now = state.clock.now().unix();
    let usable = session
        .filter(|s| req.max_age.is_none_or(|max| now - s.auth_time <= max))
        .filter(|s| {
            req.hinted_sub
                .as_deref()
                .is_none_or(|sub| sub == s.user.id.as_str())
        });
    if req.prompt.none {
        // OIDC Core §3.1.2.6: tell the client what a page would have taken.
        let Some(session) = usable else {
            return Ok(Next::Reply(req.error(
                "login_required",
                "the user is not signed in (prompt=none)",
            )));
        };
        if needs_consent(state, &session.user, req)? {
            return Ok(Next::Reply(req.error(
                "consent_required",
                "the user has not consented to these scopes (prompt=none)",
            )));
        }
        return Ok(Next::Reply(approve(state, &session, req, false).await?));
    }
    match usable {
        Some(session) if !req.prompt.login => signed_in(state, req, session).await,
        _ => Ok(Next::SignIn),
    }
}

/// The step for a signed-in user (a usable session, or one just made by the
/// login form): consent when needed or asked for (`prompt=consent`), else
/// the answer.
pub async fn signed_in(state: &AppState, req: &AuthzRequest, session: Session) -> Result<Next> {
    if req.prompt.consent || needs_consent(state, &session.user, req)? {
        return Ok(Next::Consent(session));
    }
    Ok(Next::Reply(approve(state, &session, req, false).await?))
}
