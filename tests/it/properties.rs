//! Property tests (proptest, bounded case counts) for everything that reads
//! untrusted input: access tokens, redirect URIs, the OAuth parameter reader,
//! `Authorization` headers, PKCE verifiers, scopes, the seed reader, JWTs and
//! the record codec. None may panic; the accepting ones accept only what
//! their rules allow.

use base64::Engine as _;
use latchkey::api::oauth::params::{Params, MAX_PARAMS};
use latchkey::domain::credential::{parse_authorization, Credential, MAX_HEADER_LEN};
use latchkey::domain::redirect_uri::{self, RedirectUri};
use latchkey::domain::scope::{ScopeName, ScopeSet};
use latchkey::domain::time::Timestamp;
use latchkey::domain::token::{self, AccessClaims, TokenKey};
use latchkey::domain::{jwt, pkce};
use latchkey::store::codec;
use latchkey::store::{ApiKeyRecord, ClientRecord, RefreshRecord, UserRecord};
use proptest::prelude::*;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn claims(id: [u8; 16], epoch: u64, iat: i64, scopes: Vec<String>) -> AccessClaims {
    AccessClaims {
        id,
        client_id: "cli_0123456789abcdef01234567".into(),
        client_epoch: epoch,
        user_id: "usr_0123456789abcdef01234567".into(),
        scopes: ScopeSet::from_names(scopes),
        issued_at: Timestamp(iat),
        expires_at: Timestamp(iat + 3600),
        family: None,
    }
}

/// A scope name as the catalog allows them.
fn scope_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9:._-]{0,20}"
}

