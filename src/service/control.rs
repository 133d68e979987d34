//! Test control's memory of a realm: queued faults and the request journal.
//! Both are memory-only (a restart clears them) and per realm. The HTTP side
//! (matching a request, answering a fault, recording the answer) is
//! `app::control`; this module holds the rules.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::domain::time::Timestamp;
use crate::error::{Error, Result};
use crate::secret::{fingerprint, random_token, Kind};

/// The endpoints a fault can match and the journal names.
pub const ENDPOINTS: [&str; 8] = [
    "authorize",
    "token",
    "introspect",
    "revoke",
    "userinfo",
    "jwks",
    "discovery",
    "api",
];

/// What a fault answers instead of the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Respond {
    /// An RFC 6749 §5.2 error body with this status.
    OAuthError {
        code: String,
        status: u16,
        description: Option<String>,
    },
    /// This status, JSON body and headers.
    Status {
        status: u16,
        body: String,
        headers: Vec<(String, String)>,
    },
    /// Wait, then answer normally.
    Delay { ms: u64 },
    /// A 200 whose body is not valid JSON.
    Malformed,
    /// Drop the connection without an answer.
    Close,
}

/// The most a delay may be.
pub const MAX_DELAY_MS: u64 = 30_000;

/// The default status of an OAuth error code.
pub fn oauth_status(code: &str) -> u16 {
    match code {
        "invalid_client" => 401,
        "server_error" => 500,
        "temporarily_unavailable" => 503,
        _ => 400,
    }
}

/// What a fault matches: an endpoint, and optionally the client, grant type
/// and username the request names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    pub endpoint: String,
    pub client_id: Option<String>,
    pub grant_type: Option<String>,
    pub username: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FaultView {
    pub id: String,
    pub matches: Match,
    pub respond: Respond,
    /// `None`: until deleted.
    pub remaining: Option<u32>,
    pub fired: u32,
}

/// What a request names, for matching and recording.
#[derive(Debug, Default, Clone)]
pub struct Seen<'a> {
    pub endpoint: &'a str,
    pub client_id: Option<&'a str>,
    pub grant_type: Option<&'a str>,
    pub username: Option<&'a str>,
}

#[derive(Default)]
pub struct Faults {
    list: Mutex<Vec<FaultView>>,
    /// Whether any fault is queued (read without the lock on every request).
    any: std::sync::atomic::AtomicBool,
}

impl Faults {
    pub fn add(&self, matches: Match, respond: Respond, times: u32) -> Result<FaultView> {
        if !ENDPOINTS.contains(&matches.endpoint.as_str()) {
            return Err(Error::invalid(
                "match.endpoint",
                format!(
                    "{:?}: use one of {}",
                    matches.endpoint,
                    ENDPOINTS.join(", ")
                ),
            ));
        }
        if let Respond::Delay { ms } = respond {
            if ms > MAX_DELAY_MS {
                return Err(Error::invalid(
                    "respond.delay_ms",
                    format!("at most {MAX_DELAY_MS}"),
                ));
            }
        }
        let fault = FaultView {
            id: format!("flt_{}", &random_token()[..16]),
            matches,
            respond,
            remaining: (times > 0).then_some(times),
            fired: 0,
        };
        let mut list = self.list.lock().map_err(|_| poisoned())?;
        list.push(fault.clone());
        self.any.store(true, std::sync::atomic::Ordering::Release);
        Ok(fault)
    }

    /// Whether any fault is queued (no lock).
    pub fn any(&self) -> bool {
        self.any.load(std::sync::atomic::Ordering::Acquire)
    }

    pub fn list(&self) -> Vec<FaultView> {
        self.list.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn remove(&self, id: &str) -> Result<()> {
        let mut list = self.list.lock().map_err(|_| poisoned())?;
        let before = list.len();
        list.retain(|f| f.id != id);
        if list.len() == before {
            return Err(Error::NotFound {
                kind: "fault",
                id: id.to_owned(),
            });
        }
        self.any
            .store(!list.is_empty(), std::sync::atomic::Ordering::Release);
        Ok(())
    }

    pub fn clear(&self) {
        if let Ok(mut list) = self.list.lock() {
            list.clear();
        }
        self.any.store(false, std::sync::atomic::Ordering::Release);
    }

    /// The first fault matching `seen` that has uses left, used once.
    pub fn fire(&self, seen: &Seen<'_>) -> Option<(String, Respond)> {
        if !self.any.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        let mut list = self.list.lock().ok()?;
        let f = list.iter_mut().find(|f| {
            f.remaining != Some(0)
                && f.matches.endpoint == seen.endpoint
                && wanted(&f.matches.client_id, seen.client_id)
                && wanted(&f.matches.grant_type, seen.grant_type)
                && wanted(&f.matches.username, seen.username)
        })?;
        if let Some(n) = &mut f.remaining {
            *n -= 1;
        }
        f.fired = f.fired.saturating_add(1);
        Some((f.id.clone(), f.respond.clone()))
    }
}

fn wanted(want: &Option<String>, got: Option<&str>) -> bool {
    want.as_deref().is_none_or(|w| got == Some(w))
}

fn poisoned() -> Error {
    Error::Internal("a test-control lock is poisoned".into())
}

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Entry {
    pub at: Timestamp,
    /// Orders entries of the same second.
    pub seq: u64,
    pub method: &'static str,
    pub path: String,
    pub endpoint: &'static str,
    pub client_id: Option<String>,
    pub grant_type: Option<String>,
    pub username: Option<String>,
    pub scope: Option<String>,
    pub status: u16,
    pub error: Option<String>,
    pub duration_ms: f64,
    pub fault: Option<String>,
    /// Every parameter, secrets redacted (see [`redact`]), form-encoded.
    pub params: String,
}

/// A filter over the journal.
#[derive(Debug, Default)]
pub struct Query {
    pub endpoint: Option<String>,
    pub client_id: Option<String>,
    pub status: Option<u16>,
    /// Entries strictly after this instant.
    pub since: Option<Timestamp>,
    pub limit: usize,
}

/// The last requests of a realm, in a ring of fixed size.
pub struct Journal {
    size: usize,
    ring: Mutex<(VecDeque<Entry>, u64)>,
}

impl Journal {
    pub fn new(size: usize) -> Journal {
        Journal {
            size,
            ring: Mutex::new((VecDeque::new(), 0)),
        }
    }

