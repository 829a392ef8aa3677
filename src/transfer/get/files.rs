//! The only ways `get` opens files beside the destination. The folder may
//! hold anything by the time cfsign looks (a link planted where a partial
//! file is expected, a FIFO, another user's file), so nothing is opened
//! through a link (`O_NOFOLLOW`), nothing is created that already exists
//! (`O_EXCL`, which also refuses a link), what is created is readable by its
//! owner only (0600), and an existing file is used only when it is a regular
//! file of the user running cfsign. Elsewhere than on Unix these are the
//! platform's defaults: no link check, no lock.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Opens an existing file to read, and with `write` to write, never through a
/// link: a link at `path` fails (ELOOP). It never blocks on a FIFO either.
pub(super) fn open_existing(path: &Path, write: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(write);
    no_follow(&mut options);
    options.open(path)
}

/// Creates `path` to read and write, mode 0600; fails if anything is there,
/// a link included.
pub(super) fn create_new(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create_new(true);
    no_follow(&mut options);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(unix)]
fn no_follow(options: &mut OpenOptions) {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK only matters for what is not a regular file (a FIFO would
    // wait for a writer); such a file is refused right after by `is_ours`.
    options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
}

#[cfg(not(unix))]
fn no_follow(_options: &mut OpenOptions) {}

/// Whether `path` is a symbolic link (not what it points to).
pub(super) fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Whether `file` is a regular file owned by the user running cfsign, with
/// no other name (through a hard link, writing to it would write elsewhere).
pub(super) fn is_ours(file: &File) -> bool {
    let Ok(meta) = file.metadata() else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid takes nothing and cannot fail.
        let me = unsafe { libc::geteuid() };
        meta.is_file() && meta.uid() == me && meta.nlink() == 1
    }
    #[cfg(not(unix))]
    meta.is_file()
}

/// Whether `path` still names `file`: not removed or replaced (by a rename)
/// since it was opened.
pub(super) fn still_at(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::symlink_metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.is_file()
    }
}

/// Takes an exclusive lock on `file` without waiting: false when another
/// process holds it. The lock lasts until the file is closed.
pub(super) fn try_lock(file: &File) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: the descriptor is open for the whole call (borrowed).
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::WouldBlock {
            Ok(false)
        } else {
            Err(e)
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(true)
    }
}

/// Makes a rename in `path`'s folder durable.
pub(super) fn sync_parent(path: &Path) {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Ok(dir) = File::open(parent) {
            let _ = dir.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn links_are_never_followed_nor_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, b"kept").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(is_link(&link) && !is_link(&target));
        assert!(open_existing(&link, false).is_err());
        assert!(open_existing(&link, true).is_err());
        let e = create_new(&link).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        // Dangling: O_EXCL still refuses to create the link's target.
        std::fs::remove_file(&target).unwrap();
        assert!(create_new(&link).is_err());
        assert!(!target.exists());
    }

    #[test]
    fn created_files_are_private_and_locked_once() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part");
        let file = create_new(&path).unwrap();
        assert_eq!(file.metadata().unwrap().permissions().mode() & 0o777, 0o600);
        assert!(is_ours(&file) && still_at(&file, &path));
        std::fs::hard_link(&path, dir.path().join("other name")).unwrap();
        assert!(!is_ours(&file));
        std::fs::remove_file(dir.path().join("other name")).unwrap();
        assert!(try_lock(&file).unwrap());
        let again = open_existing(&path, true).unwrap();
        assert!(!try_lock(&again).unwrap(), "one holder at a time");
        drop(file);
        assert!(try_lock(&again).unwrap());
        std::fs::rename(&path, dir.path().join("moved")).unwrap();
        assert!(!still_at(&again, &path));
    }
}
