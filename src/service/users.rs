//! Users: create, read, update, delete, with the rules that keep the server
//! administrable (usernames unique in any letter case, never zero admins).

use crate::domain::claims;
use crate::domain::time::Timestamp;
use crate::domain::user::{self, Role, Roles, User, UserId, Username};
use crate::error::{Error, Result};
use crate::secret::{random_bytes, Redacted};
use crate::state::AppState;
use crate::store::{StoreError, UserRecord};

/// Most users returned by one list call.
pub const MAX_PAGE: usize = 1000;

/// What a new user is made of.
#[derive(Debug)]
pub struct NewUser {
    pub username: String,
    pub password: Redacted<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub roles: Roles,
    pub disabled: bool,
    /// Custom claims (a JSON object); `None` for none.
    pub claims: Option<serde_json::Value>,
}

/// A change to an optional field: leave it, clear it, or set it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

/// Changes to a user; every field optional.
#[derive(Debug, Default)]
pub struct UserChanges {
    pub roles: Option<Roles>,
    pub password: Option<Redacted<String>>,
    pub disabled: Option<bool>,
    pub email: Patch<String>,
    pub name: Patch<String>,
    /// Replaces the custom claims as a whole.
    pub claims: Option<serde_json::Value>,
}

/// One page of users, and the cursor for the next page when there is one.
#[derive(Debug)]
pub struct UserPage {
    pub users: Vec<User>,
    pub next_after: Option<String>,
}

pub async fn create(state: &AppState, new: NewUser) -> Result<User> {
    create_hashed(state, new, None).await
}

/// [`create`] with the password already hashed (`phc` must be the hash of
/// `new.password`): start-up hashes the bootstrap admin's password while the
/// store is still opening.
pub(crate) async fn create_hashed(
    state: &AppState,
    new: NewUser,
    phc: Option<String>,
) -> Result<User> {
    let username = Username::parse(&new.username).map_err(|m| Error::invalid("username", m))?;
    user::check_password(new.password.expose()).map_err(|m| Error::invalid("password", m))?;
    check_optional(&new.email, "email", user::check_email)?;
    check_optional(&new.name, "name", user::check_display_name)?;
    if new.roles.is_empty() {
        return Err(Error::invalid("roles", "a user needs at least one role"));
    }
    let claims = match &new.claims {
        Some(c) => checked_claims(c)?,
        None => serde_json::Map::new(),
    };
    if state
        .store
        .users()
        .get_by_username(&username.key())?
        .is_some()
    {
        // Checked again atomically by the store; this early answer spares an argon2 run.
        return Err(username_taken(&username));
    }
    let password_hash = match phc {
        Some(phc) => phc,
        None => state.passwords.hash(new.password.into_inner()).await?,
    };
    let now = state.clock.now();
    let user = User {
        id: UserId::from_random(random_bytes()),
        username,
        email: new.email,
        name: new.name,
        password_hash,
        roles: new.roles,
        disabled: new.disabled,
        created_at: now,
        updated_at: now,
        claims,
    };
    match state.store.users().insert(&to_record(&user)).await {
        Ok(()) => Ok(user),
        Err(StoreError::Duplicate("username")) => Err(username_taken(&user.username)),
        Err(e) => Err(e.into()),
    }
}

pub fn get(state: &AppState, id: &str) -> Result<User> {
    let not_found = || Error::NotFound {
        kind: "user",
        id: id.to_owned(),
    };
    let id = UserId::parse(id).ok_or_else(not_found)?;
    state
        .store
        .users()
        .get(id.as_str())?
        .map(from_record)
        .transpose()?
        .ok_or_else(not_found)
}

