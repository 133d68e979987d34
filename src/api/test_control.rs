//! `/api/v1/test` (each realm's own, `/realms/{name}/api/v1/test`): control a
//! realm from a test suite in any language — its clock, and tokens minted
//! without a flow. Admins with `test:control` (Basic admin counts); 404 with
//! `--no-test-control`.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::types::Any;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{Authorized, TestControl};
use super::error::{ApiError, TestControlChange, TestControlRead, TestControlReset};
use super::links::BaseUrl;
use super::oauth::token::TokenBody;
use super::ApiTags;
use crate::clock::ClockState;
use crate::domain::time::Timestamp;
use crate::error::{Error, Result};
use crate::service::minted::{self, MintRequest};
use crate::state::AppState;

#[derive(Default)]
pub struct TestControlApi;

/// The realm's clock.
#[derive(Debug, Object)]
pub struct ClockView {
    /// The realm's time now (RFC 3339).
    pub now: String,
    /// How far the realm's time is from the server's, in seconds.
    pub offset_seconds: i64,
    /// Whether it stands still (until advanced or reset).
    pub frozen: bool,
}

impl From<ClockState> for ClockView {
    fn from(c: ClockState) -> ClockView {
        ClockView {
            now: c.now.to_rfc3339(),
            offset_seconds: c.offset_seconds,
            frozen: c.frozen,
        }
    }
}

/// Exactly one of the three.
#[derive(Debug, Object)]
pub struct SetClock {
    /// Run this many seconds ahead of the server's clock (negative: behind).
    pub offset_seconds: Option<i64>,
    /// Stand still at this instant (RFC 3339).
    pub frozen_at: Option<String>,
    /// Move on by this many seconds: a frozen clock stays frozen there,
    /// otherwise the offset grows.
    pub advance_seconds: Option<i64>,
}

/// The tokens to mint.
#[derive(Debug, Object)]
pub struct MintTokens {
    /// A client of this realm.
    pub client_id: String,
    /// Without it the tokens act as the client's owner (as client_credentials,
    /// which the client must have); with it, as if this user had authorized
    /// the client (which must have authorization_code, implicit or password).
    pub username: Option<String>,
    /// Space-separated; default: all of the client's scopes.
    pub scope: Option<String>,
    /// The access token's lifetime instead of the client's (1 s to 30 days).
    pub ttl_seconds: Option<i64>,
    /// Claims added to the JWTs (the id_token, JWT access tokens).
    pub claims: Option<Any<serde_json::Value>>,
    /// For the id_token.
    pub nonce: Option<String>,
    /// Of `access_token`, `refresh_token`, `id_token`; default: what the flow
    /// would give (a refresh token when the client has the grant, an id_token
    /// with `openid`).
    pub kinds: Option<Vec<String>>,
}

#[derive(ApiResponse)]
pub enum Reset {
    /// The realm is back to its creation seed.
    #[oai(status = 204)]
    Done,
}

#[derive(ApiResponse)]
pub enum Minted {
    /// The token response a flow would give.
    #[oai(status = 201)]
    Created(Json<TokenBody>, #[oai(header = "Cache-Control")] String),
}

/// 404 when test control is off.
pub(super) fn enabled(state: &AppState) -> Result<()> {
    if state.config.test_control {
        Ok(())
    } else {
        Err(Error::NotFound {
            kind: "operation",
            id: "test control is off on this server (--no-test-control)".into(),
        })
    }
}

/// Values of at most a hundred years either way, so no instant overflows.
const MAX_SECONDS: i64 = 100 * 366 * 24 * 3600;

fn bounded(field: &'static str, n: i64) -> Result<i64> {
    if n.abs() > MAX_SECONDS {
        return Err(Error::invalid(field, "at most a hundred years either way"));
    }
    Ok(n)
}

#[OpenApi(prefix_path = "/api/v1/test", tag = "ApiTags::TestControl")]
impl TestControlApi {
    /// The realm's clock
    #[oai(path = "/clock", method = "get", operation_id = "getTestClock")]
    async fn clock(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<TestControl>,
    ) -> Result<Json<ClockView>, ApiError<TestControlRead>> {
        enabled(&state)?;
        Ok(Json(state.test_clock.state().into()))
    }

