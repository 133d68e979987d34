//! Scopes: names (RFC 6749 §3.3), the built-in and shipped catalog, and who may
//! grant what.

use super::access::Permission;
use super::user::{Role, Roles};

/// Longest scope name accepted.
pub const MAX_NAME_LEN: usize = 128;

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )` — printable
/// ASCII without space, `"` or `\`.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a scope name must not be empty".into());
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "scope name is longer than {MAX_NAME_LEN} characters"
        ));
    }
    if name.contains(',') {
        return Err(format!(
            "scope {:?} contains ','; a comma separates scopes in requests (as some clients send them)",
            name.chars().take(MAX_NAME_LEN).collect::<String>()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e'))
    {
        return Err(format!(
            "scope {:?} contains {c:?}; RFC 6749 §3.3 allows printable ASCII except space, \" and \\",
            name.chars().take(MAX_NAME_LEN).collect::<String>()
        ));
    }
    Ok(())
}

/// One scope name, checked against RFC 6749 §3.3.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScopeName(String);

impl ScopeName {
    pub fn parse(name: &str) -> Result<ScopeName, String> {
        check_name(name)?;
        Ok(ScopeName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ScopeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Most scope tokens one request may name (no client carries more).
pub const MAX_SCOPE_TOKENS: usize = 64;

/// Distinct scope names in the order they were first given: what a client may
/// request, what a grant holds, what a token carries. Displays as the wire form
/// (space-separated, RFC 6749 §3.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopeSet(Vec<ScopeName>);

impl ScopeSet {
    /// Names that were checked when they were stored (a client's list, a
    /// grant's, a token's): kept as they are, repeats dropped.
    pub fn from_names<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> ScopeSet {
        let mut set = ScopeSet::default();
        for n in names {
            set.insert(ScopeName(n.as_ref().to_owned()));
        }
        set
    }

    /// Parses the wire form: tokens separated by spaces or commas, each a valid name, at most
    /// [`MAX_SCOPE_TOKENS`]. Repeats are dropped; blank means empty.
    pub fn parse(raw: &str) -> Result<ScopeSet, String> {
        let mut set = ScopeSet::default();
        // Space-separated (RFC 6749 §3.3); commas too, as IriSync's guide sends them.
        for token in raw.split([' ', ',']).filter(|t| !t.is_empty()) {
            if set.0.len() >= MAX_SCOPE_TOKENS {
                return Err(format!("at most {MAX_SCOPE_TOKENS} scopes per request"));
            }
            set.insert(ScopeName::parse(token)?);
        }
        Ok(set)
    }

    fn insert(&mut self, name: ScopeName) {
        if !self.0.contains(&name) {
            self.0.push(name);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|n| n.0 == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(ScopeName::as_str)
    }

    /// Whether every name here is also in `other`.
    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.first_missing(other).is_none()
    }

    /// The first name here that `other` lacks.
    pub fn first_missing(&self, other: &ScopeSet) -> Option<&str> {
        self.iter().find(|n| !other.contains(n))
    }

    /// The names here that are also in `other`, in this set's order.
    pub fn intersect(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(
            self.0
                .iter()
                .filter(|n| other.contains(&n.0))
                .cloned()
                .collect(),
        )
    }

    /// This set with `other`'s names added at the end.
    pub fn union(mut self, other: &ScopeSet) -> ScopeSet {
        for n in &other.0 {
            self.insert(n.clone());
        }
        self
    }

    /// The names as plain strings (for stored records and DTOs).
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }
}

impl std::fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, n) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(&n.0)?;
        }
        Ok(())
    }
}

/// A catalog entry as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub name: String,
    pub description: String,
    /// Granted to new clients unless told otherwise; grantable by members.
    pub default: bool,
    /// latchkey's own and OIDC's reserved scopes: cannot be deleted.
    pub builtin: bool,
}

/// OIDC's scopes, reserved now for the OIDC issue.
const OIDC: [(&str, &str); 4] = [
    ("openid", "Sign you in with OpenID Connect (reserved)"),
    ("profile", "Read your name and profile (reserved)"),
    ("email", "Read your e-mail address (reserved)"),
    (
        "offline_access",
        "Stay signed in: use refresh tokens while you are away (reserved)",
    ),
];

/// The catalog a new store starts with: shipped examples from the seeds.
const SHIPPED: [(&str, &str, bool); 11] = [
    // Imagen
    ("readUsersData", "Read your user data", true),
    ("modifyUsersData", "Modify your user data", true),
    ("manageJobs", "Manage jobs", false),
    ("roles", "Read roles", false),
    ("createJobs", "Create jobs", false),
    ("modifyRoles", "Modify roles", false),
    // IriSync
    ("read", "Read access to your account", false),
    ("write", "Write access to your account", false),
    ("content:read", "Read your content", false),
    ("content:write", "Create and change your content", false),
    ("analytics:read", "Read your analytics", false),
];

