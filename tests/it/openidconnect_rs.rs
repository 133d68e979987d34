//! Interop with the Rust `openidconnect` crate (nobody here wrote it):
//! discovery, the code flow with PKCE and a nonce, the id_token verified
//! against the JWKS in each algorithm with its `at_hash`, userinfo, refresh
//! with a new id_token, and the end-session URL. Its verifier also refuses
//! what it should (a wrong audience, an expired token, an unknown key, a
//! tampered signature), and latchkey's own validation refuses an expired JWT
//! access token, one naming an unknown `kid`, and a non-canonical signature.

use std::sync::Arc;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreJwsSigningAlgorithm, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, Scope, TokenResponse,
};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::browser::{location, params_of, Browser};
use crate::common::oauth::{ClientAuth, Grant};
use crate::common::TestServer;

const REDIRECT: &str = "http://127.0.0.1/cb";
const AFTER_LOGOUT: &str = "http://127.0.0.1/bye";

/// The HTTP client the crate speaks through: no redirects followed (its docs
/// ask for that, against SSRF).
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

fn alg_of(name: &str) -> CoreJwsSigningAlgorithm {
    match name {
        "RS256" => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        "ES256" => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        _ => CoreJwsSigningAlgorithm::EdDsa,
    }
}

#[tokio::test]
async fn the_openidconnect_crate_signs_in_refreshes_and_logs_out() {
    let server = TestServer::start().await;
    server
        .create_user("rusty", "rusty-password", &["member"])
        .await;
    let http = http();
    let metadata = ProviderMetadataWithLogout::discover_async(
        IssuerUrl::new(server.base.clone()).unwrap(),
        &http,
    )
    .await
    .unwrap();
    let end_session = metadata
        .additional_metadata()
        .end_session_endpoint
        .clone()
        .expect("end_session_endpoint");

    for alg in ["RS256", "ES256", "EdDSA"] {
        let created = server
            .admin_client(json!({
                "name": format!("openidconnect-rs {alg}"),
                "type": "confidential",
                "redirect_uris": [REDIRECT],
                "post_logout_redirect_uris": [AFTER_LOGOUT],
                "grant_types": ["authorization_code", "refresh_token"],
                "scopes": ["openid", "profile", "email"],
                "id_token_signed_response_alg": alg,
            }))
            .await;
        let id = created["client_id"].as_str().unwrap().to_owned();
        let secret = created["client_secret"].as_str().unwrap().to_owned();
        let client = CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(id.clone()),
            Some(ClientSecret::new(secret)),
        )
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());

        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let path = url.as_str().strip_prefix(&server.base).unwrap().to_owned();
        let mut browser = Browser::new(&server);
        let resp = browser
            .sign_in_and_allow(&path, "rusty", "rusty-password")
            .await;
        let back = params_of(&location(&resp), '?');
        assert_eq!(&back["state"], state.secret());
        assert_eq!(back["iss"], server.base, "{alg}: RFC 9207 iss");

        let token = client
            .exchange_code(AuthorizationCode::new(back["code"].clone()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .unwrap_or_else(|e| panic!("{alg}: token request: {e:?}"));
        let id_token = token.id_token().expect("an id_token").clone();
        let id_verifier = client.id_token_verifier().set_allowed_algs([alg_of(alg)]);
        let claims = id_token
            .claims(&id_verifier, &nonce)
            .unwrap_or_else(|e| panic!("{alg}: id_token: {e:?}"));
        assert_eq!(
            claims.preferred_username().unwrap().as_str(),
            "rusty",
            "{alg}"
        );
        assert!(claims.subject().as_str().starts_with("usr_"));
        assert!(claims.auth_time().is_some());
        let signed_with = id_token.signing_alg().unwrap();
        assert_eq!(*signed_with, alg_of(alg));
        let expected_hash = AccessTokenHash::from_token(
            token.access_token(),
            signed_with,
            id_token.signing_key(&id_verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(claims.access_token_hash(), Some(&expected_hash), "{alg}");

        // The crate's verifier refuses what it should.
        let other = client.id_token_verifier().set_allowed_algs([alg_of(alg)]);
        let wrong_aud = openidconnect::IdTokenVerifier::new_confidential_client(
            ClientId::new("someone-else".into()),
            ClientSecret::new("unused".into()),
            metadata.issuer().clone(),
            metadata.jwks().clone(),
        )
        .set_allowed_algs([alg_of(alg)]);
        assert!(id_token.claims(&wrong_aud, &nonce).is_err(), "{alg}: aud");
        let later = chrono::Utc::now() + chrono::Duration::hours(3);
        let expired = other.clone().set_time_fn(move || later);
        assert!(id_token.claims(&expired, &nonce).is_err(), "{alg}: expired");
        let wrong_nonce = Nonce::new("not-the-nonce".into());
        assert!(id_token.claims(&other, &wrong_nonce).is_err());
        let tampered = tamper(&id_token.to_string());
        let tampered: CoreIdToken = tampered.parse().unwrap();
        assert!(tampered.claims(&other, &nonce).is_err(), "{alg}: tampered");
        let no_keys = openidconnect::core::CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(id.clone()),
            ClientSecret::new("unused".into()),
            metadata.issuer().clone(),
            openidconnect::JsonWebKeySet::new(vec![]),
        )
        .set_allowed_algs([alg_of(alg)]);
        assert!(id_token.claims(&no_keys, &nonce).is_err(), "{alg}: kid");

        // userinfo for the same subject.
        let info: CoreUserInfoClaims = client
            .user_info(token.access_token().clone(), Some(claims.subject().clone()))
            .unwrap()
            .request_async(&http)
            .await
            .unwrap_or_else(|e| panic!("{alg}: userinfo: {e:?}"));
        assert_eq!(info.preferred_username().unwrap().as_str(), "rusty");

        // Refresh: a new id_token for the same sign-in, without a nonce.
        let refreshed = client
            .exchange_refresh_token(token.refresh_token().unwrap())
            .unwrap()
            .request_async(&http)
            .await
            .unwrap_or_else(|e| panic!("{alg}: refresh: {e:?}"));
        let again = refreshed.id_token().expect("a new id_token");
        let again = again
            .claims(&other, |n: Option<&Nonce>| match n {
                None => Ok(()),
                Some(_) => Err("a refreshed id_token carries no nonce".to_string()),
            })
            .unwrap();
        assert_eq!(again.subject(), claims.subject());
        assert_eq!(again.auth_time(), claims.auth_time());

        // The end-session URL sends the browser back to the registered URI.
        let logout = LogoutRequest::from(end_session.clone())
            .set_id_token_hint(&id_token)
            .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(AFTER_LOGOUT.into()).unwrap())
            .set_state(CsrfToken::new("after".into()))
            .http_get_url();
        let path = logout
            .as_str()
            .strip_prefix(&server.base)
            .unwrap()
            .to_owned();
        let resp = browser.get(&path).await;
        assert!(resp.status().is_redirection(), "{alg}: {}", resp.status());
        let to = location(&resp);
        assert!(to.starts_with(AFTER_LOGOUT), "{to}");
        assert_eq!(params_of(&to, '?')["state"], "after");
    }
    server.stop().await;
}

