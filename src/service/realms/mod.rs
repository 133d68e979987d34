//! Realms: whole latchkeys inside the process, each with its own users, scopes,
//! clients, keys, grants, sessions, revocation list and signing keys, served
//! under `/realms/{name}`. [`Realms`] holds the live ones; creating one makes
//! its state on its own view of the store (see `store::space`), deleting one
//! removes every record of it.
//!
//! Crash safety: a realm is registered `Creating` (durably) before any of its
//! records is written and is `Live` only once all of them are on disk;
//! deleting marks it `Deleting` (durably) before removing anything. Start-up
//! finishes what a crash interrupted: a realm not `Live` is purged, and so is
//! anything the realm trees hold under an id no live realm has.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::domain::realm;
use crate::domain::time::Timestamp;
use crate::domain::user::Role;
use crate::error::{Error, Result};
use crate::secret::{random_password, Redacted};
use crate::seed::Seed;
use crate::service::bootstrap::ADMIN_USERNAME;
use crate::service::users::{self, NewUser};
use crate::state::AppState;
use crate::store::{Prefix, RealmRecord, RealmStatus};

mod reset;

/// What creating a realm takes.
pub struct NewRealm {
    pub name: String,
    /// The realm admin's password; a random one when `None`.
    pub admin_password: Option<Redacted<String>>,
    /// Applied at creation, as `--seed` is at start.
    pub seed: Option<Seed>,
    /// The inline seed's JSON text, kept for resets.
    pub seed_json: Option<String>,
}

/// A realm as the management API shows it.
#[derive(Debug, Clone)]
pub struct RealmView {
    pub name: String,
    pub created_at: Timestamp,
}

/// A created realm; `admin_password` only when it was generated.
pub struct Created {
    pub realm: RealmView,
    pub admin_password: Option<Redacted<String>>,
}

pub struct RealmPage {
    pub realms: Vec<RealmView>,
    pub next_after: Option<String>,
}

/// The live realms of one server, beside the default realm's state.
pub struct Realms {
    default: AppState,
    live: RwLock<HashMap<String, Live>>,
    /// Serializes creations and deletions (each checks, then writes).
    writes: tokio::sync::Mutex<()>,
}

struct Live {
    state: AppState,
    record: RealmRecord,
}

impl Realms {
    /// No realm served yet; [`load`](Self::load) reads the registry.
    pub fn new(default: AppState) -> Realms {
        Realms {
            default,
            live: RwLock::new(HashMap::new()),
            writes: tokio::sync::Mutex::new(()),
        }
    }

    /// Loads the registry (start-up, before the server is ready): live realms
    /// get their state; what a crash left half-made or half-deleted is removed.
    pub async fn load(&self) -> Result<()> {
        let _writes = self.writes.lock().await;
        let store = &self.default.store;
        let mut ids = Vec::new();
        for rec in store.realms().all()? {
            if rec.status != RealmStatus::Live {
                store.realm(Prefix::of_realm(rec.id))?.purge()?;
                store.realms().remove(&rec.name)?;
                continue;
            }
            let view = store.realm(Prefix::of_realm(rec.id))?;
            let state = self.default.for_realm(view, &rec.name)?;
            state.mark_ready();
            ids.push(rec.id);
            let mut live = self.live.write().map_err(|_| poisoned())?;
            live.insert(rec.name.clone(), Live { state, record: rec });
        }
        let orphans = store.purge_orphans(&ids)?;
        if orphans > 0 {
            tracing::info!(removed = orphans, "removed what deleted realms left behind");
        }
        store.flush().await?;
        Ok(())
    }

