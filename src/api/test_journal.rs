//! `/api/v1/test/faults` and `/api/v1/test/requests`: a realm's queued faults
//! and its request journal (test control; memory only).

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::Any;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{Authorized, TestControl};
use super::error::{ApiError, TestControlChange, TestControlRead};
use super::test_control::enabled;
use super::ApiTags;
use crate::domain::time::Timestamp;
use crate::error::{Error, Result};
use crate::service::control::{self, FaultView, Match, Respond};
use crate::state::AppState;

#[derive(Default)]
pub struct TestJournalApi;

/// Which requests a fault answers.
#[derive(Debug, Object)]
pub struct FaultMatch {
    /// `authorize`, `token`, `introspect`, `revoke`, `userinfo`, `jwks`,
    /// `discovery` or `api` (never `/api/v1/test` itself).
    pub endpoint: String,
    /// The client the request names (Basic or `client_id`).
    pub client_id: Option<String>,
    pub grant_type: Option<String>,
    /// `username` (the login form, the password grant) or the API's Basic user.
    pub username: Option<String>,
}

/// Exactly one of: `oauth_error` (with `status`, `description`), `status`
/// with `body` (and `headers`), `delay_ms`, `malformed_body`, `close_connection`.
#[derive(Debug, Object)]
pub struct FaultRespond {
    /// An RFC 6749 error code; status 401 for `invalid_client`, 500 for
    /// `server_error`, 503 for `temporarily_unavailable`, else 400.
    pub oauth_error: Option<String>,
    pub status: Option<u16>,
    pub description: Option<String>,
    /// The JSON body answered with `status`.
    pub body: Option<Any<serde_json::Value>>,
    pub headers: Option<std::collections::BTreeMap<String, String>>,
    /// Wait this long (at most 30,000 ms), then answer normally.
    pub delay_ms: Option<u64>,
    /// A 200 whose body is not valid JSON.
    pub malformed_body: Option<bool>,
    /// Drop the connection without a complete answer.
    pub close_connection: Option<bool>,
}

#[derive(Debug, Object)]
pub struct NewFault {
    #[oai(rename = "match")]
    pub matches: FaultMatch,
    pub respond: FaultRespond,
    /// How many requests it answers (default 1); 0: until deleted.
    pub times: Option<u32>,
}

#[derive(Debug, Object)]
pub struct Fault {
    pub id: String,
    #[oai(rename = "match")]
    pub matches: Any<serde_json::Value>,
    pub respond: Any<serde_json::Value>,
    /// Uses left; `null` for a fault that stays until deleted.
    #[oai(nullable)]
    pub remaining: Option<u32>,
    /// How many requests it answered.
    pub fired: u32,
}

#[derive(Debug, Object)]
pub struct FaultList {
    pub faults: Vec<Fault>,
}

/// One recorded request, secrets redacted.
#[derive(Debug, Object)]
pub struct JournalEntry {
    /// RFC 3339, the realm's time.
    pub at: String,
    pub method: String,
    pub path: String,
    pub endpoint: String,
    #[oai(nullable)]
    pub client_id: Option<String>,
    #[oai(nullable)]
    pub grant_type: Option<String>,
    #[oai(nullable)]
    pub username: Option<String>,
    #[oai(nullable)]
    pub scope: Option<String>,
    pub status: u16,
    /// The `error` of a JSON error answer.
    #[oai(nullable)]
    pub error: Option<String>,
    pub duration_ms: f64,
    /// The fault that answered, if one did.
    #[oai(nullable)]
    pub fault: Option<String>,
    /// Every parameter: passwords and secrets as `***`, credentials as their
    /// prefix, `#` and 8 hex characters of their blake3 hash.
    pub params: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Object)]
pub struct JournalPage {
    /// Newest first.
    pub requests: Vec<JournalEntry>,
    /// How many entries match (more than `requests` when limited).
    pub count: u64,
}

