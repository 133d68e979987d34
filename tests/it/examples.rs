//! README's "Testing with latchkey" examples are real tests: a pytest file
//! (httpx) and a `node:test` file, run here against a server this test
//! starts. Each makes a realm per test, moves its clock past a token's
//! expiry, queues a token fault and asserts on the journal.

use std::process::Command;
use std::time::Duration;

use crate::common::{TestServer, ADMIN_PASSWORD};
use crate::interop::interop_venv;
use crate::subprocess::{repo, run_bounded};

const LIMIT: Duration = Duration::from_secs(120);

fn assert_passed(what: &str, out: std::process::Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
}

#[tokio::test]
async fn the_pytest_example_passes() {
    let python = interop_venv().await;
    let server = TestServer::start().await;
    let mut cmd = Command::new(python);
    cmd.args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(repo().join("tests/examples/test_with_latchkey.py"))
        .env("LATCHKEY_URL", &server.base)
        .env("LATCHKEY_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("no_proxy", "*");
    let out = run_bounded(cmd, LIMIT).await.expect("pytest runs");
    assert_passed("the pytest example", out);
    assert!(server.realms.is_empty(), "every test's realm was deleted");
    server.stop().await;
}

#[tokio::test]
async fn the_node_test_example_passes() {
    let server = TestServer::start().await;
    let mut cmd = Command::new("node");
    cmd.arg("--test")
        .arg(repo().join("tests/examples/with_latchkey.test.mjs"))
        .env("LATCHKEY_URL", &server.base)
        .env("LATCHKEY_ADMIN_PASSWORD", ADMIN_PASSWORD);
    let out = run_bounded(cmd, LIMIT).await.expect("node runs");
    assert_passed("the node:test example", out);
    assert!(server.realms.is_empty(), "every test's realm was deleted");
    server.stop().await;
}
