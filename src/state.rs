//! `AppState`: everything a request needs, passed explicitly (no globals), so
//! many servers can live in one test process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::clock::{Clock, TestClock};
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

/// Which realm a state serves.
#[derive(Debug)]
pub struct Realm {
    pub name: String,
    /// The path its URLs start with: empty for the default realm,
    /// `/realms/{name}` for a created one.
    pub path: String,
    /// Set when the realm is deleted: requests still in flight then fail
    /// cleanly instead of writing into a realm that no longer exists.
    gone: AtomicBool,
}

impl Realm {
    pub fn new(name: &str) -> Realm {
        Realm {
            name: name.to_owned(),
            path: crate::domain::realm::path_of(name),
            gone: AtomicBool::new(false),
        }
    }

    pub fn is_default(&self) -> bool {
        self.path.is_empty()
    }

    pub fn is_gone(&self) -> bool {
        self.gone.load(Ordering::Acquire)
    }

    pub fn mark_gone(&self) {
        self.gone.store(true, Ordering::Release);
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// The realm's clock as test control moves it (`clock` is the same clock).
    pub test_clock: Arc<TestClock>,
    /// The realm this state serves.
    pub realm: Arc<Realm>,
    /// Queued faults (test control; memory only).
    pub faults: Arc<crate::service::control::Faults>,
    /// The last requests to the realm (test control; memory only).
    pub journal: Arc<crate::service::control::Journal>,
    /// For a created realm, the default realm's state: its admins administer
    /// every realm. `None` in the default realm.
    pub default_realm: Option<Arc<AppState>>,
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
        let passwords = Passwords::new()?;
        AppState::build(
            store,
            clock,
            Arc::new(config),
            passwords,
            Realm::new(crate::domain::realm::DEFAULT_REALM),
            None,
        )
    }

    /// The state of the created realm `name` on `store` (its view of the
    /// database): its own keys, caches and lists; the clock, the configuration
    /// and the hashing threads are this (the default realm's) state's.
    pub fn for_realm(&self, store: Store, name: &str) -> crate::error::Result<Self> {
        AppState::build(
            store,
            self.test_clock.base(),
            self.config.clone(),
            self.passwords.clone(),
            Realm::new(name),
            Some(Arc::new(self.clone())),
        )
    }

    fn build(
        store: Store,
        clock: Arc<dyn Clock>,
        config: Arc<Config>,
        passwords: Passwords,
        realm: Realm,
        default_realm: Option<Arc<AppState>>,
    ) -> crate::error::Result<Self> {
        let test_clock = Arc::new(TestClock::new(clock));
        let clock: Arc<dyn Clock> = test_clock.clone();
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
            test_clock,
            realm: Arc::new(realm),
            faults: Arc::default(),
            journal: Arc::new(crate::service::control::Journal::new(config.journal_size)),
            default_realm,
            clock,
            config,
            passwords,
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

    /// The state of the default realm (this one's, or the one it belongs to).
    pub fn default_state(&self) -> &AppState {
        self.default_realm.as_deref().unwrap_or(self)
    }

    /// Whether start-up (bootstrap) has finished.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn mark_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }
}