#[derive(ApiResponse)]
pub enum CreatedFault {
    #[oai(status = 201)]
    Created(Json<Fault>),
}

#[derive(ApiResponse)]
pub enum Removed {
    #[oai(status = 204)]
    Done,
}

fn view(f: FaultView) -> Fault {
    let m = &f.matches;
    let respond = match &f.respond {
        Respond::OAuthError {
            code,
            status,
            description,
        } => {
            serde_json::json!({"oauth_error": code, "status": status, "description": description})
        }
        Respond::Status {
            status,
            body,
            headers,
        } => serde_json::json!({
            "status": status,
            "body": serde_json::from_str::<serde_json::Value>(body).unwrap_or_default(),
            "headers": headers.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
        }),
        Respond::Delay { ms } => serde_json::json!({ "delay_ms": ms }),
        Respond::Malformed => serde_json::json!({ "malformed_body": true }),
        Respond::Close => serde_json::json!({ "close_connection": true }),
    };
    Fault {
        id: f.id,
        matches: Any(serde_json::json!({
            "endpoint": m.endpoint, "client_id": m.client_id,
            "grant_type": m.grant_type, "username": m.username,
        })),
        respond: Any(respond),
        remaining: f.remaining,
        fired: f.fired,
    }
}

fn respond_of(r: FaultRespond) -> Result<Respond> {
    let bad = |m: &str| Error::invalid("respond", m.to_owned());
    let kinds = [
        r.oauth_error.is_some(),
        r.body.is_some(),
        r.delay_ms.is_some(),
        r.malformed_body == Some(true),
        r.close_connection == Some(true),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err(bad("give exactly one of oauth_error, status with body, delay_ms, malformed_body, close_connection"));
    }
    let status = |s: Option<u16>, default: u16| -> Result<u16> {
        let s = s.unwrap_or(default);
        if (200..=599).contains(&s) {
            Ok(s)
        } else {
            Err(Error::invalid("respond.status", "between 200 and 599"))
        }
    };
    if let Some(code) = r.oauth_error {
        if code.is_empty() || !code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(Error::invalid(
                "respond.oauth_error",
                "an error code: a-z and '_'",
            ));
        }
        let default = control::oauth_status(&code);
        return Ok(Respond::OAuthError {
            status: status(r.status, default)?,
            code,
            description: r.description,
        });
    }
    if let Some(Any(body)) = r.body {
        let Some(s) = r.status else {
            return Err(Error::invalid("respond.status", "body needs a status"));
        };
        let mut headers = Vec::new();
        for (k, v) in r.headers.unwrap_or_default() {
            if poem::http::HeaderName::try_from(k.as_str()).is_err()
                || poem::http::HeaderValue::try_from(v.as_str()).is_err()
            {
                return Err(Error::invalid(
                    "respond.headers",
                    format!("{k:?} is not a valid header"),
                ));
            }
            headers.push((k, v));
        }
        return Ok(Respond::Status {
            status: status(Some(s), s)?,
            body: body.to_string(),
            headers,
        });
    }
    if r.status.is_some() || r.headers.is_some() || r.description.is_some() {
        return Err(bad(
            "status, headers and description go with oauth_error or body",
        ));
    }
    if let Some(ms) = r.delay_ms {
        return Ok(Respond::Delay { ms });
    }
    if r.malformed_body == Some(true) {
        return Ok(Respond::Malformed);
    }
    Ok(Respond::Close)
}

