//! Readiness: start-up finished and the store answers.

use crate::error::{Error, Result};
use crate::state::AppState;

pub fn readiness(state: &AppState) -> Result<()> {
    if !state.is_ready() {
        return Err(Error::Unavailable("start-up has not finished".into()));
    }
    state
        .store
        .check()
        .map_err(|e| Error::Unavailable(format!("the store is not usable: {e}")))
}
