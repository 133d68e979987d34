//! `grant_type=password` (RFC 6749 §4.3; Keycloak's "direct access grants"):
//! for clients that list `password` in their grant types, so a test suite can
//! sign a user in without a browser. RFC 9700 §2.4 forbids it in production;
//! latchkey keeps it off unless a client asks for it. The login throttle
//! counts its failures as it counts the login page's.

use crate::domain::client::Client;
use crate::domain::scope::ScopeSet;
use crate::error::Result;
use crate::secret::{random_bytes, Redacted};
use crate::service::access_token::{IssuedToken, Recipient};
use crate::service::authorize::session::{check_credentials, Credentials};
use crate::state::AppState;

use super::invalid_grant;
use super::user_grant::{self, UserGrant};

pub(super) async fn issue(
    state: &AppState,
    client: &Client,
    to: &Recipient<'_>,
    username: &str,
    password: Redacted<String>,
    scope: Option<ScopeSet>,
) -> Result<IssuedToken> {
    let granted = crate::domain::oauth::grant_scopes(scope, &client.scopes)?;
    let user = match check_credentials(state, username, password).await? {
        Credentials::Valid(user) => user,
        Credentials::Invalid => return Err(invalid_grant("invalid username or password")),
        Credentials::SlowDown(wait) => {
            return Err(invalid_grant(format!(
                "too many failed attempts for this username; try again in {wait} seconds"
            )))
        }
    };
    let grant = UserGrant {
        user: &user,
        granted: &granted,
        auth_time: state.clock.now().unix(),
        sid: None,
        nonce: None,
        family: random_bytes(),
        refresh: true,
        id_token: true,
    };
    user_grant::issue(state, to, client, grant).await
}