    /// Applies the seed file's `[[realms]]`: a realm that exists gets its seed
    /// applied again (idempotently, as the top-level seed is); a missing one
    /// is created.
    pub async fn apply_seed(&self, seeded: &[crate::seed::SeedRealm]) -> Result<()> {
        for r in seeded {
            match self.get(&r.name) {
                Some(state) => crate::service::seed::apply(&state, &r.seed).await?,
                None => {
                    self.create(NewRealm {
                        name: r.name.clone(),
                        admin_password: r.admin_password.clone().map(Redacted::new),
                        seed: Some(r.seed.clone()),
                        seed_json: None,
                    })
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Removes what the realm trees hold under an id the registry does not
    /// know (writes of requests that were in flight when their realm was
    /// deleted); how many records.
    pub async fn sweep_orphans(&self) -> Result<usize> {
        let _writes = self.writes.lock().await;
        let store = &self.default.store;
        let mut ids = Vec::new();
        let mut n = 0;
        for rec in store.realms().all()? {
            // Under `writes`, no creation or deletion is under way: a realm
            // still `Creating` or `Deleting` is one whose write failed halfway.
            if rec.status != RealmStatus::Live {
                n += store.realm(Prefix::of_realm(rec.id))?.purge()?;
                store.realms().remove(&rec.name)?;
                continue;
            }
            ids.push(rec.id);
        }
        n += store.purge_orphans(&ids)?;
        if n > 0 {
            store.flush().await?;
        }
        Ok(n)
    }

    /// The default realm's state.
    pub fn default_state(&self) -> &AppState {
        &self.default
    }

    /// The state of the live realm `name`.
    pub fn get(&self, name: &str) -> Option<AppState> {
        let live = self.live.read().ok()?;
        live.get(name).map(|l| l.state.clone())
    }

    /// Every live realm's state, for the background sweeps.
    pub fn states(&self) -> Vec<AppState> {
        match self.live.read() {
            Ok(live) => live.values().map(|l| l.state.clone()).collect(),
            Err(_) => Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.live.read().map_or(0, |l| l.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn view(&self, name: &str) -> Result<RealmView> {
        let live = self.live.read().map_err(|_| poisoned())?;
        live.get(name)
            .map(|l| view_of(&l.record))
            .ok_or_else(|| not_found(name))
    }

    /// Up to `limit` realms in name order, after the name `after`.
    pub fn list(&self, after: Option<&str>, limit: usize) -> Result<RealmPage> {
        let max = crate::service::users::MAX_PAGE;
        if limit == 0 || limit > max {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {max}"),
            ));
        }
        let live = self.live.read().map_err(|_| poisoned())?;
        let mut names: Vec<&String> = live
            .keys()
            .filter(|n| after.is_none_or(|a| n.as_str() > a))
            .collect();
        names.sort();
        let more = names.len() > limit;
        let realms: Vec<RealmView> = names
            .into_iter()
            .take(limit)
            .map(|n| view_of(&live[n].record))
            .collect();
        let next_after = more
            .then(|| realms.last().map(|r| r.name.clone()))
            .flatten();
        Ok(RealmPage { realms, next_after })
    }

    /// Creates a realm: its scope catalog, its admin, its seed, its Swagger UI
    /// client, durably, before it is served. Its signing keys are made when
    /// first needed (an RSA key takes a while: never on this path), unless the
    /// seed pins them.
    pub async fn create(&self, new: NewRealm) -> Result<Created> {
        realm::check_name(&new.name).map_err(|m| Error::invalid("name", m))?;
        if let Some(pw) = &new.admin_password {
            crate::domain::user::check_password(pw.expose())
                .map_err(|m| Error::invalid("admin_password", m))?;
        }
        let _writes = self.writes.lock().await;
        let registry = self.default.store.realms();
        if registry.get(&new.name)?.is_some() {
            return Err(Error::Conflict {
                code: "realm_exists",
                message: format!("a realm called {:?} exists already", new.name),
            });
        }
        let record = RealmRecord {
            id: registry.new_id()?,
            name: new.name.clone(),
            created_at: self.default.clock.now().unix(),
            status: RealmStatus::Creating,
            seed_json: new.seed_json.clone().unwrap_or_default(),
        };
        registry.insert(&record)?;
        self.default.store.flush().await?;
        let filled = match self.fill(&record, new, None).await {
            Ok(filled) => {
                async {
                    registry.set_status(&record.name, record.id, RealmStatus::Live)?;
                    self.default.store.flush().await?;
                    Ok(filled)
                }
                .await
            }
            Err(e) => Err(e),
        };
        match filled {
            Ok((state, admin_password)) => {
                state.mark_ready();
                let mut live = self.live.write().map_err(|_| poisoned())?;
                live.insert(
                    record.name.clone(),
                    Live {
                        state,
                        record: RealmRecord {
                            status: RealmStatus::Live,
                            ..record.clone()
                        },
                    },
                );
                Ok(Created {
                    realm: view_of(&record),
                    admin_password,
                })
            }
            Err(e) => {
                // Nothing of a realm that could not be made stays behind.
                let store = self.default.store.realm(Prefix::of_realm(record.id))?;
                store.purge()?;
                registry.remove(&record.name)?;
                self.default.store.flush().await?;
                Err(e)
            }
        }
    }

    /// Writes the new realm's records (not yet durable: [`create`] flushes).
    async fn fill(
        &self,
        record: &RealmRecord,
        new: NewRealm,
        keep_admin: Option<crate::store::UserRecord>,
    ) -> Result<(AppState, Option<Redacted<String>>)> {
        let store = self.default.store.realm(Prefix::of_realm(record.id))?;
        let state = self.default.for_realm(store, &record.name)?;
        let deferred = state.store.defer_durability();
        crate::service::scopes::ensure_catalog(&state).await?;
        if let Some(admin) = keep_admin {
            // A reset keeps the realm's admin as it is.
            state.store.users().insert(&admin).await?;
            if let Some(seed) = &new.seed {
                crate::service::seed::apply(&state, seed).await?;
            }
            crate::service::clients::ensure_swagger_ui(&state).await?;
            drop(deferred);
            state.store.flush().await?;
            return Ok((state, None));
        }
        let seeded_admin = new.seed.as_ref().and_then(|s| {
            s.users
                .iter()
                .find(|u| u.username.eq_ignore_ascii_case(ADMIN_USERNAME))
                .map(|u| Redacted::new(u.password.clone()))
        });
        let (password, generated, phc) = match (seeded_admin, new.admin_password) {
            (Some(pw), _) | (None, Some(pw)) => (pw, None, None),
            (None, None) => {
                let pw = random_password();
                let phc = crate::password::generated_hash(pw.expose());
                (pw.clone(), Some(pw), Some(phc))
            }
        };
        users::create_hashed(
            &state,
            NewUser {
                username: ADMIN_USERNAME.into(),
                password,
                email: None,
                name: Some("Realm administrator".into()),
                roles: [Role::Admin].into(),
                disabled: false,
                claims: None,
            },
            phc,
        )
        .await?;
        if let Some(seed) = &new.seed {
            crate::service::seed::apply(&state, seed).await?;
        }
        crate::service::clients::ensure_swagger_ui(&state).await?;
        drop(deferred);
        state.store.flush().await?;
        Ok((state, generated))
    }

    /// Stops serving every realm (shutdown): their states go, so nothing
    /// keeps the store open.
    pub fn close(&self) {
        if let Ok(mut live) = self.live.write() {
            live.clear();
        }
    }

    /// Deletes a realm and every record of it. Its paths answer 404 at once;
    /// requests to it still in flight fail cleanly.
    pub async fn delete(&self, name: &str) -> Result<()> {
        let _writes = self.writes.lock().await;
        let gone = {
            let mut live = self.live.write().map_err(|_| poisoned())?;
            live.remove(name).ok_or_else(|| not_found(name))?
        };
        gone.state.realm.mark_gone();
        gone.state.store.retire();
        let registry = self.default.store.realms();
        let id = gone.record.id;
        let result = async {
            registry.set_status(name, id, RealmStatus::Deleting)?;
            self.default.store.flush().await?;
            gone.state.store.purge()?;
            registry.remove(name)?;
            self.default.store.flush().await?;
            Ok(())
        }
        .await;
        if result.is_err() {
            // Left `Deleting`: the next start finishes the removal; until
            // then the realm stays unserved.
            tracing::warn!(realm = name, "a realm could not be removed completely");
        }
        result
    }
}

fn view_of(rec: &RealmRecord) -> RealmView {
    RealmView {
        name: rec.name.clone(),
        created_at: Timestamp(rec.created_at),
    }
}

fn not_found(name: &str) -> Error {
    Error::NotFound {
        kind: "realm",
        id: name.to_owned(),
    }
}

fn poisoned() -> Error {
    Error::Internal("the realm registry's lock is poisoned".into())
}

/// Realms are only managed from the default realm.
pub fn require_default(state: &AppState) -> Result<()> {
    if state.realm.is_default() {
        Ok(())
    } else {
        Err(Error::NotFound {
            kind: "operation",
            id: "realms are managed from the default realm (/api/v1/realms)".into(),
        })
    }
}

impl std::fmt::Debug for Realms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Realms({} live)", self.len())
    }
}
