//! `/api/v1/users`: admin CRUD, and `/api/v1/users/me` for any caller.

use std::collections::BTreeSet;

use poem::web::Data;
use poem::{IntoResponse, Response};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::auth::{AnyCredential, Authorized, UsersRead, UsersWrite};
use super::error::{ApiError, Change, Create, CurrentUser, Listing, Lookup, Removal};
use super::ApiTags;
use crate::domain::access::{AuthMethod, Principal};
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
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    pub roles: Vec<RoleDto>,
    /// A disabled user cannot authenticate in any way.
    pub disabled: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

impl From<User> for UserView {
    fn from(u: User) -> UserView {
        UserView {
            id: u.id.to_string(),
            username: u.username.as_str().to_owned(),
            email: u.email,
            name: u.name,
            roles: u.roles.into_iter().map(RoleDto::from).collect(),
            disabled: u.disabled,
            created_at: u.created_at.to_rfc3339(),
            updated_at: u.updated_at.to_rfc3339(),
        }
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
        }
    }
}

/// How the current request authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum AuthMethodDto {
    /// `Authorization: Basic` with the user's password.
    Basic,
    /// `Authorization: Bearer lk_key_…`.
    ApiKey,
    /// `Authorization: Bearer|OAuth lk_at_…`.
    AccessToken,
}

/// The API key a request authenticated with.
#[derive(Debug, Object)]
pub struct KeyRef {
    pub id: String,
    pub name: String,
}

/// The caller: the user behind the credential, and what the credential allows.
#[derive(Debug, Object)]
pub struct Me {
    #[oai(flatten)]
    pub user: UserView,
    /// How this request authenticated.
    pub auth_method: AuthMethodDto,
    /// The API key, when `auth_method` is `api_key`.
    pub api_key: Option<KeyRef>,
    /// The OAuth client the access token was issued to, when `auth_method` is `access_token`.
    pub client_id: Option<String>,
    /// The credential's scopes. For Basic auth, the built-in scopes the user's
    /// roles grant; for an API key or token, exactly the scopes it carries.
    pub scopes: Vec<String>,
}

impl From<Principal> for Me {
    fn from(p: Principal) -> Me {
        let scopes = p.scopes();
        let (auth_method, api_key, client_id) = match p.method {
            AuthMethod::Basic => (AuthMethodDto::Basic, None, None),
            AuthMethod::ApiKey { id, name } => {
                (AuthMethodDto::ApiKey, Some(KeyRef { id, name }), None)
            }
            AuthMethod::AccessToken { client_id } => {
                (AuthMethodDto::AccessToken, None, Some(client_id))
            }
        };
        Me {
            user: UserView::from(&*p.user),
            auth_method,
            api_key,
            client_id,
            scopes,
        }
    }
}

/// `/users/me`'s answer, written straight from the [`Principal`]: the JSON is
/// byte for byte what `Json<Me>` sends (the same schema in the spec, the same
/// keys in the same order: poem-openapi's objects are sorted maps), without
/// building `Me`'s strings and then a `serde_json::Value` tree of it (about 40
/// allocations per request, the largest cost of an API-key `/users/me`).
pub struct MeJson(pub Principal);

impl ApiResponse for MeJson {
    fn meta() -> poem_openapi::registry::MetaResponses {
        Json::<Me>::meta()
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        Json::<Me>::register(registry);
    }
}

impl IntoResponse for MeJson {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&MeWire(&self.0)) {
            Ok(body) => Response::builder()
                .content_type("application/json; charset=utf-8")
                .body(body),
            // Serializing strings and booleans cannot fail; should it, the
            // slow path still answers.
            Err(_) => Json(Me::from(self.0)).into_response(),
        }
    }
}

/// `Me` as serde sees it, keys in sorted order (see [`MeJson`]).
struct MeWire<'a>(&'a Principal);

