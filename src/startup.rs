//! Start-up, shared by `latchkey serve` and the test harness: serve at once
//! (so `/health` answers while the store is prepared), make the bootstrap admin
//! on first start, then report ready.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::Config;
use crate::service::bootstrap::{self, Bootstrap};
use crate::service::realms::Realms;
use crate::state::AppState;
use crate::store::Store;

/// A server that is up and ready.
pub struct Launched {
    pub addr: SocketAddr,
    pub state: AppState,
    /// The created realms (served under `/realms/{name}`).
    pub realms: Arc<Realms>,
    pub bootstrap: Bootstrap,
    /// Finishes when the server has stopped and flushed the store.
    pub server: JoinHandle<std::io::Result<()>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    #[error("start-up failed: {0}")]
    Service(#[from] crate::error::Error),
}

pub async fn launch(
    listener: tokio::net::TcpListener,
    store: Store,
    clock: Arc<dyn Clock>,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Launched, StartError> {
    launch_prepared(listener, store, None, clock, config, shutdown).await
}

/// [`launch`], with the bootstrap admin's password hashed ahead
/// ([`bootstrap::prepare`], started before the store was opened).
pub async fn launch_prepared(
    listener: tokio::net::TcpListener,
    store: Store,
    prepared: Option<bootstrap::Prepared>,
    clock: Arc<dyn Clock>,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Launched, StartError> {
    let addr = listener.local_addr()?;
    let state = AppState::new(store, clock, config)?;
    let realms = Arc::new(Realms::new(state.clone()));
    let (abort_tx, abort_rx) = oneshot::channel::<()>();
    let stop = async move {
        tokio::select! {
            () = shutdown => {},
            // A dropped sender (start-up succeeded) disables this branch.
            Ok(()) = abort_rx => {},
        }
    };
    let server = tokio::spawn(crate::server::run(
        listener,
        state.clone(),
        realms.clone(),
        stop,
    ));
    match prepare(&state, &realms, prepared).await {
        Ok(outcome) => {
            state.mark_ready();
            drop(abort_tx);
            Ok(Launched {
                addr,
                state,
                realms,
                bootstrap: outcome,
                server,
            })
        }
        Err(e) => {
            let _ = abort_tx.send(());
            let _ = server.await;
            Err(e.into())
        }
    }
}

/// Everything before the server is ready: the default realm's bootstrap,
/// then the created realms (the registry, then the seed's `[[realms]]`).
async fn prepare(
    state: &AppState,
    realms: &Realms,
    prepared: Option<bootstrap::Prepared>,
) -> crate::error::Result<Bootstrap> {
    let outcome = bootstrap::ensure_admin_prepared(state, prepared).await?;
    realms.load().await?;
    if let Some(seed) = &state.config.seed {
        realms.apply_seed(&seed.realms).await?;
    }
    Ok(outcome)
}