proptest! {
    #![proptest_config(config(256))]

    /// Access tokens: decoding never panics, a valid token round-trips, and
    /// any one-character change, truncation or extension is refused.
    #[test]
    fn access_tokens_refuse_every_change(
        id in any::<[u8; 16]>(),
        epoch in any::<u64>(),
        iat in 1_600_000_000i64..2_000_000_000,
        scopes in prop::collection::vec(scope_name(), 0..4),
        at in any::<prop::sample::Index>(),
        with in prop::char::range('!', '~'),
        cut in any::<prop::sample::Index>(),
    ) {
        let key = TokenKey::new([7; 32]);
        let c = claims(id, epoch, iat, scopes);
        let t = token::encode(&key, &c).unwrap();
        prop_assert_eq!(token::decode(&key, &t).unwrap(), c);
        let i = at.index(t.len());
        if t.as_bytes()[i] as char != with {
            let mut changed = t.clone().into_bytes();
            changed[i] = with as u8;
            let changed = String::from_utf8(changed).unwrap();
            prop_assert!(token::decode(&key, &changed).is_err(), "{}", changed);
        }
        prop_assert!(token::decode(&key, &t[..cut.index(t.len())]).is_err());
        let longer = format!("{t}A");
        prop_assert!(token::decode(&key, &longer).is_err());
        prop_assert!(token::decode(&TokenKey::new([8; 32]), &t).is_err(), "another key");
    }

    #[test]
    fn access_token_decoding_never_panics(s in "\\PC{0,300}", b in "lk_at_[A-Za-z0-9_-]{0,200}") {
        let key = TokenKey::new([7; 32]);
        let _ = token::decode(&key, &s);
        let _ = token::decode(&key, &b);
    }

    /// Redirect URIs: parsing never panics; a registered URI matches only
    /// itself, or for loopback hosts itself with another port.
    #[test]
    fn redirect_uris_match_only_by_the_rules(
        raw in "\\PC{0,120}",
        scheme in prop::sample::select(vec!["http", "https", "com.example.app"]),
        host in prop::sample::select(vec!["127.0.0.1", "localhost", "[::1]", "app.example.test"]),
        path in "(/[a-z0-9]{1,8}){0,3}",
        port in 1u32..65_536,
        noise in "[a-zA-Z0-9/?#.@%-]{1,6}",
    ) {
        let _ = RedirectUri::parse(&raw);
        let _ = redirect_uri::matches(&raw, &raw, None);
        let registered = if scheme == "com.example.app" {
            format!("{scheme}:/{path}")
        } else {
            format!("{scheme}://{host}{path}")
        };
        prop_assert!(redirect_uri::matches(&registered, &registered, None));
        let appended = format!("{registered}{noise}");
        let loopback = scheme == "http" && host != "app.example.test";
        let with_port = format!("{scheme}://{host}:{port}{path}");
        prop_assert_eq!(
            redirect_uri::matches(&registered, &with_port, None),
            loopback && scheme != "com.example.app",
            "{} vs {}", registered, with_port
        );
        // Nothing longer, shorter or differently cased than what was registered.
        prop_assert!(!redirect_uri::matches(&registered, &appended, None) || appended == registered);
        prop_assert!(!redirect_uri::matches(&registered, &registered.to_uppercase(), None)
            || registered.to_uppercase() == registered);
        if registered.len() > 1 {
            prop_assert!(!redirect_uri::matches(&registered, &registered[..registered.len() - 1], None));
        }
    }

    /// The OAuth parameter reader: never panics; a form of distinct names
    /// round-trips through any percent-encoding; a repeat or too many
    /// parameters is refused.
    #[test]
    fn the_parameter_reader_reads_what_was_sent(
        pairs in prop::collection::btree_map("[a-z_]{1,12}", "\\PC{0,40}", 0..10),
        junk in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let _ = Params::from_form(&junk);
        let _ = Params::from_query(&String::from_utf8_lossy(&junk));
        let encoded: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter())
            .finish();
        let read = Params::from_form(encoded.as_bytes()).unwrap();
        for (k, v) in &pairs {
            // RFC 6749 §3.1: a parameter without a value is as if omitted.
            let expected = (!v.is_empty()).then_some(v.as_str());
            prop_assert_eq!(read.get(k), expected);
        }
        if let Some((k, v)) = pairs.iter().find(|(_, v)| !v.is_empty()) {
            let repeated = format!("{encoded}&{k}={}", form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>());
            prop_assert!(Params::from_form(repeated.as_bytes()).is_err(), "a repeated {}", k);
        }
        let many: String = (0..=MAX_PARAMS).map(|i| format!("p{i}=x")).collect::<Vec<_>>().join("&");
        prop_assert!(Params::from_form(many.as_bytes()).is_err());
    }

    /// `Authorization`: never panics on any bytes; Basic round-trips any
    /// username without ':' and any password; Bearer keeps its token.
    #[test]
    fn authorization_headers_parse_or_refuse(
        raw in prop::collection::vec(any::<u8>(), 0..300),
        user in "[^:\\pC]{1,30}",
        password in "\\PC{0,40}",
        token in "[A-Za-z0-9_-]{1,80}",
    ) {
        let _ = parse_authorization(&raw);
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        match parse_authorization(format!("Basic {b64}").as_bytes()) {
            Ok(Credential::Basic { username, password: p }) => {
                prop_assert_eq!(username, user);
                prop_assert_eq!(p.expose(), &password);
            }
            other => prop_assert!(false, "Basic refused: {:?}", other),
        }
        match parse_authorization(format!("Bearer {token}").as_bytes()) {
            Ok(Credential::Token { token: t, .. }) => prop_assert_eq!(t.expose(), &token),
            other => prop_assert!(false, "Bearer refused: {:?}", other),
        }
        let long = format!("Bearer {}", "a".repeat(MAX_HEADER_LEN));
        prop_assert!(parse_authorization(long.as_bytes()).is_err());
    }

    /// PKCE: a verifier is accepted exactly when RFC 7636 §4.1 allows it, and
    /// S256 verifies only its own verifier.
    #[test]
    fn pkce_verifiers_follow_rfc_7636(v in "\\PC{0,140}", good in "[A-Za-z0-9._~-]{43,128}") {
        let allowed = (43..=128).contains(&v.len())
            && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        prop_assert_eq!(pkce::check_format(&v, "code_verifier").is_ok(), allowed);
        let challenge = pkce::s256(&good);
        prop_assert!(pkce::verify(pkce::Method::S256, &challenge, &good));
        if v != good {
            prop_assert!(!pkce::verify(pkce::Method::S256, &challenge, &v));
        }
    }

    /// Scopes: parsing never panics; what parses is a set of valid names that
    /// prints space-separated and parses back to itself.
    #[test]
    fn scopes_parse_to_valid_names(raw in "\\PC{0,200}", names in prop::collection::vec(scope_name(), 1..6)) {
        if let Ok(set) = ScopeSet::parse(&raw) {
            for name in set.iter() {
                prop_assert!(ScopeName::parse(name).is_ok(), "{:?}", name);
            }
            prop_assert_eq!(ScopeSet::parse(&set.to_string()).unwrap(), set);
        }
        let joined = names.join(" ");
        let set = ScopeSet::parse(&joined).unwrap();
        prop_assert_eq!(ScopeSet::parse(&names.join(",")).unwrap(), set.clone());
        for n in &names {
            prop_assert!(set.contains(n));
        }
    }

    /// JWT verification never panics on any text, and never accepts it.
    #[test]
    fn jwt_verification_never_panics(s in "\\PC{0,400}", parts in prop::collection::vec("[A-Za-z0-9_-]{0,60}", 3)) {
        let none = |_: &str| None;
        prop_assert!(jwt::verify(&s, none).is_err());
        prop_assert!(jwt::verify(&parts.join("."), none).is_err());
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// The seed reader never panics, whatever bytes it is given.
    #[test]
    fn the_seed_reader_never_panics(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        table in prop::sample::select(vec!["users", "clients", "api_keys", "scopes", "signing_keys"]),
        field in "[a-z_]{1,12}",
        value in "\\PC{0,30}",
    ) {
        let _ = latchkey::seed::parse(&String::from_utf8_lossy(&bytes));
        let doc = format!("[[{table}]]\n{field} = {value:?}\n");
        let _ = latchkey::seed::parse(&doc);
    }

    /// The record codec: arbitrary bytes give an error or a record, never a
    /// panic or a huge allocation (a corrupt length prefix claims gigabytes).
    #[test]
    fn the_codec_refuses_garbage(
        version in 0u8..5,
        body in prop::collection::vec(any::<u8>(), 0..300),
        huge in any::<u64>(),
    ) {
        let mut bytes = vec![version];
        bytes.extend(&body);
        let _ = codec::decode::<UserRecord>(&bytes);
        let _ = codec::decode::<ClientRecord>(&bytes);
        let _ = codec::decode::<ApiKeyRecord>(&bytes);
        let _ = codec::decode::<RefreshRecord>(&bytes);
        // A version byte, then a varint length of up to 2^64.
        let mut claims_huge = vec![2u8, 0xfd];
        claims_huge.extend(huge.to_le_bytes());
        prop_assert!(codec::decode::<UserRecord>(&claims_huge).is_err());
        prop_assert!(codec::decode::<UserRecord>(&[]).is_err());
    }
}
