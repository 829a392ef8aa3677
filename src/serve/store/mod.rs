//! The object store on a folder: reads with a cached MD5 ETag, and writes that
//! are all-or-nothing.
//!
//! A write streams into a temp file (`.cfsign-tmp-*`) in the target's own
//! folder, hashing on the way, then fsyncs and renames it over the target, so
//! a reader sees the old object or the new one, never a mix. Every way out
//! before the rename (a digest mismatch, a client that hangs up, a server
//! shutdown) drops the [`Upload`], which deletes the temp file and the folders
//! the write created.
//!
//! The headers of the last PUT of a key (`Content-Type`, `x-amz-meta-*`, …)
//! and the object's MD5 are kept in a sidecar, `.cfsign/meta/<sha256 of the
//! key>.json`, that also records which version of the file it describes
//! (size, mtime, inode): a file replaced by hand simply has no metadata and
//! gets its MD5 computed. Within the server, a commit (sidecar, then rename)
//! and an open (file, then sidecar) of one key hold the key's lock, so that
//! concurrent PUTs cannot leave the winner's file with a loser's sidecar, and
//! a read never pairs a file with the sidecar of the next one.
//!
//! This file holds the read side and what both sides share (file versions,
//! sidecars, key locks); the write side is [`upload`].

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::path::{self, ObjectKey, ResolveError};
use crate::digest::Md5;

mod upload;

pub(super) use upload::{Expected, PutError, Upload};

/// Prefix of every temp file the server writes. Reserved: never served.
///
/// ```
/// use cfsign::serve::{ObjectKey, PathError, TEMP_PREFIX};
///
/// // A leftover of an interrupted upload is not something to hand out.
/// let leftover = format!("/{TEMP_PREFIX}a1b2c3");
/// assert!(matches!(ObjectKey::from_request_path(&leftover), Err(PathError::Reserved(_))));
/// ```
pub const TEMP_PREFIX: &str = ".cfsign-tmp-";

/// Where the sidecars live, under the root. Reserved: never served.
///
/// ```
/// use cfsign::serve::{META_DIR, ObjectKey};
///
/// let root = std::path::Path::new("/srv/objects");
/// // A walk of the root that wants only objects leaves this folder out.
/// let sidecars = root.join(META_DIR);
/// assert!(sidecars.starts_with(root));
/// assert!(ObjectKey::from_request_path(&format!("/{META_DIR}/x.json")).is_err());
/// ```
pub const META_DIR: &str = ".cfsign/meta";

/// One version of a file: a rename keeps it, a rewrite changes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct FileVersion {
    len: u64,
    mtime_ns: u64,
    ino: u64,
    dev: u64,
}

impl FileVersion {
    fn of(m: &Metadata) -> Self {
        let mtime_ns = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        #[cfg(unix)]
        let (ino, dev) = {
            use std::os::unix::fs::MetadataExt;
            (m.ino(), m.dev())
        };
        #[cfg(not(unix))]
        let (ino, dev) = (0, 0);
        FileVersion {
            len: m.len(),
            mtime_ns,
            ino,
            dev,
        }
    }
}

/// What a PUT left behind besides the bytes.
#[derive(Debug, Serialize, Deserialize)]
struct Sidecar {
    key: String,
    version: FileVersion,
    etag: String,
    headers: Vec<(String, String)>,
}

/// An object opened for reading.
#[derive(Debug)]
pub(super) struct Object {
    pub(super) file: File,
    pub(super) len: u64,
    /// `Last-Modified`, Unix seconds.
    pub(super) modified: i64,
    /// Lowercase hex MD5 of the content.
    pub(super) etag: String,
    /// The stored headers of the PUT that wrote this version (lowercase
    /// names), empty for a file that did not come from a PUT.
    pub(super) headers: Vec<(String, String)>,
}

/// Locks by key, striped: keys that share a stripe only wait on each other
/// for a few file operations.
const KEY_LOCKS: usize = 64;

/// One key's lock, which an [`Upload`] carries to its commit.
#[derive(Debug, Clone)]
struct KeyLock {
    stripes: Arc<[Mutex<()>]>,
    index: usize,
}

impl KeyLock {
    fn lock(&self) -> MutexGuard<'_, ()> {
        self.stripes[self.index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug)]
pub(super) struct Store {
    root: PathBuf,
    etags: Mutex<HashMap<PathBuf, (FileVersion, String)>>,
    locks: Arc<[Mutex<()>]>,
}

