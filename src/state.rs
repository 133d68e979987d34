//! `AppState`: everything a request needs, passed explicitly (no globals), so
//! many servers can live in one test process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::domain::token::TokenKey;
use crate::secret::random_bytes;
use crate::service::auth_cache::AuthCache;
use crate::service::jwt_cache::JwtCache;
use crate::service::keyring::Keyring;
use crate::service::login_cache::LoginCache;
use crate::service::login_throttle::LoginThrottle;
use crate::service::passwords::Passwords;
use crate::service::revocation_list::RevocationList;
use crate::service::usage::Usage;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub passwords: Passwords,
    pub login_cache: Arc<LoginCache>,
    /// Recently authenticated API keys, clients and users (stale after any
    /// change to one: it follows the store's generation).
    pub auth_cache: Arc<AuthCache>,
    /// API key usage not yet written to the store.
    pub usage: Arc<Usage>,
    /// The MAC key of access tokens (made on first start, kept in the store).
    pub token_key: Arc<TokenKey>,
    /// The JWT signing keys (made on first start, kept in the store).
    pub keyring: Arc<Keyring>,
    /// JWT access tokens whose signature has been checked once.
    pub jwt_cache: Arc<JwtCache>,
    /// The revocation list, mirrored in memory.
    pub revocations: Arc<RevocationList>,
    /// The key of the login and consent forms' CSRF tokens (kept in the store).
    pub form_key: Arc<[u8; 32]>,
    /// Failed password checks per username (login page and Basic auth).
    pub login_throttle: Arc<LoginThrottle>,
    /// Serializes user changes that can affect the "at least one admin" rule.
    pub user_writes: Arc<tokio::sync::Mutex<()>>,
    /// Serializes client updates, whose checks span several fields.
    pub client_writes: Arc<tokio::sync::Mutex<()>>,
    ready: Arc<AtomicBool>,
}

impl AppState {
    pub fn new(store: Store, clock: Arc<dyn Clock>, config: Config) -> crate::error::Result<Self> {
        let token_key = TokenKey::new(store.server_secret("access_token_mac", random_bytes())?);
        let revocations = RevocationList::load(&store)?;
        let form_key = store.server_secret("form_csrf", random_bytes())?;
        let auth_cache = Arc::new(AuthCache::new(store.generation()));
        let keyring = Arc::new(Keyring::load(&store)?);
        Ok(AppState {
            form_key: Arc::new(form_key),
            login_throttle: Arc::default(),
            token_key: Arc::new(token_key),
            revocations: Arc::new(revocations),
            store,
            clock,
            config: Arc::new(config),
            passwords: Passwords::new()?,
            login_cache: Arc::new(LoginCache::new()),
            auth_cache,
            keyring,
            jwt_cache: Arc::default(),
            usage: Arc::default(),
            user_writes: Arc::default(),
            client_writes: Arc::default(),
            ready: Arc::default(),
        })
    }

    /// Whether start-up (bootstrap) has finished.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn mark_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }
}
