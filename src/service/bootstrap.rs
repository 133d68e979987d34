//! First start: make sure someone can administer the server.

use crate::config::Config;
use crate::domain::user::Role;
use crate::error::Result;
use crate::password::{PasswordHasher, Workspace};
use crate::secret::{random_password, Redacted};
use crate::service::users::{self, NewUser};
use crate::state::AppState;

/// The username of the admin made on first start.
pub const ADMIN_USERNAME: &str = "admin";

/// What start-up did, for the banner.
#[derive(Debug)]
pub enum Bootstrap {
    /// The store already had users; nothing was made.
    Existing,
    /// An admin was made with the password from `--admin-password`.
    CreatedWithGivenPassword,
    /// An admin was made with the password the `--seed` file gives `admin`.
    CreatedWithSeededPassword,
    /// An admin was made with this random password, shown once.
    CreatedWithGeneratedPassword(Redacted<String>),
}

/// The bootstrap admin's password, chosen and being hashed before the store is
/// open. On a first start the argon2id hash (about 14 ms of CPU) is most of
/// the time to ready; started early, it runs while the new store's files are
/// created and synced, and while the runtime and the state are built.
pub struct Prepared {
    password: Redacted<String>,
    outcome: Bootstrap,
    hash: std::sync::mpsc::Receiver<std::result::Result<String, String>>,
}

/// Starts hashing the password [`ensure_admin`] would give a new admin (the
/// seed's, `--admin-password`, or a random one), on a thread of its own with
/// fresh memory (freed when it ends, as `Passwords::hash` does for the first
/// hash). Call it only when the store is about to be made: on an existing
/// store the work is thrown away.
pub fn prepare(config: &Config) -> Prepared {
    let (password, outcome) = choose_password(config);
    let (tx, rx) = std::sync::mpsc::channel();
    let plain = password.clone();
    let spawned = std::thread::Builder::new()
        .name("latchkey-bootstrap-hash".into())
        .spawn(move || {
            let result = PasswordHasher::new()
                .and_then(|h| h.hash(plain.expose(), &mut Workspace::default()))
                .map_err(|e| e.to_string());
            let _ = tx.send(result);
        });
    if spawned.is_err() {
        // No thread: `ensure_admin` finds no hash and hashes on the pool.
        tracing::debug!("could not start the bootstrap hashing thread");
    }
    Prepared {
        password,
        outcome,
        hash: rx,
    }
}

/// On an empty store, creates the `admin` user. An existing store is left alone:
/// `--admin-password` only seeds the first start, it never resets a password.
pub async fn ensure_admin(state: &AppState) -> Result<Bootstrap> {
    ensure_admin_prepared(state, None).await
}

/// [`ensure_admin`] with a password [`prepare`]d before the store was open.
pub async fn ensure_admin_prepared(
    state: &AppState,
    prepared: Option<Prepared>,
) -> Result<Bootstrap> {
    // One flush at the end for every write below (the catalog, the admin, the
    // seed, the Swagger UI client: up to a dozen flushes before), made before
    // the server is ready; until then the readiness gate keeps every request
    // that could see or change them out.
    let deferred = state.store.defer_durability();
    crate::service::scopes::ensure_catalog(state).await?;
    let outcome = admin(state, prepared).await?;
    if let Some(seed) = &state.config.seed {
        crate::service::seed::apply(state, seed).await?;
    }
    crate::service::clients::ensure_swagger_ui(state).await?;
    // Server secrets made at start (token and form keys) and everything above
    // are on disk before anything is signed with them or the server is ready.
    drop(deferred);
    state.store.flush().await?;
    Ok(outcome)
}

/// The password a new admin gets: the seed's for `admin` (the seed applies
/// right after and is authoritative), `--admin-password`, or a random one.
fn choose_password(config: &Config) -> (Redacted<String>, Bootstrap) {
    let seeded = config.seed.as_ref().and_then(|s| {
        s.users
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(ADMIN_USERNAME))
            .map(|u| Redacted::new(u.password.clone()))
    });
    match (seeded, &config.admin_password) {
        (Some(pw), _) => (pw, Bootstrap::CreatedWithSeededPassword),
        (None, Some(pw)) => (pw.clone(), Bootstrap::CreatedWithGivenPassword),
        (None, None) => {
            let pw = random_password();
            (pw.clone(), Bootstrap::CreatedWithGeneratedPassword(pw))
        }
    }
}

async fn admin(state: &AppState, prepared: Option<Prepared>) -> Result<Bootstrap> {
    if !state.store.users().is_empty() {
        return Ok(Bootstrap::Existing);
    }
    let (password, outcome, phc) = match prepared {
        Some(p) => {
            // The thread is CPU-bound and nearly done by now; wait off the
            // async threads all the same.
            let rx = p.hash;
            let phc = tokio::task::spawn_blocking(move || rx.recv().ok().and_then(|r| r.ok()))
                .await
                .ok()
                .flatten();
            (p.password, p.outcome, phc)
        }
        None => {
            let (password, outcome) = choose_password(&state.config);
            (password, outcome, None)
        }
    };
    users::create_hashed(
        state,
        NewUser {
            username: ADMIN_USERNAME.into(),
            password,
            email: None,
            name: Some("Bootstrap administrator".into()),
            roles: [Role::Admin].into(),
            disabled: false,
            claims: None,
        },
        phc,
    )
    .await?;
    Ok(outcome)
}
