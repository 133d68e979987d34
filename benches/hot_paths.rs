//! Criterion benches of the per-request hot paths:
//! password verification with the shipped argon2id parameters (what a Basic
//! login costs when not cached), the verified-login cache lookup that replaces it,
//! credential fingerprinting (blake3), access-token encoding and verification,
//! store reads and durable writes, credential checks against the number of
//! API keys stored (1 to 1,000,000), and paging through a user's 10,000 keys.
//!
//! Run: `cargo bench --bench hot_paths`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use latchkey::clock::SystemClock;
use latchkey::config::Config;
use latchkey::domain::scope::ScopeSet;
use latchkey::domain::time::Timestamp;
use latchkey::domain::token::{self, AccessClaims, TokenKey};
use latchkey::password::{PasswordHasher, Workspace};
use latchkey::secret::fingerprint;
use latchkey::service::login_cache::LoginCache;
use latchkey::service::{access_token, api_keys, live};
use latchkey::state::AppState;
use latchkey::store::{
    ApiKeyRecord, ClientRecord, Location, Store, UserRecord, DEFAULT_CACHE_BYTES,
};

fn passwords(c: &mut Criterion) {
    let hasher = PasswordHasher::new().unwrap();
    let mut ws = Workspace::default();
    let phc = hasher.hash("correct horse battery", &mut ws).unwrap();
    let mut group = c.benchmark_group("password");
    group.sample_size(20);
    group.bench_function("argon2id_verify", |b| {
        b.iter(|| assert!(hasher.verify(black_box("correct horse battery"), &phc, &mut ws)))
    });
    group.finish();

    let cache = LoginCache::new();
    let digest = cache.digest("alice", "correct horse battery");
    cache.remember(digest, "usr_1", &phc, Timestamp(1000));
    c.bench_function("login_cache/digest_and_lookup", |b| {
        b.iter(|| {
            let d = cache.digest(black_box("alice"), black_box("correct horse battery"));
            let (_, stamp) = cache.lookup(&d, Timestamp(1001)).unwrap();
            assert!(LoginCache::stamp_matches(&stamp, &phc));
        })
    });
}

fn credentials(c: &mut Criterion) {
    let secret = format!("lk_key_{}", "x".repeat(43));
    c.bench_function("secret/blake3_fingerprint", |b| {
        b.iter(|| fingerprint(black_box(&secret)))
    });
}

/// Access tokens: issuing is encoding and one keyed blake3; validating is
/// decoding and checking the MAC (the revocation and live-state checks that
/// follow are in-memory lookups, measured end to end by the load script).
fn access_tokens(c: &mut Criterion) {
    let key = TokenKey::new([7; 32]);
    let claims = AccessClaims {
        id: [1; 16],
        client_id: "cli_0123456789abcdef01234567".into(),
        client_epoch: 1,
        user_id: "usr_0123456789abcdef01234567".into(),
        scopes: latchkey::domain::scope::ScopeSet::from_names(["read", "write", "keys:read"]),
        issued_at: Timestamp(1_800_000_000),
        expires_at: Timestamp(1_800_003_600),
        family: None,
    };
    c.bench_function("access_token/encode", |b| {
        b.iter(|| token::encode(&key, black_box(&claims)).unwrap())
    });
    let t = token::encode(&key, &claims).unwrap();
    c.bench_function("access_token/decode_and_verify", |b| {
        b.iter(|| token::decode(&key, black_box(&t)).unwrap())
    });
}

fn record(i: u32) -> UserRecord {
    UserRecord {
        id: format!("usr_{i:024x}"),
        username: format!("user{i}"),
        username_key: format!("user{i}"),
        email: Some(format!("user{i}@example.test")),
        name: Some("Bench User".into()),
        password_hash:
            "$argon2id$v=19$m=7168,t=5,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA"
                .into(),
        roles: vec!["member".into()],
        disabled: false,
        created_at: 1,
        updated_at: 1,
        claims_json: String::new(),
    }
}

fn store(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Location::Dir(dir.path().into()), DEFAULT_CACHE_BYTES).unwrap();
    rt.block_on(async {
        for i in 0..10_000 {
            store.users().insert(&record(i)).await.unwrap();
        }
    });
    c.bench_function("store/get_user_by_id_10k", |b| {
        let mut i = 0u32;
        b.iter(|| {
            i = (i + 7919) % 10_000;
            store
                .users()
                .get(&format!("usr_{i:024x}"))
                .unwrap()
                .unwrap()
        })
    });
    c.bench_function("store/get_user_by_username_10k", |b| {
        let mut i = 0u32;
        b.iter(|| {
            i = (i + 7919) % 10_000;
            store
                .users()
                .get_by_username(&format!("user{i}"))
                .unwrap()
                .unwrap()
        })
    });
    let mut group = c.benchmark_group("store");
    group.sample_size(20);
    let mut n = 10_000u32;
    group.bench_function("replace_user_durable", |b| {
        b.iter_batched(
            || {
                n += 1;
                let mut r = record(n % 10_000);
                r.updated_at = i64::from(n);
                r
            },
            |r| rt.block_on(store.users().replace(&r)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    // 32 writers at once share flushes (group commit): per-write cost should be
    // far below 32 × replace_user_durable.
    group.bench_function("replace_user_durable_32_concurrent", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut tasks = Vec::new();
                for i in 0..32u32 {
                    let store = store.clone();
                    tasks.push(tokio::spawn(async move {
                        store
                            .users()
                            .replace(&record(i * 97 % 10_000))
                            .await
                            .unwrap()
                    }));
                }
                for t in tasks {
                    assert!(t.await.unwrap());
                }
            })
        })
    });
    group.finish();
}

