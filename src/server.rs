//! Running a server: `run(listener, state, shutdown)` serves until `shutdown`
//! resolves, lets in-flight requests finish, and flushes the store.

use std::future::Future;
use std::time::Duration;

use poem::listener::{Acceptor, TcpAcceptor};
use poem::Server;

use std::sync::Arc;

use crate::service::realms::Realms;
use crate::state::AppState;

/// How long in-flight requests get to finish after shutdown is asked for.
pub const GRACE: Duration = Duration::from_secs(10);

pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    realms: Arc<Realms>,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let acceptor = TcpAcceptor::from_tokio(listener)?;
    let addr = acceptor.local_addr();
    tracing::debug!(?addr, "serving");
    let store = state.store.clone();
    let usage = state.usage.clone();
    // Advisory API-key usage is written in batches, off the request path
    // (every realm's).
    let drainer = {
        let (store, usage, realms) = (store.clone(), usage.clone(), realms.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(crate::service::usage::INTERVAL);
            loop {
                tick.tick().await;
                if let Err(e) = usage.drain(&store) {
                    tracing::warn!(error = %e, "could not record API key usage");
                }
                for realm in realms.states() {
                    if let Err(e) = realm.usage.drain(&realm.store) {
                        tracing::warn!(realm = %realm.realm.name, error = %e, "could not record API key usage");
                    }
                }
            }
        })
    };
    // Revocation entries whose tokens have expired, and expired codes, refresh
    // tokens and sessions, are dropped in the background.
    let sweeper = {
        let (default, realms) = (state.clone(), realms.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(crate::service::revocation::SWEEP_INTERVAL);
            loop {
                tick.tick().await;
                for state in std::iter::once(default.clone()).chain(realms.states()) {
                    sweep(&state).await;
                }
                match realms.sweep_orphans().await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::debug!(removed = n, "removed what deleted realms left behind")
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "could not sweep deleted realms' leftovers")
                    }
                }
            }
        })
    };
    // Signing keys missing on first start are made in the background (an
    // RSA key takes a while); a request that needs one waits for it.
    let keys = {
        let state = state.clone();
        tokio::spawn(async move {
            // After bootstrap, so a seeded key is in place before any is made.
            for _ in 0..30_000 {
                if state.is_ready() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            if let Err(e) = crate::service::signing_keys::ensure(&state).await {
                tracing::error!(error = %e, "could not make the signing keys");
            }
        })
    };
    let realms_at_exit = realms.clone();
    let app = crate::app::build(state, realms);
    let result = Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app, shutdown, Some(GRACE))
        .await;
    keys.abort();
    let _ = keys.await;
    sweeper.abort();
    // Awaited so its clone of the state (and of the store) is gone before close.
    let _ = sweeper.await;
    drainer.abort();
    let _ = drainer.await; // so the final drain below cannot overlap a running one
    if let Err(e) = usage.drain(&store) {
        tracing::warn!(error = %e, "could not record API key usage at shutdown");
    }
    for realm in realms_at_exit.states() {
        if let Err(e) = realm.usage.drain(&realm.store) {
            tracing::warn!(realm = %realm.realm.name, error = %e, "could not record API key usage at shutdown");
        }
    }
    realms_at_exit.close();
    store.close();
    tracing::info!("stopped; store flushed");
    result
}

/// One round of the background sweeps in one realm: expired revocation
/// entries, retired signing keys whose tokens have all expired, and expired
/// codes, refresh tokens and sessions.
async fn sweep(state: &AppState) {
    match crate::service::revocation::sweep(state) {
        Ok(0) => {}
        Ok(n) => tracing::debug!(removed = n, "swept expired revocations"),
        Err(e) => tracing::warn!(error = %e, "could not sweep the revocation list"),
    }
    match crate::service::signing_keys::sweep(state).await {
        Ok(0) => {}
        Ok(n) => tracing::debug!(removed = n, "retired signing keys left the JWKS"),
        Err(e) => tracing::warn!(error = %e, "could not sweep retired signing keys"),
    }
    match state.store.grants().sweep(state.clock.now().unix()) {
        Ok(0) => {}
        Ok(n) => tracing::debug!(
            removed = n,
            "swept expired codes, refresh tokens and sessions"
        ),
        Err(e) => tracing::warn!(error = %e, "could not sweep expired grants"),
    }
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` sends).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested");
}
