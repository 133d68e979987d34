//! `/api/v1/users`: admin CRUD, and `/api/v1/users/me` for any caller.

use std::collections::BTreeSet;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::{Any, MaybeUndefined};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::auth::{AnyCredential, Authorized, UsersRead, UsersWrite};
use super::error::{ApiError, Change, Create, CurrentUser, Listing, Lookup, Removal};
use super::me::MeJson;
use super::ApiTags;
use crate::domain::user::{Role, User};
use crate::secret::Redacted;
use crate::service::users::{self, NewUser, Patch, UserChanges};
use crate::state::AppState;

/// A role in latchkey's own API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "kebab-case")]
pub enum RoleDto {
    /// Everything.
    Admin,
    /// All clients, and any catalog scope on them.
    ClientAdmin,
    /// Own keys, own clients with the catalog's default scopes.
    Member,
}

impl From<Role> for RoleDto {
    fn from(r: Role) -> RoleDto {
        match r {
            Role::Admin => RoleDto::Admin,
            Role::ClientAdmin => RoleDto::ClientAdmin,
            Role::Member => RoleDto::Member,
        }
    }
}

impl From<RoleDto> for Role {
    fn from(r: RoleDto) -> Role {
        match r {
            RoleDto::Admin => Role::Admin,
            RoleDto::ClientAdmin => Role::ClientAdmin,
            RoleDto::Member => Role::Member,
        }
    }
}

/// A user as the API shows it. The password is never shown, not even hashed.
#[derive(Debug, Object)]
pub struct UserView {
    /// Stable id, `usr_…`.
    pub id: String,
    /// Login name, as created (unique case-insensitively).
    pub username: String,
    #[oai(nullable)]
    pub email: Option<String>,
    /// Display name.
    #[oai(nullable)]
    pub name: Option<String>,
    pub roles: Vec<RoleDto>,
    /// A disabled user cannot authenticate in any way.
    pub disabled: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
    /// Custom claims carried into the user's id_tokens, userinfo and JWT
    /// access tokens (`{}` for none).
    pub claims: Any<serde_json::Value>,
}

impl From<User> for UserView {
    fn from(u: User) -> UserView {
        UserView::from(&u)
    }
}

impl From<&User> for UserView {
    fn from(u: &User) -> UserView {
        UserView {
            id: u.id.to_string(),
            username: u.username.as_str().to_owned(),
            email: u.email.clone(),
            name: u.name.clone(),
            roles: u.roles.iter().copied().map(RoleDto::from).collect(),
            disabled: u.disabled,
            created_at: u.created_at.to_rfc3339(),
            updated_at: u.updated_at.to_rfc3339(),
            claims: Any(serde_json::Value::Object(u.claims.clone())),
        }
    }
}

/// A new user.
#[derive(Object)] // no Debug: holds a plaintext password
#[oai(deny_unknown_fields)]
pub struct CreateUser {
    /// 1–64 characters from `A–Z a–z 0–9 . _ - @ +`; unique in any letter case.
    pub username: String,
    /// 8 characters at least, 1024 bytes at most. Stored only as an argon2id hash.
    pub password: String,
    pub email: Option<String>,
    /// Display name, up to 200 characters.
    pub name: Option<String>,
    /// Defaults to `["member"]`.
    pub roles: Option<Vec<RoleDto>>,
    /// Defaults to `false`.
    pub disabled: Option<bool>,
    /// Custom claims for the user's id_tokens, userinfo and JWT access tokens:
    /// a JSON object, ≤ 8 KiB, without registered names (`iss`, `sub`, `aud`,
    /// `exp`, …). They are added after the scope's standard claims and win
    /// over them (`email_verified: true`, say).
    pub claims: Option<Any<serde_json::Value>>,
}

/// Changes to a user; absent fields stay as they are, `null` clears `email` or `name`.
#[derive(Object)] // no Debug: may hold a plaintext password
#[oai(deny_unknown_fields)]
pub struct UpdateUser {
    /// Replaces the user's roles.
    pub roles: Option<Vec<RoleDto>>,
    /// A new password; takes effect at once, for every session and cache.
    pub password: Option<String>,
    /// Disabling takes effect at once.
    pub disabled: Option<bool>,
    pub email: MaybeUndefined<String>,
    pub name: MaybeUndefined<String>,
    /// Replaces the custom claims as a whole (`{}` removes them all).
    pub claims: Option<Any<serde_json::Value>>,
}

