//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6). A code
//! is single use: presenting it again fails and, when its own client replays
//! it, revokes what it issued (RFC 6749 §4.1.2).

use crate::domain::client::Client;
use crate::domain::pkce;
use crate::domain::scope::ScopeSet;
use crate::error::{Error, Result};
use crate::secret::{fingerprint, Kind};
use crate::service::access_token::{IssuedToken, Recipient};
use crate::service::{live, revocation};
use crate::state::AppState;
use crate::store::Use;

use super::invalid_grant;
use super::refresh_token::{family_horizon, family_of};
use super::user_grant::{self, UserGrant};

/// What the token request presented with the code.
pub(super) struct Presented<'a> {
    pub code: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
}

pub(super) async fn redeem(
    state: &AppState,
    client: &Client,
    to: &Recipient<'_>,
    presented: Presented<'_>,
) -> Result<IssuedToken> {
    let Presented {
        code,
        redirect_uri,
        code_verifier,
    } = presented;
    let bad = || {
        invalid_grant("the code is unknown, expired, already used, or was issued to another client or redirect URI")
    };
    if !Kind::Code.is_well_formed(code) {
        return Err(bad());
    }
    let rec = match state.store.grants().redeem_code(&fingerprint(code)).await? {
        Use::Fresh(rec) => rec,
        // Revoke the tokens issued from a replayed code — when its own client
        // replays it (anyone else holding a spent code must not be able to end
        // another client's grant).
        Use::Replayed(rec) if rec.client_id == client.client_id.as_str() => {
            revocation::revoke_family(state, &family_of(&rec.family)?, family_horizon(state))
                .await?;
            return Err(invalid_grant(
                "the code was already used; the tokens issued from it are revoked",
            ));
        }
        Use::Replayed(_) | Use::Unknown => return Err(bad()),
    };
    if rec.client_id != client.client_id.as_str()
        || rec.expires_at <= state.clock.now().unix()
        || !live::same_epoch(state, client, rec.client_epoch)
    {
        return Err(bad());
    }
    match (redirect_uri, rec.redirect_uri_given) {
        (Some(uri), _) if uri != rec.redirect_uri => return Err(bad()),
        (None, true) => {
            return Err(invalid_grant(
                "redirect_uri is required: the authorization request named one",
            ))
        }
        _ => {}
    }
    match (&rec.code_challenge, code_verifier) {
        (Some(challenge), Some(verifier)) => {
            let method = pkce::Method::parse(rec.code_challenge_method.as_deref())
                .map_err(Error::Internal)?;
            if !pkce::verify(method, challenge, verifier) {
                return Err(invalid_grant(
                    "code_verifier does not match the code_challenge",
                ));
            }
        }
        (Some(_), None) => return Err(invalid_grant("code_verifier is required (PKCE)")),
        (None, Some(_)) => {
            return Err(invalid_grant(
                "code_verifier sent, but the authorization request had no code_challenge",
            ))
        }
        (None, None) => {}
    }
    let user = live::active_user(state, &rec.user_id)?
        .ok_or_else(|| invalid_grant("the user who authorized this code is disabled or gone"))?;
    let granted = ScopeSet::from_names(&rec.scopes);
    let grant = UserGrant {
        user: &user,
        granted: &granted,
        auth_time: rec.auth_time,
        sid: rec.sid.as_deref(),
        nonce: rec.nonce.as_deref(),
        family: family_of(&rec.family)?,
        refresh: true,
        id_token: true,
    };
    user_grant::issue(state, to, client, grant).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::GrantType;
    use crate::service::access_token;

    use crate::domain::oauth::OAuthErrorCode as Code;
    use crate::service::testing::{oauth_code, Fixture, REDIRECT_URI, TO};

    const CODE_AND_REFRESH: &[GrantType] = &[GrantType::AuthorizationCode, GrantType::RefreshToken];
    async fn redeem_with(
        state: &AppState,
        client: &Client,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
    ) -> Result<IssuedToken> {
        let presented = Presented {
            code,
            redirect_uri,
            code_verifier,
        };
        redeem(state, client, &TO, presented).await
    }

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    #[tokio::test]
    async fn a_code_is_spent_once_and_its_replay_revokes_what_it_issued() {
        let f = Fixture::new().await;
        let client = f.client("web", false, CODE_AND_REFRESH, &["read"]).await;
        let code = f.code(&client, &["read"], None).await;
        let issued = redeem_with(&f.state, &client, &code, Some(REDIRECT_URI), None)
            .await
            .unwrap();
        assert_eq!(issued.scopes.to_string(), "read");
        assert!(
            issued.refresh_token.is_some(),
            "the client has refresh_token"
        );
        assert!(access_token::check(&f.state, issued.token.expose())
            .unwrap()
            .is_some());
        let again = redeem_with(&f.state, &client, &code, Some(REDIRECT_URI), None).await;
        assert_eq!(oauth_code(again.unwrap_err()), Code::InvalidGrant);
        assert!(
            access_token::check(&f.state, issued.token.expose())
                .unwrap()
                .is_none(),
            "the replay revoked the token issued from the code"
        );
    }

    #[tokio::test]
    async fn pkce_redirect_uri_client_and_expiry_are_enforced() {
        let f = Fixture::new().await;
        let client = f.client("web", false, CODE_AND_REFRESH, &["read"]).await;
        let other = f.client("other", false, CODE_AND_REFRESH, &["read"]).await;
        let challenge = crate::domain::pkce::s256(VERIFIER);
        let bad = |r: Result<IssuedToken>| oauth_code(r.unwrap_err());

        let code = f.code(&client, &["read"], Some(&challenge)).await;
        assert_eq!(
            bad(redeem_with(&f.state, &client, &code, Some(REDIRECT_URI), None).await),
            Code::InvalidGrant
        );
        let code = f.code(&client, &["read"], Some(&challenge)).await;
        assert_eq!(
            bad(redeem_with(
                &f.state,
                &client,
                &code,
                Some(REDIRECT_URI),
                Some("x".repeat(43).as_str())
            )
            .await),
            Code::InvalidGrant
        );
        let code = f.code(&client, &["read"], Some(&challenge)).await;
        assert!(
            redeem_with(&f.state, &client, &code, Some(REDIRECT_URI), Some(VERIFIER))
                .await
                .is_ok()
        );

        let code = f.code(&client, &["read"], None).await;
        assert_eq!(
            bad(redeem_with(
                &f.state,
                &client,
                &code,
                Some("https://app.example/other"),
                None
            )
            .await),
            Code::InvalidGrant
        );
        let code = f.code(&client, &["read"], None).await;
        assert_eq!(
            bad(redeem_with(&f.state, &client, &code, None, None).await),
            Code::InvalidGrant
        );
        let code = f.code(&client, &["read"], None).await;
        assert_eq!(
            bad(redeem_with(&f.state, &other, &code, Some(REDIRECT_URI), None).await),
            Code::InvalidGrant
        );
        let code = f.code(&client, &["read"], None).await;
        f.clock.advance(600);
        assert_eq!(
            bad(redeem_with(&f.state, &client, &code, Some(REDIRECT_URI), None).await),
            Code::InvalidGrant
        );
        assert_eq!(
            bad(redeem_with(&f.state, &client, "lk_ac_short", Some(REDIRECT_URI), None).await),
            Code::InvalidGrant
        );
    }

    #[tokio::test]
    async fn tokens_carry_only_scopes_the_client_still_has() {
        let f = Fixture::new().await;
        let client = f
            .client("web", false, &[GrantType::AuthorizationCode], &["read"])
            .await;
        let code = f.code(&client, &["read", "write"], None).await;
        let issued = redeem_with(&f.state, &client, &code, Some(REDIRECT_URI), None)
            .await
            .unwrap();
        assert_eq!(issued.scopes.to_string(), "read");
        assert!(issued.refresh_token.is_none(), "no refresh_token grant");
    }
}
