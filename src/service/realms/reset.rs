//! Resetting a created realm to its creation seed (test control).

use super::{not_found, poisoned, Live, NewRealm, Realms};
use crate::error::{Error, Result};
use crate::service::bootstrap::ADMIN_USERNAME;
use crate::store::{Prefix, RealmRecord, RealmStatus};

impl Realms {
    /// Puts the realm `name` back to its creation seed: everything made since
    /// is removed, the seeded records restored, its admin kept as it is. It
    /// gets a new id, so every token, code and session issued before is
    /// refused (a new MAC key, new signing keys, none of the old records),
    /// and a new state: its clock, faults and journal start afresh. The old
    /// content stays served until the new is durable; a crash in between
    /// leaves the old realm as it was.
    pub async fn reset(&self, name: &str) -> Result<()> {
        let _writes = self.writes.lock().await;
        let (old_state, old) = {
            let live = self.live.read().map_err(|_| poisoned())?;
            let l = live.get(name).ok_or_else(|| not_found(name))?;
            (l.state.clone(), l.record.clone())
        };
        let admin = old_state.store.users().get_by_username(ADMIN_USERNAME)?;
        let seed = if old.seed_json.is_empty() {
            self.default.config.seed.as_ref().and_then(|s| {
                s.realms
                    .iter()
                    .find(|r| r.name == name)
                    .map(|r| r.seed.clone())
            })
        } else {
            let value: serde_json::Value = serde_json::from_str(&old.seed_json)
                .map_err(|e| Error::Internal(format!("a stored realm seed does not parse: {e}")))?;
            Some(crate::seed::parse_json(&value).map_err(Error::Internal)?)
        };
        let registry = self.default.store.realms();
        let record = RealmRecord {
            id: registry.new_id()?,
            status: RealmStatus::Live,
            ..old.clone()
        };
        let new = NewRealm {
            name: name.to_owned(),
            admin_password: None,
            seed,
            seed_json: None,
        };
        let (state, _) = match self.fill(&record, new, admin).await {
            Ok(filled) => filled,
            Err(e) => {
                self.default
                    .store
                    .realm(Prefix::of_realm(record.id))?
                    .purge()?;
                self.default.store.flush().await?;
                return Err(e);
            }
        };
        registry.put(&record)?;
        self.default.store.flush().await?;
        state.mark_ready();
        {
            let mut live = self.live.write().map_err(|_| poisoned())?;
            live.insert(name.to_owned(), Live { state, record });
        }
        old_state.realm.mark_gone();
        old_state.store.retire();
        old_state.store.purge()?;
        self.default.store.flush().await?;
        Ok(())
    }
}
