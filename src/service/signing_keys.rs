//! JWT signing keys: one active key per algorithm (RS256, ES256, EdDSA), made
//! on first start (the RSA key in the background: it takes tens to hundreds of
//! milliseconds, and start-up must not wait for it), kept in the store,
//! rotated on request, and swept from the JWKS once every token a retired key
//! signed has expired. Seeded keys (PKCS #8 PEM) become the active key of
//! their algorithm.

use std::time::Duration;

use rand::rngs::OsRng;

use crate::domain::client::MAX_TTL_SECONDS;
use crate::domain::jwt::{Alg, PrivateKey, RSA_BITS};
use crate::domain::time::Timestamp;
use crate::error::{Error, Result};
use crate::service::keyring::{self, KeyEntry, Keyring};
use crate::state::AppState;
use crate::store::SigningKeyRecord;

/// How long a request waits for a key still being made.
const KEY_WAIT: Duration = Duration::from_secs(30);

/// A signing key as the management API shows it (never the private part).
#[derive(Debug, Clone)]
pub struct KeyView {
    pub kid: String,
    pub alg: Alg,
    pub created_at: Timestamp,
    pub active: bool,
    pub retires_at: Option<Timestamp>,
}

/// A new private key of `alg`, from the OS RNG (blocking: RSA takes a while).
pub fn generate(alg: Alg) -> Result<PrivateKey> {
    let mut rng = OsRng;
    Ok(match alg {
        Alg::RS256 => PrivateKey::Rsa(Box::new(
            rsa::RsaPrivateKey::new(&mut rng, RSA_BITS)
                .map_err(|e| Error::Internal(format!("RSA key generation failed: {e}")))?,
        )),
        Alg::ES256 => PrivateKey::Ec(p256::ecdsa::SigningKey::random(&mut rng)),
        Alg::EdDSA => PrivateKey::Ed(ed25519_dalek::SigningKey::generate(&mut rng)),
    })
}

fn record(key: &PrivateKey, now: i64) -> Result<SigningKeyRecord> {
    Ok(SigningKeyRecord {
        kid: key.public().thumbprint(),
        alg: key.alg().as_str().to_owned(),
        private_pkcs8: key.to_pkcs8_der().map_err(Error::Internal)?,
        created_at: now,
        active: true,
        retires_at: None,
    })
}

fn reload(state: &AppState) -> Result<()> {
    let entries = state
        .store
        .signing_keys()
        .all()?
        .iter()
        .map(keyring::entry)
        .collect::<Result<_>>()?;
    state.keyring.replace(entries);
    Ok(())
}

/// Until when a key retired now stays in the JWKS: past the longest lifetime
/// any token it signed can have.
fn horizon(state: &AppState) -> i64 {
    state
        .clock
        .now()
        .plus_secs(MAX_TTL_SECONDS.max(state.config.access_token_ttl))
        .unix()
}

/// Makes the active keys that are missing (first start): EdDSA and ES256 at
/// once, RS256 on a blocking thread. Requests that need a key wait for it.
pub async fn ensure(state: &AppState) -> Result<()> {
    let _writes = state.keyring.writes.lock().await;
    for alg in [Alg::EdDSA, Alg::ES256, Alg::RS256] {
        if state.keyring.active(alg).is_some() {
            continue;
        }
        let key = match alg {
            Alg::RS256 => tokio::task::spawn_blocking(move || generate(alg))
                .await
                .map_err(|e| Error::Internal(format!("key generation stopped: {e}")))??,
            _ => generate(alg)?,
        };
        let rec = record(&key, state.clock.now().unix())?;
        state.store.signing_keys().apply(&[rec], &[]).await?;
        reload(state)?;
    }
    Ok(())
}

