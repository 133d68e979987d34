//! Self-contained access tokens: `lk_at_` + base64url(payload ‖ MAC).
//!
//! The payload names everything validation needs (token id, client and the
//! client's token epoch, user, scopes, issue and expiry times); the MAC is a
//! blake3 keyed hash under the server's token key over the prefix and the
//! payload. Issuing writes nothing; a token with any byte changed fails the MAC
//! or the strict decoding and is refused.
//!
//! Payload layout, version 2 (integers big-endian):
//! `2u8 | id [16] | issued_at i64 | expires_at i64 | client_epoch u64 |
//!  client_id (u8 len, bytes) | user_id (u8 len, bytes) | scopes (u16 len, space-joined) |
//!  family (0u8, or 1u8 and [16])`.
//! Version 1 (no family) is still read, so tokens survive an upgrade.

use super::scope::ScopeSet;
use super::time::Timestamp;
use crate::secret::Kind;

/// The type prefix of access tokens, as bytes under the MAC.
const PREFIX: &str = Kind::AccessToken.prefix();
const VERSION: u8 = 2;
const MAC_LEN: usize = 32;
/// Upper bound of the space-joined scope list inside a token.
pub const MAX_SCOPE_BYTES: usize = 4096;
/// Whether these scopes fit in one token (a client's list is checked with this
/// when it is set, so issuing never fails for size).
pub fn scopes_fit<S: AsRef<str>>(scopes: &[S]) -> bool {
    scopes.iter().map(|s| s.as_ref().len() + 1).sum::<usize>() <= MAX_SCOPE_BYTES + 1
}

/// Longest token string accepted for decoding (prefix included).
pub const MAX_TOKEN_LEN: usize = 6000;

/// The server's MAC key. Its `Debug` does not print it.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    pub fn new(bytes: [u8; 32]) -> TokenKey {
        TokenKey(bytes)
    }

    fn mac(&self, payload: &[u8]) -> blake3::Hash {
        let mut h = blake3::Hasher::new_keyed(&self.0);
        h.update(PREFIX.as_bytes());
        h.update(payload);
        h.finalize()
    }
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(***)")
    }
}

/// What an access token says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// Random id: what the revocation list records.
    pub id: [u8; 16],
    pub client_id: String,
    /// The client's token epoch at issue; a client that revokes all its tokens
    /// moves to a new epoch.
    pub client_epoch: u64,
    /// The user the token acts as.
    pub user_id: String,
    pub scopes: ScopeSet,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    /// The grant the token came from (an authorization code and the refresh
    /// tokens rotated from it); revoking the family revokes the token.
    pub family: Option<[u8; 16]>,
}

impl AccessClaims {
    /// The token id as 32 hex digits (`jti` in introspection).
    pub fn id_hex(&self) -> String {
        hex(&self.id)
    }
}

/// Lowercase hex of `bytes` (token ids, grant families, epochs in JWTs).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `N` bytes that [`hex`] wrote, if `s` is exactly that.
pub fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Why a string is not a valid access token (never echoes the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    Prefix,
    Encoding,
    Mac,
    Layout,
    TooLarge,
}

/// Encodes and signs `claims`. Fails only for claims too large for the layout.
pub fn encode(key: &TokenKey, claims: &AccessClaims) -> Result<String, Malformed> {
    let scopes = claims.scopes.to_string();
    if claims.client_id.len() > 255 || claims.user_id.len() > 255 || scopes.len() > MAX_SCOPE_BYTES
    {
        return Err(Malformed::TooLarge);
    }
    let mut payload = Vec::with_capacity(64 + claims.client_id.len() + scopes.len() + MAC_LEN);
    payload.push(VERSION);
    payload.extend_from_slice(&claims.id);
    payload.extend_from_slice(&claims.issued_at.unix().to_be_bytes());
    payload.extend_from_slice(&claims.expires_at.unix().to_be_bytes());
    payload.extend_from_slice(&claims.client_epoch.to_be_bytes());
    payload.push(claims.client_id.len() as u8);
    payload.extend_from_slice(claims.client_id.as_bytes());
    payload.push(claims.user_id.len() as u8);
    payload.extend_from_slice(claims.user_id.as_bytes());
    payload.extend_from_slice(&(scopes.len() as u16).to_be_bytes());
    payload.extend_from_slice(scopes.as_bytes());
    match &claims.family {
        Some(f) => {
            payload.push(1);
            payload.extend_from_slice(f);
        }
        None => payload.push(0),
    }
    let mac = key.mac(&payload);
    payload.extend_from_slice(mac.as_bytes());
    Ok(Kind::AccessToken.format(&payload))
}

/// Checks the prefix, the encoding and the MAC, then reads the claims. Expiry,
/// revocation and the live state of client and user are the caller's to check.
pub fn decode(key: &TokenKey, token: &str) -> Result<AccessClaims, Malformed> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(Malformed::TooLarge);
    }
    if !token.starts_with(PREFIX) {
        return Err(Malformed::Prefix);
    }
    let bytes = Kind::AccessToken.parse(token).ok_or(Malformed::Encoding)?;
    if bytes.len() < MAC_LEN + 1 {
        return Err(Malformed::Layout);
    }
    let (payload, mac) = bytes.split_at(bytes.len() - MAC_LEN);
    // blake3::Hash compares in constant time.
    let presented = blake3::Hash::from_bytes(mac.try_into().map_err(|_| Malformed::Layout)?);
    if key.mac(payload) != presented {
        return Err(Malformed::Mac);
    }
    read_payload(payload).ok_or(Malformed::Layout)
}