    pub fn is_on(&self) -> bool {
        self.size > 0
    }

    pub fn record(&self, mut entry: Entry) {
        if self.size == 0 {
            return;
        }
        if let Ok(mut ring) = self.ring.lock() {
            ring.1 += 1;
            entry.seq = ring.1;
            if ring.0.len() == self.size {
                ring.0.pop_front();
            }
            ring.0.push_back(entry);
        }
    }

    /// Matching entries, newest first, up to `limit`; and how many match.
    pub fn query(&self, q: &Query) -> (Vec<Entry>, usize) {
        let Ok(ring) = self.ring.lock() else {
            return (Vec::new(), 0);
        };
        let hits: Vec<&Entry> = ring
            .0
            .iter()
            .rev()
            .filter(|e| q.endpoint.as_deref().is_none_or(|x| e.endpoint == x))
            .filter(|e| {
                q.client_id
                    .as_deref()
                    .is_none_or(|x| e.client_id.as_deref() == Some(x))
            })
            .filter(|e| q.status.is_none_or(|x| e.status == x))
            .filter(|e| q.since.is_none_or(|x| e.at > x))
            .collect();
        let count = hits.len();
        (hits.into_iter().take(q.limit).cloned().collect(), count)
    }

    pub fn clear(&self) {
        if let Ok(mut ring) = self.ring.lock() {
            ring.0.clear();
        }
    }
}

/// A parameter as the journal keeps it (borrowed when it is kept as it is):
/// passwords and secrets as `***`;
/// codes, tokens and keys as their type prefix, `#` and the first 8 hex
/// characters of the blake3 hash of the whole credential (a JWT as `jwt#…`),
/// so a test can match a credential it holds without the journal holding it.
pub fn redact<'v>(name: &str, value: &'v str) -> std::borrow::Cow<'v, str> {
    const SECRET_NAMES: [&str; 5] = [
        "password",
        "client_secret",
        "admin_password",
        "code_verifier",
        "client_assertion",
    ];
    if SECRET_NAMES.contains(&name) || Kind::of(value) == Some(Kind::ClientSecret) {
        return "***".into();
    }
    let tag = match Kind::of(value) {
        Some(kind) => kind.prefix(),
        None if crate::domain::jwt::looks_like_jwt(value) => "jwt",
        None => return std::borrow::Cow::Borrowed(value),
    };
    format!("{tag}#{}", &hex(&fingerprint(value))[..8]).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_the_journal() {
        assert_eq!(redact("password", "hunter22"), "***");
        assert_eq!(redact("client_secret", "anything"), "***");
        assert_eq!(redact("x", "lk_cs_abcdefghijklmnop"), "***");
        let at = redact("token", "lk_at_AAAA");
        assert!(at.starts_with("lk_at_#") && at.len() == 7 + 8, "{at}");
        assert_eq!(
            redact("grant_type", "client_credentials"),
            "client_credentials"
        );
        assert!(redact("token", "eyJhbGciOiJFZERTQSJ9.eyJ4IjoxfQ.c2ln").starts_with("jwt#"));
    }

    #[test]
    fn faults_fire_as_often_as_asked() {
        let f = Faults::default();
        let m = Match {
            endpoint: "token".into(),
            client_id: Some("a".into()),
            ..Match::default()
        };
        let fault = f.add(m, Respond::Malformed, 2).unwrap();
        let seen = |c| Seen {
            endpoint: "token",
            client_id: Some(c),
            ..Seen::default()
        };
        assert!(f.fire(&seen("b")).is_none());
        assert_eq!(f.fire(&seen("a")).unwrap().0, fault.id);
        assert!(f.fire(&seen("a")).is_some());
        assert!(f.fire(&seen("a")).is_none(), "used up");
        let listed = f.list();
        assert_eq!((listed[0].remaining, listed[0].fired), (Some(0), 2));
        assert!(f
            .add(
                Match {
                    endpoint: "nope".into(),
                    ..Match::default()
                },
                Respond::Close,
                1
            )
            .is_err());
        f.remove(&fault.id).unwrap();
        assert!(f.remove(&fault.id).is_err());
    }
}
