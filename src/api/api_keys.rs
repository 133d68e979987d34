//! `/api/v1/api-keys`: create (secret shown once), list, get, delete, disable,
//! enable, roll.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{Authorized, KeysRead, KeysWrite};
use super::error::{ApiError, Change, Create, KeyRemoval, Lookup, OwnedListing, Toggle};
use super::ApiTags;
use crate::domain::time::Timestamp;
use crate::error::Error;
use crate::service::api_keys::{self, ApiKey, Expiry, IssuedKey, NewKey};
use crate::state::AppState;

/// An API key as list and get show it: never the secret or its hash.
#[derive(Debug, Object)]
pub struct ApiKeyView {
    /// Stable id, `key_…`.
    pub id: String,
    pub name: String,
    /// The secret's first characters, to recognise it (`lk_key_` + 5).
    pub prefix: String,
    /// The user the key acts as.
    pub user_id: String,
    pub scopes: Vec<String>,
    /// The caller's own data, stored as given.
    pub meta: serde_json::Value,
    pub enabled: bool,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; absent: never expires.
    #[oai(nullable)]
    pub expires_at: Option<String>,
    /// RFC 3339; advisory (recorded in batches).
    #[oai(nullable)]
    pub last_used_at: Option<String>,
    /// Advisory.
    pub use_count: u64,
    /// Disabled by an administrator: only an administrator can enable it again.
    pub disabled_by_admin: bool,
}

impl From<ApiKey> for ApiKeyView {
    fn from(k: ApiKey) -> Self {
        ApiKeyView {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            user_id: k.owner_id,
            scopes: k.scopes,
            meta: serde_json::from_str(&k.meta_json).unwrap_or_default(),
            enabled: k.enabled,
            created_at: k.created_at.to_rfc3339(),
            expires_at: k.expires_at.map(Timestamp::to_rfc3339),
            last_used_at: k.last_used_at.map(Timestamp::to_rfc3339),
            use_count: k.use_count,
            disabled_by_admin: k.disabled_by_admin,
        }
    }
}

/// A key with its secret. Shown once: save the secret now; latchkey keeps only a hash.
#[derive(Object)] // no Debug: holds the secret
pub struct ApiKeyIssued {
    /// Send as `Authorization: Bearer <secret>`.
    pub secret: String,
    #[oai(flatten)]
    pub key: ApiKeyView,
}