fn read_payload(p: &[u8]) -> Option<AccessClaims> {
    let mut r = Reader(p);
    let version = r.u8()?;
    if version != 1 && version != VERSION {
        return None;
    }
    let id: [u8; 16] = r.take(16)?.try_into().ok()?;
    let issued_at = Timestamp(i64::from_be_bytes(r.take(8)?.try_into().ok()?));
    let expires_at = Timestamp(i64::from_be_bytes(r.take(8)?.try_into().ok()?));
    let client_epoch = u64::from_be_bytes(r.take(8)?.try_into().ok()?);
    let n = r.u8()? as usize;
    let client_id = std::str::from_utf8(r.take(n)?).ok()?.to_owned();
    let n = r.u8()? as usize;
    let user_id = std::str::from_utf8(r.take(n)?).ok()?.to_owned();
    let n = u16::from_be_bytes(r.take(2)?.try_into().ok()?) as usize;
    let scopes = std::str::from_utf8(r.take(n)?).ok()?;
    let family = match version {
        1 => None,
        _ => match r.u8()? {
            0 => None,
            1 => Some(r.take(16)?.try_into().ok()?),
            _ => return None,
        },
    };
    if !r.0.is_empty() {
        return None;
    }
    Some(AccessClaims {
        id,
        client_id,
        client_epoch,
        user_id,
        scopes: ScopeSet::from_names(scopes.split(' ').filter(|s| !s.is_empty())),
        issued_at,
        expires_at,
        family,
    })
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> AccessClaims {
        AccessClaims {
            id: [9; 16],
            client_id: "cli_0123456789abcdef01234567".into(),
            client_epoch: 42,
            user_id: "usr_0123456789abcdef01234567".into(),
            scopes: ScopeSet::from_names(["read", "keys:read"]),
            issued_at: Timestamp(1_700_000_000),
            expires_at: Timestamp(1_700_003_600),
            family: Some([3; 16]),
        }
    }

    #[test]
    fn hex_round_trips_and_refuses_other_lengths() {
        assert_eq!(hex(&[0x0a, 0xff]), "0aff");
        assert_eq!(unhex::<2>("0aff"), Some([0x0a, 0xff]));
        assert_eq!(unhex::<2>("0af"), None);
        assert_eq!(unhex::<2>("0afz"), None);
    }

    #[test]
    fn round_trip() {
        let key = TokenKey::new([1; 32]);
        let token = encode(&key, &claims()).unwrap();
        assert!(token.starts_with(PREFIX));
        assert_eq!(decode(&key, &token).unwrap(), claims());
    }

    #[test]
    fn tokens_without_a_family_round_trip() {
        let key = TokenKey::new([1; 32]);
        let mut c = claims();
        c.family = None;
        let token = encode(&key, &c).unwrap();
        assert_eq!(decode(&key, &token).unwrap(), c);
    }

    #[test]
    fn another_key_does_not_verify() {
        let token = encode(&TokenKey::new([1; 32]), &claims()).unwrap();
        assert_eq!(decode(&TokenKey::new([2; 32]), &token), Err(Malformed::Mac));
    }

    /// Every character of the token, replaced by any other base64url character
    /// (or a character outside the alphabet), makes it invalid.
    #[test]
    fn any_changed_character_is_refused() {
        let key = TokenKey::new([1; 32]);
        let token = encode(&key, &claims()).unwrap();
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=.+/ ";
        for i in 0..token.len() {
            for c in alphabet.chars() {
                if token.as_bytes()[i] == c as u8 {
                    continue;
                }
                let mut t = token.clone().into_bytes();
                t[i] = c as u8;
                let t = String::from_utf8(t).unwrap();
                assert!(decode(&key, &t).is_err(), "position {i} changed to {c:?}");
            }
        }
        assert!(decode(&key, &token[..token.len() - 1]).is_err());
        assert!(decode(&key, &format!("{token}A")).is_err());
        assert!(decode(&key, "lk_at_").is_err());
        assert!(decode(&key, &token.replacen("lk_at_", "lk_rt_", 1)).is_err());
    }

    /// `scopes_fit` is exactly what `encode` accepts.
    #[test]
    fn scopes_fit_matches_encode() {
        let key = TokenKey::new([1; 32]);
        for total in [MAX_SCOPE_BYTES - 1, MAX_SCOPE_BYTES, MAX_SCOPE_BYTES + 1] {
            // Two names joined by one space, `total` bytes in all.
            let scopes = vec!["a".repeat(total - 2), "b".into()];
            let mut c = claims();
            c.scopes = ScopeSet::from_names(&scopes);
            assert_eq!(scopes_fit(&scopes), encode(&key, &c).is_ok(), "{total}");
        }
    }

    #[test]
    fn oversized_claims_are_refused() {
        let mut c = claims();
        c.scopes = ScopeSet::from_names(["x".repeat(MAX_SCOPE_BYTES + 1)]);
        assert_eq!(
            encode(&TokenKey::new([1; 32]), &c),
            Err(Malformed::TooLarge)
        );
    }
}
