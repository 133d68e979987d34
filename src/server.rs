//! Running a server: `run(listener, state, shutdown)` serves until `shutdown`
//! resolves, lets in-flight requests finish, and flushes the store.

use std::future::Future;
use std::time::Duration;

use poem::listener::{Acceptor, TcpAcceptor};
use poem::Server;

use crate::state::AppState;

/// How long in-flight requests get to finish after shutdown is asked for.
pub const GRACE: Duration = Duration::from_secs(10);

pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let acceptor = TcpAcceptor::from_tokio(listener)?;
    let addr = acceptor.local_addr();
    tracing::debug!(?addr, "serving");
    let store = state.store.clone();
    let usage = state.usage.clone();
    // Advisory API-key usage is written in batches, off the request path.
    let drainer = {
        let (store, usage) = (store.clone(), usage.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(crate::service::usage::INTERVAL);
            loop {
                tick.tick().await;
                if let Err(e) = usage.drain(&store) {
                    tracing::warn!(error = %e, "could not record API key usage");
                }
            }
        })
    };
    // Revocation entries whose tokens have expired, and expired codes, refresh
    // tokens and sessions, are dropped in the background.
    let sweeper = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(crate::service::revocation::SWEEP_INTERVAL);
            loop {
                tick.tick().await;
                match crate::service::revocation::sweep(&state) {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(removed = n, "swept expired revocations"),
                    Err(e) => tracing::warn!(error = %e, "could not sweep the revocation list"),
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
        })
    };
    let app = crate::app::build(state);
    let result = Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app, shutdown, Some(GRACE))
        .await;
    sweeper.abort();
    // Awaited so its clone of the state (and of the store) is gone before close.
    let _ = sweeper.await;
    drainer.abort();
    let _ = drainer.await; // so the final drain below cannot overlap a running one
    if let Err(e) = usage.drain(&store) {
        tracing::warn!(error = %e, "could not record API key usage at shutdown");
    }
    store.close();
    tracing::info!("stopped; store flushed");
    result
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
