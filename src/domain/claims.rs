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

/// The stored form of a checked custom-claims value: JSON text, empty for none.
pub fn to_stored(value: &Value) -> Result<String, String> {
    let map = check(value)?;
    Ok(if map.is_empty() {
        String::new()
    } else {
        Value::Object(map).to_string()
    })
}

/// Reads the stored form back.
pub fn from_stored(text: &str) -> Result<Map<String, Value>, String> {
    match text {
        "" => Ok(Map::new()),
        text => serde_json::from_str(text).map_err(|e| format!("stored claims do not parse: {e}")),
    }
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
        assert_eq!(to_stored(&json!({})).unwrap(), "");
        let kept = to_stored(&json!({"tenant": "t1"})).unwrap();
        assert_eq!(from_stored(&kept).unwrap()["tenant"], "t1");
        assert!(from_stored("").unwrap().is_empty());
        let big = "x".repeat(MAX_CLAIMS_BYTES);
        assert!(check(&json!({ "big": big })).is_err());
    }
}
