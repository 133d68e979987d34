//! The status check every request in this suite goes through
//! (`common::checked`) tests itself: it finds each spec operation from a
//! concrete path, leaves what is not an operation alone, and fails on a status
//! the operation does not declare.

use crate::common::checked::{assert_declared, operation_for, operations, UNDECLARED_TODAY};

/// Every operation in the spec is found again from its own template with the
/// parameters filled in, so none escapes the check.
#[test]
fn every_spec_operation_is_found_from_a_concrete_path() {
    let ops = operations();
    assert!(ops.len() >= 30, "only {} operations in the spec", ops.len());
    for op in ops {
        let path = op
            .template
            .split('/')
            .map(|s| if s.starts_with('{') { "x_1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let found = operation_for(&op.method, &path)
            .unwrap_or_else(|| panic!("{} {path} finds no operation", op.method));
        assert_eq!(found.id, op.id, "{} {path}", op.method);
    }
}

/// A literal segment wins over a parameter (`/users/me` is not `/users/{id}`),
/// the query is not part of the path, and pages, unknown paths and methods a
/// path does not have are not operations.
#[test]
fn paths_resolve_as_the_router_does() {
    let id = |method: &str, path: &str| operation_for(method, path).map(|op| op.id.as_str());
    assert_eq!(id("GET", "/api/v1/users/me"), Some("getCurrentUser"));
    assert_eq!(id("GET", "/api/v1/users/usr_1"), Some("getUser"));
    assert_eq!(
        id("POST", "/api/v1/clients/cli_1/secret"),
        Some("regenerateClientSecret")
    );
    assert_eq!(id("post", "/oauth/token"), Some("token"));
    for (method, path) in [
        ("GET", "/oauth/authorize"),
        ("POST", "/oauth/authorize/login"),
        ("GET", "/oauth/logout"),
        ("GET", "/docs"),
        ("GET", "/openapi.json"),
        ("GET", "/no/such/path"),
        ("PUT", "/api/v1/users"),
        ("PATCH", "/api/v1/users/me"),
        ("GET", "/api/v1/users/"),
    ] {
        assert_eq!(id(method, path), None, "{method} {path}");
    }
    assert_declared("POST", "/oauth/token?grant_type=x", 200);
    assert_declared("GET", "/oauth/authorize", 302);
}

/// A status the operation does not declare fails the test that met it.
#[test]
#[should_panic(expected = "does not declare")]
fn an_undeclared_status_fails() {
    assert_declared("GET", "/api/v1/users/me", 418);
}

/// The allowlist of statuses the spec does not declare yet holds only entries
/// that are still needed: each names an operation in the spec that does not
/// declare that status. Once the spec documents one, delete its entry.
#[test]
fn the_allowlist_holds_only_statuses_still_undeclared() {
    for (id, status) in UNDECLARED_TODAY {
        let op = operations()
            .iter()
            .find(|op| op.id == *id)
            .unwrap_or_else(|| panic!("{id} is not an operation of the spec"));
        assert!(
            !op.declares(*status),
            "{id} declares {status} now: remove it from UNDECLARED_TODAY"
        );
    }
}