impl From<IssuedKey> for ApiKeyIssued {
    fn from(k: IssuedKey) -> Self {
        ApiKeyIssued {
            secret: k.secret.into_inner(),
            key: k.key.into(),
        }
    }
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CreateApiKey {
    /// What the key is for, 1–100 characters.
    pub name: String,
    /// Catalog scopes the key carries; each must be one its owner may grant. Default: none.
    pub scopes: Option<Vec<String>>,
    /// RFC 3339 expiry, in the future. Exclusive with `expires_in_seconds`.
    pub expires_at: Option<String>,
    /// Lifetime in seconds from now.
    pub expires_in_seconds: Option<i64>,
    /// Any JSON object, stored and shown with the key.
    pub meta: Option<serde_json::Value>,
}

#[derive(Debug, Object)]
pub struct ApiKeyList {
    pub api_keys: Vec<ApiKeyView>,
    /// Pass as `after` for the next page; absent on the last page.
    #[oai(nullable)]
    pub next_after: Option<String>,
}

#[derive(ApiResponse)]
pub enum CreatedKey {
    /// Created; the response holds the secret, once.
    #[oai(status = 201)]
    Created(Json<ApiKeyIssued>),
}

#[derive(ApiResponse)]
pub enum DeletedKey {
    /// Deleted: the key stops working at once.
    #[oai(status = 204)]
    Deleted,
}

#[derive(Default)]
pub struct ApiKeysApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::ApiKeys")]
impl ApiKeysApi {
    /// Create an API key
    ///
    /// The key acts as the caller, narrowed to `scopes`. The secret is in this
    /// response only.
    #[oai(path = "/api-keys", method = "post", operation_id = "createApiKey")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: Authorized<KeysWrite>,
        body: Json<CreateApiKey>,
    ) -> Result<CreatedKey, ApiError<Create>> {
        let b = body.0;
        let expiry = match (b.expires_at, b.expires_in_seconds) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "expires_at",
                    "give expires_at or expires_in_seconds, not both",
                )
                .into())
            }
            (Some(at), None) => Expiry::At(
                Timestamp::parse_rfc3339(&at).map_err(|m| Error::invalid("expires_at", m))?,
            ),
            (None, Some(secs)) => Expiry::In(secs),
            (None, None) => Expiry::Never,
        };
        let meta = match b.meta {
            None => serde_json::json!({}),
            Some(m @ serde_json::Value::Object(_)) => m,
            Some(_) => return Err(Error::invalid("meta", "must be a JSON object").into()),
        };
        let issued = api_keys::create(
            &state,
            &auth.principal,
            NewKey {
                name: b.name,
                scopes: b.scopes.unwrap_or_default(),
                expiry,
                meta_json: meta.to_string(),
            },
        )
        .await?;
        Ok(CreatedKey::Created(Json(issued.into())))
    }

    /// List API keys
    ///
    /// The caller's own keys; an admin may pass `user_id` to list another user's.
    #[oai(path = "/api-keys", method = "get", operation_id = "listApiKeys")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: Authorized<KeysRead>,
        /// Whose keys (admins only; default: the caller).
        user_id: Query<Option<String>>,
        /// Page size, 1–1000 (default 100).
        limit: Query<Option<u32>>,
        /// Start after this key id (the previous page's `next_after`).
        after: Query<Option<String>>,
    ) -> Result<Json<ApiKeyList>, ApiError<OwnedListing>> {
        let (keys, next_after) = api_keys::list(
            &state,
            &auth.principal,
            user_id.0.as_deref(),
            after.0.as_deref(),
            limit.0.unwrap_or(100) as usize,
        )?;
        Ok(Json(ApiKeyList {
            api_keys: keys.into_iter().map(ApiKeyView::from).collect(),
            next_after,
        }))
    }

    /// Get an API key
    #[oai(path = "/api-keys/:id", method = "get", operation_id = "getApiKey")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: Authorized<KeysRead>,
        /// The key's id, `key_…`.
        id: Path<String>,
    ) -> Result<Json<ApiKeyView>, ApiError<Lookup>> {
        Ok(Json(api_keys::get(&state, &auth.principal, &id.0)?.into()))
    }

    /// Delete an API key
    #[oai(
        path = "/api-keys/:id",
        method = "delete",
        operation_id = "deleteApiKey"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: Authorized<KeysWrite>,
        /// The key's id, `key_…`.
        id: Path<String>,
    ) -> Result<DeletedKey, ApiError<KeyRemoval>> {
        api_keys::delete(&state, &auth.principal, &id.0).await?;
        Ok(DeletedKey::Deleted)
    }

    /// Disable an API key
    ///
    /// Refused at once until enabled again.
    #[oai(
        path = "/api-keys/:id/disable",
        method = "post",
        operation_id = "disableApiKey"
    )]
    async fn disable(
        &self,
        state: Data<&AppState>,
        auth: Authorized<KeysWrite>,
        /// The key's id, `key_…`.
        id: Path<String>,
    ) -> Result<Json<ApiKeyView>, ApiError<Toggle>> {
        set_enabled(&state, &auth, &id, false).await
    }

    /// Enable an API key
    #[oai(
        path = "/api-keys/:id/enable",
        method = "post",
        operation_id = "enableApiKey"
    )]
    async fn enable(
        &self,
        state: Data<&AppState>,
        auth: Authorized<KeysWrite>,
        /// The key's id, `key_…`.
        id: Path<String>,
    ) -> Result<Json<ApiKeyView>, ApiError<Toggle>> {
        set_enabled(&state, &auth, &id, true).await
    }

    /// Roll an API key's secret
    ///
    /// A new secret for the same key and settings, in this response only. The old
    /// secret keeps working for `grace_seconds` (default 0: it stops at once).
    #[oai(
        path = "/api-keys/:id/roll",
        method = "post",
        operation_id = "rollApiKey"
    )]
    async fn roll(
        &self,
        state: Data<&AppState>,
        auth: Authorized<KeysWrite>,
        /// The key's id, `key_…`.
        id: Path<String>,
        /// Seconds the old secret keeps working (0 to ten years).
        grace_seconds: Query<Option<i64>>,
    ) -> Result<Json<ApiKeyIssued>, ApiError<Change>> {
        let issued =
            api_keys::roll(&state, &auth.principal, &id.0, grace_seconds.0.unwrap_or(0)).await?;
        Ok(Json(issued.into()))
    }
}

/// Disable and enable: one change, two operations.
async fn set_enabled(
    state: &AppState,
    auth: &Authorized<KeysWrite>,
    id: &Path<String>,
    enabled: bool,
) -> Result<Json<ApiKeyView>, ApiError<Toggle>> {
    let key = api_keys::set_enabled(state, &auth.principal, &id.0, enabled).await?;
    Ok(Json(key.into()))
}
