//! The built-in public client Swagger UI signs in with.

use crate::domain::client::{ClientType, GrantType};
use crate::error::Result;
use crate::secret::random_bytes;
use crate::service::users;
use crate::state::AppState;
use crate::store::ClientRecord;

pub use crate::domain::client::SWAGGER_UI_CLIENT_ID;
/// Its redirect URI, relative: it matches this server's own origin, however the
/// server is reached (`localhost`, a container's mapped port, `--public-url`).
/// A created realm's is under its path (`/realms/{name}/docs/…`).
pub const SWAGGER_UI_REDIRECT: &str = "/docs/oauth-receiver.html";

/// Makes sure the built-in `swagger-ui` client exists (PKCE, public, latchkey's
/// own scopes, owned by an admin); recreated on start if it was deleted.
pub async fn ensure_swagger_ui(state: &AppState) -> Result<()> {
    if state.store.clients().get(SWAGGER_UI_CLIENT_ID)?.is_some() {
        return Ok(());
    }
    let mut owner = None;
    for record in state.store.users().all() {
        let user = users::from_record(record?)?;
        if user.is_active_admin() {
            owner = Some(user.id.to_string());
            break;
        }
    }
    let Some(owner_id) = owner else {
        return Ok(());
    };
    let now = state.clock.now().unix();
    let record = ClientRecord {
        client_id: SWAGGER_UI_CLIENT_ID.into(),
        owner_id,
        name: "Swagger UI".into(),
        client_type: ClientType::Public.as_str().into(),
        redirect_uris: vec![format!("{}{SWAGGER_UI_REDIRECT}", state.realm.path)],
        grant_types: vec![
            GrantType::AuthorizationCode.as_str().into(),
            GrantType::RefreshToken.as_str().into(),
        ],
        scopes: crate::domain::access::Permission::ALL
            .iter()
            .map(|p| p.scope().to_owned())
            .collect(),
        access_token_ttl_seconds: None,
        enabled: true,
        secret_hash: None,
        token_epoch: u64::from_be_bytes(random_bytes()),
        created_at: now,
        updated_at: now,
        skip_consent: false,
        allow_plain_pkce: false,
        // No OIDC settings: RS256 id_tokens, opaque access tokens.
        ..ClientRecord::default()
    };
    match state.store.clients().insert(&record).await {
        Ok(()) | Err(crate::store::StoreError::Duplicate(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