    /// Move the realm's clock
    ///
    /// Exactly one of `offset_seconds`, `frozen_at`, `advance_seconds`. Every
    /// expiry of the realm follows: tokens, codes, refresh tokens, sessions,
    /// consent, API keys, sweeps, login throttling.
    #[oai(path = "/clock", method = "put", operation_id = "setTestClock")]
    async fn set_clock(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<TestControl>,
        body: Json<SetClock>,
    ) -> Result<Json<ClockView>, ApiError<TestControlChange>> {
        enabled(&state)?;
        let b = body.0;
        let clock = &state.test_clock;
        match (b.offset_seconds, b.frozen_at, b.advance_seconds) {
            (Some(o), None, None) => clock.set_offset(bounded("offset_seconds", o)?),
            (None, Some(at), None) => {
                let at =
                    Timestamp::parse_rfc3339(&at).map_err(|m| Error::invalid("frozen_at", m))?;
                clock.freeze_at(at)
            }
            (None, None, Some(a)) => clock.advance(bounded("advance_seconds", a)?),
            _ => {
                return Err(Error::invalid(
                    "body",
                    "give exactly one of offset_seconds, frozen_at and advance_seconds",
                )
                .into())
            }
        }
        Ok(Json(clock.state().into()))
    }

    /// Back to real time
    #[oai(path = "/clock", method = "delete", operation_id = "resetTestClock")]
    async fn reset_clock(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<TestControl>,
    ) -> Result<Json<ClockView>, ApiError<TestControlRead>> {
        enabled(&state)?;
        state.test_clock.reset();
        Ok(Json(state.test_clock.state().into()))
    }

    /// Reset the realm
    ///
    /// Back to the realm's creation seed: everything made since is removed,
    /// the seeded records restored, its admin kept as it is; every token, code
    /// and session issued before is refused; its clock, faults and journal
    /// start afresh. For created realms (the default realm: 409).
    #[oai(path = "/reset", method = "post", operation_id = "resetTestRealm")]
    async fn reset(
        &self,
        state: Data<&AppState>,
        realms: Option<Data<&std::sync::Arc<crate::service::realms::Realms>>>,
        _auth: Authorized<TestControl>,
    ) -> Result<Reset, ApiError<TestControlReset>> {
        enabled(&state)?;
        if state.realm.is_default() {
            return Err(Error::Conflict {
                code: "not_supported",
                message: "the default realm cannot be reset; give each test a realm of its own (POST /api/v1/realms) and reset that".into(),
            }
            .into());
        }
        let registry = realms.map(|d| d.0).ok_or_else(|| {
            Error::Internal("the realm registry is missing from the route".into())
        })?;
        registry.reset(&state.realm.name).await?;
        Ok(Reset::Done)
    }

    /// Mint tokens
    ///
    /// The token response a flow would give, without the flow: formats and
    /// signing as the client's settings say; the tokens are validated,
    /// introspected and revoked like any other.
    #[oai(path = "/tokens", method = "post", operation_id = "mintTestTokens")]
    async fn mint(
        &self,
        state: Data<&AppState>,
        _auth: Authorized<TestControl>,
        BaseUrl(issuer): BaseUrl,
        body: Json<MintTokens>,
    ) -> Result<Minted, ApiError<TestControlChange>> {
        enabled(&state)?;
        let b = body.0;
        let issued = minted::mint(
            &state,
            &issuer,
            MintRequest {
                client_id: b.client_id,
                username: b.username,
                scope: b.scope,
                ttl_seconds: b.ttl_seconds,
                claims: b.claims.map(|c| c.0),
                nonce: b.nonce,
                kinds: b.kinds,
            },
        )
        .await?;
        Ok(Minted::Created(Json(issued.into()), "no-store".into()))
    }
}
