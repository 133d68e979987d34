//! Runtime configuration, as the server uses it (the CLI in `cli.rs` builds it).

use crate::secret::Redacted;

#[derive(Debug, Clone)]
pub struct Config {
    /// Public base URL (issuer, links); `None`: derived from each request.
    pub public_url: Option<String>,
    /// Whether `Authorization: Basic` is accepted on `/api/v1`.
    pub basic_auth: bool,
    /// Whether `/api/v1/test` (test control) is served; 404 when not.
    pub test_control: bool,
    /// Requests kept in each realm's journal (0: none recorded).
    pub journal_size: usize,
    /// Password for the bootstrap admin made on first start; random when `None`.
    pub admin_password: Option<Redacted<String>>,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Access-token lifetime for clients that do not set their own, in seconds.
    pub access_token_ttl: i64,
    /// Refresh-token lifetime, in seconds (each rotation starts a new one).
    pub refresh_token_ttl: i64,
    /// A checked `--seed` file, applied at start.
    pub seed: Option<std::sync::Arc<crate::seed::Seed>>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            public_url: None,
            basic_auth: true,
            test_control: true,
            journal_size: DEFAULT_JOURNAL_SIZE,
            admin_password: None,
            body_limit: DEFAULT_BODY_LIMIT,
            access_token_ttl: DEFAULT_ACCESS_TOKEN_TTL,
            refresh_token_ttl: DEFAULT_REFRESH_TOKEN_TTL,
            seed: None,
        }
    }
}

/// Requests a realm's journal keeps by default.
pub const DEFAULT_JOURNAL_SIZE: usize = 1000;

/// 64 KiB: every JSON document the API takes is far smaller.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// One hour, as IriSync's tokens.
pub const DEFAULT_ACCESS_TOKEN_TTL: i64 = 3600;

/// Fourteen days.
pub const DEFAULT_REFRESH_TOKEN_TTL: i64 = 14 * 24 * 3600;
/// Longest refresh-token lifetime accepted (a year).
pub const MAX_REFRESH_TOKEN_TTL: i64 = 365 * 24 * 3600;