fn key_record(i: u32) -> (ApiKeyRecord, String) {
    let secret = format!("lk_key_{i:043}");
    let record = ApiKeyRecord {
        id: format!("key_{i:024x}"),
        owner_id: format!("usr_{:024x}", 0),
        name: "bench".into(),
        prefix: secret[..12].into(),
        secret_hash: fingerprint(&secret).to_vec(),
        previous_hash: None,
        previous_until: None,
        scopes: vec!["keys:read".into()],
        meta_json: "{}".into(),
        enabled: true,
        created_at: 1,
        updated_at: 1,
        expires_at: None,
        disabled_by_admin: None,
    };
    (record, secret)
}

/// Stores `count` API keys of one owner (`usr_0…0`), 256 inserts at a time so
/// that they share flushes (group commit): a million keys load in minutes.
fn load_keys(rt: &tokio::runtime::Runtime, store: &Store, count: u32) {
    rt.block_on(async {
        store.users().insert(&record(0)).await.unwrap();
        let mut next = 0u32;
        while next < count {
            let end = (next + 256).min(count);
            let mut tasks = Vec::new();
            for i in next..end {
                let store = store.clone();
                tasks.push(tokio::spawn(async move {
                    store.api_keys().insert(&key_record(i).0).await.unwrap()
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            next = end;
        }
    });
}

/// The cost of a credential check against the number of API keys stored (1 to
/// 1,000,000): the storage side of an API-key login (fingerprint, hash index,
/// key record, owner record: what a cache miss costs), the whole API-key check
/// as a request makes it (`api_keys::authenticate`, cache hit), and the whole
/// access-token check (`access_token::authenticate`: MAC, revocation list,
/// cached client and user). None should grow with the number of keys.
///
/// `LATCHKEY_BENCH_KEY_COUNTS` (a comma list) picks the counts instead.
fn checks_by_key_count(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let counts: Vec<u32> = match std::env::var("LATCHKEY_BENCH_KEY_COUNTS") {
        Ok(v) => v.split(',').filter_map(|c| c.trim().parse().ok()).collect(),
        Err(_) => vec![1, 1_000, 100_000, 1_000_000],
    };
    let mut group = c.benchmark_group("checks_by_key_count");
    for count in counts {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Location::Dir(dir.path().into()), DEFAULT_CACHE_BYTES).unwrap();
        load_keys(&rt, &store, count);
        let state = AppState::new(store.clone(), Arc::new(SystemClock), Config::default()).unwrap();
        let client = ClientRecord {
            client_id: "bench-client".into(),
            owner_id: format!("usr_{:024x}", 0),
            name: "bench".into(),
            client_type: "confidential".into(),
            redirect_uris: vec![],
            grant_types: vec!["client_credentials".into()],
            scopes: vec!["read".into()],
            access_token_ttl_seconds: None,
            enabled: true,
            secret_hash: Some(fingerprint("lk_cs_x").to_vec()),
            token_epoch: 1,
            created_at: 1,
            updated_at: 1,
            skip_consent: false,
            allow_plain_pkce: false,
            ..ClientRecord::default()
        };
        rt.block_on(store.clients().insert(&client)).unwrap();
        let client = live::client(&state, "bench-client").unwrap().unwrap();
        let token = access_token::issue(
            &state,
            &client,
            &format!("usr_{:024x}", 0),
            ScopeSet::from_names(["read"]),
            None,
        )
        .unwrap();
        // Secrets spread over the whole key space.
        let step = (count / 1000).max(1);
        let secrets: Vec<String> = (0..count.min(1000))
            .map(|i| key_record(i * step).1)
            .collect();
        let mut n = 0usize;
        group.bench_function(format!("api_key_store_lookup/{count}_keys"), |b| {
            b.iter(|| {
                n = (n + 1) % secrets.len();
                let key = store
                    .api_keys()
                    .find_by_hash(&fingerprint(&secrets[n]))
                    .unwrap()
                    .unwrap();
                store.users().get(&key.owner_id).unwrap().unwrap()
            })
        });
        let hot = secrets[0].clone();
        group.bench_function(format!("api_key_authenticate/{count}_keys"), |b| {
            b.iter(|| {
                rt.block_on(api_keys::authenticate(&state, black_box(&hot)))
                    .unwrap()
            })
        });
        group.bench_function(format!("access_token_authenticate/{count}_keys"), |b| {
            b.iter(|| access_token::authenticate(&state, black_box(token.token.expose())).unwrap())
        });
    }
    group.finish();
}

/// A user with 10,000 keys lists them 100 at a time: the first page and a page
/// from the middle cost the same, and neither reads the other keys (the owner
/// index is a range scan that stops after a page).
fn key_pages(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Location::Dir(dir.path().into()), DEFAULT_CACHE_BYTES).unwrap();
    load_keys(&rt, &store, 10_000);
    let middle = format!("key_{:024x}", 5_000);
    let mut group = c.benchmark_group("list_keys_10k_owned");
    group.bench_function("first_page_of_100", |b| {
        b.iter(|| {
            let page = store
                .api_keys()
                .list_by_owner(&format!("usr_{:024x}", 0), None, 101)
                .unwrap();
            assert_eq!(page.len(), 101);
        })
    });
    group.bench_function("page_of_100_after_5000", |b| {
        b.iter(|| {
            let page = store
                .api_keys()
                .list_by_owner(&format!("usr_{:024x}", 0), Some(&middle), 101)
                .unwrap();
            assert_eq!(page.len(), 101);
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    passwords,
    credentials,
    access_tokens,
    store,
    checks_by_key_count,
    key_pages
);
criterion_main!(benches);
