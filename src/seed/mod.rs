//! `--seed FILE`: users, scopes, clients with fixed ids and secrets, API keys
//! with fixed secrets, signing keys and realms, declared in TOML and applied at
//! start (idempotently, see `service::seed`), so a test suite knows its
//! credentials before the first request. [`parse_json`] reads the same
//! document as JSON (without realms): the seed of `POST /api/v1/realms`.
//!
//! Everything is checked here, before the server starts: a bad file is refused
//! with a message naming the line and the field (in JSON: the entry and the
//! field). The checks are the same at every level (`check::level`).
//!
//! ```toml
//! [[users]]
//! username = "alice"
//! password = "alice-password"
//! roles = ["member"]            # default ["member"]
//! claims = { tenant = "acme", groups = ["billing"] }   # into id_tokens, userinfo, JWTs
//!
//! [[scopes]]
//! name = "billing:read"
//! description = "Read your invoices"
//! default = false
//!
//! [[clients]]
//! client_id = "billing-app"
//! client_secret = "lk_cs_billing-app-secret-for-tests"   # confidential only
//! name = "Billing"
//! type = "confidential"
//! owner = "alice"               # default: admin
//! redirect_uris = ["http://localhost:3000/callback"]
//! grant_types = ["authorization_code", "refresh_token", "client_credentials"]
//! scopes = ["billing:read"]
//!
//! [[api_keys]]
//! owner = "alice"
//! name = "ci"
//! secret = "lk_key_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
//! scopes = ["keys:read"]
//!
//! # A realm, served under /realms/team-a, with its own users, scopes,
//! # clients, API keys and signing keys: the same sections as above, under
//! # `realms.`, with the same checks (duplicates are looked for per realm).
//! [[realms]]
//! name = "team-a"
//! admin_password = "team-a-admin-pw"   # optional
//!
//! [[realms.users]]
//! username = "alice"            # not the alice above
//! password = "alice-password"
//!
//! [[realms.clients]]
//! client_id = "app"
//! name = "Team A app"
//! type = "public"
//! redirect_uris = ["http://localhost:3001/callback"]
//! ```

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

mod check;
mod errors;
mod json;
mod keys;
mod realms;

use check::Entries;
use errors::{describe_toml_error, line_of, At};

use crate::domain::jwt;

pub use json::parse_json;

/// The shortest random part accepted in a seeded client secret.
pub const MIN_CLIENT_SECRET_CHARS: usize = 16;

/// A checked seed file.
#[derive(Clone, Default)] // Debug below: holds passwords and secrets
pub struct Seed {
    pub users: Vec<SeedUser>,
    pub scopes: Vec<SeedScope>,
    pub clients: Vec<SeedClient>,
    pub api_keys: Vec<SeedKey>,
    pub signing_keys: Vec<SigningKeySeed>,
    /// `[[realms]]`: realms created at start, each with its own seed (whose
    /// own `realms` is always empty).
    pub realms: Vec<SeedRealm>,
}

/// A `[[realms]]` entry: a realm created at start and seeded.
#[derive(Clone)] // Debug below: holds a password
pub struct SeedRealm {
    pub name: String,
    /// The password of the realm's own admin; absent: generated.
    pub admin_password: Option<String>,
    pub seed: Seed,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub disabled: bool,
    /// Custom claims for the user's id_tokens, userinfo and JWT access tokens.
    #[serde(default)]
    pub claims: Option<serde_json::Value>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedScope {
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub default: bool,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedClient {
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    pub name: String,
    #[serde(rename = "type")]
    pub client_type: String,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub access_token_ttl_seconds: Option<i64>,
    #[serde(default)]
    pub skip_consent: bool,
    #[serde(default)]
    pub allow_plain_pkce: bool,
    #[serde(default)]
    pub id_token_signed_response_alg: Option<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// `RS256`, `ES256` or `EdDSA`: JWT access tokens signed so; absent: opaque.
    #[serde(default)]
    pub jwt_access_token_alg: Option<String>,
    #[serde(default)]
    pub audience: Vec<String>,
    /// Custom claims for the client's client_credentials JWT access tokens.
    #[serde(default)]
    pub claims: Option<serde_json::Value>,
    #[serde(default = "enabled")]
    pub enabled: bool,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedKey {
    pub owner: String,
    pub name: String,
    pub secret: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default = "enabled")]
    pub enabled: bool,
}

/// A fixed JWT signing key, so a test suite can pin `kid` and key material:
/// it becomes the active key of its algorithm.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedSigningKey {
    pub kid: String,
    pub alg: String,
    pub private_key_pem: String,
}

