//! Redirect URIs: the strict parse a registration must pass, and what kind of
//! URI it is (RFC 6749 §3.1.2, RFC 8252 §7, the Google-style out-of-band URNs).

/// Longest redirect URI accepted.
pub const MAX_LEN: usize = 2048;
/// Out-of-band: the result is shown on a page for the person to copy.
pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
/// Out-of-band, automatic: the application reads the page title itself.
pub const OOB_AUTO: &str = "urn:ietf:wg:oauth:2.0:oob:auto";

/// What kind of redirect target a URI is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriKind {
    /// `https://` anywhere.
    Https,
    /// `http://` to `localhost`, `127.0.0.1` or `[::1]` (RFC 8252 §7.3).
    LoopbackHttp,
    /// `http://` to any other host.
    OtherHttp,
    /// One of the two out-of-band URNs.
    OutOfBand,
    /// A reverse-domain private-use scheme such as `com.example.app:/cb` (RFC 8252 §7.1).
    PrivateUse,
}

/// A redirect URI that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri {
    kind: UriKind,
}

impl RedirectUri {
    pub fn parse(raw: &str) -> Result<RedirectUri, String> {
        if raw.is_empty() {
            return Err("a redirect URI must not be empty".into());
        }
        if raw.len() > MAX_LEN {
            return Err(format!(
                "a redirect URI is longer than {MAX_LEN} characters"
            ));
        }
        if let Some(c) = raw.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(format!(
                "{raw:?} contains {c:?}: percent-encode spaces, control and non-ASCII characters"
            ));
        }
        if raw.contains('#') {
            return Err(format!(
                "{raw:?} has a fragment; RFC 6749 §3.1.2 forbids fragments in redirect URIs"
            ));
        }
        if raw == OOB || raw == OOB_AUTO {
            return Ok(RedirectUri {
                kind: UriKind::OutOfBand,
            });
        }
        let Some((scheme, rest)) = raw.split_once(':') else {
            return Err(format!("{raw:?} is not an absolute URI (it has no scheme)"));
        };
        if !is_scheme(scheme) {
            return Err(format!("{raw:?} is not an absolute URI (bad scheme)"));
        }
        let scheme = scheme.to_ascii_lowercase();
        if scheme == "http" || scheme == "https" {
            let host = authority_host(raw, rest)?;
            let kind = match (scheme.as_str(), is_loopback(&host)) {
                ("https", _) => UriKind::Https,
                (_, true) => UriKind::LoopbackHttp,
                _ => UriKind::OtherHttp,
            };
            return Ok(RedirectUri { kind });
        }
        if !scheme.contains('.') || rest.is_empty() {
            return Err(format!(
                "{raw:?}: use https, loopback http, an out-of-band URN, or a reverse-domain private-use scheme such as com.example.app:/callback (RFC 8252 §7.1)"
            ));
        }
        Ok(RedirectUri {
            kind: UriKind::PrivateUse,
        })
    }

    pub fn kind(&self) -> UriKind {
        self.kind
    }
}

/// Whether `presented` names the registered URI `registered`: the same string,
/// or — for a loopback `http` URI registered without a port — the same URI with
/// any port (RFC 8252 §7.3), or — for a path registered by a built-in client —
/// that path on this server's own origin `own_base` (none known: no match).
/// Nothing else: no prefix, case or path leniency.
pub fn matches(registered: &str, presented: &str, own_base: Option<&str>) -> bool {
    if registered.starts_with('/') {
        return own_base.is_some_and(|base| presented.strip_prefix(base) == Some(registered));
    }
    if registered == presented {
        return true;
    }
    for host in ["localhost", "127.0.0.1", "[::1]"] {
        let base = format!("http://{host}");
        let Some(rest) = registered.strip_prefix(&base) else {
            continue;
        };
        if !(rest.is_empty() || rest.starts_with(['/', '?'])) {
            continue;
        }
        let Some(after) = presented
            .strip_prefix(&base)
            .and_then(|p| p.strip_prefix(':'))
        else {
            return false;
        };
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let port_ok = (1..=5).contains(&digits)
            && after[..digits]
                .parse::<u32>()
                .is_ok_and(|p| (1..=65_535).contains(&p));
        return port_ok && &after[digits..] == rest;
    }
    false
}

/// RFC 3986 §3.1: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// The lower-cased host of `//authority/...`, refusing userinfo and bad ports.
fn authority_host(raw: &str, rest: &str) -> Result<String, String> {
    let Some(after) = rest.strip_prefix("//") else {
        return Err(format!("{raw:?}: an http(s) URI needs //host"));
    };
    let end = after.find(['/', '?']).unwrap_or(after.len());
    let authority = &after[..end];
    if authority.contains('@') {
        return Err(format!(
            "{raw:?}: user information (user@host) is not allowed"
        ));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((addr, tail)) = v6.split_once(']') else {
            return Err(format!("{raw:?}: unterminated IPv6 address"));
        };
        if addr.is_empty()
            || !addr
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(format!("{raw:?}: bad IPv6 address"));
        }
        let port = match tail {
            "" => None,
            t => Some(
                t.strip_prefix(':')
                    .ok_or_else(|| format!("{raw:?}: bad port"))?,
            ),
        };
        (format!("[{}]", addr.to_ascii_lowercase()), port)
    } else {
        let (h, p) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        if h.is_empty()
            || !h
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            return Err(format!("{raw:?}: bad or missing host"));
        }
        (h.to_ascii_lowercase(), p)
    };
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{raw:?}: bad port"));
        }
        if p.parse::<u32>().map_or(true, |n| n > 65_535) {
            return Err(format!("{raw:?}: port out of range"));
        }
    }
    Ok(host)
}

