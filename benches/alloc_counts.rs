//! Heap allocations per request on the three hot requests of the peers
//! benchmark: `GET /health`, API-key `GET /api/v1/users/me`, and
//! client_credentials `POST /oauth/token` (plus access-token `/users/me`).
//!
//! A real server runs in this process on 127.0.0.1:0 with a temporary store
//! and the peers benchmark's seed; a client thread that allocates nothing per
//! request (one fixed request, one fixed buffer, std `TcpStream`, keep-alive)
//! sends `N` requests after a warm-up. The process-wide allocation count
//! (dhat's counting allocator) over those `N` requests, divided by `N`, is what
//! the server allocates per request (tokio, hyper, poem and latchkey together).
//!
//! Run: `cargo bench --bench alloc_counts` (prints one line per request).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use latchkey::clock::SystemClock;
use latchkey::config::Config;
use latchkey::secret::Redacted;
use latchkey::store::{Location, Store, DEFAULT_CACHE_BYTES};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// The peers benchmark's seed (`shared/bench/peers/latchkey-seed.toml`).
const SEED: &str = r#"
[[scopes]]
name = "bench"
description = "Benchmark scope"
default = true

[[clients]]
client_id = "bench-client"
client_secret = "lk_cs_bench-secret-0123456789abcdef"
name = "Bench client"
type = "confidential"
owner = "admin"
grant_types = ["client_credentials"]
scopes = ["bench"]

[[api_keys]]
owner = "admin"
name = "bench"
secret = "lk_key_benchKeyForLoopbackLoadTestsOnly0123456789a"
scopes = []
"#;
const API_KEY: &str = "lk_key_benchKeyForLoopbackLoadTestsOnly0123456789a";
const FORM: &str = "grant_type=client_credentials&client_id=bench-client&client_secret=lk_cs_bench-secret-0123456789abcdef";
const WARM_UP: usize = 200;
const REQUESTS: usize = 2_000;

/// One keep-alive connection that sends the same request again and again.
struct Client {
    stream: TcpStream,
    request: Vec<u8>,
    buf: Vec<u8>,
}

impl Client {
    fn new(addr: SocketAddr, request: String) -> Client {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            request: request.into_bytes(),
            buf: vec![0; 64 * 1024],
        }
    }

    /// Sends the request, reads one whole response, returns its status.
    fn send(&mut self) -> u16 {
        self.stream.write_all(&self.request).unwrap();
        let mut filled = 0;
        loop {
            let n = self.stream.read(&mut self.buf[filled..]).unwrap();
            assert!(n > 0, "connection closed");
            filled += n;
            let got = &self.buf[..filled];
            let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = std::str::from_utf8(&got[..end]).unwrap();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if filled >= end + 4 + length {
                return head[9..12].parse().unwrap();
            }
        }
    }
}

fn get(path: &str, auth: Option<&str>) -> String {
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n")
}

fn post_form(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Allocations per request of `request`, measured on its own connection.
fn per_request(addr: SocketAddr, request: String) -> (f64, f64) {
    // The client runs on its own thread, as wrk would; it allocates nothing per
    // request, so the count is the server's.
    std::thread::spawn(move || {
        let mut client = Client::new(addr, request);
        for _ in 0..WARM_UP {
            assert_eq!(client.send(), 200);
        }
        let before = dhat::HeapStats::get();
        for _ in 0..REQUESTS {
            assert_eq!(client.send(), 200);
        }
        let after = dhat::HeapStats::get();
        let n = REQUESTS as f64;
        (
            (after.total_blocks - before.total_blocks) as f64 / n,
            (after.total_bytes - before.total_bytes) as f64 / n,
        )
    })
    .join()
    .unwrap()
}

fn access_token(addr: SocketAddr) -> String {
    let mut client = Client::new(addr, post_form("/oauth/token", FORM));
    assert_eq!(client.send(), 200);
    let text = String::from_utf8_lossy(&client.buf).into_owned();
    let start = text.find("lk_at_").unwrap();
    let end = start + text[start..].find('"').unwrap();
    text[start..end].to_owned()
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (addr, stop) = rt.block_on(async {
        let store = Store::open(&Location::Dir(dir.path().into()), DEFAULT_CACHE_BYTES).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let config = Config {
            admin_password: Some(Redacted::new("bench-admin-password-1".into())),
            seed: Some(Arc::new(latchkey::seed::parse(SEED).unwrap())),
            ..Config::default()
        };
        let launched =
            latchkey::startup::launch(listener, store, Arc::new(SystemClock), config, async {
                let _ = stop_rx.await;
            })
            .await
            .unwrap();
        (launched.addr, stop_tx)
    });
    let token = access_token(addr);
    let rows = [
        ("GET /health", get("/health", None)),
        (
            "API-key GET /api/v1/users/me",
            get("/api/v1/users/me", Some(&format!("Bearer {API_KEY}"))),
        ),
        (
            "access-token GET /api/v1/users/me",
            get("/api/v1/users/me", Some(&format!("Bearer {token}"))),
        ),
        (
            "client_credentials POST /oauth/token",
            post_form("/oauth/token", FORM),
        ),
    ];
    println!(
        "heap allocations per request (server side, {REQUESTS} requests after {WARM_UP} warm-up):"
    );
    for (name, request) in rows {
        let (blocks, bytes) = per_request(addr, request);
        println!("{name:40} {blocks:6.1} allocations {bytes:8.0} bytes");
    }
    let _ = stop.send(());
}
