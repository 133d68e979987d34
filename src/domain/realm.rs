//! Realm names: what `/realms/{name}` may say.

/// The realm the root paths serve; no created realm may be called so.
pub const DEFAULT_REALM: &str = "default";

/// Checks a realm name: 1–63 of `a-z 0-9 -`, not starting or ending with
/// `-`, not `default`. The error names the rule broken.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 63 {
        return Err(format!(
            "a realm name is 1 to 63 characters; this one has {}",
            name.chars().count()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "a realm name is made of a-z, 0-9 and '-'; {c:?} is none of them"
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err("a realm name does not start or end with '-'".into());
    }
    if name == DEFAULT_REALM {
        return Err("\"default\" is reserved: the root paths serve the default realm".into());
    }
    Ok(())
}

/// The path a created realm is served under (`/realms/{name}`); empty for the
/// default realm.
pub fn path_of(name: &str) -> String {
    if name == DEFAULT_REALM {
        String::new()
    } else {
        format!("/realms/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rules() {
        for ok in ["a", "team-1", "0", &"x".repeat(63)] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for (bad, says) in [
            ("", "1 to 63"),
            (&"x".repeat(64) as &str, "1 to 63"),
            ("Team", "'T'"),
            ("a_b", "'_'"),
            ("a/b", "'/'"),
            ("-a", "start or end"),
            ("a-", "start or end"),
            ("default", "reserved"),
        ] {
            let err = check_name(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
