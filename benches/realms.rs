//! Criterion benches of realm management, durable on a directory store (each
//! create and delete waits for its flushes): creating a realm (no admin
//! password given: the generated one is fingerprinted, not argon2-hashed),
//! deleting one, and both again with 1,000 realms already there.
//!
//! Run: `cargo bench --bench realms`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use latchkey::clock::SystemClock;
use latchkey::config::Config;
use latchkey::service::realms::{NewRealm, Realms};
use latchkey::state::AppState;
use latchkey::store::{Location, Store, DEFAULT_CACHE_BYTES};

fn new_realm(name: String) -> NewRealm {
    NewRealm {
        name,
        admin_password: None,
        seed: None,
        seed_json: None,
    }
}

fn realms(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Location::Dir(dir.path().into()), DEFAULT_CACHE_BYTES).unwrap();
    let state = AppState::new(store, Arc::new(SystemClock), Config::default()).unwrap();
    let registry = rt.block_on(async {
        latchkey::service::bootstrap::ensure_admin(&state)
            .await
            .unwrap();
        let r = Realms::new(state.clone());
        r.load().await.unwrap();
        r
    });
    let n = AtomicU64::new(0);
    let mut group = c.benchmark_group("realm");
    group.sample_size(50);
    for existing in [0u64, 1000] {
        rt.block_on(async {
            while (registry.len() as u64) < existing {
                let i = n.fetch_add(1, Ordering::Relaxed);
                registry
                    .create(new_realm(format!("filler-{i}")))
                    .await
                    .unwrap();
            }
        });
        group.bench_function(format!("create_then_delete/{existing}_realms"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let name = format!("r-{}", n.fetch_add(1, Ordering::Relaxed));
                    registry.create(new_realm(name.clone())).await.unwrap();
                    registry.delete(&name).await.unwrap();
                })
            })
        });
        group.bench_function(format!("create/{existing}_realms"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut spent = std::time::Duration::ZERO;
                    for _ in 0..iters {
                        let name = format!("r-{}", n.fetch_add(1, Ordering::Relaxed));
                        let t = std::time::Instant::now();
                        registry.create(new_realm(name.clone())).await.unwrap();
                        spent += t.elapsed();
                        registry.delete(&name).await.unwrap();
                    }
                    spent
                })
            })
        });
        group.bench_function(format!("delete/{existing}_realms"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut spent = std::time::Duration::ZERO;
                    for _ in 0..iters {
                        let name = format!("r-{}", n.fetch_add(1, Ordering::Relaxed));
                        registry.create(new_realm(name.clone())).await.unwrap();
                        let t = std::time::Instant::now();
                        registry.delete(&name).await.unwrap();
                        spent += t.elapsed();
                    }
                    spent
                })
            })
        });
    }
    group.finish();
    registry.close();
}

criterion_group!(benches, realms);
criterion_main!(benches);
