//! Micro-benchmarks of the signing path: policy JSON, CloudFront base64, a
//! full canned-policy URL (build + sign + encode + apply) per key type, and
//! applying one signed wildcard policy to many URLs.
//!
//! `cargo bench` (about a minute); one group: `cargo bench -- sign_url`.
//! Figures measured on the project machine are in `benches/README.md`.

use std::hint::black_box;
use std::time::Duration;

use cfsign::sign::encode;
use cfsign::sign::{CustomPolicy, HashAlgorithm, Policy, PrivateKey, Signer};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};

const EXPIRES: i64 = 1_893_456_000; // 2030-01-01T00:00:00Z
const URL: &str = "https://d111111abcdef8.cloudfront.net/assets/0042/image.jpg?size=large";
const KEY_PAIR_ID: &str = "K2JCJMDEHXQW5F";

fn key(name: &str) -> PrivateKey {
    let path = format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    PrivateKey::from_bytes(&bytes, None).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn signer(name: &str, hash: HashAlgorithm) -> Signer {
    Signer::new(key(name), KEY_PAIR_ID.parse().unwrap(), Some(hash))
}

/// Short runs: the machine is small and shared, and these are for ratios.
fn quick<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g
}

fn policy_build(c: &mut Criterion) {
    let mut g = quick(c, "policy_build");
    g.bench_function("canned_json", |b| {
        b.iter(|| {
            let p = Policy::canned(black_box(URL), black_box(EXPIRES)).unwrap();
            black_box(p.to_json())
        })
    });
    g.finish();
}

fn encode_signature(c: &mut Criterion) {
    let sig: Vec<u8> = (0..256u32).map(|i| (i * 151 + 7) as u8).collect();
    let mut g = quick(c, "encode");
    g.throughput(Throughput::Bytes(sig.len() as u64));
    g.bench_function("signature_256B", |b| {
        b.iter(|| black_box(encode::encode(black_box(&sig))))
    });
    g.finish();
}

/// Build + sign + encode + apply: what `cfsign sign` does per canned URL.
fn sign_url(c: &mut Criterion) {
    let mut g = quick(c, "sign_url");
    g.throughput(Throughput::Elements(1));
    for (label, file, hash) in [
        ("rsa2048_sha1", "rsa2048-pkcs1.pem", HashAlgorithm::Sha1),
        ("rsa2048_sha256", "rsa2048-pkcs1.pem", HashAlgorithm::Sha256),
        (
            "ecdsa_p256_sha256",
            "ec-p256-pkcs8.pem",
            HashAlgorithm::Sha256,
        ),
    ] {
        let signer = signer(file, hash);
        g.bench_function(label, |b| {
            b.iter(|| {
                let policy = Policy::canned(black_box(URL), EXPIRES).unwrap();
                let signed = signer.sign(&policy).apply_to(URL).unwrap();
                black_box(signed)
            })
        });
    }
    g.finish();
}

/// One wildcard policy signed once; per URL only wire form, pattern match
/// and query assembly remain.
fn wildcard_apply(c: &mut Criterion) {
    let signer = signer("rsa2048-pkcs1.pem", HashAlgorithm::Sha1);
    let resource = "https://d111111abcdef8.cloudfront.net/assets/*"
        .parse()
        .unwrap();
    let policy = Policy::Custom(CustomPolicy::new(resource, EXPIRES, None, None).unwrap());
    let signed = signer.sign(&policy);
    let urls: Vec<String> = (0..1024)
        .map(|i| format!("https://d111111abcdef8.cloudfront.net/assets/{i:05}/file.jpg"))
        .collect();
    let mut g = quick(c, "wildcard");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("apply_to", |b| {
        b.iter(|| {
            i = (i + 1) % urls.len();
            black_box(signed.apply_to(black_box(&urls[i])).unwrap())
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    policy_build,
    encode_signature,
    sign_url,
    wildcard_apply
);
criterion_main!(benches);
