//! The one authorization rule of latchkey's own API.
//!
//! Every `/api/v1` operation declares the [`Permission`] it needs. A request may
//! perform it when the permission's scope is granted by the user's roles *and*,
//! for a narrowed credential (API key, access token), is among the credential's
//! scopes. Basic auth is not narrowed: the roles alone decide.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::user::{Role, Roles, User};

/// A capability in latchkey's own API, named by its built-in scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    KeysRead,
    KeysWrite,
    ClientsRead,
    ClientsWrite,
    UsersRead,
    UsersWrite,
    ScopesWrite,
    RealmsRead,
    RealmsWrite,
    TestControl,
}

impl Permission {
    pub const ALL: [Permission; 10] = [
        Permission::KeysRead,
        Permission::KeysWrite,
        Permission::ClientsRead,
        Permission::ClientsWrite,
        Permission::UsersRead,
        Permission::UsersWrite,
        Permission::ScopesWrite,
        Permission::RealmsRead,
        Permission::RealmsWrite,
        Permission::TestControl,
    ];

    /// The built-in scope that carries this permission.
    pub fn scope(self) -> &'static str {
        match self {
            Permission::KeysRead => "keys:read",
            Permission::KeysWrite => "keys:write",
            Permission::ClientsRead => "clients:read",
            Permission::ClientsWrite => "clients:write",
            Permission::UsersRead => "users:read",
            Permission::UsersWrite => "users:write",
            Permission::ScopesWrite => "scopes:write",
            Permission::RealmsRead => "realms:read",
            Permission::RealmsWrite => "realms:write",
            Permission::TestControl => "test:control",
        }
    }

    /// Whether a user holding `role` has this permission at all. Ownership
    /// (a member sees only their own keys and clients) is decided by the use case.
    pub fn granted_to(self, role: Role) -> bool {
        match role {
            Role::Admin => true,
            Role::ClientAdmin | Role::Member => matches!(
                self,
                Permission::KeysRead
                    | Permission::KeysWrite
                    | Permission::ClientsRead
                    | Permission::ClientsWrite
            ),
        }
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// `Authorization: Basic` with the user's own password.
    Basic,
    /// `Authorization: Bearer lk_key_…`: one of the user's API keys.
    ApiKey { id: String, name: String },
    /// `Authorization: Bearer|OAuth lk_at_…`: an access token issued to a client.
    AccessToken { client_id: String },
}

impl AuthMethod {
    pub fn as_str(&self) -> &'static str {
        match self {
            AuthMethod::Basic => "basic",
            AuthMethod::ApiKey { .. } => "api_key",
            AuthMethod::AccessToken { .. } => "access_token",
        }
    }
}

/// The authenticated caller of one request: a user, how they authenticated, and
/// the scopes the credential is narrowed to (`None`: not narrowed).
#[derive(Debug, Clone)]
pub struct Principal {
    /// Shared with the authentication cache: a request does not copy its user.
    pub user: Arc<User>,
    pub method: AuthMethod,
    pub credential_scopes: Option<BTreeSet<String>>,
}

/// Why a principal may not perform an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// The user's roles do not include the permission.
    Role(Permission),
    /// The roles would allow it, the credential's scopes do not.
    Scope(Permission),
}

impl Principal {
    /// The authorization decision for one operation.
    pub fn require(&self, needed: Permission) -> Result<(), Denied> {
        if !roles_grant(&self.user.roles, needed) {
            return Err(Denied::Role(needed));
        }
        match &self.credential_scopes {
            Some(scopes) if !scopes.contains(needed.scope()) => Err(Denied::Scope(needed)),
            _ => Ok(()),
        }
    }

    /// Whether the user is an admin (sees and manages everyone's resources).
    pub fn is_admin(&self) -> bool {
        self.user.roles.contains(&super::user::Role::Admin)
    }

    /// The scopes this credential carries: a narrowed credential's own list, or for
    /// Basic auth the built-in scopes the user's roles grant.
    pub fn scopes(&self) -> Vec<String> {
        match &self.credential_scopes {
            Some(scopes) => scopes.iter().cloned().collect(),
            None => Permission::ALL
                .into_iter()
                .filter(|p| roles_grant(&self.user.roles, *p))
                .map(|p| p.scope().to_owned())
                .collect(),
        }
    }
}

fn roles_grant(roles: &Roles, needed: Permission) -> bool {
    roles.iter().any(|r| needed.granted_to(*r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::Timestamp;
    use crate::domain::user::{UserId, Username};

    fn principal(roles: &[Role], scopes: Option<&[&str]>) -> Principal {
        Principal {
            user: Arc::new(User {
                id: UserId::from_random([1; 12]),
                username: Username::parse("u").unwrap(),
                email: None,
                name: None,
                password_hash: String::new(),
                roles: roles.iter().copied().collect(),
                disabled: false,
                created_at: Timestamp(0),
                updated_at: Timestamp(0),
                claims: Default::default(),
            }),
            method: AuthMethod::Basic,
            credential_scopes: scopes.map(|s| s.iter().map(|x| x.to_string()).collect()),
        }
    }

    #[test]
    fn admin_may_do_everything_with_basic() {
        let p = principal(&[Role::Admin], None);
        for perm in Permission::ALL {
            assert_eq!(p.require(perm), Ok(()), "{perm:?}");
        }
        assert_eq!(p.scopes().len(), Permission::ALL.len());
    }

    #[test]
    fn members_may_not_manage_users_whatever_the_scopes() {
        let p = principal(&[Role::Member], Some(&["users:write"]));
        assert_eq!(
            p.require(Permission::UsersWrite),
            Err(Denied::Role(Permission::UsersWrite))
        );
        assert_eq!(
            p.require(Permission::UsersRead),
            Err(Denied::Role(Permission::UsersRead))
        );
    }

    #[test]
    fn scopes_narrow_roles() {
        let p = principal(&[Role::Admin], Some(&["keys:read"]));
        assert_eq!(p.require(Permission::KeysRead), Ok(()));
        assert_eq!(
            p.require(Permission::UsersRead),
            Err(Denied::Scope(Permission::UsersRead))
        );
    }

    #[test]
    fn an_empty_scope_list_allows_nothing() {
        let p = principal(&[Role::Admin], Some(&[]));
        for perm in Permission::ALL {
            assert!(p.require(perm).is_err(), "{perm:?}");
        }
    }

    #[test]
    fn basic_scopes_follow_the_roles() {
        let p = principal(&[Role::Member], None);
        assert_eq!(
            p.scopes(),
            ["keys:read", "keys:write", "clients:read", "clients:write"]
        );
    }
}
