//! API keys: identifiers, the secret's shape, and when a key may be used.

use std::fmt;

use super::time::Timestamp;

/// Characters of the secret shown for recognition (`lk_key_` and 5 more: 30 bits).
pub const DISPLAY_PREFIX_LEN: usize = 12;
/// Longest name accepted.
pub const MAX_NAME_LEN: usize = 100;

/// An API key's id: `key_` + 24 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiKeyId(String);

impl ApiKeyId {
    /// The id made of 12 random bytes.
    pub fn from_random(bytes: [u8; 12]) -> ApiKeyId {
        let mut s = String::from("key_");
        for b in bytes {
            s.push_str(&format!("{b:02x}"));
        }
        ApiKeyId(s)
    }

    /// The id, if `s` has its shape (so malformed ids are refused unread).
    pub fn parse(s: &str) -> Option<ApiKeyId> {
        is_id(s).then(|| ApiKeyId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApiKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `s` has the shape of a key id.
pub fn is_id(s: &str) -> bool {
    s.strip_prefix("key_").is_some_and(|h| {
        h.len() == 24
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

pub fn display_prefix(secret: &str) -> String {
    secret.chars().take(DISPLAY_PREFIX_LEN).collect()
}

pub fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("a key needs a name".into());
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(format!("name is longer than {MAX_NAME_LEN} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("name must not contain control characters".into());
    }
    Ok(())
}

/// Why a key that was found may not be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    Disabled,
    Expired,
    /// The presented secret was rolled away and its grace period is over.
    RolledAway,
}

/// The state of a key that decides whether it authenticates.
#[derive(Debug, Clone, Copy)]
pub struct KeyState {
    pub enabled: bool,
    pub expires_at: Option<Timestamp>,
    /// Whether the presented secret is the previous (rolled-away) one.
    pub presented_previous: bool,
    pub previous_until: Option<Timestamp>,
}

/// Whether a key may authenticate at `now`.
pub fn check_usable(k: KeyState, now: Timestamp) -> Result<(), Unusable> {
    if !k.enabled {
        return Err(Unusable::Disabled);
    }
    if k.expires_at.is_some_and(|e| now >= e) {
        return Err(Unusable::Expired);
    }
    if k.presented_previous && k.previous_until.is_none_or(|u| now >= u) {
        return Err(Unusable::RolledAway);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> KeyState {
        KeyState {
            enabled: true,
            expires_at: Some(Timestamp(100)),
            presented_previous: false,
            previous_until: None,
        }
    }

    #[test]
    fn ids_and_display_prefixes_have_the_documented_shape() {
        let s = crate::secret::Kind::ApiKey.from_random([0xff; 32]);
        assert_eq!(display_prefix(&s).len(), 12);
        let id = ApiKeyId::from_random([1; 12]);
        assert_eq!(ApiKeyId::parse(id.as_str()), Some(id));
        assert!(!is_id("key_zz"));
        assert_eq!(ApiKeyId::parse("key_zz"), None);
    }

    #[test]
    fn keys_stop_at_expiry_and_when_disabled() {
        assert_eq!(check_usable(state(), Timestamp(99)), Ok(()));
        assert_eq!(
            check_usable(state(), Timestamp(100)),
            Err(Unusable::Expired)
        );
        let off = KeyState {
            enabled: false,
            ..state()
        };
        assert_eq!(check_usable(off, Timestamp(0)), Err(Unusable::Disabled));
    }

    #[test]
    fn a_rolled_secret_works_only_during_its_grace() {
        let old = KeyState {
            presented_previous: true,
            previous_until: Some(Timestamp(50)),
            ..state()
        };
        assert_eq!(check_usable(old, Timestamp(49)), Ok(()));
        assert_eq!(check_usable(old, Timestamp(50)), Err(Unusable::RolledAway));
        let no_grace = KeyState {
            previous_until: None,
            ..old
        };
        assert_eq!(
            check_usable(no_grace, Timestamp(0)),
            Err(Unusable::RolledAway)
        );
    }
}
