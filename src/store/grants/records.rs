//! The grant records: codes, refresh tokens, sessions and consents, with the
//! upgrades of their older layouts.

use serde::{Deserialize, Serialize};

use crate::store::codec::{self, Record};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRecord {
    pub client_id: String,
    pub user_id: String,
    /// The redirect URI of the authorization request, as presented.
    pub redirect_uri: String,
    /// Whether the request named `redirect_uri` (then the token request must too).
    pub redirect_uri_given: bool,
    pub scopes: Vec<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub nonce: Option<String>,
    /// The grant family of the tokens issued from this code.
    pub family: Vec<u8>,
    /// The client's token epoch when the code was issued.
    pub client_epoch: u64,
    pub created_at: i64,
    pub expires_at: i64,
    /// Redeemed once already.
    pub used: bool,
    /// When the user signed in (OIDC `auth_time`).
    pub auth_time: i64,
    /// The browser session's public id (OIDC `sid`).
    pub sid: Option<String>,
}

impl Record for CodeRecord {
    const VERSION: u8 = 2;
    const KIND: &'static str = "authorization code";

    fn decode_older(version: u8, body: &[u8]) -> Result<Self, codec::CodecError> {
        match version {
            1 => {
                let v1: CodeRecordV1 = codec::decode_shape(Self::KIND, body)?;
                Ok(CodeRecord {
                    auth_time: v1.created_at,
                    sid: None,
                    client_id: v1.client_id,
                    user_id: v1.user_id,
                    redirect_uri: v1.redirect_uri,
                    redirect_uri_given: v1.redirect_uri_given,
                    scopes: v1.scopes,
                    code_challenge: v1.code_challenge,
                    code_challenge_method: v1.code_challenge_method,
                    nonce: v1.nonce,
                    family: v1.family,
                    client_epoch: v1.client_epoch,
                    created_at: v1.created_at,
                    expires_at: v1.expires_at,
                    used: v1.used,
                })
            }
            found => Err(codec::unreadable::<Self>(found)),
        }
    }
}

/// Version 1, before OIDC's `auth_time` and `sid` were kept.
#[derive(Deserialize)]
struct CodeRecordV1 {
    client_id: String,
    user_id: String,
    redirect_uri: String,
    redirect_uri_given: bool,
    scopes: Vec<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    nonce: Option<String>,
    family: Vec<u8>,
    client_epoch: u64,
    created_at: i64,
    expires_at: i64,
    used: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRecord {
    pub family: Vec<u8>,
    pub client_id: String,
    /// The client's token epoch when the grant was made.
    pub client_epoch: u64,
    pub user_id: String,
    pub scopes: Vec<String>,
    pub created_at: i64,
    pub expires_at: i64,
    /// Already exchanged for a successor: presenting it again is reuse.
    pub rotated: bool,
    /// When the user signed in (OIDC `auth_time`, kept across rotations).
    pub auth_time: i64,
    /// The browser session's public id (OIDC `sid`).
    pub sid: Option<String>,
}

impl Record for RefreshRecord {
    const VERSION: u8 = 2;
    const KIND: &'static str = "refresh token";

    fn decode_older(version: u8, body: &[u8]) -> Result<Self, codec::CodecError> {
        match version {
            1 => {
                let v1: RefreshRecordV1 = codec::decode_shape(Self::KIND, body)?;
                Ok(RefreshRecord {
                    auth_time: v1.created_at,
                    sid: None,
                    family: v1.family,
                    client_id: v1.client_id,
                    client_epoch: v1.client_epoch,
                    user_id: v1.user_id,
                    scopes: v1.scopes,
                    created_at: v1.created_at,
                    expires_at: v1.expires_at,
                    rotated: v1.rotated,
                })
            }
            found => Err(codec::unreadable::<Self>(found)),
        }
    }
}

/// Version 1, before OIDC's `auth_time` and `sid` were kept.
#[derive(Deserialize)]
struct RefreshRecordV1 {
    family: Vec<u8>,
    client_id: String,
    client_epoch: u64,
    user_id: String,
    scopes: Vec<String>,
    created_at: i64,
    expires_at: i64,
    rotated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub user_id: String,
    /// A digest of the user's password hash at login: a changed password ends the session.
    pub password_stamp: Vec<u8>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Record for SessionRecord {
    const VERSION: u8 = 1;
    const KIND: &'static str = "session";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub scopes: Vec<String>,
    pub granted_at: i64,
}

impl Record for ConsentRecord {
    const VERSION: u8 = 1;
    const KIND: &'static str = "consent";
}
