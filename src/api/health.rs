//! `/health` (liveness) and `/ready` (readiness), for orchestrators and tests.

use poem::web::Data;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaResponses, Registry};
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::error::{ApiError, Readiness};
use super::ApiTags;
use crate::service::health;
use crate::state::AppState;

#[derive(Debug, Object)]
pub struct Status {
    /// `ok` for `/health`, `ready` for `/ready`.
    pub status: String,
}

/// A `Status` answer prebuilt as bytes: documented as `Json<Status>` (the same
/// spec), sent without building a JSON tree per request. A unit test checks the
/// bytes against what `Json<Status>` sends.
pub struct StatusJson(&'static str);

const OK: StatusJson = StatusJson(r#"{"status":"ok"}"#);
const READY: StatusJson = StatusJson(r#"{"status":"ready"}"#);

impl ApiResponse for StatusJson {
    fn meta() -> MetaResponses {
        Json::<Status>::meta()
    }

    fn register(registry: &mut Registry) {
        Json::<Status>::register(registry);
    }
}

impl IntoResponse for StatusJson {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type("application/json; charset=utf-8")
            .body(self.0)
    }
}

#[derive(Default)]
pub struct HealthApi;

#[OpenApi(tag = "ApiTags::Service")]
impl HealthApi {
    /// Liveness
    ///
    /// 200 whenever the process serves HTTP.
    #[oai(path = "/health", method = "get", operation_id = "health")]
    async fn health(&self) -> StatusJson {
        OK
    }

    /// Readiness
    ///
    /// 200 once start-up has finished and the store answers; 503 otherwise.
    #[oai(path = "/ready", method = "get", operation_id = "ready")]
    async fn ready(&self, state: Data<&AppState>) -> Result<StatusJson, ApiError<Readiness>> {
        health::readiness(&state)?;
        Ok(READY)
    }
}

#[cfg(test)]
mod tests {
    use poem_openapi::types::ToJSON;

    use super::*;

    /// The prebuilt answers are byte for byte what `Json<Status>` would send.
    #[test]
    fn prebuilt_answers_match_json_status() {
        for (prebuilt, status) in [(OK, "ok"), (READY, "ready")] {
            let slow = Status {
                status: status.into(),
            };
            let json = serde_json::to_string(&slow.to_json()).unwrap();
            assert_eq!(prebuilt.0, json);
        }
    }
}