/// RFC 8252 §7.3's loopback host names (lower-case, IPv6 in brackets).
pub fn is_loopback(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> Result<UriKind, String> {
        RedirectUri::parse(s).map(|u| u.kind())
    }

    #[test]
    fn kinds() {
        assert_eq!(kind("https://app.example/cb?x=1"), Ok(UriKind::Https));
        assert_eq!(kind("HTTPS://APP.example:8443"), Ok(UriKind::Https));
        assert_eq!(kind("http://localhost/cb"), Ok(UriKind::LoopbackHttp));
        assert_eq!(kind("http://127.0.0.1:9004"), Ok(UriKind::LoopbackHttp));
        assert_eq!(kind("http://[::1]:80/x"), Ok(UriKind::LoopbackHttp));
        assert_eq!(kind("http://example.com/"), Ok(UriKind::OtherHttp));
        assert_eq!(
            kind("http://localhost.evil.example/"),
            Ok(UriKind::OtherHttp)
        );
        assert_eq!(kind(OOB), Ok(UriKind::OutOfBand));
        assert_eq!(kind(OOB_AUTO), Ok(UriKind::OutOfBand));
        assert_eq!(kind("com.example.app:/oauth"), Ok(UriKind::PrivateUse));
    }

    #[test]
    fn own_paths_match_only_this_servers_origin() {
        let own = Some("http://127.0.0.1:8080");
        let reg = "/docs/oauth-receiver.html";
        assert!(matches(
            reg,
            "http://127.0.0.1:8080/docs/oauth-receiver.html",
            own
        ));
        assert!(!matches(
            reg,
            "http://127.0.0.1:9090/docs/oauth-receiver.html",
            own
        ));
        assert!(!matches(
            reg,
            "https://evil.example/docs/oauth-receiver.html",
            own
        ));
        assert!(!matches(reg, "/docs/oauth-receiver.html", own));
        assert!(!matches(
            reg,
            "http://127.0.0.1:8080/docs/oauth-receiver.html?x",
            own
        ));
    }

    #[test]
    fn matching_is_exact_except_loopback_ports() {
        let matches = |r: &str, p: &str| matches(r, p, Some("http://latchkey.test"));
        let reg = "https://app.example/cb";
        assert!(matches(reg, reg));
        for bad in [
            "https://app.example/cb/",
            "https://app.example/cb?x=1",
            "https://app.example/c",
            "https://app.example/cbx",
            "https://APP.example/cb",
            "http://app.example/cb",
            "https://app.example:443/cb",
            "https://app.example.evil/cb",
            "https://evil@app.example/cb",
            "https://app.example/cb#x",
            "https://app.example/%63b",
        ] {
            assert!(!matches(reg, bad), "{bad}");
        }
        let lo = "http://127.0.0.1/cb";
        assert!(matches(lo, "http://127.0.0.1:53124/cb"));
        assert!(matches(lo, "http://127.0.0.1/cb"));
        assert!(!matches(lo, "http://127.0.0.1:53124/cb/x"));
        assert!(!matches(lo, "http://127.0.0.1:0/cb"));
        assert!(!matches(lo, "http://127.0.0.1:99999/cb"));
        assert!(!matches(lo, "http://127.0.0.1:80@evil.example/cb"));
        assert!(!matches(lo, "http://localhost:8080/cb"));
        assert!(matches("http://localhost", "http://localhost:8080"));
        assert!(!matches("http://localhost", "http://localhost:8080/x"));
        assert!(matches("http://[::1]/", "http://[::1]:9/"));
        // Registered with a port: exact only.
        assert!(!matches(
            "http://localhost:3000/cb",
            "http://localhost:3001/cb"
        ));
        assert!(!matches(
            "http://localhost.evil/cb",
            "http://localhost.evil:1/cb"
        ));
    }

    #[test]
    fn refusals() {
        for bad in [
            "",
            "/relative/cb",
            "cb",
            "https://app.example/cb#frag",
            "https://user:pw@app.example/cb",
            "https://@app.example/",
            "https:app.example",
            "https:///cb",
            "https://app.example:99999/",
            "https://app.example:/",
            "https://app.example:8a/",
            "https://[::1/",
            "https://app example/",
            "https://app.example/caf\u{e9}",
            "https://app.example/\ttab",
            "1http://x/",
            "javascript:alert(1)",
            "data:text/html,hi",
            "urn:ietf:wg:oauth:2.0:oob:other",
            "com.example.app:",
        ] {
            assert!(kind(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(kind(&format!("https://a.example/{}", "x".repeat(MAX_LEN))).is_err());
    }
}