#[OpenApi(prefix_path = "/api/v1/test", tag = "ApiTags::TestControl")]
impl TestJournalApi {
    /// Queue a fault
    ///
    /// The next matching requests (`times`, default 1; 0: until deleted) get
    /// the fault's answer instead of the endpoint's, and change nothing.
    #[oai(path = "/faults", method = "post", operation_id = "addTestFault")]
    async fn add(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<TestControl>,
        body: Json<NewFault>,
    ) -> Result<CreatedFault, ApiError<TestControlChange>> {
        enabled(&state)?;
        let b = body.0;
        let respond = respond_of(b.respond)?;
        let m = Match {
            endpoint: b.matches.endpoint,
            client_id: b.matches.client_id,
            grant_type: b.matches.grant_type,
            username: b.matches.username,
        };
        let fault = state.faults.add(m, respond, b.times.unwrap_or(1))?;
        Ok(CreatedFault::Created(Json(view(fault))))
    }

    /// List the faults
    #[oai(path = "/faults", method = "get", operation_id = "listTestFaults")]
    async fn list(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<TestControl>,
    ) -> Result<Json<FaultList>, ApiError<TestControlRead>> {
        enabled(&state)?;
        Ok(Json(FaultList {
            faults: state.faults.list().into_iter().map(view).collect(),
        }))
    }

    /// Delete a fault
    #[oai(
        path = "/faults/:id",
        method = "delete",
        operation_id = "deleteTestFault"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<TestControl>,
        /// The fault's id (`flt_…`).
        id: Path<String>,
    ) -> Result<Removed, ApiError<TestControlRead>> {
        enabled(&state)?;
        state.faults.remove(&id.0)?;
        Ok(Removed::Done)
    }

    /// Delete every fault
    #[oai(path = "/faults", method = "delete", operation_id = "clearTestFaults")]
    async fn clear(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<TestControl>,
    ) -> Result<Removed, ApiError<TestControlRead>> {
        enabled(&state)?;
        state.faults.clear();
        Ok(Removed::Done)
    }

    /// The request journal
    ///
    /// The realm's last requests (its protocol endpoints, pages and API;
    /// never `/api/v1/test`), newest first, secrets redacted.
    // One parameter per documented query filter.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/requests", method = "get", operation_id = "listTestRequests")]
    async fn requests(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<TestControl>,
        /// Only this endpoint (as faults name them, or `logout`).
        endpoint: Query<Option<String>>,
        client_id: Query<Option<String>>,
        status: Query<Option<u16>>,
        /// Only entries strictly after this instant (RFC 3339).
        since: Query<Option<String>>,
        /// At most this many (1–1000, default 100).
        limit: Query<Option<u32>>,
    ) -> Result<Json<JournalPage>, ApiError<TestControlChange>> {
        enabled(&state)?;
        let since = match since.0 {
            Some(s) => Some(Timestamp::parse_rfc3339(&s).map_err(|m| Error::invalid("since", m))?),
            None => None,
        };
        let limit = limit.0.unwrap_or(100) as usize;
        if limit == 0 || limit > 1000 {
            return Err(Error::invalid("limit", "must be between 1 and 1000").into());
        }
        let q = control::Query {
            endpoint: endpoint.0,
            client_id: client_id.0,
            status: status.0,
            since,
            limit,
        };
        let (entries, count) = state.journal.query(&q);
        Ok(Json(JournalPage {
            count: count as u64,
            requests: entries
                .into_iter()
                .map(|e| JournalEntry {
                    at: e.at.to_rfc3339(),
                    method: e.method.to_owned(),
                    path: e.path,
                    endpoint: e.endpoint.to_owned(),
                    client_id: e.client_id,
                    grant_type: e.grant_type,
                    username: e.username,
                    scope: e.scope,
                    status: e.status,
                    error: e.error,
                    duration_ms: e.duration_ms,
                    fault: e.fault,
                    params: form_urlencoded::parse(e.params.as_bytes())
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect(),
                })
                .collect(),
        }))
    }

    /// Clear the journal
    #[oai(
        path = "/requests",
        method = "delete",
        operation_id = "clearTestRequests"
    )]
    async fn clear_requests(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<TestControl>,
    ) -> Result<Removed, ApiError<TestControlRead>> {
        enabled(&state)?;
        state.journal.clear();
        Ok(Removed::Done)
    }
}
