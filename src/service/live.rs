//! The live state of the clients and users that credentials name, read through
//! the authentication cache: what every token, code and grant check asks.

use std::sync::Arc;

use crate::domain::client::Client;
use crate::domain::user::User;
use crate::error::Result;
use crate::service::{clients, users};
use crate::state::AppState;

/// The client `client_id`, if it exists (enabled or not).
pub fn client(state: &AppState, client_id: &str) -> Result<Option<Arc<Client>>> {
    if let Some(c) = state.auth_cache.client(client_id) {
        return Ok(Some(c));
    }
    let generation = state.auth_cache.generation();
    let found = state
        .store
        .clients()
        .get(client_id)?
        .map(clients::from_record)
        .transpose()?
        .map(Arc::new);
    if let Some(c) = &found {
        state.auth_cache.insert_client(generation, c.clone());
    }
    Ok(found)
}

/// The user `user_id`, if it exists (enabled or not).
pub fn user(state: &AppState, user_id: &str) -> Result<Option<Arc<User>>> {
    if let Some(u) = state.auth_cache.user(user_id) {
        return Ok(Some(u));
    }
    let generation = state.auth_cache.generation();
    let found = state
        .store
        .users()
        .get(user_id)?
        .map(users::from_record)
        .transpose()?
        .map(Arc::new);
    if let Some(u) = &found {
        state.auth_cache.insert_user(generation, u.clone());
    }
    Ok(found)
}

/// The user `user_id` if it exists and is enabled.
pub fn active_user(state: &AppState, user_id: &str) -> Result<Option<Arc<User>>> {
    Ok(user(state, user_id)?.filter(|u| !u.disabled))
}

/// Whether a code or refresh token issued to `client` under `epoch` still
/// belongs to the client's live tokens (a new secret with `revoke_tokens`
/// moves the epoch; deleting with it revokes the epoch).
pub fn same_epoch(state: &AppState, client: &Client, epoch: u64) -> bool {
    client.token_epoch == epoch
        && !state
            .revocations
            .is_epoch_revoked(client.client_id.as_str(), epoch)
}
