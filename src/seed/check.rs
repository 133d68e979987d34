//! The checks of one level of a seed (the top level of a file, one of its
//! `[[realms]]`, or a JSON seed), whatever it was read from: each entry comes
//! with where it is, and errors name that place, the section and the field.

use super::errors::At;
use super::MIN_CLIENT_SECRET_CHARS;
use super::{keys, Seed, SeedClient, SeedKey, SeedScope, SeedSigningKey, SeedUser};
use crate::domain::{api_key, claims, client, jwt, scope, user};
use crate::secret::Kind;

/// The sections of one level, each entry with where it is.
#[derive(Default)]
pub(super) struct Entries {
    pub users: Vec<(At, SeedUser)>,
    pub scopes: Vec<(At, SeedScope)>,
    pub clients: Vec<(At, SeedClient)>,
    pub api_keys: Vec<(At, SeedKey)>,
    pub signing_keys: Vec<(At, SeedSigningKey)>,
}

/// Checks one level. `prefix` is put before each section's name in errors:
/// `""` for the top level (`[[users]]`), `"realms."` in a realm
/// (`[[realms.users]]`). Duplicates are looked for within the level only.
/// The returned seed has no realms.
pub(super) fn level(prefix: &str, entries: Entries) -> Result<Seed, String> {
    let section = |name: &str| format!("{prefix}{name}");
    Ok(Seed {
        users: users(&section("users"), entries.users)?,
        scopes: scopes(&section("scopes"), entries.scopes)?,
        clients: clients(&section("clients"), entries.clients)?,
        api_keys: api_keys(&section("api_keys"), entries.api_keys)?,
        signing_keys: keys::check(&section("signing_keys"), entries.signing_keys)?,
        realms: Vec::new(),
    })
}

fn users(section: &str, entries: Vec<(At, SeedUser)>) -> Result<Vec<SeedUser>, String> {
    let mut out = Vec::new();
    let mut usernames = Vec::new();
    for (at, u) in entries {
        let err = |field: &str, m: String| at.field_error(section, field, m);
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
        out.push(u);
    }
    Ok(out)
}

fn scopes(section: &str, entries: Vec<(At, SeedScope)>) -> Result<Vec<SeedScope>, String> {
    let mut out = Vec::new();
    for (at, s) in entries {
        scope::check_name(&s.name).map_err(|m| at.field_error(section, "name", m))?;
        out.push(s);
    }
    Ok(out)
}

fn clients(section: &str, entries: Vec<(At, SeedClient)>) -> Result<Vec<SeedClient>, String> {
    let mut out = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    for (at, c) in entries {
        let err = |field: &str, m: String| at.field_error(section, field, m);
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
        out.push(c);
    }
    Ok(out)
}

fn api_keys(section: &str, entries: Vec<(At, SeedKey)>) -> Result<Vec<SeedKey>, String> {
    let mut out = Vec::new();
    let mut secrets: Vec<String> = Vec::new();
    let mut names: Vec<(String, String)> = Vec::new();
    for (at, k) in entries {
        let err = |field: &str, m: String| at.field_error(section, field, m);
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
        out.push(k);
    }
    Ok(out)
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
