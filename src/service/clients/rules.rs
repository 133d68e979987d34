//! Who may reach a client and what it may carry: visibility by owner and role,
//! first-party (skip-consent) clients, and the scopes a caller may put on one.

use std::collections::BTreeSet;

use crate::domain::access::Principal;
use crate::domain::client;
use crate::domain::scope;
use crate::domain::token;
use crate::domain::user::Role;
use crate::error::{Error, Result};
use crate::service::scopes;
use crate::state::AppState;
use crate::store::ClientRecord;

/// Skipping consent speaks for every user of the application: only
/// client-admins and admins may mark a client first-party.
pub(super) fn may_skip_consent(caller: &Principal) -> Result<()> {
    if manages_all(caller) {
        Ok(())
    } else {
        Err(Error::NotPermitted(
            "only client-admins and admins may set skip_consent (first-party applications)".into(),
        ))
    }
}

/// Whether the caller manages every user's clients.
pub(super) fn manages_all(caller: &Principal) -> bool {
    caller.user.roles.contains(&Role::Admin) || caller.user.roles.contains(&Role::ClientAdmin)
}

/// What a caller wants to do with a client.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    Read,
    Change,
}

/// The client if the caller may reach it: their own, or any for client-admins
/// and admins. Anything else is "not found", so ids are not revealed. A client
/// carrying latchkey's own scopes is a credential to latchkey itself, acting as
/// its owner: only the owner or an admin may change it (a client-admin could
/// otherwise take a new secret and act as that user).
pub(super) fn visible(
    state: &AppState,
    caller: &Principal,
    client_id: &str,
    access: Access,
) -> Result<ClientRecord> {
    let not_found = || Error::NotFound {
        kind: "client",
        id: client_id.to_owned(),
    };
    if !client::is_id(client_id) {
        return Err(not_found());
    }
    let record = state
        .store
        .clients()
        .get(client_id)?
        .ok_or_else(not_found)?;
    let own = record.owner_id == caller.user.id.as_str();
    if !own && !manages_all(caller) {
        return Err(not_found());
    }
    if access == Access::Change
        && !own
        && !caller.is_admin()
        && carries_latchkey_scopes(&record.scopes)
    {
        return Err(Error::NotPermitted(
            "this client carries latchkey's own scopes: only its owner or an admin may change it"
                .into(),
        ));
    }
    Ok(record)
}

pub(super) fn carries_latchkey_scopes(scopes: &[String]) -> bool {
    scopes.iter().any(|s| scope::permission_of(s).is_some())
}

/// Refuses when a narrowed caller lacks one of the client's latchkey scopes:
/// a new secret or a re-enabled client hands that power back to the caller.
pub(super) fn within_caller_scopes(caller: &Principal, client: &ClientRecord) -> Result<()> {
    if let Some(own) = &caller.credential_scopes {
        if let Some(missing) = client
            .scopes
            .iter()
            .find(|s| scope::permission_of(s).is_some() && !own.contains(*s))
        {
            return Err(Error::NotPermitted(format!(
                "this client carries the scope {missing:?}, which this credential does not"
            )));
        }
    }
    Ok(())
}

/// The scopes a new or changed client gets: the catalog's defaults when none
/// are named. Each must exist (400) and be grantable to clients by the caller's
/// roles (403); latchkey's own scopes must also be granted by the caller's roles
/// and, for a narrowed caller, carried by its credential (403), so no client can
/// do more than its maker. The joined list must fit in an access token.
pub(super) fn client_scopes(
    state: &AppState,
    caller: &Principal,
    requested: Option<&[String]>,
) -> Result<Vec<String>> {
    let requested: Vec<String> = match requested {
        Some(r) => r.to_vec(),
        None => scopes::defaults(state)?,
    };
    if requested.len() > client::MAX_SCOPES {
        return Err(Error::invalid(
            "scopes",
            format!("at most {} scopes", client::MAX_SCOPES),
        ));
    }
    let mut out = BTreeSet::new();
    for name in &requested {
        let s = scopes::named(state, name)?;
        if !scope::may_grant_to_client(&caller.user.roles, &s) {
            return Err(Error::NotPermitted(format!(
                "members' clients carry only the catalog's default scopes; {name:?} is not one (ask a client-admin)"
            )));
        }
        if scope::permission_of(name).is_some() {
            scopes::check_grantable_by(caller, &s)?;
        }
        out.insert(name.clone());
    }
    let out: Vec<String> = out.into_iter().collect();
    if !token::scopes_fit(&out) {
        return Err(Error::invalid(
            "scopes",
            format!(
                "together the scope names must fit in {} bytes",
                token::MAX_SCOPE_BYTES
            ),
        ));
    }
    Ok(out)
}
