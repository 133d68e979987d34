//! `--seed FILE`: users, scopes, clients with fixed ids and secrets, and API keys
//! with fixed secrets, declared in TOML and applied at start (idempotently, see
//! `service::seed`), so a test suite knows its credentials before the first
//! request.
//!
//! Everything is checked here, before the server starts: a bad file is refused
//! with a message naming the line and the field.
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
//! ```

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

mod errors;
mod keys;

use errors::{describe_toml_error, line_of};

use crate::domain::{api_key, claims, client, jwt, scope, user};
use crate::secret::Kind;

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
            "Seed {{ {} users, {} scopes, {} clients, {} API keys }}",
            self.users.len(),
            self.scopes.len(),
            self.clients.len(),
            self.api_keys.len()
        )
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
    let line = |span: std::ops::Range<usize>| line_of(text, span.start);
    let mut seed = Seed::default();
    let mut usernames = Vec::new();
    for u in file.users {
        let at = line(u.span());
        let u = u.into_inner();
        let err = |field: &str, m: String| format!("line {at}: [[users]] {field}: {m}");
        let name = user::Username::parse(&u.username).map_err(|m| err("username", m))?;
        if usernames.contains(&name.key()) {
            return Err(err("username", format!("{:?} is listed twice", u.username)));
        }
        usernames.push(name.key());
        user::check_password(&u.password).map_err(|m| err("password", m))?;
        if let Some(roles) = &u.roles {
            for r in roles {
                r.parse::<user::Role>().map_err(|m| err("roles", m))?;
            }
        }
        if let Some(e) = &u.email {
            user::check_email(e).map_err(|m| err("email", m))?;
        }
        if let Some(n) = &u.name {
            user::check_display_name(n).map_err(|m| err("name", m))?;
        }
        if let Some(c) = &u.claims {
            claims::check(c).map_err(|m| err("claims", m))?;
        }
        seed.users.push(u);
    }
    for s in file.scopes {
        let at = line(s.span());
        let s = s.into_inner();
        scope::check_name(&s.name).map_err(|m| format!("line {at}: [[scopes]] name: {m}"))?;
        seed.scopes.push(s);
    }
    let mut ids: Vec<String> = Vec::new();
    for c in file.clients {
        let at = line(c.span());
        let c = c.into_inner();
        let err = |field: &str, m: String| format!("line {at}: [[clients]] {field}: {m}");
        if !client::is_id(&c.client_id) {
            return Err(err(
                "client_id",
                "use 1–128 letters, digits, '-', '.', '_' or '~'".into(),
            ));
        }
        if c.client_id == client::SWAGGER_UI_CLIENT_ID {
            return Err(err(
                "client_id",
                "\"swagger-ui\" is latchkey's built-in client for Swagger UI; choose another id"
                    .into(),
            ));
        }
        if ids.contains(&c.client_id) {
            return Err(err(
                "client_id",
                format!("{:?} is listed twice", c.client_id),
            ));
        }
        ids.push(c.client_id.clone());
        client::check_name(&c.name).map_err(|m| err("name", m))?;
        let ty = client::ClientType::parse(&c.client_type).map_err(|m| err("type", m))?;
        match (ty, &c.client_secret) {
            (client::ClientType::Confidential, None) => {
                return Err(err(
                    "client_secret",
                    "a confidential client needs one".into(),
                ))
            }
            (client::ClientType::Public, Some(_)) => {
                return Err(err("client_secret", "a public client has none".into()))
            }
            (_, Some(s)) => check_client_secret(s).map_err(|m| err("client_secret", m))?,
            _ => {}
        }
        let grants = match &c.grant_types {
            Some(g) => client::check_grants(ty, g).map_err(|m| err("grant_types", m))?,
            None => client::default_grants(ty),
        };
        client::check_redirect_uris(ty, &grants, &c.redirect_uris)
            .map_err(|m| err("redirect_uris", m))?;
        if let Some(ttl) = c.access_token_ttl_seconds {
            client::check_ttl(ttl).map_err(|m| err("access_token_ttl_seconds", m))?;
        }
        for s in c.scopes.iter().flatten() {
            scope::check_name(s).map_err(|m| err("scopes", m))?;
        }
        for (field, alg) in [
            (
                "id_token_signed_response_alg",
                &c.id_token_signed_response_alg,
            ),
            ("jwt_access_token_alg", &c.jwt_access_token_alg),
        ] {
            if let Some(a) = alg {
                if jwt::Alg::parse(a).is_none() {
                    return Err(err(field, format!("{a:?}: use RS256, ES256 or EdDSA")));
                }
            }
        }
        client::check_post_logout_uris(&c.post_logout_redirect_uris)
            .map_err(|m| err("post_logout_redirect_uris", m))?;
        client::check_audience(&c.audience).map_err(|m| err("audience", m))?;
        if let Some(v) = &c.claims {
            claims::check(v).map_err(|m| err("claims", m))?;
        }
        seed.clients.push(c);
    }
    let mut secrets: Vec<String> = Vec::new();
    let mut names: Vec<(String, String)> = Vec::new();
    for k in file.api_keys {
        let at = line(k.span());
        let k = k.into_inner();
        let err = |field: &str, m: String| format!("line {at}: [[api_keys]] {field}: {m}");
        if secrets.contains(&k.secret) {
            return Err(err("secret", "the same secret is listed twice".into()));
        }
        secrets.push(k.secret.clone());
        let owner_and_name = (k.owner.to_lowercase(), k.name.clone());
        if names.contains(&owner_and_name) {
            return Err(err(
                "name",
                format!("{:?} already names a key of {:?}", k.name, k.owner),
            ));
        }
        names.push(owner_and_name);
        api_key::check_name(&k.name).map_err(|m| err("name", m))?;
        if !Kind::ApiKey.is_well_formed(&k.secret) {
            return Err(err(
                "secret",
                "must be lk_key_ followed by 43 base64url characters (A–Z a–z 0–9 - _)".into(),
            ));
        }
        for s in &k.scopes {
            scope::check_name(s).map_err(|m| err("scopes", m))?;
        }
        seed.api_keys.push(k);
    }
    seed.signing_keys = keys::parse(text, file.signing_keys)?;
    Ok(seed)
}

fn check_client_secret(s: &str) -> Result<(), String> {
    let prefix = Kind::ClientSecret.prefix();
    let rest = s
        .strip_prefix(prefix)
        .ok_or_else(|| format!("must start with {prefix}"))?;
    if rest.len() < MIN_CLIENT_SECRET_CHARS || rest.len() > 128 {
        return Err(format!(
            "needs {MIN_CLIENT_SECRET_CHARS} to 128 characters after {prefix}"
        ));
    }
    if !rest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
    {
        return Err("may contain only letters, digits, '-', '_', '.' and '~'".into());
    }
    Ok(())
}

/// toml's message plus, when it has a span, the line (its own text already
/// names the line for syntax errors).
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
