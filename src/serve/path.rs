//! Request path → object key → file under the root.
//!
//! This module is the only place that turns client input into file system
//! paths, and it must never yield a path outside the root. Two layers:
//!
//! - [`ObjectKey::from_request_path`] is pure: it percent-decodes the path
//!   segment by segment and refuses anything that could name another place
//!   than the plain relative path it spells: `.`/`..` (also encoded), encoded
//!   slashes, backslashes, empty segments (`//etc`), NUL and other control
//!   characters, and names reserved for the server's own files (`.cfsign*`).
//! - [`resolve_existing`] and [`prepare_parent`] touch the file system: the
//!   root is canonical, each path is canonicalised (following symlinks) and
//!   must stay under the root and outside the reserved names, for reads and
//!   for the folder a write goes into.

use std::io;
use std::path::{Component, Path, PathBuf};

/// Names starting with this are the server's own (temp files, metadata) and
/// are never served, listed or written by a request.
const RESERVED_PREFIX: &str = ".cfsign";

/// S3's limit on the length of a key, in UTF-8 bytes.
const MAX_KEY_BYTES: usize = 1024;

/// The longest file name common file systems hold (ext4, XFS, APFS, NTFS):
/// S3 has no such limit, but here each segment of a key is a file name.
pub(super) const MAX_SEGMENT_BYTES: usize = 255;

/// The longest path the OS opens, in bytes: PATH_MAX less its NUL (4096 on
/// Linux, 1024 on macOS and the BSDs).
#[cfg(target_os = "linux")]
const MAX_PATH_BYTES: usize = 4095;
#[cfg(not(target_os = "linux"))]
const MAX_PATH_BYTES: usize = 1023;

/// The length of a temp file's name: the prefix and tempfile's six random
/// characters. A write needs a path this long beside its target.
const TEMP_NAME_BYTES: usize = super::store::TEMP_PREFIX.len() + 6;

/// Why a request path names no object key here (the server answers 400).
///
/// ```
/// use cfsign::serve::{ObjectKey, PathError};
///
/// let refused = |path| ObjectKey::from_request_path(path).unwrap_err();
/// assert_eq!(refused("/a/%2e%2e/etc/passwd"), PathError::DotSegment);
/// assert_eq!(refused("/a%2Fb"), PathError::EncodedSlash);
/// assert_eq!(refused("//etc"), PathError::EmptySegment);
/// assert_eq!(refused("/a%00"), PathError::Control);
/// assert_eq!(refused("https://h/a"), PathError::NotAbsolute);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// A request target that is not an absolute path (`*`, a full URL).
    #[error("the path does not start with /")]
    NotAbsolute,
    /// `%` not followed by two hex digits.
    #[error("malformed percent-encoding")]
    BadEscape,
    /// `%2F`: a slash that would join two segments into another path.
    #[error("an encoded slash (%2F) in a segment")]
    EncodedSlash,
    /// A path separator on some platforms.
    #[error("a backslash")]
    Backslash,
    /// NUL or another control character, which no key here may hold.
    #[error("a NUL or control character")]
    Control,
    /// `.` or `..`, encoded or not: they name another folder.
    #[error("a `.` or `..` segment")]
    DotSegment,
    /// `//`: no file has an empty name.
    #[error("an empty segment (//)")]
    EmptySegment,
    /// File names here are UTF-8, as S3 keys are.
    #[error("a key that is not UTF-8")]
    NotUtf8,
    /// A segment the platform reads as more than one file name (`C:`).
    #[error("a segment that is not a plain file name")]
    NotPlain,
    /// A name of the server's own files (`.cfsign*`).
    #[error("the name `{0}` is reserved by cfsign serve")]
    Reserved(String),
    /// Over S3's limit on a key.
    #[error("a key longer than {MAX_KEY_BYTES} bytes")]
    TooLong,
    /// Over what one file name can hold.
    #[error("a segment longer than {MAX_SEGMENT_BYTES} bytes, which no file name can hold")]
    SegmentTooLong,
}

