//! The `latchkey` binary itself: banner, signals, `kill -9` durability,
//! `healthcheck`, `check-store` and `openapi` subcommands.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::CheckedClient;

const BIN: &str = env!("CARGO_BIN_EXE_latchkey");

/// A `latchkey serve` child process and what its banner said.
struct Served {
    child: Child,
    base: String,
    banner: Vec<String>,
}

impl Served {
    fn start(args: &[&str]) -> Served {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(["--bind", "127.0.0.1:0"])
            .args(args)
            .env_remove("LATCHKEY_ADMIN_PASSWORD")
            .env("LATCHKEY_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn latchkey");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut banner = Vec::new();
        while banner.len() < 5 {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => banner.push(line),
                Err(_) => {
                    let _ = child.kill();
                    panic!("no banner within 30 s; got {banner:?}");
                }
            }
        }
        let addr = banner[0].rsplit(' ').next().unwrap().to_owned();
        Served {
            child,
            base: format!("http://{addr}"),
            banner,
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    }

    /// Waits (bounded) for the process to exit; returns whether it exited 0.
    fn wait_exit(&mut self) -> bool {
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        panic!("latchkey did not exit within 30 s");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client for the child process, its answers status-checked against the spec.
fn client() -> CheckedClient {
    CheckedClient::new(
        reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
    )
}

/// First start prints a generated admin password once, and it works; a restart
/// on the same directory keeps the users and prints no password.
#[tokio::test]
async fn first_start_prints_a_working_admin_password_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut served = Served::start(&["--data-dir", data]);
    let admin_line = served
        .banner
        .iter()
        .find(|l| l.contains("admin"))
        .unwrap()
        .clone();
    assert!(admin_line.contains("generated"), "{admin_line}");
    assert!(
        served.banner.iter().any(|l| l.contains("/docs")),
        "{:?}",
        served.banner
    );
    let password = admin_line.split('"').nth(3).unwrap().to_owned();
    let resp = client()
        .get(format!("{}/api/v1/users/me", served.base))
        .basic_auth("admin", Some(&password))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    served.signal("-TERM");
    assert!(served.wait_exit(), "SIGTERM exits 0");

    let mut again = Served::start(&["--data-dir", data]);
    assert!(
        again.banner.iter().all(|l| !l.contains("generated")),
        "{:?}",
        again.banner
    );
    let resp = client()
        .get(format!("{}/api/v1/users/me", again.base))
        .basic_auth("admin", Some(&password))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    again.signal("-INT");
    assert!(again.wait_exit(), "SIGINT exits 0");
}

/// A 201 means the user is on disk: `kill -9` right after it loses nothing.
#[tokio::test]
async fn a_created_user_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let args = ["--data-dir", data, "--admin-password", "kill-nine-admin"];
    let mut served = Served::start(&args);
    let resp = client()
        .post(format!("{}/api/v1/users", served.base))
        .basic_auth("admin", Some("kill-nine-admin"))
        .json(&json!({"username": "durable", "password": "durable-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    served.signal("-KILL");
    served.wait_exit();

    // The killed server's store opens and its indexes agree with its records.
    let checked = Command::new(BIN)
        .args(["check-store", "--data-dir", data])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{said} {checked:?}");
    assert!(said.starts_with("consistent: 2 users"), "{said}");

    let served = Served::start(&args);
    let resp = client()
        .get(format!("{}/api/v1/users/me", served.base))
        .basic_auth("durable", Some("durable-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// `check-store` never makes a store: a directory without one is an error.
#[test]
fn check_store_refuses_a_directory_without_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["check-store", "--data-dir", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no store"));
    assert!(!dir.path().join("db").exists(), "nothing was created");
}

/// `latchkey healthcheck` exits 0 against a live server and 1 against a dead port.
#[tokio::test]
async fn healthcheck_reports_up_and_down() {
    let served = Served::start(&["--ephemeral"]);
    let addr = served.base.trim_start_matches("http://").to_owned();
    let up = Command::new(BIN)
        .args(["healthcheck", "--bind", &addr])
        .status()
        .unwrap();
    assert!(up.success());
    drop(served);
    let down = Command::new(BIN)
        .args(["healthcheck", "--bind", &addr])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(down.code(), Some(1));
}

/// `latchkey openapi` prints the same document the server serves.
#[test]
fn openapi_subcommand_prints_the_spec() {
    let out = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(out.status.success());
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let code: Value = serde_json::from_str(&latchkey::api::api_service().spec()).unwrap();
    assert_eq!(printed, code);
}

/// A bad flag value is refused at start with a message, not a panic.
#[test]
fn bad_flags_are_refused_with_a_message() {
    let out = Command::new(BIN)
        .args(["serve", "--public-url", "ftp://x", "--ephemeral"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("http://"));
}

/// A bad seed file stops the server before it starts, naming line and field.
#[test]
fn a_bad_seed_file_is_refused_naming_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.toml");
    std::fs::write(
        &path,
        "[[users]]\nusername = \"ok\"\npassword = \"long-enough\"\n\n[[clients]]\nclient_id = \"c\"\nname = \"C\"\ntype = \"confidential\"\nclient_secret = \"lk_cs_0123456789abcdef\"\nredirect_uris = [\"http://example.com/cb\"]\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--ephemeral", "--bind", "127.0.0.1:0", "--seed"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 5") && err.contains("redirect_uris"),
        "{err}"
    );
    let out = Command::new(BIN)
        .args([
            "serve",
            "--ephemeral",
            "--bind",
            "127.0.0.1:0",
            "--seed",
            "/nonexistent/seed.toml",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the seed file"));
}
