//! `/api/v1/realms`: creating, listing and deleting realms (admins of the
//! default realm, `realms:write` / `realms:read`). A created realm is served
//! under `/realms/{name}`, with Keycloak-shaped aliases.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::Any;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{Authorized, RealmsRead, RealmsWrite};
use super::error::{ApiError, Create, Listing, Lookup, Removal};
use super::links::BaseUrl;
use super::ApiTags;
use crate::error::Error;
use crate::secret::Redacted;
use crate::service::realms::{self, NewRealm, RealmView, Realms};
use crate::state::AppState;

#[derive(Default)]
pub struct RealmsApi;

#[derive(Debug, Object)]
pub struct CreateRealm {
    /// 1–63 of `a-z 0-9 -`, not starting or ending with `-`; not `default`.
    pub name: String,
    /// The realm admin's password (user `admin`); a random one when absent,
    /// shown once in the answer.
    pub admin_password: Option<String>,
    /// A seed document, the `--seed` file's schema as JSON (`users`, `scopes`,
    /// `clients`, `api_keys`, `signing_keys`), applied at creation.
    pub seed: Option<Any<serde_json::Value>>,
}

/// The realm admin made at creation.
#[derive(Debug, Object)]
pub struct RealmAdmin {
    pub username: String,
    /// Only when it was generated: shown this once.
    #[oai(nullable)]
    pub password: Option<String>,
}

#[derive(Debug, Object)]
pub struct CreatedRealmView {
    pub name: String,
    /// `{public_url}/realms/{name}`.
    pub issuer: String,
    pub discovery_url: String,
    pub docs_url: String,
    pub admin: RealmAdmin,
}

#[derive(Debug, Object)]
pub struct RealmInfo {
    pub name: String,
    pub issuer: String,
    pub discovery_url: String,
    pub docs_url: String,
    /// RFC 3339.
    pub created_at: String,
}

#[derive(Debug, Object)]
pub struct RealmList {
    pub realms: Vec<RealmInfo>,
    /// Pass as `after` to get the next page; absent on the last page.
    #[oai(nullable)]
    pub next_after: Option<String>,
}

#[derive(ApiResponse)]
pub enum CreatedRealm {
    /// The realm exists, durably, and is served under `/realms/{name}`.
    #[oai(status = 201)]
    Created(Json<CreatedRealmView>),
}

#[derive(ApiResponse)]
pub enum DeletedRealm {
    /// The realm and every record of it are gone.
    #[oai(status = 204)]
    Deleted,
}

fn issuer(base: &str, name: &str) -> String {
    format!("{base}/realms/{name}")
}

fn info(base: &str, r: RealmView) -> RealmInfo {
    let issuer = issuer(base, &r.name);
    RealmInfo {
        discovery_url: format!("{issuer}/.well-known/openid-configuration"),
        docs_url: format!("{issuer}/docs"),
        issuer,
        name: r.name,
        created_at: r.created_at.to_rfc3339(),
    }
}

/// The registry, present on the default realm's `/api/v1/realms` requests only.
fn registry<'a>(
    state: &AppState,
    realms: Option<Data<&'a Arc<Realms>>>,
) -> Result<&'a Arc<Realms>, Error> {
    realms::require_default(state)?;
    realms
        .map(|d| d.0)
        .ok_or_else(|| Error::Internal("the realm registry is missing from the route".into()))
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Realms")]
impl RealmsApi {
    /// Create a realm
    ///
    /// An isolated issuer in this process: its own users (an `admin` first),
    /// scope catalog, clients (its own `swagger-ui`), API keys, grants,
    /// sessions, revocation list and signing keys, served under
    /// `/realms/{name}` and Keycloak's `/realms/{name}/protocol/openid-connect/…`.
    /// Admins of the default realm administer every realm.
    #[oai(path = "/realms", method = "post", operation_id = "createRealm")]
    async fn create(
        &self,
        state: Data<&AppState>,
        realms: Option<Data<&Arc<Realms>>>,
        _auth: Authorized<RealmsWrite>,
        BaseUrl(base): BaseUrl,
        body: Json<CreateRealm>,
    ) -> Result<CreatedRealm, ApiError<Create>> {
        let registry = registry(&state, realms)?;
        let b = body.0;
        let (seed, seed_json) = match b.seed {
            Some(Any(v)) => (
                Some(crate::seed::parse_json(&v).map_err(|m| Error::invalid("seed", m))?),
                Some(v.to_string()),
            ),
            None => (None, None),
        };
        let created = registry
            .create(NewRealm {
                name: b.name,
                admin_password: b.admin_password.map(Redacted::new),
                seed,
                seed_json,
            })
            .await?;
        let i = info(&base, created.realm);
        Ok(CreatedRealm::Created(Json(CreatedRealmView {
            name: i.name,
            issuer: i.issuer,
            discovery_url: i.discovery_url,
            docs_url: i.docs_url,
            admin: RealmAdmin {
                username: crate::service::bootstrap::ADMIN_USERNAME.into(),
                password: created.admin_password.map(|p| p.into_inner()),
            },
        })))
    }

    /// List realms
    ///
    /// In name order, `limit` at a time (default 100, at most 1000).
    #[oai(path = "/realms", method = "get", operation_id = "listRealms")]
    async fn list(
        &self,
        state: Data<&AppState>,
        realms: Option<Data<&Arc<Realms>>>,
        _auth: Authorized<RealmsRead>,
        BaseUrl(base): BaseUrl,
        /// Page size, 1–1000.
        limit: Query<Option<u32>>,
        /// Start after this name (the previous page's `next_after`).
        after: Query<Option<String>>,
    ) -> Result<Json<RealmList>, ApiError<Listing>> {
        let registry = registry(&state, realms)?;
        let page = registry.list(after.0.as_deref(), limit.0.unwrap_or(100) as usize)?;
        Ok(Json(RealmList {
            realms: page.realms.into_iter().map(|r| info(&base, r)).collect(),
            next_after: page.next_after,
        }))
    }

    /// Get a realm
    #[oai(path = "/realms/:name", method = "get", operation_id = "getRealm")]
    async fn get(
        &self,
        state: Data<&AppState>,
        realms: Option<Data<&Arc<Realms>>>,
        _auth: Authorized<RealmsRead>,
        BaseUrl(base): BaseUrl,
        /// The realm's name.
        name: Path<String>,
    ) -> Result<Json<RealmInfo>, ApiError<Lookup>> {
        let registry = registry(&state, realms)?;
        Ok(Json(info(&base, registry.view(&name.0)?)))
    }

    /// Delete a realm
    ///
    /// Removes the realm and every record of it, durably. Its paths answer 404
    /// at once and its credentials are refused everywhere.
    #[oai(
        path = "/realms/:name",
        method = "delete",
        operation_id = "deleteRealm"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        realms: Option<Data<&Arc<Realms>>>,
        _auth: Authorized<RealmsWrite>,
        /// The realm's name.
        name: Path<String>,
    ) -> Result<DeletedRealm, ApiError<Removal>> {
        let registry = registry(&state, realms)?;
        registry.delete(&name.0).await?;
        Ok(DeletedRealm::Deleted)
    }
}
