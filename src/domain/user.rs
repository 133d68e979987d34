//! Users: identifiers, usernames, roles and the rules on them.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use super::time::Timestamp;

/// A user's stable identifier, `usr_` followed by 24 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(String);

impl UserId {
    pub const PREFIX: &'static str = "usr_";

    /// Builds an id from 12 random bytes (callers draw them from the OS RNG).
    pub fn from_random(bytes: [u8; 12]) -> UserId {
        let mut s = String::with_capacity(Self::PREFIX.len() + 24);
        s.push_str(Self::PREFIX);
        for b in bytes {
            s.push_str(&format!("{b:02x}"));
        }
        UserId(s)
    }

    /// Accepts only the exact shape `from_random` produces, so a path segment
    /// that cannot be an id is rejected before any lookup.
    pub fn parse(s: &str) -> Option<UserId> {
        let hex = s.strip_prefix(Self::PREFIX)?;
        let ok = hex.len() == 24
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| UserId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A login name. Kept as typed for display; compared and indexed case-insensitively
/// (`Alice` and `alice` are the same user), as people expect of login names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MAX_LEN: usize = 64;

    /// 1–64 characters from `A–Z a–z 0–9 . _ - @ +`. No `:` (it would break Basic
    /// auth), no spaces or control characters (they hide in logs and forms).
    pub fn parse(s: &str) -> Result<Username, String> {
        if s.is_empty() {
            return Err("username must not be empty".into());
        }
        if s.len() > Self::MAX_LEN {
            return Err(format!(
                "username is longer than {} characters",
                Self::MAX_LEN
            ));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+')))
        {
            return Err(format!(
                "username may contain only letters, digits and . _ - @ +; found {c:?}"
            ));
        }
        Ok(Username(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive key under which the username is unique.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// What a user may do in latchkey's own API, before any credential narrows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Everything.
    Admin,
    /// All clients, and any catalog scope on them.
    ClientAdmin,
    /// Own keys, own clients with the catalog's default scopes.
    Member,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::ClientAdmin, Role::Member];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::ClientAdmin => "client-admin",
            Role::Member => "member",
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?} (expected admin, client-admin or member)"))
    }
}

/// A user's roles; a set, so duplicates in input collapse.
pub type Roles = BTreeSet<Role>;

/// A plaintext password as received; checked for length only (a dev/test tool must
/// accept whatever its users' fixtures contain, but not a megabyte to hash).
pub fn check_password(password: &str) -> Result<(), String> {
    const MIN: usize = 8;
    const MAX: usize = 1024;
    let n = password.chars().count();
    if n < MIN {
        return Err(format!("password must have at least {MIN} characters"));
    }
    if password.len() > MAX {
        return Err(format!("password must be at most {MAX} bytes"));
    }
    Ok(())
}

/// An e-mail address, checked only for the shape `local@domain` with no spaces:
/// full RFC 5322 validation rejects real addresses more often than it helps.
pub fn check_email(email: &str) -> Result<(), String> {
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
    if valid {
        Ok(())
    } else {
        Err(format!("{email:?} is not an e-mail address"))
    }
}

/// A display name: any printable text up to 200 characters.
pub fn check_display_name(name: &str) -> Result<(), String> {
    if name.chars().count() > 200 {
        return Err("name is longer than 200 characters".into());
    }
    if name.chars().any(char::is_control) {
        return Err("name must not contain control characters".into());
    }
    Ok(())
}

/// A user as the rules see it. The password is only ever present as its
/// argon2id PHC string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub email: Option<String>,
    pub name: Option<String>,
    pub password_hash: String,
    pub roles: Roles,
    pub disabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Custom claims for id_tokens, userinfo and JWT access tokens.
    pub claims: serde_json::Map<String, serde_json::Value>,
}

impl User {
    /// An enabled admin: the kind of user the server must never run out of.
    pub fn is_active_admin(&self) -> bool {
        !self.disabled && self.roles.contains(&Role::Admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_round_trip_and_reject_other_shapes() {
        let id = UserId::from_random([0xab; 12]);
        assert_eq!(id.as_str(), "usr_abababababababababababab");
        assert_eq!(UserId::parse(id.as_str()), Some(id));
        for bad in [
            "",
            "usr_",
            "usr_ABABABABABABABABABABABAB",
            "key_abababababababababababab",
            "usr_abab",
        ] {
            assert_eq!(UserId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn usernames_are_keyed_case_insensitively() {
        let a = Username::parse("Alice").unwrap();
        let b = Username::parse("aLICE").unwrap();
        assert_eq!(a.key(), b.key());
        assert_eq!(a.as_str(), "Alice");
    }

    #[test]
    fn usernames_reject_colons_spaces_and_oversize() {
        assert!(Username::parse("a:b").is_err());
        assert!(Username::parse("a b").is_err());
        assert!(Username::parse("").is_err());
        assert!(Username::parse(&"x".repeat(65)).is_err());
        assert!(Username::parse("ci-bot+1@example.com").is_ok());
    }

    #[test]
    fn roles_parse_their_wire_names_only() {
        assert_eq!("client-admin".parse::<Role>(), Ok(Role::ClientAdmin));
        assert!("Admin".parse::<Role>().is_err());
    }

    #[test]
    fn password_length_is_bounded_both_ways() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
        assert!(check_password(&"x".repeat(1025)).is_err());
    }

    #[test]
    fn emails_need_one_at_and_no_spaces() {
        assert!(check_email("a@b").is_ok());
        assert!(check_email("a b@c").is_err());
        assert!(check_email("@c").is_err());
        assert!(check_email("a@b@c").is_err());
    }
}
