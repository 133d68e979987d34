//! A seed as a JSON object (the seed of `POST /api/v1/realms`): the sections
//! of a seed file without `realms`, each an array of objects of the same
//! schema, checked by the same `check::level`. Errors name the section, the
//! entry (1-based) and the field: `entry 2 of [[users]] password: …`.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::check::{self, Entries};
use super::errors::{reword_type_error, At};
use super::Seed;

const SECTIONS: [&str; 5] = ["users", "scopes", "clients", "api_keys", "signing_keys"];

/// Checks a JSON seed: `{"users": [{"username": …}], "scopes": […], …}`.
/// Unknown sections and fields are refused, and so is `realms`: a realm's
/// seed makes no realms. The seed returned has no realms.
pub fn parse_json(value: &Value) -> Result<Seed, String> {
    let Some(doc) = value.as_object() else {
        return Err(format!("a seed is a JSON object, not {}", kind(value)));
    };
    if let Some(key) = doc.keys().find(|k| !SECTIONS.contains(&k.as_str())) {
        if key == "realms" {
            return Err("realms: a realm's seed cannot declare realms".into());
        }
        let expected = SECTIONS.map(|s| format!("`{s}`")).join(", ");
        return Err(format!(
            "unknown section `{key}`, expected one of {expected}"
        ));
    }
    let entries = Entries {
        users: section(doc, "users")?,
        scopes: section(doc, "scopes")?,
        clients: section(doc, "clients")?,
        api_keys: section(doc, "api_keys")?,
        signing_keys: section(doc, "signing_keys")?,
    };
    check::level("", entries)
}

/// The entries of a section (none when it is absent), each with its index.
fn section<T: DeserializeOwned>(
    doc: &Map<String, Value>,
    name: &str,
) -> Result<Vec<(At, T)>, String> {
    let Some(value) = doc.get(name) else {
        return Ok(Vec::new());
    };
    let Some(items) = value.as_array() else {
        return Err(format!(
            "[[{name}]]: expected an array of objects, found {}",
            kind(value)
        ));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = At::Entry(i + 1);
        let Some(fields) = item.as_object() else {
            return Err(at.entry_error(name, format!("expected an object, found {}", kind(item))));
        };
        match T::deserialize(item) {
            Ok(t) => out.push((at, t)),
            Err(e) => {
                let message = reword_type_error(&e.to_string());
                return Err(match field_at_fault::<T>(fields, &message) {
                    Some(field) => at.field_error(name, field, message),
                    None => at.entry_error(name, message),
                });
            }
        }
    }
    Ok(out)
}

/// The field a value error is about (serde_json's message does not say):
/// fields are read in order and a missing one is noticed only at the end,
/// so the first prefix of the fields that fails otherwise than for a missing
/// field ends with it. None for an unknown or a missing field (the message
/// names it).
fn field_at_fault<'a, T: DeserializeOwned>(
    fields: &'a Map<String, Value>,
    message: &str,
) -> Option<&'a str> {
    if message.starts_with("unknown field") || message.starts_with("missing field") {
        return None;
    }
    let mut prefix = Map::new();
    for (key, value) in fields {
        prefix.insert(key.clone(), value.clone());
        match T::deserialize(&Value::Object(prefix.clone())) {
            Err(e) if !e.to_string().starts_with("missing field") => return Some(key),
            _ => {}
        }
    }
    None
}

/// What a JSON value is, with its article: "an array".
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{parse, Seed};
    use super::parse_json;

    const TOML: &str = r#"
[[users]]
username = "alice"
password = "alice-password"
roles = ["member"]
claims = { tenant = "acme", groups = ["billing"] }

[[users]]
username = "bob"
password = "bob-password"
disabled = true

[[scopes]]
name = "billing:read"
description = "Read invoices"
default = true

[[clients]]
client_id = "billing-app"
client_secret = "lk_cs_billing-app-secret-for-tests"
name = "Billing"
type = "confidential"
owner = "alice"
redirect_uris = ["http://localhost:3000/callback"]
scopes = ["billing:read"]
enabled = false

