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

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

use super::path::{self, ObjectKey, ResolveError};
use crate::digest::Md5;

/// Prefix of every temp file the server writes. Reserved: never served.
pub const TEMP_PREFIX: &str = ".cfsign-tmp-";

/// Where the sidecars live, under the root. Reserved: never served.
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

    /// Starts a write of `key`: creates the folders and the temp file.
    /// `headers` are stored with the object once it is committed.
    pub(super) fn begin_put(
        &self,
        key: &ObjectKey,
        headers: Vec<(String, String)>,
    ) -> Result<Upload, ResolveError> {
        let name = key
            .file_name()
            .ok_or_else(|| ResolveError::Conflict(key.as_str().to_string()))?;
        // Once more if a concurrent aborted write removed the new folder
        // between creating it and creating the temp file in it.
        let mut attempt = 0;
        let (dir, created, tmp) = loop {
            attempt += 1;
            let (dir, created) = path::prepare_parent(&self.root, key)?;
            match temp_builder().tempfile_in(&dir) {
                Ok(tmp) => break (dir, created, tmp),
                Err(e) if e.kind() == io::ErrorKind::NotFound && attempt < 2 => continue,
                Err(e) => return Err(e.into()),
            }
        };
        Ok(Upload {
            tmp: Some(tmp),
            target: dir.join(name),
            dir,
            created,
            sha256: Sha256::new(),
            md5: Md5::new(),
            len: 0,
            key: key.as_str().to_string(),
            headers,
            sidecar_path: self.sidecar_path(key),
            meta_dir: self.root.join(META_DIR),
            lock: self.key_lock(key),
        })
    }
}

/// Why a write was not committed.
#[derive(Debug, thiserror::Error)]
pub(super) enum PutError {
    #[error("the body's SHA-256 is {computed}, the client announced {client}")]
    Sha256Mismatch { client: String, computed: String },
    #[error("the body's MD5 does not match Content-MD5")]
    BadDigest,
    #[error("the body is {received} bytes, Content-Length announced {expected}")]
    Length { expected: u64, received: u64 },
    #[error("{0}")]
    Resolve(#[from] ResolveError),
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// A write in progress. Dropping it without [`Upload::commit`] removes every
/// trace of it.
#[derive(Debug)]
pub(super) struct Upload {
    tmp: Option<NamedTempFile>,
    target: PathBuf,
    dir: PathBuf,
    created: Vec<PathBuf>,
    sha256: Sha256,
    md5: Md5,
    len: u64,
    key: String,
    headers: Vec<(String, String)>,
    sidecar_path: PathBuf,
    meta_dir: PathBuf,
    lock: KeyLock,
}

/// The digests a client announced for its body.
#[derive(Debug, Clone)]
pub(super) struct Expected {
    pub(super) len: u64,
    /// Lowercase hex.
    pub(super) sha256: String,
    pub(super) md5: Option<[u8; 16]>,
}

impl Upload {
    pub(super) fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.sha256.update(data);
        self.md5.update(data);
        self.len += data.len() as u64;
        self.tmp
            .as_mut()
            .expect("an upload is written only before commit")
            .write_all(data)
    }

    /// Checks the body against what the client announced, then makes it the
    /// object: fsync, then sidecar and rename under the key's lock, then fsync
    /// of the folder. Returns the ETag (hex MD5).
    pub(super) fn commit(mut self, expected: &Expected) -> Result<String, PutError> {
        if self.len != expected.len {
            return Err(PutError::Length {
                expected: expected.len,
                received: self.len,
            });
        }
        let sha256 = hex::encode(std::mem::take(&mut self.sha256).finalize());
        if sha256 != expected.sha256 {
            return Err(PutError::Sha256Mismatch {
                client: expected.sha256.clone(),
                computed: sha256,
            });
        }
        let md5: [u8; 16] = std::mem::take(&mut self.md5).finish();
        if expected.md5.is_some_and(|m| m != md5) {
            return Err(PutError::BadDigest);
        }
        let etag = hex::encode(md5);
        let tmp = self.tmp.take().expect("committed once");
        tmp.as_file().sync_all()?;
        let version = FileVersion::of(&tmp.as_file().metadata()?);
        let sidecar = Sidecar {
            key: std::mem::take(&mut self.key),
            version,
            etag: etag.clone(),
            headers: std::mem::take(&mut self.headers),
        };
        let key_lock = self.lock.clone();
        let guard = key_lock.lock();
        if let Err(e) = self.write_sidecar(&sidecar) {
            self.tmp = Some(tmp);
            return Err(e.into());
        }
        if let Err(e) = tmp.persist(&self.target) {
            let conflict = self.target.is_dir();
            self.tmp = Some(e.file);
            return Err(if conflict {
                ResolveError::Conflict(sidecar.key).into()
            } else {
                e.error.into()
            });
        }
        drop(guard);
        self.created.clear();
        sync_dir(&self.dir);
        Ok(etag)
    }

    fn write_sidecar(&self, sidecar: &Sidecar) -> io::Result<()> {
        std::fs::create_dir_all(&self.meta_dir)?;
        let mut tmp = temp_builder().tempfile_in(&self.meta_dir)?;
        serde_json::to_writer(&mut tmp, sidecar)?;
        tmp.persist(&self.sidecar_path).map_err(|e| e.error)?;
        Ok(())
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        // The temp file first, so that the folders are empty again.
        drop(self.tmp.take());
        for dir in self.created.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Temp files that become objects get the usual mode (0666 less the umask),
/// not tempfile's private 0600.
fn temp_builder() -> tempfile::Builder<'static, 'static> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder
}

/// Makes a rename durable. Best effort: not every platform can open a folder.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
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
        let etag = up.commit(&expected(b"hello world")).unwrap();
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
