//! The write side of the store: a PUT streams into a temp file beside its
//! target, hashing on the way, and becomes the object by one rename under the
//! key's lock, or leaves nothing behind.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

use super::{FileVersion, KeyLock, META_DIR, Sidecar, Store, TEMP_PREFIX};
use crate::digest::Md5;
use crate::serve::path::{self, ObjectKey, ResolveError};

impl Store {
    /// Starts a write of `key`: creates the folders and the temp file.
    /// `headers` are stored with the object once it is committed.
    pub(in crate::serve) fn begin_put(
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
pub(in crate::serve) enum PutError {
    #[error("the body's SHA-256 is {computed}, the client announced {client}")]
    Sha256Mismatch { client: String, computed: String },
    #[error("the body's MD5 does not match Content-MD5")]
    BadDigest,
    #[error("the body's SHA-256 is {computed} in base64, x-amz-checksum-sha256 announced {client}")]
    ChecksumSha256Mismatch { client: String, computed: String },
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
pub(in crate::serve) struct Upload {
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
pub(in crate::serve) struct Expected {
    pub(in crate::serve) len: u64,
    /// Lowercase hex.
    pub(in crate::serve) sha256: String,
    pub(in crate::serve) md5: Option<[u8; 16]>,
    /// `x-amz-checksum-sha256`, in the canonical base64 it was checked to have.
    pub(in crate::serve) checksum_sha256: Option<String>,
}

impl Upload {
    pub(in crate::serve) fn write(&mut self, data: &[u8]) -> io::Result<()> {
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
    /// of the folder. Returns the ETag (hex MD5) and the checksum to echo
    /// (the client's `x-amz-checksum-sha256`, checked).
    pub(in crate::serve) fn commit(
        mut self,
        expected: &Expected,
    ) -> Result<(String, Option<String>), PutError> {
        if self.len != expected.len {
            return Err(PutError::Length {
                expected: expected.len,
                received: self.len,
            });
        }
        let digest: [u8; 32] = std::mem::take(&mut self.sha256).finalize().into();
        let sha256 = hex::encode(digest);
        if sha256 != expected.sha256 {
            return Err(PutError::Sha256Mismatch {
                client: expected.sha256.clone(),
                computed: sha256,
            });
        }
        // Checked after `x-amz-content-sha256`, which already covers the
        // same digest: only a client whose two headers disagree gets here.
        let checksum = crate::digest::checksum_sha256(&digest);
        if let Some(client) = expected
            .checksum_sha256
            .as_ref()
            .filter(|c| **c != checksum)
        {
            return Err(PutError::ChecksumSha256Mismatch {
                client: client.clone(),
                computed: checksum,
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
        Ok((etag, expected.checksum_sha256.clone()))
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
