//! First start: make sure someone can administer the server.

use crate::domain::user::Role;
use crate::error::Result;
use crate::secret::{random_password, Redacted};
use crate::service::users::{self, NewUser};
use crate::state::AppState;

/// The username of the admin made on first start.
pub const ADMIN_USERNAME: &str = "admin";

/// What start-up did, for the banner.
#[derive(Debug)]
pub enum Bootstrap {
    /// The store already had users; nothing was made.
    Existing,
    /// An admin was made with the password from `--admin-password`.
    CreatedWithGivenPassword,
    /// An admin was made with the password the `--seed` file gives `admin`.
    CreatedWithSeededPassword,
    /// An admin was made with this random password, shown once.
    CreatedWithGeneratedPassword(Redacted<String>),
}

/// On an empty store, creates the `admin` user. An existing store is left alone:
/// `--admin-password` only seeds the first start, it never resets a password.
pub async fn ensure_admin(state: &AppState) -> Result<Bootstrap> {
    crate::service::scopes::ensure_catalog(state).await?;
    let outcome = admin(state).await?;
    if let Some(seed) = &state.config.seed {
        crate::service::seed::apply(state, seed).await?;
    }
    crate::service::clients::ensure_swagger_ui(state).await?;
    // Server secrets made at start (token and form keys) are on disk before
    // anything is signed with them.
    state.store.flush().await?;
    Ok(outcome)
}

async fn admin(state: &AppState) -> Result<Bootstrap> {
    if !state.store.users().is_empty() {
        return Ok(Bootstrap::Existing);
    }
    let seeded = state.config.seed.as_ref().and_then(|s| {
        s.users
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(ADMIN_USERNAME))
            .map(|u| Redacted::new(u.password.clone()))
    });
    // The seed applies right after and is authoritative: its password wins.
    let (password, outcome) = match (seeded, &state.config.admin_password) {
        (Some(pw), _) => (pw, Bootstrap::CreatedWithSeededPassword),
        (None, Some(pw)) => (pw.clone(), Bootstrap::CreatedWithGivenPassword),
        (None, None) => {
            let pw = random_password();
            (pw.clone(), Bootstrap::CreatedWithGeneratedPassword(pw))
        }
    };
    users::create(
        state,
        NewUser {
            username: ADMIN_USERNAME.into(),
            password,
            email: None,
            name: Some("Bootstrap administrator".into()),
            roles: [Role::Admin].into(),
            disabled: false,
        },
    )
    .await?;
    Ok(outcome)
}
