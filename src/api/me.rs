//! `GET /api/v1/users/me`'s answer: the caller, how it authenticated and what
//! its credential allows — written straight to JSON on the hot path, with the
//! same shape poem-openapi documents for [`Me`].

use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object};

use super::users::{RoleDto, UserView};
use crate::domain::access::{AuthMethod, Principal};

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
    #[oai(nullable)]
    pub api_key: Option<KeyRef>,
    /// The OAuth client the access token was issued to, when `auth_method` is `access_token`.
    #[oai(nullable)]
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
        let mut m = s.serialize_map(Some(13))?;
        m.serialize_entry(
            "api_key",
            &api_key.map(|(id, name)| KeyRefWire { id, name }),
        )?;
        m.serialize_entry("auth_method", auth_method)?;
        m.serialize_entry("claims", &u.claims)?;
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use poem_openapi::types::ToJSON;

    use super::*;
    use crate::domain::time::Timestamp;
    use crate::domain::user::{Role, User};
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
                claims: serde_json::json!({"tenant": "t\"1", "groups": ["a", "b"]})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
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