/// One page of users in username order.
#[derive(Debug, Object)]
pub struct UserList {
    pub users: Vec<UserView>,
    /// Pass as `after` to get the next page; absent on the last page.
    #[oai(nullable)]
    pub next_after: Option<String>,
}

#[derive(ApiResponse)]
pub enum CreatedUser {
    /// The user was created.
    #[oai(status = 201)]
    Created(Json<UserView>),
}

#[derive(ApiResponse)]
pub enum DeletedUser {
    /// The user was deleted.
    #[oai(status = 204)]
    Deleted,
}

#[derive(Default)]
pub struct UsersApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Users")]
impl UsersApi {
    /// The current caller
    ///
    /// Who the credential belongs to, how it authenticated and what it may do.
    /// Any valid credential may call this.
    #[oai(path = "/users/me", method = "get", operation_id = "getCurrentUser")]
    async fn me(&self, auth: Authorized<AnyCredential>) -> Result<MeJson, ApiError<CurrentUser>> {
        Ok(MeJson(auth.principal))
    }

    /// Create a user
    #[oai(path = "/users", method = "post", operation_id = "createUser")]
    async fn create(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<UsersWrite>,
        body: Json<CreateUser>,
    ) -> Result<CreatedUser, ApiError<Create>> {
        let b = body.0;
        let roles = b
            .roles
            .map(roles_from)
            .unwrap_or_else(|| [Role::Member].into());
        let user = users::create(
            &state,
            NewUser {
                username: b.username,
                password: Redacted::new(b.password),
                email: b.email,
                name: b.name,
                roles,
                disabled: b.disabled.unwrap_or(false),
                claims: b.claims.map(|c| c.0),
            },
        )
        .await?;
        Ok(CreatedUser::Created(Json(user.into())))
    }

    /// List users
    ///
    /// In case-insensitive username order, `limit` at a time (default 100, at most 1000).
    #[oai(path = "/users", method = "get", operation_id = "listUsers")]
    async fn list(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<UsersRead>,
        /// Page size, 1–1000.
        limit: Query<Option<u32>>,
        /// Start after this username (the previous page's `next_after`).
        after: Query<Option<String>>,
    ) -> Result<Json<UserList>, ApiError<Listing>> {
        let limit = limit.0.unwrap_or(100) as usize;
        let page = users::list(&state, after.0.as_deref(), limit)?;
        Ok(Json(UserList {
            users: page.users.into_iter().map(UserView::from).collect(),
            next_after: page.next_after,
        }))
    }

    /// Get a user
    #[oai(path = "/users/:id", method = "get", operation_id = "getUser")]
    async fn get(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<UsersRead>,
        /// The user's id, `usr_…`.
        id: Path<String>,
    ) -> Result<Json<UserView>, ApiError<Lookup>> {
        Ok(Json(users::get(&state, &id.0)?.into()))
    }

    /// Update a user
    ///
    /// Change roles, password, disabled, email, name or custom claims. Refused with
    /// `last_admin` when it would leave no enabled admin.
    #[oai(path = "/users/:id", method = "patch", operation_id = "updateUser")]
    async fn update(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<UsersWrite>,
        /// The user's id, `usr_…`.
        id: Path<String>,
        body: Json<UpdateUser>,
    ) -> Result<Json<UserView>, ApiError<Change>> {
        let b = body.0;
        let changes = UserChanges {
            roles: b.roles.map(roles_from),
            password: b.password.map(Redacted::new),
            disabled: b.disabled,
            email: patch(b.email),
            name: patch(b.name),
            claims: b.claims.map(|c| c.0),
        };
        Ok(Json(users::update(&state, &id.0, changes).await?.into()))
    }

    /// Delete a user
    ///
    /// Refused with `last_admin` for the last enabled admin.
    #[oai(path = "/users/:id", method = "delete", operation_id = "deleteUser")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<UsersWrite>,
        /// The user's id, `usr_…`.
        id: Path<String>,
    ) -> Result<DeletedUser, ApiError<Removal>> {
        users::delete(&state, &id.0).await?;
        Ok(DeletedUser::Deleted)
    }
}

fn roles_from(roles: Vec<RoleDto>) -> BTreeSet<Role> {
    roles.into_iter().map(Role::from).collect()
}

fn patch(v: MaybeUndefined<String>) -> Patch<String> {
    match v {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(v) => Patch::Set(v),
    }
}
