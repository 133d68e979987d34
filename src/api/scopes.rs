//! `/api/v1/scopes`: the scope catalog.

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{AnyCredential, Authorized, ScopesWrite};
use super::error::{ApiError, AuthOnly, Change, Create, Removal};
use super::ApiTags;
use crate::domain::scope::Scope;
use crate::service::scopes;
use crate::state::AppState;

#[derive(Debug, Object)]
pub struct ScopeView {
    /// RFC 6749 §3.3 scope token.
    pub name: String,
    /// Shown to people on the consent page.
    pub description: String,
    /// Granted to new clients unless told otherwise; members may grant it.
    pub default: bool,
    /// latchkey's own and OIDC's scopes; cannot be deleted.
    pub builtin: bool,
}

impl From<Scope> for ScopeView {
    fn from(s: Scope) -> Self {
        ScopeView {
            name: s.name,
            description: s.description,
            default: s.default,
            builtin: s.builtin,
        }
    }
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CreateScope {
    /// Printable ASCII without space, `"` or `\`; at most 128 characters.
    pub name: String,
    /// At most 500 characters.
    pub description: Option<String>,
    /// Default `false`.
    pub default: Option<bool>,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct UpdateScope {
    pub description: Option<String>,
    pub default: Option<bool>,
}

#[derive(Debug, Object)]
pub struct ScopeList {
    pub scopes: Vec<ScopeView>,
}

#[derive(ApiResponse)]
pub enum CreatedScope {
    #[oai(status = 201)]
    Created(Json<ScopeView>),
}

#[derive(ApiResponse)]
pub enum DeletedScope {
    #[oai(status = 204)]
    Deleted,
}

#[derive(Default)]
pub struct ScopesApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Scopes")]
impl ScopesApi {
    /// List the scope catalog
    ///
    /// Any valid credential may read it.
    #[oai(path = "/scopes", method = "get", operation_id = "listScopes")]
    async fn list(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<AnyCredential>,
    ) -> Result<Json<ScopeList>, ApiError<AuthOnly>> {
        Ok(Json(ScopeList {
            scopes: scopes::list(&state)?
                .into_iter()
                .map(ScopeView::from)
                .collect(),
        }))
    }

    /// Add a scope
    #[oai(path = "/scopes", method = "post", operation_id = "createScope")]
    async fn create(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<ScopesWrite>,
        body: Json<CreateScope>,
    ) -> Result<CreatedScope, ApiError<Create>> {
        let b = body.0;
        let s = scopes::create(
            &state,
            b.name,
            b.description.unwrap_or_default(),
            b.default.unwrap_or(false),
        )
        .await?;
        Ok(CreatedScope::Created(Json(s.into())))
    }

    /// Change a scope's description or default flag
    #[oai(path = "/scopes/:name", method = "patch", operation_id = "updateScope")]
    async fn update(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<ScopesWrite>,
        /// The scope's name.
        name: Path<String>,
        body: Json<UpdateScope>,
    ) -> Result<Json<ScopeView>, ApiError<Change>> {
        let b = body.0;
        Ok(Json(
            scopes::update(&state, &name.0, b.description, b.default)
                .await?
                .into(),
        ))
    }

    /// Delete a scope
    ///
    /// Built-in scopes are refused with `builtin_scope`.
    #[oai(
        path = "/scopes/:name",
        method = "delete",
        operation_id = "deleteScope"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<ScopesWrite>,
        /// The scope's name.
        name: Path<String>,
    ) -> Result<DeletedScope, ApiError<Removal>> {
        scopes::delete(&state, &name.0).await?;
        Ok(DeletedScope::Deleted)
    }
}