[[api_keys]]
owner = "alice"
name = "ci"
secret = "lk_key_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
scopes = ["billing:read"]
"#;

    fn good() -> serde_json::Value {
        json!({
            "users": [
                {"username": "alice", "password": "alice-password", "roles": ["member"],
                 "claims": {"tenant": "acme", "groups": ["billing"]}},
                {"username": "bob", "password": "bob-password", "disabled": true}
            ],
            "scopes": [{"name": "billing:read", "description": "Read invoices", "default": true}],
            "clients": [{
                "client_id": "billing-app",
                "client_secret": "lk_cs_billing-app-secret-for-tests",
                "name": "Billing",
                "type": "confidential",
                "owner": "alice",
                "redirect_uris": ["http://localhost:3000/callback"],
                "scopes": ["billing:read"],
                "enabled": false
            }],
            "api_keys": [{
                "owner": "alice",
                "name": "ci",
                "secret": "lk_key_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG",
                "scopes": ["billing:read"]
            }]
        })
    }

    /// A few fields of every entry, to compare seeds read from TOML and JSON.
    fn digest(s: &Seed) -> Vec<String> {
        let mut out = Vec::new();
        for u in &s.users {
            let u = (&u.username, &u.password, &u.roles, u.disabled, &u.claims);
            out.push(format!("{u:?}"));
        }
        for c in &s.scopes {
            out.push(format!("{:?}", (&c.name, &c.description, c.default)));
        }
        for c in &s.clients {
            let c = (&c.client_id, &c.client_secret, &c.client_type, &c.owner);
            out.push(format!("{c:?}"));
        }
        for c in &s.clients {
            let c = (&c.redirect_uris, &c.grant_types, &c.scopes, c.enabled);
            out.push(format!("{c:?}"));
        }
        for k in &s.api_keys {
            let k = (&k.owner, &k.name, &k.secret, &k.scopes, k.enabled);
            out.push(format!("{k:?}"));
        }
        out
    }

    #[test]
    fn a_json_seed_is_a_seed_file() {
        let from_json = parse_json(&good()).unwrap();
        let from_toml = parse(TOML).unwrap();
        assert_eq!(digest(&from_json).len(), 6);
        assert_eq!(digest(&from_json), digest(&from_toml));
        assert!(from_json.realms.is_empty());
        assert_eq!(from_json.users[1].username, "bob");
        assert!(!from_json.clients[0].enabled);
        // And the same sections under [[realms]] give the same realm seed.
        let in_realm = format!(
            "[[realms]]\nname = \"r\"\n{}",
            TOML.replace("[[", "[[realms.")
        );
        let realm = parse(&in_realm).unwrap();
        assert_eq!(digest(&realm.realms[0].seed), digest(&from_json));
        assert!(parse_json(&json!({})).unwrap().users.is_empty());
    }

    #[test]
    fn json_errors_name_the_entry_and_field() {
        let at = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = good();
            f(&mut v);
            parse_json(&v).unwrap_err()
        };
        let e = at(&|v| v["users"][1]["password"] = json!("short"));
        assert_eq!(
            e,
            "entry 2 of [[users]] password: password must have at least 8 characters"
        );
        let e = at(&|v| v["users"][1]["username"] = json!("Alice"));
        assert_eq!(
            e,
            "entry 2 of [[users]] username: \"Alice\" is listed twice"
        );
        let e = at(&|v| v["users"][1]["username"] = json!(1));
        assert_eq!(
            e,
            "entry 2 of [[users]] username: expected a string, found an integer"
        );
        let e = at(&|v| v["clients"][0]["redirect_uris"] = json!(["http://example.com/cb"]));
        assert!(
            e.starts_with("entry 1 of [[clients]] redirect_uris: "),
            "{e}"
        );
        let e = at(&|v| v["clients"][0]["redirect_uris"] = json!(["ok", 7]));
        assert_eq!(
            e,
            "entry 1 of [[clients]] redirect_uris: expected a string, found an integer"
        );
        let e = at(&|v| v["api_keys"][0]["secret"] = json!("lk_kez_0123"));
        assert!(e.starts_with("entry 1 of [[api_keys]] secret: "), "{e}");
        let e = at(&|v| v["scopes"][0]["name"] = json!("a,b"));
        assert!(e.starts_with("entry 1 of [[scopes]] name: "), "{e}");
        let e = at(&|v| {
            v["signing_keys"] = json!([{"kid": "k 1", "alg": "ES256", "private_key_pem": "x"}])
        });
        assert!(e.starts_with("entry 1 of [[signing_keys]] kid: "), "{e}");
    }

    #[test]
    fn json_shape_errors_are_refused() {
        let at = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = good();
            f(&mut v);
            parse_json(&v).unwrap_err()
        };
        let e = at(&|v| {
            let bob = v["users"][1].as_object_mut().unwrap();
            bob.insert("pasword".into(), bob["password"].clone());
        });
        assert!(
            e.starts_with("entry 2 of [[users]]: unknown field `pasword`, expected one of "),
            "{e}"
        );
        let e = at(&|v| {
            v["users"][1].as_object_mut().unwrap().remove("password");
        });
        assert_eq!(e, "entry 2 of [[users]]: missing field `password`");
        let e = at(&|v| v["users"][1] = json!("bob"));
        assert_eq!(
            e,
            "entry 2 of [[users]]: expected an object, found a string"
        );
        let e = at(&|v| v["scopes"] = json!({"name": "s"}));
        assert_eq!(
            e,
            "[[scopes]]: expected an array of objects, found an object"
        );
        let e = at(&|v| v["groups"] = json!([]));
        assert_eq!(
            e,
            "unknown section `groups`, expected one of `users`, `scopes`, `clients`, `api_keys`, `signing_keys`"
        );
        let e = at(&|v| v["realms"] = json!([{"name": "inner"}]));
        assert_eq!(e, "realms: a realm's seed cannot declare realms");
        for (not_an_object, kind) in [
            (json!([]), "an array"),
            (json!("users"), "a string"),
            (json!(null), "null"),
        ] {
            let e = parse_json(&not_an_object).unwrap_err();
            assert_eq!(e, format!("a seed is a JSON object, not {kind}"));
        }
    }
}
