//! `/health` (liveness) and `/ready` (readiness), for orchestrators and tests.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::error::{ApiError, Readiness};
use super::ApiTags;
use crate::service::health;
use crate::state::AppState;

#[derive(Debug, Object)]
pub struct Status {
    /// `ok` for `/health`, `ready` for `/ready`.
    pub status: String,
}

#[derive(Default)]
pub struct HealthApi;

#[OpenApi(tag = "ApiTags::Service")]
impl HealthApi {
    /// Liveness
    ///
    /// 200 whenever the process serves HTTP.
    #[oai(path = "/health", method = "get", operation_id = "health")]
    async fn health(&self) -> Json<Status> {
        Json(Status {
            status: "ok".into(),
        })
    }

    /// Readiness
    ///
    /// 200 once start-up has finished and the store answers; 503 otherwise.
    #[oai(path = "/ready", method = "get", operation_id = "ready")]
    async fn ready(&self, state: Data<&AppState>) -> Result<Json<Status>, ApiError<Readiness>> {
        health::readiness(&state)?;
        Ok(Json(Status {
            status: "ready".into(),
        }))
    }
}
