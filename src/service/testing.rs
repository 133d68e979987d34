//! A use-case fixture for unit tests: a real state on a temporary store with a
//! manual clock, one active user, and helpers that register clients and
//! authorization codes directly in the store (no HTTP, no argon2).

use std::sync::Arc;

use crate::clock::ManualClock;
use crate::config::Config;
use crate::domain::client::{Client, GrantType};
use crate::domain::oauth::OAuthErrorCode;
use crate::domain::time::Timestamp;
use crate::error::Error;
use crate::secret::{fingerprint, random_bytes, Kind};
use crate::service::live;
use crate::state::AppState;
use crate::store::{ClientRecord, CodeRecord, Location, Store, UserRecord, DEFAULT_CACHE_BYTES};

pub(crate) const START: Timestamp = Timestamp(1_800_000_000);
pub(crate) const USER_ID: &str = "usr_0123456789abcdef01234567";
pub(crate) const REDIRECT_URI: &str = "https://app.example/cb";
/// The issuer the grant tests issue for.
pub(crate) const TO: crate::service::access_token::Recipient<'static> =
    crate::service::access_token::Recipient {
        issuer: "http://issuer.test",
        resource: None,
    };

pub(crate) struct Fixture {
    pub state: AppState,
    pub clock: Arc<ManualClock>,
}

impl Fixture {
    pub(crate) async fn new() -> Fixture {
        let store = Store::open(&Location::Ephemeral, DEFAULT_CACHE_BYTES).expect("store");
        let clock = Arc::new(ManualClock::new(START));
        let state = AppState::new(store, clock.clone(), Config::default()).expect("state");
        let user = UserRecord {
            id: USER_ID.into(),
            username: "alice".into(),
            username_key: "alice".into(),
            email: None,
            name: None,
            password_hash: "$argon2id$not-a-real-hash".into(),
            roles: vec!["member".into()],
            disabled: false,
            created_at: START.0,
            updated_at: START.0,
            claims_json: String::new(),
        };
        state.store.users().insert(&user).await.expect("user");
        Fixture { state, clock }
    }

    /// Registers a client (confidential unless `public`) owned by the user.
    pub(crate) async fn client(
        &self,
        client_id: &str,
        public: bool,
        grants: &[GrantType],
        scopes: &[&str],
    ) -> Arc<Client> {
        let record = ClientRecord {
            client_id: client_id.into(),
            owner_id: USER_ID.into(),
            name: client_id.into(),
            client_type: if public { "public" } else { "confidential" }.into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            grant_types: grants.iter().map(|g| g.as_str().to_owned()).collect(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            access_token_ttl_seconds: None,
            enabled: true,
            secret_hash: (!public).then(|| fingerprint("lk_cs_test").to_vec()),
            token_epoch: 7,
            created_at: START.0,
            updated_at: START.0,
            skip_consent: false,
            allow_plain_pkce: false,
            // No OIDC settings: RS256 id_tokens, opaque access tokens.
            ..ClientRecord::default()
        };
        self.state
            .store
            .clients()
            .insert(&record)
            .await
            .expect("client");
        live::client(&self.state, client_id)
            .expect("read")
            .expect("client exists")
    }

    /// Stores an authorization code for the user and `client` with `scopes`
    /// and an optional S256 challenge; returns the code.
    pub(crate) async fn code(
        &self,
        client: &Client,
        scopes: &[&str],
        challenge: Option<&str>,
    ) -> String {
        let code = Kind::Code.generate();
        let now = self.clock_now();
        let record = CodeRecord {
            client_id: client.client_id.to_string(),
            user_id: USER_ID.into(),
            redirect_uri: REDIRECT_URI.into(),
            redirect_uri_given: true,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            code_challenge: challenge.map(str::to_owned),
            code_challenge_method: challenge.map(|_| "S256".to_owned()),
            nonce: None,
            family: random_bytes::<16>().to_vec(),
            client_epoch: client.token_epoch,
            created_at: now.0,
            expires_at: now.0 + 600,
            used: false,
            auth_time: now.0,
            sid: None,
        };
        self.state
            .store
            .grants()
            .insert_code(&fingerprint(&code), &record)
            .await
            .expect("code");
        code
    }

    fn clock_now(&self) -> Timestamp {
        use crate::clock::Clock;
        self.clock.now()
    }
}

/// The RFC 6749 code of an error (panics on anything else: a test failure).
pub(crate) fn oauth_code(e: Error) -> OAuthErrorCode {
    match e {
        Error::OAuth(e) => e.code,
        other => panic!("expected an OAuth error, got {other}"),
    }
}
