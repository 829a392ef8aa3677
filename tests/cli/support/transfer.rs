//! Helpers for the transfer tests (`get`, `put`, `serve`): the one generator
//! of test data, a large object shared by every test that needs one, digests
//! of large files without reading them into memory, and the binary as a child
//! process that can be interrupted.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sha2::Digest;

/// `len` bytes that differ at every offset that matters: a 64 KiB random-looking
/// block, with each copy stamped with its index, so a byte out of place (by
/// any amount) changes the content.
pub fn object(len: usize) -> Vec<u8> {
    const BLOCK: usize = 64 * 1024;
    static PATTERN: OnceLock<Vec<u8>> = OnceLock::new();
    let pattern = PATTERN.get_or_init(|| {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..BLOCK)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    });
    let mut out = Vec::with_capacity(len);
    let mut index: u64 = 0;
    while out.len() < len {
        let start = out.len();
        let take = BLOCK.min(len - start);
        out.extend_from_slice(&pattern[..take]);
        let stamp = index.to_le_bytes();
        let n = stamp.len().min(take);
        out[start..start + n].copy_from_slice(&stamp[..n]);
        index += 1;
    }
    out
}

/// The length of [`large_object`]: 200 MiB, more than any buffer or
/// in-memory path of cfsign holds.
pub const LARGE_LEN: usize = 200 << 20;

/// A folder holding only `large.bin`, an [`object`] of [`LARGE_LEN`] bytes,
/// and its SHA-256: made once and kept in Cargo's target folder for later
/// runs (serve it read-only, upload it from where it is).
pub fn large_object() -> &'static (PathBuf, String) {
    static LARGE: OnceLock<(PathBuf, String)> = OnceLock::new();
    LARGE.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let dir = base.join("large-object");
        let path = dir.join("large.bin");
        let digest_path = base.join("large-object.sha256");
        if let (Ok(meta), Ok(digest)) = (
            std::fs::metadata(&path),
            std::fs::read_to_string(&digest_path),
        ) {
            if meta.len() == LARGE_LEN as u64 && digest.len() == 64 {
                return (dir, digest);
            }
        }
        std::fs::create_dir_all(&dir).unwrap();
        // Written aside and renamed, so a concurrent or interrupted run never
        // sees half a file.
        let tmp = base.join(format!("large-object.{}", std::process::id()));
        std::fs::write(&tmp, object(LARGE_LEN)).unwrap();
        let digest = sha256_file(&tmp);
        std::fs::write(&digest_path, &digest).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        (dir, digest)
    })
}

/// Lowercase hex SHA-256 of a file, by `sha256sum` when there is one (fast
/// even when the tests are built without optimisation).
pub fn sha256_file(path: &Path) -> String {
    if let Ok(out) = Command::new("sha256sum").arg(path).output() {
        if out.status.success() {
            return String::from_utf8_lossy(&out.stdout)[..64].to_string();
        }
    }
    let mut hasher = sha2::Sha256::new();
    let mut file = std::fs::File::open(path).unwrap();
    std::io::copy(&mut file, &mut hasher).unwrap();
    hex::encode(hasher.finalize())
}

/// `cfsign ARGS` as a child process (scrubbed environment, like
/// [`super::cfsign`]), with stdout and stderr piped.
pub fn spawn(args: &[&str], cwd: &Path) -> Child {
    super::cfsign_process()
        .current_dir(cwd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends SIGINT, as Ctrl-C does.
pub fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -INT failed");
}

/// Waits until `condition` holds, panicking after `limit`.
#[track_caller]
pub fn wait_until(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
