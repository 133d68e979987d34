//! Criterion benches of JWT signing and verification per algorithm: what an
//! id_token or a JWT access token costs to issue (sign) and, on first sight, to
//! check (verify); later uses of the same JWT access token hit latchkey's
//! verified-token cache instead.
//!
//! Run: `cargo bench --bench jwt`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use latchkey::domain::jwt::{self, Alg};
use latchkey::service::signing_keys::generate;
use serde_json::{json, Map, Value};

fn claims() -> Map<String, Value> {
    match json!({
        "iss": "http://127.0.0.1:8080", "sub": "usr_0123456789abcdef01234567",
        "aud": "cli_0123456789abcdef01234567", "client_id": "cli_0123456789abcdef01234567",
        "scope": "openid profile read", "jti": "0123456789abcdef0123456789abcdef",
        "iat": 1_800_000_000, "exp": 1_800_003_600, "lk_epoch": "000000000000002a",
    }) {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn sign_and_verify(c: &mut Criterion) {
    let claims = claims();
    for alg in Alg::ALL {
        let key = generate(alg).unwrap();
        let public = key.public();
        let kid = public.thumbprint();
        let token = jwt::sign(&key, &kid, "at+jwt", &claims);
        let mut group = c.benchmark_group(format!("jwt/{alg}"));
        group.bench_function("sign", |b| {
            b.iter(|| jwt::sign(black_box(&key), &kid, "at+jwt", black_box(&claims)))
        });
        group.bench_function("verify", |b| {
            b.iter(|| jwt::verify(black_box(&token), |_| Some(&public)).unwrap())
        });
        group.finish();
    }
}

criterion_group!(benches, sign_and_verify);
criterion_main!(benches);