/// Makes `key` the active key of its algorithm (from the seed file, with its
/// own `kid`): the previous active key retires.
pub async fn install(state: &AppState, kid: &str, key: PrivateKey) -> Result<()> {
    let _writes = state.keyring.writes.lock().await;
    let now = state.clock.now().unix();
    let mut current: Vec<SigningKeyRecord> = state.store.signing_keys().all()?;
    let der = key.to_pkcs8_der().map_err(Error::Internal)?;
    if current
        .iter()
        .any(|r| r.kid == kid && r.active && r.private_pkcs8 == der)
    {
        return Ok(());
    }
    let alg = key.alg().as_str();
    let mut put = Vec::new();
    for r in current
        .iter_mut()
        .filter(|r| r.alg == alg && r.active && r.kid != kid)
    {
        r.active = false;
        r.retires_at = Some(horizon(state));
        put.push(r.clone());
    }
    let mut rec = record(&key, now)?;
    rec.kid = kid.to_owned();
    put.push(rec);
    state.store.signing_keys().apply(&put, &[]).await?;
    reload(state)
}

/// A new active key for every algorithm; the previous ones retire and stay
/// in the JWKS until every token they signed has expired.
pub async fn rotate(state: &AppState) -> Result<Vec<KeyView>> {
    let fresh = tokio::task::spawn_blocking(|| {
        Alg::ALL
            .into_iter()
            .map(generate)
            .collect::<Result<Vec<_>>>()
    })
    .await
    .map_err(|e| Error::Internal(format!("key generation stopped: {e}")))??;
    let _writes = state.keyring.writes.lock().await;
    let now = state.clock.now().unix();
    let retire = horizon(state);
    let mut put: Vec<SigningKeyRecord> = state
        .store
        .signing_keys()
        .all()?
        .into_iter()
        .filter(|r| r.active)
        .map(|mut r| {
            r.active = false;
            r.retires_at = Some(retire);
            r
        })
        .collect();
    for key in &fresh {
        put.push(record(key, now)?);
    }
    state.store.signing_keys().apply(&put, &[]).await?;
    reload(state)?;
    Ok(list(state))
}

/// Every key of the JWKS, active first.
pub fn list(state: &AppState) -> Vec<KeyView> {
    let mut out: Vec<KeyView> = state
        .keyring
        .all()
        .iter()
        .map(|k| KeyView {
            kid: k.kid.clone(),
            alg: k.alg(),
            created_at: Timestamp(k.created_at),
            active: k.active,
            retires_at: k.retires_at.map(Timestamp),
        })
        .collect();
    out.sort_by_key(|k| (!k.active, k.alg, k.created_at.0));
    out
}

/// Drops retired keys whose tokens have all expired; returns how many.
pub async fn sweep(state: &AppState) -> Result<usize> {
    let _writes = state.keyring.writes.lock().await;
    let now = state.clock.now().unix();
    let gone: Vec<String> = state
        .store
        .signing_keys()
        .all()?
        .into_iter()
        .filter(|r| !r.active && r.retires_at.is_some_and(|t| t <= now))
        .map(|r| r.kid)
        .collect();
    if gone.is_empty() {
        return Ok(0);
    }
    state.store.signing_keys().apply(&[], &gone).await?;
    reload(state)?;
    Ok(gone.len())
}

/// The active key of `alg`, waiting for it when it is still being made.
/// A created realm makes its keys on first need (here): creating a realm
/// never waits for an RSA key, and an idle realm never makes one.
pub async fn active(state: &AppState, alg: Alg) -> Result<std::sync::Arc<KeyEntry>> {
    if !state.realm.is_default() && state.keyring.active(alg).is_none() {
        ensure(state).await?;
    }
    state
        .keyring
        .wait_active(alg, KEY_WAIT)
        .await
        .ok_or_else(|| {
            Error::Unavailable(format!(
                "the {alg} signing key is not ready yet; retry in a moment"
            ))
        })
}

/// Waits until every algorithm has its active key (first start makes them in
/// the background), so a JWKS fetched now lists every key a token will name.
pub async fn ready(state: &AppState) -> Result<()> {
    for alg in Alg::ALL {
        active(state, alg).await?;
    }
    Ok(())
}

/// The JWK Set: the public half of every key, active and retiring.
pub fn jwks(keyring: &Keyring) -> serde_json::Value {
    serde_json::json!({
        "keys": keyring.all().iter().map(|k| k.public.jwk(&k.kid)).collect::<Vec<_>>()
    })
}