impl serde::Serialize for MeWire<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let p = self.0;
        let u = &p.user;
        let (auth_method, api_key, client_id) = match &p.method {
            AuthMethod::Basic => ("basic", None, None),
            AuthMethod::ApiKey { id, name } => ("api_key", Some((id, name)), None),
            AuthMethod::AccessToken { client_id } => ("access_token", None, Some(client_id)),
        };
        let mut m = s.serialize_map(Some(12))?;
        m.serialize_entry(
            "api_key",
            &api_key.map(|(id, name)| KeyRefWire { id, name }),
        )?;
        m.serialize_entry("auth_method", auth_method)?;
        m.serialize_entry("client_id", &client_id)?;
        m.serialize_entry("created_at", &Rfc3339(u.created_at))?;
        m.serialize_entry("disabled", &u.disabled)?;
        m.serialize_entry("email", &u.email)?;
        m.serialize_entry("id", u.id.as_str())?;
        m.serialize_entry("name", &u.name)?;
        m.serialize_entry("roles", &RolesWire(&u.roles))?;
        m.serialize_entry("scopes", &ScopesWire(p))?;
        m.serialize_entry("updated_at", &Rfc3339(u.updated_at))?;
        m.serialize_entry("username", u.username.as_str())?;
        m.end()
    }
}

#[derive(serde::Serialize)]
struct KeyRefWire<'a> {
    id: &'a str,
    name: &'a str,
}

struct Rfc3339(crate::domain::time::Timestamp);

impl serde::Serialize for Rfc3339 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

struct RolesWire<'a>(&'a crate::domain::user::Roles);

impl serde::Serialize for RolesWire<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|r| match RoleDto::from(*r) {
            RoleDto::Admin => "admin",
            RoleDto::ClientAdmin => "client-admin",
            RoleDto::Member => "member",
        }))
    }
}

struct ScopesWire<'a>(&'a Principal);

impl serde::Serialize for ScopesWire<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0.credential_scopes {
            Some(scopes) => s.collect_seq(scopes),
            None => s.collect_seq(self.0.scopes()),
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
}

/// One page of users in username order.
#[derive(Debug, Object)]
pub struct UserList {
    pub users: Vec<UserView>,
    /// Pass as `after` to get the next page; absent on the last page.
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
    /// Change roles, password, disabled, email or name. Refused with
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use poem_openapi::types::ToJSON;

    use super::*;
    use crate::domain::time::Timestamp;
    use crate::domain::user::{UserId, Username};

    fn principal(method: AuthMethod, scopes: Option<&[&str]>, roles: &[Role]) -> Principal {
        Principal {
            user: Arc::new(User {
                id: UserId::from_random([7; 12]),
                username: Username::parse("Ada.L").unwrap(),
                email: Some("ada@example.test".into()),
                name: Some("Ada \"Countess\" Lovelace \u{e9}\n".into()),
                password_hash: "$argon2id$…".into(),
                roles: roles.iter().copied().collect(),
                disabled: false,
                created_at: Timestamp(1_700_000_000),
                updated_at: Timestamp(1_800_000_001),
            }),
            method,
            credential_scopes: scopes.map(|s| s.iter().map(|x| x.to_string()).collect()),
        }
    }

    /// `MeJson` sends exactly the bytes `Json<Me>` would, for every way of
    /// authenticating (and with strings that need escaping).
    #[test]
    fn me_json_is_byte_for_byte_what_json_me_sends() {
        let cases = [
            principal(AuthMethod::Basic, None, &[Role::Admin]),
            principal(AuthMethod::Basic, None, &[Role::Member, Role::ClientAdmin]),
            principal(
                AuthMethod::ApiKey {
                    id: "key_1".into(),
                    name: "ci \"deploy\"".into(),
                },
                Some(&["keys:read", "read"]),
                &[Role::Member],
            ),
            principal(
                AuthMethod::ApiKey {
                    id: "key_2".into(),
                    name: "k".into(),
                },
                Some(&[]),
                &[Role::Admin],
            ),
            principal(
                AuthMethod::AccessToken {
                    client_id: "cli_1".into(),
                },
                Some(&["write"]),
                &[Role::ClientAdmin],
            ),
        ];
        for p in cases {
            let fast = serde_json::to_vec(&MeWire(&p)).unwrap();
            let slow = serde_json::to_vec(&Me::from(p).to_json()).unwrap();
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                String::from_utf8(slow).unwrap()
            );
        }
        let mut email_less = principal(AuthMethod::Basic, None, &[Role::Member]);
        let u = Arc::make_mut(&mut email_less.user);
        u.email = None;
        u.name = None;
        u.disabled = true;
        let fast = serde_json::to_vec(&MeWire(&email_less)).unwrap();
        let slow = serde_json::to_vec(&Me::from(email_less).to_json()).unwrap();
        assert_eq!(fast, slow);
    }
}