/// What a built-in scope allows, for the catalog and the OpenAPI document.
pub fn builtin_description(p: Permission) -> &'static str {
    match p {
        Permission::KeysRead => "latchkey: read API keys",
        Permission::KeysWrite => "latchkey: create, change and delete API keys",
        Permission::ClientsRead => "latchkey: read OAuth clients",
        Permission::ClientsWrite => "latchkey: create, change and delete OAuth clients",
        Permission::UsersRead => "latchkey: read users (admins)",
        Permission::UsersWrite => "latchkey: create, change and delete users (admins)",
        Permission::ScopesWrite => "latchkey: change the scope catalog (admins)",
        Permission::RealmsRead => "latchkey: list realms (admins of the default realm)",
        Permission::RealmsWrite => {
            "latchkey: create and delete realms (admins of the default realm)"
        }
        Permission::TestControl => {
            "latchkey: test control: the realm's clock and minted tokens (admins)"
        }
    }
}

/// Scopes every store has, always (latchkey's own and OIDC's).
pub fn builtin_catalog() -> Vec<Scope> {
    let own = Permission::ALL.into_iter().map(|p| Scope {
        name: p.scope().into(),
        description: builtin_description(p).into(),
        default: false,
        builtin: true,
    });
    let oidc = OIDC.into_iter().map(|(n, d)| Scope {
        name: n.into(),
        description: d.into(),
        default: false,
        builtin: true,
    });
    own.chain(oidc).collect()
}

/// Scopes a new store starts with besides the built-in ones; deletable.
pub fn shipped_catalog() -> Vec<Scope> {
    SHIPPED
        .into_iter()
        .map(|(n, d, default)| Scope {
            name: n.into(),
            description: d.into(),
            default,
            builtin: false,
        })
        .collect()
}

/// Whether the built-in scope `name` is one of latchkey's own permissions.
pub fn permission_of(name: &str) -> Option<Permission> {
    Permission::ALL.into_iter().find(|p| p.scope() == name)
}

/// Whether a user with `roles` may put `scope` on a credential they own.
/// latchkey's own scopes follow the roles; other catalog scopes are open to
/// client-admins and admins, and to members only when marked `default`.
pub fn may_grant(roles: &Roles, scope: &Scope) -> bool {
    if let Some(p) = permission_of(&scope.name) {
        return roles.iter().any(|r| p.granted_to(*r));
    }
    scope.default || roles.contains(&Role::Admin) || roles.contains(&Role::ClientAdmin)
}

/// Whether a user with `roles` may put `scope` on an OAuth client: members only
/// the catalog's defaults, client-admins and admins any scope (Imagen).
pub fn may_grant_to_client(roles: &Roles, scope: &Scope) -> bool {
    scope.default || roles.contains(&Role::Admin) || roles.contains(&Role::ClientAdmin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_rfc_6749() {
        for ok in ["read", "content:read", "a!#[]~", "https://x.test/scope"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "has space",
            "quo\"te",
            "back\\slash",
            "tab\t",
            "ünï",
            &"x".repeat(129),
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scope_sets_parse_compare_and_print_the_wire_form() {
        let set = ScopeSet::parse("read  write read").unwrap();
        assert_eq!(
            ScopeSet::parse("read,write, read").unwrap(),
            set,
            "commas separate too"
        );
        assert!(check_name("a,b").is_err());
        assert_eq!(set.to_string(), "read write");
        assert_eq!(set.len(), 2);
        assert!(ScopeSet::parse("  ").unwrap().is_empty());
        assert!(ScopeSet::parse("re\"ad").is_err());
        let too_many: Vec<String> = (0..=MAX_SCOPE_TOKENS).map(|i| format!("s{i}")).collect();
        assert!(ScopeSet::parse(&too_many.join(" ")).is_err());
        let allowed = ScopeSet::from_names(["write", "read", "admin"]);
        assert!(set.is_subset(&allowed));
        assert!(!allowed.is_subset(&set));
        assert_eq!(allowed.first_missing(&set), Some("admin"));
        assert_eq!(allowed.intersect(&set).to_string(), "write read");
        assert_eq!(set.clone().union(&allowed).to_string(), "read write admin");
        assert_eq!(ScopeSet::default().to_string(), "");
    }

    #[test]
    fn the_catalog_has_the_seeded_scopes() {
        let builtin: Vec<_> = builtin_catalog().into_iter().map(|s| s.name).collect();
        assert!(builtin.contains(&"scopes:write".to_string()));
        assert!(builtin.contains(&"offline_access".to_string()));
        let defaults: Vec<_> = shipped_catalog()
            .into_iter()
            .filter(|s| s.default)
            .map(|s| s.name)
            .collect();
        assert_eq!(defaults, ["readUsersData", "modifyUsersData"]);
        for s in builtin_catalog().into_iter().chain(shipped_catalog()) {
            assert!(check_name(&s.name).is_ok(), "{}", s.name);
        }
    }

    #[test]
    fn members_grant_defaults_and_their_own_permissions_only() {
        let member: Roles = [Role::Member].into();
        let admin: Roles = [Role::Admin].into();
        let catalog: Vec<_> = builtin_catalog()
            .into_iter()
            .chain(shipped_catalog())
            .collect();
        let find = |n: &str| catalog.iter().find(|s| s.name == n).unwrap();
        assert!(may_grant(&member, find("keys:read")));
        assert!(!may_grant(&member, find("users:write")));
        assert!(may_grant(&member, find("readUsersData")));
        assert!(!may_grant(&member, find("manageJobs")));
        assert!(may_grant(&admin, find("manageJobs")));
        assert!(may_grant(&admin, find("users:write")));
    }
}