/// A validated object key: plain, relative file names joined by `/`.
///
/// ```
/// use std::path::Path;
/// use cfsign::serve::ObjectKey;
///
/// let key = ObjectKey::from_request_path("/photos/2024/caf%C3%A9.jpg")?;
/// assert_eq!(key.parents(), ["photos", "2024"]);
/// assert_eq!(key.file_name(), Some("café.jpg"));
/// assert_eq!(key.relative_path(), Path::new("photos/2024/café.jpg"));
/// # Ok::<(), cfsign::serve::PathError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectKey {
    key: String,
    segments: Vec<String>,
    folder: bool,
}

impl ObjectKey {
    /// Decodes the path part of a request target (no query), segment by
    /// segment, refusing whatever could name another place (see
    /// [`PathError`]).
    ///
    /// ```
    /// use cfsign::serve::{ObjectKey, PathError};
    ///
    /// assert!(ObjectKey::from_request_path("/a%20b/c.txt").is_ok());
    /// assert_eq!(ObjectKey::from_request_path("/../etc/passwd"), Err(PathError::DotSegment));
    /// assert!(matches!(ObjectKey::from_request_path("/.cfsign/meta/x"), Err(PathError::Reserved(_))));
    /// ```
    pub fn from_request_path(raw: &str) -> Result<Self, PathError> {
        let rest = raw.strip_prefix('/').ok_or(PathError::NotAbsolute)?;
        if rest.is_empty() {
            return Ok(ObjectKey {
                key: String::new(),
                segments: Vec::new(),
                folder: true,
            });
        }
        let (rest, folder) = match rest.strip_suffix('/') {
            Some(r) => (r, true),
            None => (rest, false),
        };
        let segments = rest
            .split('/')
            .map(decode_segment)
            .collect::<Result<Vec<_>, _>>()?;
        let mut key = segments.join("/");
        if folder {
            key.push('/');
        }
        if key.len() > MAX_KEY_BYTES {
            return Err(PathError::TooLong);
        }
        Ok(ObjectKey {
            key,
            segments,
            folder,
        })
    }

    /// The key as S3 would show it (`<Key>`): decoded, `/`-separated.
    pub(crate) fn as_str(&self) -> &str {
        &self.key
    }

    /// A key that ends in `/` (or the root itself) cannot be a file here.
    pub(crate) fn is_folder(&self) -> bool {
        self.folder
    }

    /// The last segment: the object's file name (`None` for a key that
    /// ends in `/`, which no file can be).
    ///
    /// ```
    /// use cfsign::serve::ObjectKey;
    ///
    /// assert_eq!(ObjectKey::from_request_path("/a/b.txt")?.file_name(), Some("b.txt"));
    /// assert_eq!(ObjectKey::from_request_path("/a/")?.file_name(), None);
    /// # Ok::<(), cfsign::serve::PathError>(())
    /// ```
    pub fn file_name(&self) -> Option<&str> {
        if self.folder {
            return None;
        }
        self.segments.last().map(String::as_str)
    }

    /// The segments before the file name (all of them, for a key that ends
    /// in `/`): the folders a write creates.
    ///
    /// ```
    /// use cfsign::serve::ObjectKey;
    ///
    /// assert_eq!(ObjectKey::from_request_path("/a/b/c.txt")?.parents(), ["a", "b"]);
    /// assert_eq!(ObjectKey::from_request_path("/a/b/")?.parents(), ["a", "b"]);
    /// assert!(ObjectKey::from_request_path("/c.txt")?.parents().is_empty());
    /// # Ok::<(), cfsign::serve::PathError>(())
    /// ```
    pub fn parents(&self) -> &[String] {
        match self.segments.split_last() {
            Some((_, parents)) if !self.folder => parents,
            _ => &self.segments,
        }
    }

    /// The path relative to the root (never absolute, never `..`).
    ///
    /// ```
    /// use std::path::{Component, Path};
    /// use cfsign::serve::ObjectKey;
    ///
    /// let key = ObjectKey::from_request_path("/a/b%20c.txt")?;
    /// let path = key.relative_path();
    /// assert_eq!(path, Path::new("a").join("b c.txt"));
    /// assert!(path.components().all(|c| matches!(c, Component::Normal(_))));
    /// # Ok::<(), cfsign::serve::PathError>(())
    /// ```
    pub fn relative_path(&self) -> PathBuf {
        self.segments.iter().collect()
    }
}

