//! The load generator for `cfsign serve`, shared by `benches/serve_load.rs`
//! (the full run) and `tests/serve_load.rs` (a small run in the test suite).
//!
//! It starts a server in-process ([`cfsign::serve::spawn`]) on 127.0.0.1:0
//! with a fresh temp root and signature checks on, signs one wildcard custom
//! policy for `http://127.0.0.1:PORT/*`, and drives `connections` tasks, each
//! with one HTTP/1.1 keep-alive connection of its own (a raw hyper client
//! connection: a connection the server closes is an error, not a silent
//! reconnect), through `requests` requests in all: 40 % whole GETs, 10 %
//! ranged GETs, 20 % HEADs, 30 % PUTs, over `keys` object keys in ten folders,
//! a quarter of the requests going to a few hot keys so that PUTs of the same
//! key overlap.
//!
//! Every PUT writes a new, complete version: a first line naming the key and
//! the version, then filler derived from the version's seed, with its SHA-256
//! in `x-amz-content-sha256` and its ID in `x-amz-meta-version`. Versions are
//! registered before they are sent, so a reader can always recognise them.
//!
//! Checks, each failure counted as an error:
//! - every answer is 200 (206 for a ranged GET); 404 only for a key no PUT
//!   had completed before the request started;
//! - a whole GET's body is exactly one registered version of its key (length
//!   and SHA-256): never torn; its ETag is that version's MD5, and its stored
//!   headers (`x-amz-meta-version`, `x-cfsign-content-sha256`) are there and
//!   are that version's;
//! - a ranged GET's `Content-Range`, ETag, bytes and `x-amz-meta-version`
//!   match the version its ETag names; so do a HEAD's length and headers;
//! - no read returns a version that was already overwritten when the read
//!   began (a later PUT of the key had started after it completed and had
//!   itself completed), nor the version of a PUT that failed;
//! - afterwards, on disk, every key written holds one of its successful
//!   versions, not one that a later PUT had superseded, and a HEAD of it
//!   gives that version's ETag and stored headers; nothing else is left in
//!   the root: no `.cfsign-tmp-*` file, no stray file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cfsign::serve::{self, Config, META_DIR, TEMP_PREFIX};
use cfsign::sign::{CustomPolicy, Policy, PrivateKey, PublicKey, Signer};
use cfsign::verify::KeyRing;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{self, HeaderMap};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use md5::Md5;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

mod cpu;
pub use cpu::Cpu;

/// The key pair ID the server trusts the fixture key under.
pub const KEY_PAIR_ID: &str = "K2JCJMDEHXQW5F";

/// Folders the keys are spread over.
const FOLDERS: usize = 10;

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Requests in all.
    pub requests: usize,
    /// Concurrent connections, one task each.
    pub connections: usize,
    /// Object keys.
    pub keys: usize,
    /// The first keys of the set, which get a quarter of the requests.
    pub hot_keys: usize,
    /// Seeds the mix, the sizes and the bodies.
    pub seed: u64,
    /// Size of the big objects.
    pub big_size: usize,
    /// PUTs per thousand that write a big object; the others write 1–64 KiB.
    pub big_per_mille: u32,
    /// Longest a request may take before it counts as an error.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            requests: 20_000,
            connections: 64,
            keys: 200,
            hot_keys: 8,
            seed: 1,
            big_size: 1 << 20,
            big_per_mille: 20,
            timeout: Duration::from_secs(60),
        }
    }
}

impl Options {
    /// Reads `--requests N`, `--connections C`, `--keys K`, `--seed S` (also
    /// `--flag=value`) over the defaults; other arguments (cargo passes
    /// `--bench`) are ignored.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut options = Options::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (arg.clone(), None),
            };
            if !["--requests", "--connections", "--keys", "--seed"].contains(&name.as_str()) {
                continue;
            }
            let value = inline
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))?;
            let value = value
                .parse::<u64>()
                .map_err(|_| format!("{name} {value}: not a number"))?;
            match name.as_str() {
                "--requests" => options.requests = value as usize,
                "--connections" => options.connections = value as usize,
                "--keys" => options.keys = value as usize,
                _ => options.seed = value,
            }
        }
        if options.requests == 0 || options.connections == 0 || options.keys == 0 {
            return Err("--requests, --connections and --keys must be at least 1".into());
        }
        options.hot_keys = options.hot_keys.min(options.keys);
        Ok(options)
    }
}

/// One complete version of an object, as a PUT sent it.
#[derive(Clone, Debug)]
struct Version {
    id: u64,
    len: usize,
    seed: u64,
    sha256: [u8; 32],
    md5: [u8; 16],
}

