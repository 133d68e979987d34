//! `[[realms]]`: realms created at start, each with `[[realms.users]]`,
//! `[[realms.scopes]]`, `[[realms.clients]]`, `[[realms.api_keys]]` and
//! `[[realms.signing_keys]]` of the top-level schemas, checked by the same
//! `check::level`.

use serde::Deserialize;
use toml::Spanned;

use super::check::{self, Entries};
use super::errors::{line_of, At};
use super::{located, SeedClient, SeedKey, SeedRealm, SeedScope, SeedSigningKey, SeedUser};
use crate::domain::{realm, user};

/// A `[[realms]]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileRealm {
    name: String,
    #[serde(default)]
    admin_password: Option<String>,
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

/// Checks the realms of a file: each name, its password, then its own seed.
pub(super) fn check(text: &str, realms: Vec<Spanned<FileRealm>>) -> Result<Vec<SeedRealm>, String> {
    let mut out: Vec<SeedRealm> = Vec::new();
    for r in realms {
        let at = At::Line(line_of(text, r.span().start));
        let r = r.into_inner();
        let err = |field: &str, m: String| at.field_error("realms", field, m);
        realm::check_name(&r.name).map_err(|m| err("name", m))?;
        if out.iter().any(|o| o.name == r.name) {
            return Err(err("name", format!("{:?} is listed twice", r.name)));
        }
        if let Some(p) = &r.admin_password {
            user::check_password(p).map_err(|m| err("admin_password", m))?;
        }
        let entries = Entries {
            users: located(text, r.users),
            scopes: located(text, r.scopes),
            clients: located(text, r.clients),
            api_keys: located(text, r.api_keys),
            signing_keys: located(text, r.signing_keys),
        };
        let seed = check::level("realms.", entries)?;
        out.push(SeedRealm {
            name: r.name,
            admin_password: r.admin_password,
            seed,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::parse;

    /// Two realms, each with its own alice: line 2 is the first `[[realms]]`.
    const REALMS: &str = r#"
[[realms]]
name = "team-a"
admin_password = "team-a-admin-pw"

[[realms.users]]
username = "alice"
password = "alice-password"

[[realms.clients]]
client_id = "app"
name = "Team A app"
type = "public"
redirect_uris = ["http://localhost:3001/callback"]

[[realms.api_keys]]
owner = "alice"
name = "ci"
secret = "lk_key_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"

[[realms]]
name = "team-b"

[[realms.users]]
username = "alice"
password = "another-alice-password"

[[realms.users]]
username = "bob"
password = "bob-password"

[[realms.api_keys]]
owner = "bob"
name = "ci"
secret = "lk_key_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
"#;

    #[test]
    fn realms_parse_each_with_its_own_seed() {
        let s = parse(REALMS).unwrap();
        assert!(s.users.is_empty() && s.clients.is_empty());
        assert_eq!(s.realms.len(), 2);
        let (a, b) = (&s.realms[0], &s.realms[1]);
        assert_eq!(a.name, "team-a");
        assert_eq!(a.admin_password.as_deref(), Some("team-a-admin-pw"));
        assert_eq!(a.seed.users[0].username, "alice");
        assert_eq!(a.seed.clients[0].client_id, "app");
        assert_eq!(a.seed.api_keys[0].name, "ci");
        assert!(a.seed.realms.is_empty());
        assert_eq!(b.name, "team-b");
        assert_eq!(b.admin_password, None);
        let names: Vec<&str> = b.seed.users.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["alice", "bob"], "the same username in two realms");
        assert_eq!(b.seed.users[0].password, "another-alice-password");
        assert!(b.seed.clients.is_empty());
        assert_eq!(
            b.seed.api_keys[0].owner, "bob",
            "the same secret in two realms"
        );
        assert_eq!(
            format!("{s:?}"),
            "Seed { 0 users, 0 scopes, 0 clients, 0 API keys, 2 realms }"
        );
        assert!(!format!("{a:?}").contains("team-a-admin-pw"));
    }

    #[test]
    fn realm_names_and_passwords_are_checked() {
        let bad_name = REALMS.replace("\"team-a\"", "\"Team A\"");
        let e = parse(&bad_name).unwrap_err();
        assert!(e.starts_with("line 2: [[realms]] name: "), "{e}");
        assert!(e.contains("' '") || e.contains("'T'"), "{e}");
        let reserved = REALMS.replace("\"team-b\"", "\"default\"");
        let e = parse(&reserved).unwrap_err();
        assert!(e.starts_with("line 21: [[realms]] name: "), "{e}");
        assert!(e.contains("reserved"), "{e}");
        let twice = REALMS.replace("\"team-b\"", "\"team-a\"");
        let e = parse(&twice).unwrap_err();
        assert_eq!(e, "line 21: [[realms]] name: \"team-a\" is listed twice");
        let short = REALMS.replace("\"team-a-admin-pw\"", "\"pw\"");
        let e = parse(&short).unwrap_err();
        assert!(e.starts_with("line 2: [[realms]] admin_password: "), "{e}");
        let missing = REALMS.replace("name = \"team-b\"\n", "");
        let e = parse(&missing).unwrap_err();
        assert!(
            e.contains("line 21") && e.contains("missing field `name`"),
            "{e}"
        );
        let unknown = REALMS.replace("name = \"team-b\"", "name = \"team-b\"\ncolour = 1");
        let e = parse(&unknown).unwrap_err();
        assert!(e.contains("line 23") && e.contains("colour"), "{e}");
    }

    #[test]
    fn nested_sections_are_checked_as_the_top_level_ones() {
        let short = REALMS.replace("\"bob-password\"", "\"pw\"");
        let e = parse(&short).unwrap_err();
        assert!(e.starts_with("line 28: [[realms.users]] password: "), "{e}");
        let twice = REALMS.replace("\"bob\"", "\"Alice\"");
        let e = parse(&twice).unwrap_err();
        assert_eq!(
            e,
            "line 28: [[realms.users]] username: \"Alice\" is listed twice"
        );
        let bad_uri = REALMS.replace("http://localhost:3001/callback", "http://example.com/cb");
        let e = parse(&bad_uri).unwrap_err();
        assert!(
            e.starts_with("line 10: [[realms.clients]] redirect_uris: "),
            "{e}"
        );
        let bad_secret = REALMS.replacen("lk_key_0123", "lk_kez_0123", 1);
        let e = parse(&bad_secret).unwrap_err();
        assert!(
            e.starts_with("line 16: [[realms.api_keys]] secret: "),
            "{e}"
        );
        let scope = REALMS.replace(
            "[[realms]]\nname = \"team-b\"",
            "[[realms.scopes]]\nname = \"a b\"\ndescription = \"d\"\n\n[[realms]]\nname = \"team-b\"",
        );
        let e = parse(&scope).unwrap_err();
        assert!(e.starts_with("line 21: [[realms.scopes]] name: "), "{e}");
        let typed = REALMS.replace("username = \"bob\"", "username = 1");
        let e = parse(&typed).unwrap_err();
        assert_eq!(
            e,
            "line 29: [[realms.users]] username: expected a string, found an integer"
        );
        let key = REALMS.replace(
            "[[realms]]\nname = \"team-b\"",
            "[[realms.signing_keys]]\nkid = \"k 1\"\nalg = \"ES256\"\nprivate_key_pem = \"x\"\n\n[[realms]]\nname = \"team-b\"",
        );
        let e = parse(&key).unwrap_err();
        assert!(
            e.starts_with("line 21: [[realms.signing_keys]] kid: "),
            "{e}"
        );
    }
}