fn decode_segment(raw: &str) -> Result<String, PathError> {
    if raw.is_empty() {
        return Err(PathError::EmptySegment);
    }
    let mut bytes = Vec::with_capacity(raw.len());
    let mut it = raw.bytes();
    while let Some(b) = it.next() {
        if b == b'%' {
            let hi = it.next().and_then(hex_value);
            let lo = it.next().and_then(hex_value);
            match (hi, lo) {
                (Some(hi), Some(lo)) => bytes.push(hi << 4 | lo),
                _ => return Err(PathError::BadEscape),
            }
        } else {
            bytes.push(b);
        }
    }
    if bytes.contains(&b'/') {
        return Err(PathError::EncodedSlash);
    }
    if bytes.contains(&b'\\') {
        return Err(PathError::Backslash);
    }
    if bytes.iter().any(|b| b.is_ascii_control()) {
        return Err(PathError::Control);
    }
    if bytes.len() > MAX_SEGMENT_BYTES {
        return Err(PathError::SegmentTooLong);
    }
    let segment = String::from_utf8(bytes).map_err(|_| PathError::NotUtf8)?;
    if segment == "." || segment == ".." {
        return Err(PathError::DotSegment);
    }
    if segment.starts_with(RESERVED_PREFIX) {
        return Err(PathError::Reserved(segment));
    }
    // Whatever the platform's rules (drive prefixes, `C:`), a segment must be
    // exactly one ordinary file name.
    let mut components = Path::new(&segment).components();
    match (components.next(), components.next()) {
        (Some(Component::Normal(name)), None) if name == segment.as_str() => Ok(segment),
        _ => Err(PathError::NotPlain),
    }
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Why a key cannot be used on this file system.
#[derive(Debug, thiserror::Error)]
pub(super) enum ResolveError {
    /// A symlink leads outside the root or into the server's own files.
    #[error("`{0}` resolves outside the served folder")]
    Escapes(String),
    /// A file stands where a folder is needed, or the reverse.
    #[error("`{0}` is a file where a folder is needed, or a folder where a file is needed")]
    Conflict(String),
    /// The root's path and the key together are longer than the OS allows.
    #[error("`{0}` under the served folder makes a path longer than {MAX_PATH_BYTES} bytes")]
    TooLong(String),
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Refuses a key whose file, or the temp file written beside it, would have
/// a path the OS cannot open: that is the client's name, not a server fault.
fn check_length(root: &Path, key: &ObjectKey) -> Result<(), ResolveError> {
    let file = key.file_name().map_or(0, str::len);
    let longest = key.as_str().len() - file + file.max(TEMP_NAME_BYTES);
    if root.as_os_str().len() + 1 + longest > MAX_PATH_BYTES {
        return Err(ResolveError::TooLong(key.as_str().to_string()));
    }
    Ok(())
}

/// Checks that a canonical path lies under the canonical root and outside
/// the reserved names.
fn inside(root: &Path, canonical: &Path) -> bool {
    canonical.strip_prefix(root).is_ok_and(|rel| {
        rel.components().all(|c| match c {
            Component::Normal(name) => !name.to_string_lossy().starts_with(RESERVED_PREFIX),
            _ => false,
        })
    })
}

/// The canonical path of an existing regular file for `key`, `Ok(None)` when
/// there is none (missing, a folder, a device, a dangling link).
pub(super) fn resolve_existing(
    root: &Path,
    key: &ObjectKey,
) -> Result<Option<PathBuf>, ResolveError> {
    if key.is_folder() {
        return Ok(None);
    }
    check_length(root, key)?;
    let joined = root.join(key.relative_path());
    let canonical = match std::fs::canonicalize(&joined) {
        Ok(c) => c,
        Err(e) if is_absent(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if !inside(root, &canonical) {
        return Err(ResolveError::Escapes(key.as_str().to_string()));
    }
    match std::fs::metadata(&canonical) {
        Ok(m) if m.is_file() => Ok(Some(canonical)),
        Ok(_) => Ok(None),
        Err(e) if is_absent(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The folder a write of `key` goes into, created (inside the root) when
/// missing. Returns the canonical folder and the folders created, deepest
/// last, so that an aborted write can remove them again.
pub(super) fn prepare_parent(
    root: &Path,
    key: &ObjectKey,
) -> Result<(PathBuf, Vec<PathBuf>), ResolveError> {
    check_length(root, key)?;
    let mut dir = root.to_path_buf();
    let mut created = Vec::new();
    let conflict = || ResolveError::Conflict(key.as_str().to_string());
    for segment in key.parents() {
        let next = dir.join(segment);
        // Two attempts: another request may create the same folder meanwhile.
        let mut attempts = 0;
        dir = loop {
            attempts += 1;
            match std::fs::symlink_metadata(&next) {
                Ok(m) if m.file_type().is_symlink() => {
                    let target = std::fs::canonicalize(&next)
                        .map_err(|e| if is_absent(&e) { conflict() } else { e.into() })?;
                    if !inside(root, &target) {
                        return Err(ResolveError::Escapes(key.as_str().to_string()));
                    }
                    if !target.is_dir() {
                        return Err(conflict());
                    }
                    break target;
                }
                Ok(m) if m.is_dir() => break next,
                Ok(_) => return Err(conflict()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => match std::fs::create_dir(&next) {
                    Ok(()) => {
                        created.push(next.clone());
                        break next;
                    }
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 2 => {
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                },
                Err(e) if is_absent(&e) => return Err(conflict()),
                Err(e) => return Err(e.into()),
            }
        };
    }
    if let Some(name) = key.file_name() {
        let target = dir.join(name);
        let refusal = match std::fs::symlink_metadata(&target) {
            Ok(m) if m.is_dir() => Some(conflict()),
            // The write replaces the link itself, but a key that names a
            // file outside the root is refused for writes as for reads.
            Ok(m) if m.file_type().is_symlink() => (!std::fs::canonicalize(&target)
                .is_ok_and(|c| inside(root, &c)))
            .then(|| ResolveError::Escapes(key.as_str().to_string())),
            _ => None,
        };
        if let Some(refusal) = refusal {
            for dir in created.iter().rev() {
                let _ = std::fs::remove_dir(dir);
            }
            return Err(refusal);
        }
    }
    Ok((dir, created))
}

/// "Not there" in its forms: missing, or a path through a file (`ENOTDIR`).
fn is_absent(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::NotADirectory
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_path_table() {
        let ok: &[(&str, &str)] = &[
            ("/a.txt", "a.txt"),
            ("/dir/sub/a.txt", "dir/sub/a.txt"),
            ("/my%20file%20%C3%A9.txt", "my file é.txt"),
            ("/a%26b%3C.txt", "a&b<.txt"),
            ("/.hidden", ".hidden"),
            ("/...", "..."),
            ("/a..b", "a..b"),
            ("/dir/", "dir/"),
            ("/", ""),
        ];
        for (raw, key) in ok {
            assert_eq!(
                ObjectKey::from_request_path(raw).map(|k| k.as_str().to_string()),
                Ok(key.to_string()),
                "{raw}"
            );
        }
        let bad: &[(&str, PathError)] = &[
            ("a.txt", PathError::NotAbsolute),
            ("/../etc/passwd", PathError::DotSegment),
            ("/a/../../etc/passwd", PathError::DotSegment),
            ("/%2e%2e/etc/passwd", PathError::DotSegment),
            ("/%2E%2E/etc/passwd", PathError::DotSegment),
            ("/.%2e/etc", PathError::DotSegment),
            ("/./a", PathError::DotSegment),
            ("/a/..%2f..%2fetc", PathError::EncodedSlash),
            ("/%2fetc/passwd", PathError::EncodedSlash),
            ("/..%5c..%5cetc", PathError::Backslash),
            ("/a\\b", PathError::Backslash),
            ("//etc/passwd", PathError::EmptySegment),
            ("/a//b", PathError::EmptySegment),
            ("/a.txt%00.jpg", PathError::Control),
            ("/a%0a", PathError::Control),
            ("/a%7F", PathError::Control),
            ("/a%", PathError::BadEscape),
            ("/a%2", PathError::BadEscape),
            ("/a%zz", PathError::BadEscape),
            ("/%ff", PathError::NotUtf8),
            ("/.cfsign/meta", PathError::Reserved(".cfsign".to_string())),
            (
                "/d/.cfsign-tmp-x",
                PathError::Reserved(".cfsign-tmp-x".to_string()),
            ),
        ];
        for (raw, err) in bad {
            assert_eq!(
                ObjectKey::from_request_path(raw).as_ref().err(),
                Some(err),
                "{raw}"
            );
        }
        let long = format!("/{}", "a/".repeat(MAX_KEY_BYTES / 2 + 1));
        assert_eq!(
            ObjectKey::from_request_path(&long).err(),
            Some(PathError::TooLong)
        );
        let segment = |n| format!("/d/{}", "%C3%A9".repeat(n));
        assert!(ObjectKey::from_request_path(&segment(MAX_SEGMENT_BYTES / 2)).is_ok());
        assert_eq!(
            ObjectKey::from_request_path(&segment(MAX_SEGMENT_BYTES / 2 + 1)).err(),
            Some(PathError::SegmentTooLong)
        );
    }

    #[test]
    fn key_parts() {
        let k = ObjectKey::from_request_path("/a/b/c.txt").unwrap();
        assert_eq!(k.file_name(), Some("c.txt"));
        assert_eq!(k.parents(), ["a", "b"]);
        assert_eq!(k.relative_path(), Path::new("a/b/c.txt"));
        let folder = ObjectKey::from_request_path("/a/b/").unwrap();
        assert_eq!(folder.file_name(), None);
        assert_eq!(folder.parents(), ["a", "b"]);
    }

    /// Decided on lengths alone, before touching the file system: the root
    /// here does not exist.
    #[test]
    fn keys_too_long_for_the_os_are_refused() {
        // Two bytes short of room for a 20-byte key.
        let root = PathBuf::from("/r".repeat(MAX_PATH_BYTES / 2 - 9));
        let key = |p: &str| ObjectKey::from_request_path(p).unwrap();
        for long in ["/0123456789abcdefghij", "/d/a"] {
            assert!(matches!(
                prepare_parent(&root, &key(long)),
                Err(ResolveError::TooLong(_))
            ));
        }
        // A short name needs room for the temp file beside it; a key that
        // cannot be written is refused for reads alike.
        for long in ["/0123456789abcdefghij", "/d/a"] {
            assert!(matches!(
                resolve_existing(&root, &key(long)),
                Err(ResolveError::TooLong(_))
            ));
        }
        assert!(check_length(&root, &key("/a")).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_root_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), "x").unwrap();
        std::fs::write(root.join("inside"), "y").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("out")).unwrap();
        std::os::unix::fs::symlink(root.join("inside"), root.join("alias")).unwrap();
        let root = std::fs::canonicalize(&root).unwrap();
        let key = |p: &str| ObjectKey::from_request_path(p).unwrap();

        assert!(matches!(
            resolve_existing(&root, &key("/out/secret")),
            Err(ResolveError::Escapes(_))
        ));
        assert!(matches!(
            prepare_parent(&root, &key("/out/new")),
            Err(ResolveError::Escapes(_))
        ));
        assert!(matches!(
            prepare_parent(&root, &key("/out/deeper/new")),
            Err(ResolveError::Escapes(_))
        ));
        assert!(!outside.join("deeper").exists());
        assert_eq!(
            resolve_existing(&root, &key("/alias")).unwrap(),
            Some(root.join("inside"))
        );
        assert_eq!(resolve_existing(&root, &key("/missing")).unwrap(), None);
        assert_eq!(resolve_existing(&root, &key("/inside/x")).unwrap(), None);
        assert!(matches!(
            prepare_parent(&root, &key("/inside/x")),
            Err(ResolveError::Conflict(_))
        ));
        let (dir, created) = prepare_parent(&root, &key("/n1/n2/f")).unwrap();
        assert_eq!(dir, root.join("n1/n2"));
        assert_eq!(created, [root.join("n1"), root.join("n1/n2")]);
    }
}