impl Store {
    /// `root` must be canonical.
    pub(super) fn new(root: PathBuf) -> Self {
        Store {
            root,
            etags: Mutex::new(HashMap::new()),
            locks: (0..KEY_LOCKS).map(|_| Mutex::new(())).collect(),
        }
    }

    pub(super) fn root(&self) -> &Path {
        &self.root
    }

    fn sidecar_path(&self, key: &ObjectKey) -> PathBuf {
        let name = hex::encode(Sha256::digest(key.as_str().as_bytes()));
        self.root.join(META_DIR).join(format!("{name}.json"))
    }

    fn key_lock(&self, key: &ObjectKey) -> KeyLock {
        let digest = Sha256::digest(key.as_str().as_bytes());
        KeyLock {
            stripes: self.locks.clone(),
            index: usize::from(digest[0]) % self.locks.len(),
        }
    }

    /// Opens the object for `key`; `Ok(None)` when there is none. Blocking:
    /// computes the MD5 of a file it has not seen before.
    pub(super) fn open(&self, key: &ObjectKey) -> Result<Option<Object>, ResolveError> {
        let Some(path) = path::resolve_existing(&self.root, key)? else {
            return Ok(None);
        };
        let key_lock = self.key_lock(key);
        let guard = key_lock.lock();
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Ok(None);
        }
        let version = FileVersion::of(&meta);
        let modified = (version.mtime_ns / 1_000_000_000) as i64;
        let sidecar = std::fs::read(self.sidecar_path(key))
            .ok()
            .and_then(|b| serde_json::from_slice::<Sidecar>(&b).ok())
            .filter(|s| s.version == version && s.key == key.as_str());
        drop(guard);
        let (etag, headers) = match sidecar {
            Some(s) => (s.etag, s.headers),
            None => (self.etag_of(&path, &mut file, version)?, Vec::new()),
        };
        Ok(Some(Object {
            file,
            len: version.len,
            modified,
            etag,
            headers,
        }))
    }

    fn etag_of(&self, path: &Path, file: &mut File, version: FileVersion) -> io::Result<String> {
        if let Some((v, etag)) = self.etags.lock().unwrap().get(path) {
            if *v == version {
                return Ok(etag.clone());
            }
        }
        let mut md5 = Md5::new();
        let mut buf = vec![0; 1 << 20];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            md5.update(&buf[..n]);
        }
        file.seek(SeekFrom::Start(0))?;
        let etag = hex::encode(md5.finish());
        self.etags
            .lock()
            .unwrap()
            .insert(path.to_path_buf(), (version, etag.clone()));
        Ok(etag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn setup() -> (tempfile::TempDir, Store) {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        (tmp, Store::new(root))
    }

    fn key(p: &str) -> ObjectKey {
        ObjectKey::from_request_path(p).unwrap()
    }

    fn expected(body: &[u8]) -> Expected {
        Expected {
            len: body.len() as u64,
            sha256: hex::encode(Sha256::digest(body)),
            md5: None,
            checksum_sha256: None,
        }
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_committed_write_is_read_back_with_its_metadata() {
        let (_tmp, store) = setup();
        let mut up = store
            .begin_put(
                &key("/a/b.txt"),
                vec![("content-type".into(), "text/x-test".into())],
            )
            .unwrap();
        up.write(b"hello ").unwrap();
        up.write(b"world").unwrap();
        let (etag, checksum) = up.commit(&expected(b"hello world")).unwrap();
        assert_eq!(checksum, None, "echoed only when sent");
        assert_eq!(etag, "5eb63bbbe01eeed093cb22bb8f5acdc3");
        let obj = store.open(&key("/a/b.txt")).unwrap().unwrap();
        assert_eq!(obj.etag, etag);
        assert_eq!(obj.len, 11);
        assert_eq!(
            obj.headers,
            [("content-type".to_string(), "text/x-test".to_string())]
        );
        assert_eq!(entries(&store.root().join("a")), ["b.txt"]);

        // Replaced by hand: the metadata no longer applies, the MD5 is new.
        std::fs::remove_file(store.root().join("a/b.txt")).unwrap();
        std::fs::write(store.root().join("a/b.txt"), "other").unwrap();
        let obj = store.open(&key("/a/b.txt")).unwrap().unwrap();
        assert_eq!(obj.etag, hex::encode(md5::Md5::digest(b"other")));
        assert!(obj.headers.is_empty());
    }

    #[test]
    fn failed_or_dropped_writes_leave_nothing() {
        let (_tmp, store) = setup();
        let mut up = store.begin_put(&key("/x/y/z.bin"), Vec::new()).unwrap();
        up.write(b"data").unwrap();
        assert!(matches!(
            up.commit(&expected(b"DATA")),
            Err(PutError::Sha256Mismatch { .. })
        ));
        assert!(entries(store.root()).is_empty());

        let mut up = store.begin_put(&key("/x/y/z.bin"), Vec::new()).unwrap();
        up.write(b"data").unwrap();
        drop(up);
        assert!(entries(store.root()).is_empty());

        let up = store.begin_put(&key("/z.bin"), Vec::new()).unwrap();
        assert!(matches!(
            up.commit(&Expected {
                md5: Some([0; 16]),
                ..expected(b"")
            }),
            Err(PutError::BadDigest)
        ));
        assert!(entries(store.root()).is_empty());

        // An x-amz-checksum-sha256 that is not the body's.
        let mut up = store.begin_put(&key("/c.bin"), Vec::new()).unwrap();
        up.write(b"data").unwrap();
        let other = crate::digest::checksum_sha256(&Sha256::digest(b"DATA").into());
        assert!(matches!(
            up.commit(&Expected {
                checksum_sha256: Some(other),
                ..expected(b"data")
            }),
            Err(PutError::ChecksumSha256Mismatch { .. })
        ));
        assert!(entries(store.root()).is_empty());
        // The body's own is echoed.
        let mut up = store.begin_put(&key("/c.bin"), Vec::new()).unwrap();
        up.write(b"data").unwrap();
        let ours = crate::digest::checksum_sha256(&Sha256::digest(b"data").into());
        let (_, echoed) = up
            .commit(&Expected {
                checksum_sha256: Some(ours.clone()),
                ..expected(b"data")
            })
            .unwrap();
        assert_eq!(echoed, Some(ours));
    }

    /// PUTs of one key committing at once, with a reader looking: every read
    /// gets the stored headers of the content it gets, and once the writes
    /// are over the winner's headers are in place (not lost because another
    /// writer's sidecar landed after the winner's rename).
    #[test]
    fn concurrent_writes_keep_headers_with_their_content() {
        const ROUNDS: usize = 60;
        const WRITERS: usize = 4;
        let (_tmp, store) = setup();
        let k = key("/race/object.bin");
        let header = |obj: &Object| {
            obj.headers
                .iter()
                .find(|(n, _)| n == "x-amz-meta-body")
                .map(|(_, v)| v.clone())
        };
        let content = |obj: &mut Object| {
            let mut text = String::new();
            obj.file.read_to_string(&mut text).unwrap();
            text
        };
        let mut lost = Vec::new();
        let mut reads_without_headers = 0;
        for round in 0..ROUNDS {
            let uploads: Vec<(String, Upload)> = (0..WRITERS)
                .map(|w| {
                    let body = format!("round {round} writer {w}");
                    let headers = vec![("x-amz-meta-body".to_string(), body.clone())];
                    let mut up = store.begin_put(&k, headers).unwrap();
                    up.write(body.as_bytes()).unwrap();
                    (body, up)
                })
                .collect();
            let barrier = std::sync::Barrier::new(WRITERS + 1);
            let done = std::sync::atomic::AtomicUsize::new(0);
            std::thread::scope(|scope| {
                for (body, up) in uploads {
                    let (barrier, done) = (&barrier, &done);
                    scope.spawn(move || {
                        barrier.wait();
                        up.commit(&expected(body.as_bytes())).unwrap();
                        done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    });
                }
                barrier.wait();
                while done.load(std::sync::atomic::Ordering::SeqCst) < WRITERS {
                    let Some(mut obj) = store.open(&k).unwrap() else {
                        continue;
                    };
                    let text = content(&mut obj);
                    match header(&obj) {
                        Some(h) => assert_eq!(h, text, "round {round}: another version's headers"),
                        None => reads_without_headers += 1,
                    }
                }
            });
            let mut obj = store.open(&k).unwrap().unwrap();
            let text = content(&mut obj);
            match header(&obj) {
                Some(h) => assert_eq!(h, text, "round {round}: another version's headers"),
                None => lost.push(round),
            }
        }
        assert!(
            lost.is_empty() && reads_without_headers == 0,
            "headers lost after rounds {lost:?}; {reads_without_headers} reads during the writes had none"
        );
    }
}
