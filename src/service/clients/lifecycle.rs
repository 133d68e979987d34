//! A client's lifecycle: enabling and disabling, a new secret (optionally
//! revoking every token so far), and deletion (optionally revoking its tokens;
//! the consents given to it are forgotten).

use crate::domain::access::Principal;
use crate::domain::client::Client;
use crate::error::{Error, Result};
use crate::secret::{fingerprint, random_bytes, Kind, Redacted};
use crate::service::revocation;
use crate::state::AppState;
use crate::store::ClientRecord;

use super::rules::{visible, within_caller_scopes, Access};
use super::{apply, from_record, IssuedClient};

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
    from_record(updated)
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
        revocation::revoke_client_epoch(state, client_id, current.token_epoch).await?;
    }
    let secret = Kind::ClientSecret.generate();
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
        client: from_record(updated)?,
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
pub(super) async fn remove(
    state: &AppState,
    current: &ClientRecord,
    revoke_tokens: bool,
) -> Result<()> {
    let client_id = current.client_id.as_str();
    // A disabled client's tokens are refused; deleting it must not bring them
    // back, so they are revoked as with `revoke_tokens`.
    let revoke = revoke_tokens || !current.enabled;
    if revoke {
        // The marker first: should the delete fail, the tokens are still revoked.
        revocation::revoke_client_epoch(state, client_id, current.token_epoch).await?;
    }
    // Consents go first, so the delete's flush makes their removal durable too.
    state.store.grants().delete_consents_of_client(client_id)?;
    if let Some(deleted) = state.store.clients().delete(client_id).await? {
        // A change that landed between the read and the delete (a new epoch,
        // a disable) is covered too.
        let covered = revoke && deleted.token_epoch == current.token_epoch;
        if (revoke || !deleted.enabled) && !covered {
            revocation::revoke_client_epoch(state, client_id, deleted.token_epoch).await?;
        }
    }
    Ok(())
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