/// A checked seed signing key.
#[derive(Clone)]
pub struct SigningKeySeed {
    pub kid: String,
    pub key: jwt::PrivateKey,
}

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Seed {{ {} users, {} scopes, {} clients, {} API keys, {} realms }}",
            self.users.len(),
            self.scopes.len(),
            self.clients.len(),
            self.api_keys.len(),
            self.realms.len()
        )
    }
}

impl std::fmt::Debug for SeedRealm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedRealm")
            .field("name", &self.name)
            .field(
                "admin_password",
                &self.admin_password.as_ref().map(|_| "<set>"),
            )
            .field("seed", &self.seed)
            .finish()
    }
}

fn enabled() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    users: Vec<Spanned<SeedUser>>,
    #[serde(default)]
    scopes: Vec<Spanned<SeedScope>>,
    #[serde(default)]
    clients: Vec<Spanned<SeedClient>>,
    #[serde(default)]
    api_keys: Vec<Spanned<SeedKey>>,
    #[serde(default)]
    signing_keys: Vec<Spanned<SeedSigningKey>>,
    #[serde(default)]
    realms: Vec<Spanned<realms::FileRealm>>,
}

/// Reads and checks a seed file.
pub fn load(path: &Path) -> Result<Seed, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the seed file {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("seed file {}: {e}", path.display()))
}

/// Parses and checks seed TOML; errors name the line and the field.
pub fn parse(text: &str) -> Result<Seed, String> {
    let file: File = toml::from_str(text).map_err(|e| describe_toml_error(text, &e))?;
    let entries = Entries {
        users: located(text, file.users),
        scopes: located(text, file.scopes),
        clients: located(text, file.clients),
        api_keys: located(text, file.api_keys),
        signing_keys: located(text, file.signing_keys),
    };
    let mut seed = check::level("", entries)?;
    seed.realms = realms::check(text, file.realms)?;
    Ok(seed)
}

/// TOML entries with the line of their table.
fn located<T>(text: &str, entries: Vec<Spanned<T>>) -> Vec<(At, T)> {
    entries
        .into_iter()
        .map(|e| (At::Line(line_of(text, e.span().start)), e.into_inner()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrongly_typed_field_is_named_with_its_line() {
        let err = parse("[[users]]\nusername = 1\npassword = \"alice-password\"\n").unwrap_err();
        assert_eq!(
            err,
            "line 2: [[users]] username: expected a string, found an integer"
        );
    }

    const GOOD: &str = r#"
[[users]]
username = "alice"
password = "alice-password"
roles = ["member"]

[[scopes]]
name = "billing:read"
description = "Read invoices"

[[clients]]
client_id = "billing-app"
client_secret = "lk_cs_billing-app-secret-for-tests"
name = "Billing"
type = "confidential"
owner = "alice"
redirect_uris = ["http://localhost:3000/callback"]
scopes = ["billing:read"]

[[api_keys]]
owner = "alice"
name = "ci"
secret = "lk_key_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
"#;

    #[test]
    fn a_good_file_parses() {
        let s = parse(GOOD).unwrap();
        assert_eq!(s.users.len(), 1);
        assert_eq!(s.clients[0].client_id, "billing-app");
        assert_eq!(s.api_keys[0].name, "ci");
    }

    #[test]
    fn errors_name_the_line_and_field() {
        let bad_role = GOOD.replace(r#"roles = ["member"]"#, r#"roles = ["owner"]"#);
        let e = parse(&bad_role).err().unwrap();
        assert!(e.starts_with("line 2: [[users]] roles:"), "{e}");
        let bad_uri = GOOD.replace("http://localhost:3000/callback", "http://example.com/cb");
        let e = parse(&bad_uri).err().unwrap();
        assert!(e.starts_with("line 11: [[clients]] redirect_uris:"), "{e}");
        let bad_secret = GOOD.replace("lk_key_0123", "lk_kez_0123");
        let e = parse(&bad_secret).err().unwrap();
        assert!(e.starts_with("line 20: [[api_keys]] secret:"), "{e}");
        let unknown = GOOD.replace("owner = \"alice\"\nredirect", "colour = 1\nredirect");
        let e = parse(&unknown).err().unwrap();
        assert!(e.contains("line 16") && e.contains("colour"), "{e}");
        let syntax = GOOD.replace("name = \"Billing\"", "name = Billing");
        let e = parse(&syntax).err().unwrap();
        assert!(e.contains("line 14"), "{e}");
        let short = GOOD.replace("lk_cs_billing-app-secret-for-tests", "lk_cs_short");
        assert!(parse(&short).err().unwrap().contains("client_secret"));
        let builtin = GOOD.replace("\"billing-app\"", "\"swagger-ui\"");
        let e = parse(&builtin).err().unwrap();
        assert!(e.starts_with("line 11: [[clients]] client_id:"), "{e}");
    }
}