/// Users in username order (case-insensitive), `limit` at a time.
pub fn list(state: &AppState, after: Option<&str>, limit: usize) -> Result<UserPage> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(Error::invalid(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    let after_key = after.map(str::to_ascii_lowercase);
    // One extra record tells whether another page follows.
    let mut records = state.store.users().list(after_key.as_deref(), limit + 1)?;
    let more = records.len() > limit;
    records.truncate(limit);
    let users = records
        .into_iter()
        .map(from_record)
        .collect::<Result<Vec<_>>>()?;
    let next_after = more
        .then(|| users.last().map(|u| u.username.key()))
        .flatten();
    Ok(UserPage { users, next_after })
}

pub async fn update(state: &AppState, id: &str, changes: UserChanges) -> Result<User> {
    if let Some(roles) = &changes.roles {
        if roles.is_empty() {
            return Err(Error::invalid("roles", "a user needs at least one role"));
        }
    }
    if let Some(pw) = &changes.password {
        user::check_password(pw.expose()).map_err(|m| Error::invalid("password", m))?;
    }
    if let Patch::Set(email) = &changes.email {
        user::check_email(email).map_err(|m| Error::invalid("email", m))?;
    }
    if let Patch::Set(name) = &changes.name {
        user::check_display_name(name).map_err(|m| Error::invalid("name", m))?;
    }
    let new_claims = match &changes.claims {
        Some(c) => Some(checked_claims(c)?),
        None => None,
    };
    // Hash before taking the lock: argon2 is slow and needs no consistency.
    let new_hash = match changes.password {
        Some(pw) => Some(state.passwords.hash(pw.into_inner()).await?),
        None => None,
    };

    let _guard = state.user_writes.lock().await;
    let mut user = get(state, id)?;
    let was_admin = user.is_active_admin();
    if let Some(roles) = changes.roles {
        user.roles = roles;
    }
    if let Some(disabled) = changes.disabled {
        user.disabled = disabled;
    }
    if let Some(hash) = new_hash {
        user.password_hash = hash;
    }
    apply(&mut user.email, changes.email);
    apply(&mut user.name, changes.name);
    if let Some(claims) = new_claims {
        user.claims = claims;
    }
    if was_admin && !user.is_active_admin() {
        ensure_another_admin(state, &user.id)?;
    }
    user.updated_at = state.clock.now().max(user.updated_at);
    let found = state.store.users().replace(&to_record(&user)).await;
    if !found? {
        return Err(Error::NotFound {
            kind: "user",
            id: id.to_owned(),
        });
    }
    Ok(user)
}

pub async fn delete(state: &AppState, id: &str) -> Result<()> {
    let _guard = state.user_writes.lock().await;
    let user = get(state, id)?;
    if user.is_active_admin() {
        ensure_another_admin(state, &user.id)?;
    }
    // Consents go first, so the delete's flush makes their removal durable too.
    state
        .store
        .grants()
        .delete_consents_of_user(user.id.as_str())?;
    state.store.users().delete(user.id.as_str()).await?;
    // The user is gone (their keys and tokens already fail to authenticate);
    // remove their keys and clients.
    crate::service::api_keys::delete_all_of(state, user.id.as_str()).await?;
    crate::service::clients::delete_all_of(state, user.id.as_str()).await?;
    Ok(())
}

/// Refuses a change that would leave no enabled admin besides `leaving`.
/// Callers hold `state.user_writes`, so no other change races with the count.
fn ensure_another_admin(state: &AppState, leaving: &UserId) -> Result<()> {
    for record in state.store.users().all() {
        let other = from_record(record?)?;
        if other.id != *leaving && other.is_active_admin() {
            return Ok(());
        }
    }
    Err(Error::Conflict {
        code: "last_admin",
        message: "this is the last enabled admin: make another user an admin first".into(),
    })
}

fn apply(field: &mut Option<String>, patch: Patch<String>) {
    match patch {
        Patch::Keep => {}
        Patch::Clear => *field = None,
        Patch::Set(v) => *field = Some(v),
    }
}

fn check_optional(
    value: &Option<String>,
    field: &'static str,
    check: fn(&str) -> std::result::Result<(), String>,
) -> Result<()> {
    match value {
        Some(v) => check(v).map_err(|m| Error::invalid(field, m)),
        None => Ok(()),
    }
}

/// A custom-claims value checked by the domain rules (an object, ≤ 8 KiB,
/// no registered names).
fn checked_claims(value: &serde_json::Value) -> Result<serde_json::Map<String, serde_json::Value>> {
    claims::check(value).map_err(|m| Error::invalid("claims", m))
}

fn username_taken(username: &Username) -> Error {
    Error::Conflict {
        code: "username_taken",
        message: format!(
            "the username {:?} is taken (usernames are case-insensitive)",
            username.as_str()
        ),
    }
}

pub(crate) fn to_record(user: &User) -> UserRecord {
    UserRecord {
        id: user.id.to_string(),
        username: user.username.as_str().to_owned(),
        username_key: user.username.key(),
        email: user.email.clone(),
        name: user.name.clone(),
        password_hash: user.password_hash.clone(),
        roles: user.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        disabled: user.disabled,
        created_at: user.created_at.unix(),
        updated_at: user.updated_at.unix(),
        claims_json: if user.claims.is_empty() {
            String::new()
        } else {
            serde_json::Value::Object(user.claims.clone()).to_string()
        },
    }
}

pub(crate) fn from_record(r: UserRecord) -> Result<User> {
    let corrupt =
        |what: &str| Error::Internal(format!("stored user {} has an invalid {what}", r.id));
    Ok(User {
        id: UserId::parse(&r.id).ok_or_else(|| corrupt("id"))?,
        username: Username::parse(&r.username).map_err(|_| corrupt("username"))?,
        email: r.email.clone(),
        name: r.name.clone(),
        password_hash: r.password_hash.clone(),
        roles: r
            .roles
            .iter()
            .map(|s| s.parse::<Role>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| corrupt("role"))?,
        disabled: r.disabled,
        created_at: Timestamp(r.created_at),
        updated_at: Timestamp(r.updated_at),
        claims: claims::from_stored(&r.claims_json).map_err(|_| corrupt("claims"))?,
    })
}