/// A JWT with one signature character changed (in the middle: the last
/// character may hold only padding bits a lenient decoder ignores).
fn tamper(jwt: &str) -> String {
    let (rest, sig) = jwt.rsplit_once('.').unwrap();
    let mid = sig.len() / 2;
    let swapped = if &sig[mid..=mid] == "A" { "B" } else { "A" };
    format!("{rest}.{}{swapped}{}", &sig[..mid], &sig[mid + 1..])
}

/// latchkey's own validation: a JWT access token is refused once expired
/// (the clock moved, no sleeping), and one whose header names a `kid` the
/// server never had is refused even with an otherwise valid signature.
#[tokio::test]
async fn expired_and_unknown_kid_jwt_access_tokens_are_refused() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let clock = Arc::new(latchkey::clock::ManualClock::new(
        latchkey::domain::time::Timestamp(1_900_000_000),
    ));
    let server = TestServer::builder().clock(clock.clone()).start().await;
    let created = server
        .admin_client(json!({
            "name": "short-lived jwt",
            "type": "confidential",
            "grant_types": ["client_credentials"],
            "scopes": ["read"],
            "access_token_format": "jwt",
            "access_token_signed_response_alg": "EdDSA",
            "access_token_ttl_seconds": 60,
        }))
        .await;
    let auth = ClientAuth::Basic(
        created["client_id"].as_str().unwrap(),
        created["client_secret"].as_str().unwrap(),
    );
    let token = server.token_json(auth, Grant::client_credentials()).await;
    let access = token["access_token"].as_str().unwrap().to_owned();
    assert_eq!(server.me_bearer(&access).await.status(), StatusCode::OK);

    let (head, rest) = access.split_once('.').unwrap();
    let mut header: serde_json::Value = serde_json::from_slice(&b64.decode(head).unwrap()).unwrap();
    header["kid"] = json!("never-issued");
    let unknown_kid = format!("{}.{rest}", b64.encode(header.to_string()));
    assert_eq!(
        server.me_bearer(&unknown_kid).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let seen = server
        .introspect_json(ClientAuth::ADMIN, &unknown_kid)
        .await;
    assert_eq!(seen["active"], false);
    // Stricter than the crate: only the unused low bits of the signature's
    // last character changed (non-canonical base64url) is refused too.
    let (signed, sig) = access.rsplit_once('.').unwrap();
    let (keep, last) = sig.split_at(sig.len() - 1);
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = ALPHABET.find(last).unwrap() ^ 1;
    let flipped = &ALPHABET[index..=index];
    assert_eq!(
        b64.decode(format!("{keep}{last}")).unwrap().len(),
        64,
        "an Ed25519 signature: its last character holds 2 unused bits"
    );
    let padding_bits = format!("{signed}.{keep}{flipped}");
    assert_eq!(
        server.me_bearer(&padding_bits).await.status(),
        StatusCode::UNAUTHORIZED
    );

    clock.advance(59);
    assert_eq!(server.me_bearer(&access).await.status(), StatusCode::OK);
    clock.advance(1);
    assert_eq!(
        server.me_bearer(&access).await.status(),
        StatusCode::UNAUTHORIZED,
        "expired at exp"
    );
    let seen = server.introspect_json(ClientAuth::ADMIN, &access).await;
    assert_eq!(seen["active"], false);
    server.stop().await;
}
