//! The scope catalog: seeded on start, read by anyone authenticated, changed by
//! admins; built-in scopes cannot be deleted.

use crate::domain::access::Principal;
use crate::domain::scope::{self, Scope};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{ScopeRecord, StoreError};

/// Longest description accepted.
pub const MAX_DESCRIPTION: usize = 500;

/// On a new store, the built-in and shipped scopes; on an existing one, any
/// built-in scope a newer version added (shipped ones deleted by an admin stay
/// deleted).
pub async fn ensure_catalog(state: &AppState) -> Result<()> {
    let scopes = state.store.scopes();
    let mut wanted: Vec<ScopeRecord> = scope::builtin_catalog().iter().map(to_record).collect();
    if scopes.is_empty() {
        wanted.extend(scope::shipped_catalog().iter().map(to_record));
    }
    scopes.insert_missing(&wanted).await?;
    Ok(())
}

pub fn list(state: &AppState) -> Result<Vec<Scope>> {
    Ok(state
        .store
        .scopes()
        .all()?
        .into_iter()
        .map(from_record)
        .collect())
}

/// A scope named in a request's `scopes`: a valid name and in the catalog,
/// else 400 naming it.
pub fn named(state: &AppState, name: &str) -> Result<Scope> {
    scope::check_name(name).map_err(|m| Error::invalid("scopes", m))?;
    match get(state, name) {
        Err(Error::NotFound { .. }) => Err(Error::invalid(
            "scopes",
            format!("unknown scope {name:?} (see GET /api/v1/scopes)"),
        )),
        other => other,
    }
}

/// Refuses (403, naming it) a scope the caller may not hand on: one its roles
/// do not grant, or, for a narrowed credential, one the credential lacks.
pub fn check_grantable_by(caller: &Principal, s: &Scope) -> Result<()> {
    if !scope::may_grant(&caller.user.roles, s) {
        return Err(Error::NotPermitted(format!(
            "you may not grant the scope {:?}: your roles do not include it",
            s.name
        )));
    }
    if caller
        .credential_scopes
        .as_ref()
        .is_some_and(|own| !own.contains(&s.name))
    {
        return Err(Error::NotPermitted(format!(
            "you may not grant the scope {:?}: this credential does not carry it",
            s.name
        )));
    }
    Ok(())
}

/// The names of the catalog's default scopes (what a new client gets).
pub fn defaults(state: &AppState) -> Result<Vec<String>> {
    Ok(list(state)?
        .into_iter()
        .filter(|s| s.default)
        .map(|s| s.name)
        .collect())
}

pub fn get(state: &AppState, name: &str) -> Result<Scope> {
    state
        .store
        .scopes()
        .get(name)?
        .map(from_record)
        .ok_or_else(|| Error::NotFound {
            kind: "scope",
            id: name.to_owned(),
        })
}

pub async fn create(
    state: &AppState,
    name: String,
    description: String,
    default: bool,
) -> Result<Scope> {
    scope::check_name(&name).map_err(|m| Error::invalid("name", m))?;
    check_description(&description)?;
    let s = Scope {
        name,
        description,
        default,
        builtin: false,
    };
    match state.store.scopes().insert(&to_record(&s)).await {
        Ok(()) => Ok(s),
        Err(StoreError::Duplicate(_)) => Err(Error::Conflict {
            code: "scope_exists",
            message: format!("the scope {:?} already exists", s.name),
        }),
        Err(e) => Err(e.into()),
    }
}

pub async fn update(
    state: &AppState,
    name: &str,
    description: Option<String>,
    default: Option<bool>,
) -> Result<Scope> {
    if let Some(d) = &description {
        check_description(d)?;
    }
    let mut s = get(state, name)?;
    if let Some(d) = description {
        s.description = d;
    }
    if let Some(d) = default {
        s.default = d;
    }
    if !state.store.scopes().replace(&to_record(&s)).await? {
        return Err(Error::NotFound {
            kind: "scope",
            id: name.to_owned(),
        });
    }
    Ok(s)
}

pub async fn delete(state: &AppState, name: &str) -> Result<()> {
    let s = get(state, name)?;
    if s.builtin {
        return Err(Error::Conflict {
            code: "builtin_scope",
            message: format!("{name:?} is a built-in scope and cannot be deleted"),
        });
    }
    state.store.scopes().delete(name).await?;
    Ok(())
}

fn check_description(d: &str) -> Result<()> {
    if d.chars().count() > MAX_DESCRIPTION {
        return Err(Error::invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        ));
    }
    if d.chars().any(char::is_control) {
        return Err(Error::invalid(
            "description",
            "must not contain control characters",
        ));
    }
    Ok(())
}

fn to_record(s: &Scope) -> ScopeRecord {
    ScopeRecord {
        name: s.name.clone(),
        description: s.description.clone(),
        default: s.default,
        builtin: s.builtin,
    }
}

fn from_record(r: ScopeRecord) -> Scope {
    Scope {
        name: r.name,
        description: r.description,
        default: r.default,
        builtin: r.builtin,
    }
}