/// The path of key `index`.
fn key_path(index: usize) -> String {
    format!("/load/d{}/k{index:04}.bin", index % FOLDERS)
}

/// The body of a version: a first line naming it, then filler from its seed.
pub fn version_body(key: &str, id: u64, len: usize, seed: u64) -> Vec<u8> {
    let mut body = format!("cfsign-load {key} version {id} length {len}\n").into_bytes();
    body.truncate(len);
    body.reserve(len - body.len());
    let mut state = seed;
    while body.len() < len {
        let word = splitmix64(&mut state).to_le_bytes();
        let take = (len - body.len()).min(word.len());
        body.extend_from_slice(&word[..take]);
    }
    body
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Get,
    RangeGet,
    Head,
    Put,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Get, Kind::RangeGet, Kind::Head, Kind::Put];

    fn name(self) -> &'static str {
        match self {
            Kind::Get => "GET",
            Kind::RangeGet => "GET range",
            Kind::Head => "HEAD",
            Kind::Put => "PUT",
        }
    }
}

/// One request, for the checks after the run. Times in ns from the start.
#[derive(Clone, Debug)]
struct Event {
    kind: Kind,
    key: usize,
    start: u64,
    end: u64,
    /// `None`: no answer (transport error or timeout).
    status: Option<u16>,
    /// PUT: the version sent. GET/HEAD: the version recognised.
    version: Option<u64>,
}

/// Error classes, in the order they are reported.
const CLASSES: [&str; 9] = [
    "transport",
    "status",
    "torn",
    "metadata",
    "failed PUT visible",
    "stale read",
    "lost",
    "final content",
    "leftover file",
];

#[derive(Default)]
struct Errors {
    counts: BTreeMap<&'static str, usize>,
    samples: Vec<String>,
}

impl Errors {
    const SAMPLES: usize = 30;

    fn add(&mut self, class: &'static str, message: String) {
        *self.counts.entry(class).or_default() += 1;
        if self.samples.len() < Self::SAMPLES {
            self.samples.push(format!("{class}: {message}"));
        }
    }

    fn merge(&mut self, other: Errors) {
        for (class, n) in other.counts {
            *self.counts.entry(class).or_default() += n;
        }
        for sample in other.samples {
            if self.samples.len() < Self::SAMPLES {
                self.samples.push(sample);
            }
        }
    }
}

/// What the tasks share.
struct Shared {
    options: Options,
    addr: SocketAddr,
    host: String,
    /// The signed-URL query appended to every path.
    query: String,
    /// Every version ever sent, by key.
    versions: Vec<Mutex<Vec<Version>>>,
    next_request: AtomicUsize,
    next_version: AtomicU64,
    started: Instant,
}

impl Shared {
    fn now(&self) -> u64 {
        self.started.elapsed().as_nanos() as u64
    }

    fn find(&self, key: usize, pick: impl Fn(&Version) -> bool) -> Option<Version> {
        self.versions[key]
            .lock()
            .unwrap()
            .iter()
            .find(|v| pick(v))
            .cloned()
    }
}

/// What one task did.
#[derive(Default)]
struct TaskLog {
    events: Vec<Event>,
    /// Latency in ns, by kind, of the requests that got an answer.
    latencies: BTreeMap<Kind, Vec<u64>>,
    statuses: BTreeMap<(Kind, u16), usize>,
    errors: Errors,
    bytes_sent: u64,
    bytes_received: u64,
    reconnects: usize,
}

