//! Custom claims: a JSON object a user or client carries into its tokens.
//! Registered names (the ones latchkey sets itself) are refused, so a custom
//! claim can never forge who, when or for whom.

use serde_json::{Map, Value};

/// Largest custom-claims object, as JSON text.
pub const MAX_CLAIMS_BYTES: usize = 8 * 1024;

/// Claim names latchkey sets itself.
pub const REGISTERED: [&str; 16] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "auth_time",
    "nonce",
    "azp",
    "at_hash",
    "c_hash",
    "sid",
    "scope",
    "client_id",
    "typ",
];

/// Checks a custom-claims value: a JSON object of at most
/// [`MAX_CLAIMS_BYTES`] without registered names.
pub fn check(value: &Value) -> Result<Map<String, Value>, String> {
    let Value::Object(map) = value else {
        return Err("must be a JSON object".into());
    };
    if let Some(name) = map.keys().find(|k| REGISTERED.contains(&k.as_str())) {
        return Err(format!(
            "{name:?} is a registered claim that latchkey sets itself"
        ));
    }
    if value.to_string().len() > MAX_CLAIMS_BYTES {
        return Err(format!("at most {MAX_CLAIMS_BYTES} bytes of JSON"));
    }
    Ok(map.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_without_registered_names_pass() {
        assert!(check(&json!({"roles": ["admin"], "tenant": "t1"})).is_ok());
        assert!(check(&json!({})).is_ok());
        assert!(check(&json!([1])).is_err());
        assert!(check(&json!("x")).is_err());
        for name in REGISTERED {
            let err = check(&json!({ name: 1 })).unwrap_err();
            assert!(err.contains(name), "{err}");
        }
        let big = "x".repeat(MAX_CLAIMS_BYTES);
        assert!(check(&json!({ "big": big })).is_err());
    }
}
