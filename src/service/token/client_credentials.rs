//! `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client
//! gets a token that acts as the client's owner, with the requested subset of
//! the client's scopes (all of them when none are named).

use crate::domain::client::Client;
use crate::domain::oauth::{self, OAuthErrorCode as Code};
use crate::domain::scope::ScopeSet;
use crate::error::{Error, Result};
use crate::service::access_token::{self, IssuedToken, Recipient};
use crate::service::client_auth::invalid_client;
use crate::service::live;
use crate::state::AppState;

pub(super) async fn issue(
    state: &AppState,
    to: &Recipient<'_>,
    client: &Client,
    requested: Option<ScopeSet>,
) -> Result<IssuedToken> {
    if client.is_public() {
        return Err(Error::oauth(
            Code::UnauthorizedClient,
            "a public client may not use the client_credentials grant",
        ));
    }
    let scopes = oauth::grant_scopes(requested, &client.scopes)?;
    // The token acts as the client's owner, who must still be able to act.
    let owner = live::user(state, &client.owner_id)?
        .ok_or_else(|| invalid_client("the client's owner no longer exists"))?;
    if owner.disabled {
        return Err(Error::oauth(
            Code::InvalidGrant,
            "the account that owns this client is disabled",
        ));
    }
    access_token::mint(
        state,
        to,
        access_token::Acting::Client { owner: &owner },
        client,
        scopes,
        None,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::domain::client::GrantType;
    use crate::service::testing::{oauth_code, Fixture, TO, USER_ID};

    const CC: &[GrantType] = &[GrantType::ClientCredentials];

    #[tokio::test]
    async fn the_token_acts_as_the_owner_with_the_requested_subset() {
        let f = Fixture::new().await;
        let client = f.client("cc", false, CC, &["read", "write"]).await;
        let all = issue(&f.state, &TO, &client, None).await.unwrap();
        assert_eq!(all.scopes.to_string(), "read write");
        assert!(all.refresh_token.is_none());
        let some = issue(&f.state, &TO, &client, ScopeSet::parse("write").ok())
            .await
            .unwrap();
        assert_eq!(some.scopes.to_string(), "write");
        let active = access_token::check(&f.state, some.token.expose())
            .unwrap()
            .unwrap();
        assert_eq!(active.user.id.as_str(), USER_ID);
        assert_eq!(active.claims.client_id, "cc");
    }

    #[tokio::test]
    async fn widening_public_clients_and_disabled_owners_are_refused() {
        let f = Fixture::new().await;
        let client = f.client("cc", false, CC, &["read"]).await;
        let err = issue(&f.state, &TO, &client, ScopeSet::parse("read admin").ok())
            .await
            .unwrap_err();
        assert_eq!(oauth_code(err), Code::InvalidScope);
        let public = f.client("pub", true, CC, &["read"]).await;
        assert_eq!(
            oauth_code(issue(&f.state, &TO, &public, None).await.unwrap_err()),
            Code::UnauthorizedClient
        );
        let mut owner = f.state.store.users().get(USER_ID).unwrap().unwrap();
        owner.disabled = true;
        f.state.store.users().replace(&owner).await.unwrap();
        assert_eq!(
            oauth_code(issue(&f.state, &TO, &client, None).await.unwrap_err()),
            Code::InvalidGrant
        );
        f.state.store.users().delete(USER_ID).await.unwrap();
        assert_eq!(
            oauth_code(issue(&f.state, &TO, &client, None).await.unwrap_err()),
            Code::InvalidClient
        );
    }
}