/// Latency figures of one kind of request.
#[derive(Clone, Copy, Debug, Default)]
pub struct Latency {
    pub count: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Latency {
    fn of(mut ns: Vec<u64>) -> Self {
        if ns.is_empty() {
            return Latency::default();
        }
        ns.sort_unstable();
        // Nearest rank.
        let rank = |p: f64| ns[((p * ns.len() as f64).ceil() as usize).clamp(1, ns.len()) - 1];
        Latency {
            count: ns.len(),
            p50: Duration::from_nanos(rank(0.50)),
            p99: Duration::from_nanos(rank(0.99)),
            max: Duration::from_nanos(*ns.last().unwrap()),
        }
    }
}

/// The outcome of a run.
pub struct Report {
    pub options: Options,
    /// From the first request to the last answer (connections already open).
    pub elapsed: Duration,
    pub all: Latency,
    /// `GET`, `GET range`, `HEAD`, `PUT`.
    pub by_kind: Vec<(&'static str, Latency)>,
    /// (kind, status) → requests.
    pub statuses: Vec<(&'static str, u16, usize)>,
    /// Error class → count; empty when everything held.
    pub errors: BTreeMap<&'static str, usize>,
    /// The first errors, for the log.
    pub error_samples: Vec<String>,
    /// PUTs that overlapped another PUT of the same key.
    pub overlapping_puts: usize,
    /// The most PUTs of one key in flight at once.
    pub max_concurrent_puts: usize,
    /// GETs and HEADs that overlapped a PUT of the same key.
    pub reads_during_puts: usize,
    /// Keys holding an object at the end.
    pub keys_written: usize,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Connections opened again after a transport error (each one an error).
    pub reconnects: usize,
    /// CPU time of the whole process while the load ran (client + server).
    pub cpu: Cpu,
    /// The client's part of [`Report::cpu`].
    pub client_cpu: Cpu,
}

impl Report {
    pub fn error_count(&self) -> usize {
        self.errors.values().sum()
    }

    pub fn ok(&self) -> bool {
        self.error_count() == 0
    }

    pub fn requests_per_second(&self) -> f64 {
        self.options.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// The summary the bench prints.
    pub fn render(&self) -> String {
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        let mut out = String::new();
        let o = &self.options;
        let _ = writeln!(
            out,
            "serve_load: {} requests, {} connections, {} keys ({} hot), seed {}",
            o.requests, o.connections, o.keys, o.hot_keys, o.seed
        );
        let _ = writeln!(
            out,
            "wall {:.2} s, {:.0} requests/s; latency p50 {}, p99 {}, max {}",
            self.elapsed.as_secs_f64(),
            self.requests_per_second(),
            ms(self.all.p50),
            ms(self.all.p99),
            ms(self.all.max)
        );
        let per_request = |d: Duration| d.as_secs_f64() * 1e3 / o.requests as f64;
        let server_cpu = self.cpu.total().saturating_sub(self.client_cpu.total());
        let _ = writeln!(
            out,
            "cpu {:.2} s (user {:.2} s, sys {:.2} s), {:.3} ms per request; server {:.3} ms, client {:.3} ms per request",
            self.cpu.total().as_secs_f64(),
            self.cpu.user.as_secs_f64(),
            self.cpu.system.as_secs_f64(),
            per_request(self.cpu.total()),
            per_request(server_cpu),
            per_request(self.client_cpu.total())
        );
        let _ = writeln!(
            out,
            "sent {:.1} MiB, received {:.1} MiB, connections reopened {}",
            mib(self.bytes_sent),
            mib(self.bytes_received),
            self.reconnects
        );
        let _ = writeln!(
            out,
            "{:<10} {:>7} {:>10} {:>10} {:>10}",
            "request", "count", "p50", "p99", "max"
        );
        for (name, l) in &self.by_kind {
            let _ = writeln!(
                out,
                "{:<10} {:>7} {:>10} {:>10} {:>10}",
                name,
                l.count,
                ms(l.p50),
                ms(l.p99),
                ms(l.max)
            );
        }
        let statuses = self
            .statuses
            .iter()
            .map(|(kind, status, n)| format!("{kind} {status}: {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(out, "statuses: {statuses}");
        let _ = writeln!(
            out,
            "contention: {} PUTs overlapped a PUT of the same key (at most {} at once); {} reads overlapped a PUT of their key",
            self.overlapping_puts, self.max_concurrent_puts, self.reads_during_puts
        );
        let _ = writeln!(out, "keys written: {} of {}", self.keys_written, o.keys);
        if self.ok() {
            let _ = writeln!(
                out,
                "checks: no errors, no torn, stale or lost objects, no leftover files"
            );
        } else {
            let errors = self
                .errors
                .iter()
                .map(|(class, n)| format!("{class}: {n}"))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(out, "ERRORS ({}): {errors}", self.error_count());
            for sample in &self.error_samples {
                let _ = writeln!(out, "  {sample}");
            }
        }
        out
    }
}

/// Runs the load against a fresh server and checks everything.
pub fn run(options: Options) -> Report {
    let root = tempfile::Builder::new()
        .prefix("cfsign-serve-load-")
        .tempdir()
        .expect("a temp root");
    let manifest = env!("CARGO_MANIFEST_DIR");
    let read = |name: &str| {
        let path = format!("{manifest}/tests/fixtures/keys/{name}");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let mut ring = KeyRing::new();
    ring.insert(
        KEY_PAIR_ID,
        PublicKey::from_bytes(&read("rsa2048-public.pem")).unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    // Every connection may be in a PUT at once: none should get 503 SlowDown.
    let config = Config {
        max_uploads: options.connections.max(serve::DEFAULT_MAX_UPLOADS),
        ..Config::new(root.path(), ring)
    };
    let handle = serve::spawn(listener, config).expect("spawn the server");
    let addr = handle.addr();

    let signer = Signer::new(
        PrivateKey::from_bytes(&read("rsa2048-pkcs8.pem"), None).unwrap(),
        KEY_PAIR_ID.parse().unwrap(),
        None,
    );
    let expires = cfsign::time::now() + 24 * 3600;
    let resource = format!("http://{addr}/*").parse().unwrap();
    let policy = Policy::Custom(CustomPolicy::new(resource, expires, None, None).unwrap());
    let query = signer.sign(&policy).query();

    let shared = Arc::new(Shared {
        addr,
        host: addr.to_string(),
        query,
        versions: (0..options.keys).map(|_| Mutex::new(Vec::new())).collect(),
        next_request: AtomicUsize::new(0),
        next_version: AtomicU64::new(1),
        started: Instant::now(),
        options: options.clone(),
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name(CLIENT_THREADS)
        .build()
        .expect("a tokio runtime");
    let Driven {
        logs,
        elapsed,
        cpu,
        client_cpu,
        finals,
    } = runtime.block_on(drive(shared.clone()));
    drop(runtime);
    handle.stop();

    let mut log = TaskLog::default();
    for task in logs {
        log.events.extend(task.events);
        for (kind, ns) in task.latencies {
            log.latencies.entry(kind).or_default().extend(ns);
        }
        for (k, n) in task.statuses {
            *log.statuses.entry(k).or_default() += n;
        }
        log.errors.merge(task.errors);
        log.bytes_sent += task.bytes_sent;
        log.bytes_received += task.bytes_received;
        log.reconnects += task.reconnects;
    }
    let versions: Vec<Vec<Version>> = shared
        .versions
        .iter()
        .map(|v| v.lock().unwrap().clone())
        .collect();
    let history = check_history(&log.events, &mut log.errors);
    let keys_written = check_root(
        root.path(),
        &versions,
        &log.events,
        &finals,
        &mut log.errors,
    );

    let all = Latency::of(log.latencies.values().flatten().copied().collect());
    let by_kind = Kind::ALL
        .iter()
        .map(|k| {
            let ns = log.latencies.get(k).cloned().unwrap_or_default();
            (k.name(), Latency::of(ns))
        })
        .collect();
    let statuses = log
        .statuses
        .iter()
        .map(|(&(kind, status), &n)| (kind.name(), status, n))
        .collect();
    let mut errors = log.errors.counts;
    errors.retain(|_, n| *n > 0);
    let mut error_samples = log.errors.samples;
    error_samples.sort_by_key(|s| {
        CLASSES
            .iter()
            .position(|c| s.starts_with(c))
            .unwrap_or(usize::MAX)
    });
    Report {
        options,
        elapsed,
        all,
        by_kind,
        statuses,
        errors,
        error_samples,
        overlapping_puts: history.overlapping_puts,
        max_concurrent_puts: history.max_concurrent_puts,
        reads_during_puts: history.reads_during_puts,
        keys_written,
        bytes_sent: log.bytes_sent,
        bytes_received: log.bytes_received,
        reconnects: log.reconnects,
        cpu,
        client_cpu,
    }
}

/// Opens every connection, then lets all the tasks go at once.
/// The client's runtime threads, by name (its blocking pool's too).
const CLIENT_THREADS: &str = "serve-load-client";

/// What [`drive`] measured.
struct Driven {
    logs: Vec<TaskLog>,
    elapsed: Duration,
    /// The process's CPU time during the load, and the client's part of it.
    cpu: Cpu,
    client_cpu: Cpu,
    finals: Vec<Option<Final>>,
}

async fn drive(shared: Arc<Shared>) -> Driven {
    let connections = shared.options.connections;
    let mut senders = Vec::with_capacity(connections);
    for _ in 0..connections {
        senders.push(connect(shared.addr).await.expect("connect to the server"));
    }
    let (cpu_start, client_start) = (cpu::process(), cpu::threads(CLIENT_THREADS));
    let start = Instant::now();
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(task, sender)| tokio::spawn(client(task, sender, shared.clone())))
        .collect();
    let mut logs = Vec::with_capacity(connections);
    for task in tasks {
        logs.push(task.await.expect("a client task panicked"));
    }
    let elapsed = start.elapsed();
    let cpu = cpu::process().since(cpu_start);
    let client_cpu = cpu::threads(CLIENT_THREADS).since(client_start);
    Driven {
        logs,
        elapsed,
        cpu,
        client_cpu,
        finals: final_heads(&shared).await,
    }
}

/// What a HEAD of a key says once the load is over.
struct Final {
    etag: String,
    /// `x-amz-meta-version`: `None` when the stored headers are missing.
    version: Option<String>,
}

/// HEADs every key, one at a time, after the load: what the server reports
/// must describe what is on disk.
async fn final_heads(shared: &Shared) -> Vec<Option<Final>> {
    let mut sender = connect(shared.addr).await.expect("connect to the server");
    let mut finals = Vec::with_capacity(shared.options.keys);
    for key in 0..shared.options.keys {
        let request = Request::builder()
            .method(Method::HEAD)
            .uri(format!("{}?{}", key_path(key), shared.query))
            .header(header::HOST, &shared.host)
            .body(Full::new(Bytes::new()))
            .unwrap();
        let (status, headers, _) = send(&mut sender, request).await.expect("final HEAD");
        finals.push((status == StatusCode::OK).then(|| Final {
            etag: header_str(&headers, "etag").unwrap_or_default().to_string(),
            version: header_str(&headers, "x-amz-meta-version").map(str::to_string),
        }));
    }
    finals
}

type Sender = SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> std::io::Result<Sender> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(connection);
    Ok(sender)
}

/// What to do next.
struct Plan {
    kind: Kind,
    key: usize,
}

fn plan(rng: &mut StdRng, options: &Options) -> Plan {
    let kind = match rng.gen_range(0..100) {
        0..40 => Kind::Get,
        40..50 => Kind::RangeGet,
        50..70 => Kind::Head,
        _ => Kind::Put,
    };
    let key = if rng.gen_range(0..4) == 0 {
        rng.gen_range(0..options.hot_keys.max(1))
    } else {
        rng.gen_range(0..options.keys)
    };
    Plan { kind, key }
}

/// One connection's worth of requests, until the shared count runs out.
async fn client(task: usize, mut sender: Sender, shared: Arc<Shared>) -> TaskLog {
    let options = &shared.options;
    let mut rng = StdRng::seed_from_u64(options.seed.wrapping_mul(1_000_003) ^ task as u64);
    let mut log = TaskLog::default();
    while shared.next_request.fetch_add(1, Ordering::Relaxed) < options.requests {
        let Plan { kind, key } = plan(&mut rng, options);
        let request = Prepared::new(kind, key, &mut rng, &shared);
        let start = shared.now();
        let answer =
            tokio::time::timeout(options.timeout, send(&mut sender, request.request)).await;
        let end = shared.now();
        let mut event = Event {
            kind,
            key,
            start,
            end,
            status: None,
            version: request.put.as_ref().map(|v| v.id),
        };
        match answer {
            Ok(Ok((status, headers, body))) => {
                log.latencies.entry(kind).or_default().push(end - start);
                *log.statuses.entry((kind, status.as_u16())).or_default() += 1;
                log.bytes_sent += request.body_len as u64;
                log.bytes_received += body.len() as u64;
                event.status = Some(status.as_u16());
                let observed = check_answer(
                    &shared,
                    kind,
                    key,
                    request.range,
                    request.put.as_ref(),
                    status,
                    &headers,
                    &body,
                    &mut log.errors,
                );
                if kind != Kind::Put {
                    event.version = observed;
                }
            }
            Ok(Err(e)) => {
                log.errors.add(
                    "transport",
                    format!("task {task}: {} {}: {e}", kind.name(), key_path(key)),
                );
            }
            Err(_) => {
                log.errors.add(
                    "transport",
                    format!(
                        "task {task}: {} {}: no answer in {:?}",
                        kind.name(),
                        key_path(key),
                        options.timeout
                    ),
                );
            }
        }
        let failed = event.status.is_none();
        log.events.push(event);
        if failed {
            // Carry on over a new connection, so one failure does not hide others.
            match connect(shared.addr).await {
                Ok(s) => {
                    sender = s;
                    log.reconnects += 1;
                }
                Err(e) => {
                    log.errors
                        .add("transport", format!("task {task}: reconnect: {e}"));
                    break;
                }
            }
        }
    }
    log
}

/// A request ready to send, with what the checks need to know about it.
struct Prepared {
    request: Request<Full<Bytes>>,
    /// PUT: the version in the body.
    put: Option<Version>,
    /// Ranged GET: first and last byte asked for.
    range: Option<(usize, usize)>,
    body_len: usize,
}

impl Prepared {
    fn new(kind: Kind, key: usize, rng: &mut StdRng, shared: &Shared) -> Self {
        let options = &shared.options;
        let path = key_path(key);
        let builder = Request::builder()
            .uri(format!("{path}?{}", shared.query))
            .header(header::HOST, &shared.host);
        match kind {
            Kind::Get | Kind::Head => Prepared {
                request: builder
                    .method(if kind == Kind::Get {
                        Method::GET
                    } else {
                        Method::HEAD
                    })
                    .body(Full::new(Bytes::new()))
                    .unwrap(),
                put: None,
                range: None,
                body_len: 0,
            },
            Kind::RangeGet => {
                // Every version is at least 1 KiB, so the range starts inside.
                let first = rng.gen_range(0..1000);
                let last = first + rng.gen_range(0..16 * 1024);
                Prepared {
                    request: builder
                        .method(Method::GET)
                        .header(header::RANGE, format!("bytes={first}-{last}"))
                        .body(Full::new(Bytes::new()))
                        .unwrap(),
                    put: None,
                    range: Some((first, last)),
                    body_len: 0,
                }
            }
            Kind::Put => {
                let len = if rng.gen_range(0..1000) < options.big_per_mille {
                    options.big_size
                } else {
                    rng.gen_range(1024..=64 * 1024)
                };
                let id = shared.next_version.fetch_add(1, Ordering::Relaxed);
                let seed = options.seed.rotate_left(32) ^ id.wrapping_mul(0x2545_f491_4f6c_dd1d);
                let body = version_body(&path, id, len, seed);
                let version = Version {
                    id,
                    len,
                    seed,
                    sha256: Sha256::digest(&body).into(),
                    md5: Md5::digest(&body).into(),
                };
                // Registered before it is sent: a reader may see it as soon
                // as the server renames it into place.
                shared.versions[key].lock().unwrap().push(version.clone());
                Prepared {
                    request: builder
                        .method(Method::PUT)
                        .header(header::CONTENT_LENGTH, len)
                        .header(header::CONTENT_TYPE, "application/x-cfsign-load")
                        .header("x-amz-content-sha256", hex::encode(version.sha256))
                        .header("x-amz-meta-version", id.to_string())
                        .body(Full::new(Bytes::from(body)))
                        .unwrap(),
                    put: Some(version),
                    range: None,
                    body_len: len,
                }
            }
        }
    }
}

async fn send(
    sender: &mut Sender,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, HeaderMap, Bytes), hyper::Error> {
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok((parts.status, parts.headers, body))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks one answer; returns the version a GET or HEAD saw.
#[allow(clippy::too_many_arguments)]
fn check_answer(
    shared: &Shared,
    kind: Kind,
    key: usize,
    range: Option<(usize, usize)>,
    put: Option<&Version>,
    status: StatusCode,
    headers: &HeaderMap,
    body: &Bytes,
    errors: &mut Errors,
) -> Option<u64> {
    let path = key_path(key);
    let what = format!("{} {path}", kind.name());
    let expected = match kind {
        Kind::RangeGet => StatusCode::PARTIAL_CONTENT,
        _ => StatusCode::OK,
    };
    if status == StatusCode::NOT_FOUND && kind != Kind::Put {
        return None; // judged against the history afterwards
    }
    if status != expected {
        let text = String::from_utf8_lossy(&body[..body.len().min(400)]);
        errors.add("status", format!("{what}: {status}: {text}"));
        return None;
    }
    let etag = header_str(headers, "etag").unwrap_or_default();
    let by_etag = |errors: &mut Errors| {
        let version = shared.find(key, |v| etag == format!("\"{}\"", hex::encode(v.md5)));
        if version.is_none() {
            errors.add(
                "torn",
                format!("{what}: ETag {etag} is the MD5 of no version sent"),
            );
        }
        version
    };
    let version = match kind {
        Kind::Put => {
            let v = put.expect("a PUT has a version");
            let want = format!("\"{}\"", hex::encode(v.md5));
            if etag != want {
                errors.add(
                    "metadata",
                    format!("{what} version {}: ETag {etag}, expected {want}", v.id),
                );
            }
            return None;
        }
        Kind::Get => {
            let sha256: [u8; 32] = Sha256::digest(body).into();
            let Some(v) = shared.find(key, |v| v.sha256 == sha256 && v.len == body.len()) else {
                let first_line = body
                    .split(|&b| b == b'\n')
                    .next()
                    .map(|l| String::from_utf8_lossy(&l[..l.len().min(100)]).into_owned());
                errors.add(
                    "torn",
                    format!(
                        "{what}: {} bytes starting {first_line:?} are no version sent (ETag {etag})",
                        body.len()
                    ),
                );
                return None;
            };
            let want = format!("\"{}\"", hex::encode(v.md5));
            if etag != want {
                errors.add(
                    "metadata",
                    format!(
                        "{what}: body of version {}, ETag {etag}, expected {want}",
                        v.id
                    ),
                );
            }
            if let Some(announced) = header_str(headers, "x-cfsign-content-sha256") {
                if announced != hex::encode(sha256) {
                    errors.add(
                        "metadata",
                        format!(
                            "{what}: body of version {}, x-cfsign-content-sha256 of another",
                            v.id
                        ),
                    );
                }
            }
            v
        }
        Kind::Head => {
            let v = by_etag(errors)?;
            let len = header_str(headers, "content-length").and_then(|l| l.parse().ok());
            if len != Some(v.len) {
                errors.add(
                    "metadata",
                    format!(
                        "{what}: ETag of version {} ({} bytes), Content-Length {len:?}",
                        v.id, v.len
                    ),
                );
            }
            v
        }
        Kind::RangeGet => {
            let v = by_etag(errors)?;
            let (first, asked_last) = range.expect("a ranged GET has a range");
            let last = asked_last.min(v.len - 1);
            let want_range = format!("bytes {first}-{last}/{}", v.len);
            let content_range = header_str(headers, "content-range").unwrap_or_default();
            let full = version_body(&path, v.id, v.len, v.seed);
            if content_range != want_range {
                errors.add(
                    "torn",
                    format!(
                        "{what}: ETag of version {}, Content-Range {content_range:?}, expected {want_range:?}",
                        v.id
                    ),
                );
            } else if body[..] != full[first..=last] {
                errors.add(
                    "torn",
                    format!(
                        "{what}: bytes {first}-{last} are not those of version {} (its ETag)",
                        v.id
                    ),
                );
            }
            v
        }
    };
    match header_str(headers, "x-amz-meta-version") {
        None => errors.add(
            "metadata",
            format!("{what}: version {} without its stored headers", version.id),
        ),
        Some(id) if id != version.id.to_string() => errors.add(
            "metadata",
            format!(
                "{what}: version {} served with the stored headers of version {id}",
                version.id
            ),
        ),
        Some(_) => {}
    }
    Some(version.id)
}

struct History {
    overlapping_puts: usize,
    max_concurrent_puts: usize,
    reads_during_puts: usize,
}

/// The ordering checks, over every request of every task.
fn check_history(events: &[Event], errors: &mut Errors) -> History {
    let mut history = History {
        overlapping_puts: 0,
        max_concurrent_puts: 0,
        reads_during_puts: 0,
    };
    let mut by_key: BTreeMap<usize, Vec<&Event>> = BTreeMap::new();
    for e in events {
        by_key.entry(e.key).or_default().push(e);
    }
    for (key, events) in by_key {
        let path = key_path(key);
        let puts: Vec<&Event> = events
            .iter()
            .copied()
            .filter(|e| e.kind == Kind::Put)
            .collect();
        let ok_puts: Vec<&Event> = puts
            .iter()
            .copied()
            .filter(|e| e.status == Some(200))
            .collect();

        // Contention actually reached.
        let mut edges: Vec<(u64, i32)> = puts
            .iter()
            .flat_map(|p| [(p.start, 1), (p.end, -1)])
            .collect();
        edges.sort_by_key(|&(t, d)| (t, d));
        let mut in_flight = 0i32;
        for (_, d) in edges {
            in_flight += d;
            history.max_concurrent_puts = history.max_concurrent_puts.max(in_flight as usize);
        }
        history.overlapping_puts += puts
            .iter()
            .filter(|p| {
                puts.iter()
                    .any(|q| q.version != p.version && q.start < p.end && p.start < q.end)
            })
            .count();

        for read in events.iter().filter(|e| e.kind != Kind::Put) {
            if puts
                .iter()
                .any(|p| p.start < read.end && read.start < p.end)
            {
                history.reads_during_puts += 1;
            }
            let Some(status) = read.status else { continue };
            let what = format!("{} {path}", read.kind.name());
            // The latest write that completed before the read began.
            let before = ok_puts.iter().filter(|p| p.end < read.start);
            if status == 404 {
                if let Some(p) = before.max_by_key(|p| p.end) {
                    errors.add(
                        "lost",
                        format!(
                            "{what}: 404, though the PUT of version {} had completed {:.3} ms before",
                            p.version.unwrap_or(0),
                            (read.start - p.end) as f64 / 1e6
                        ),
                    );
                }
                continue;
            }
            let Some(seen) = read.version else { continue };
            let Some(write) = puts.iter().find(|p| p.version == Some(seen)) else {
                continue; // a PUT without an answer: reported as transport
            };
            if write.status != Some(200) {
                errors.add(
                    "failed PUT visible",
                    format!(
                        "{what}: saw version {seen}, whose PUT got {:?}",
                        write.status
                    ),
                );
                continue;
            }
            if let Some(newer) = before.filter(|p| p.start > write.end).max_by_key(|p| p.end) {
                errors.add(
                    "stale read",
                    format!(
                        "{what}: saw version {seen}, overwritten by version {} before the read began",
                        newer.version.unwrap_or(0)
                    ),
                );
            }
        }
    }
    history
}

/// The root after the run: every key holds a current successful version,
/// nothing else is there, and a HEAD describes it with its stored headers.
/// Returns the keys holding an object.
fn check_root(
    root: &Path,
    versions: &[Vec<Version>],
    events: &[Event],
    finals: &[Option<Final>],
    errors: &mut Errors,
) -> usize {
    let mut written = 0;
    let mut expected_files = std::collections::BTreeSet::new();
    for (key, sent) in versions.iter().enumerate() {
        let path = key_path(key);
        let file = root.join(path.trim_start_matches('/'));
        let puts: Vec<&Event> = events
            .iter()
            .filter(|e| e.key == key && e.kind == Kind::Put)
            .collect();
        let ok: Vec<&Event> = puts
            .iter()
            .copied()
            .filter(|e| e.status == Some(200))
            .collect();
        let content = match std::fs::read(&file) {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if finals[key].is_some() {
                    errors.add("final content", format!("HEAD {path}: 200, but no file"));
                }
                if let Some(p) = ok.first() {
                    errors.add(
                        "lost",
                        format!(
                            "{path}: no file at the end, though version {} was stored",
                            p.version.unwrap_or(0)
                        ),
                    );
                }
                continue;
            }
            Err(e) => {
                errors.add("final content", format!("{path}: {e}"));
                continue;
            }
        };
        written += 1;
        expected_files.insert(file);
        let sha256: [u8; 32] = Sha256::digest(&content).into();
        let Some(v) = sent.iter().find(|v| v.sha256 == sha256) else {
            errors.add(
                "final content",
                format!(
                    "{path}: the {} bytes at the end are no version sent",
                    content.len()
                ),
            );
            continue;
        };
        match &finals[key] {
            None => errors.add("final content", format!("HEAD {path}: 404 after the load")),
            Some(head) => {
                let etag = format!("\"{}\"", hex::encode(v.md5));
                if head.etag != etag {
                    errors.add(
                        "metadata",
                        format!(
                            "HEAD {path} after the load: ETag {}, the file holds version {} ({etag})",
                            head.etag, v.id
                        ),
                    );
                }
                match &head.version {
                    None => errors.add(
                        "metadata",
                        format!(
                            "HEAD {path} after the load: version {} without its stored headers",
                            v.id
                        ),
                    ),
                    Some(id) if *id != v.id.to_string() => errors.add(
                        "metadata",
                        format!(
                            "HEAD {path} after the load: the stored headers of version {id}, the file holds version {}",
                            v.id
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }
        let Some(write) = puts.iter().find(|p| p.version == Some(v.id)) else {
            continue;
        };
        if write.status != Some(200) {
            errors.add(
                "final content",
                format!(
                    "{path}: holds version {}, whose PUT got {:?}",
                    v.id, write.status
                ),
            );
        } else if let Some(newer) = ok.iter().find(|p| p.start > write.end) {
            errors.add(
                "final content",
                format!(
                    "{path}: holds version {}, though the PUT of version {} began after it completed",
                    v.id,
                    newer.version.unwrap_or(0)
                ),
            );
        }
    }
    // Everything else in the root: sidecars only.
    let meta = root.join(META_DIR);
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                errors.add("leftover file", format!("{}: {e}", dir.display()));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if name.starts_with(TEMP_PREFIX) {
                errors.add("leftover file", format!("temp file {}", path.display()));
            } else if !(expected_files.contains(&path)
                || (path.parent() == Some(meta.as_path()) && name.ends_with(".json")))
            {
                errors.add("leftover file", format!("stray file {}", path.display()));
            }
        }
    }
    written
}
