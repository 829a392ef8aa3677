//! What `put` uploads: sources and a destination turned into a list of
//! objects, every one a regular file checked before a byte is sent.
//!
//! A folder walk uploads what is *in* the folder and nothing else. A link is
//! a name for something that may be anywhere — `/proc/self/environ` (our own
//! environment, private key included), `/etc/passwd`, a sibling project — so
//! the walk never follows one out of the folder, follows those inside only
//! with `--follow-symlinks`, and never descends into `/proc`, `/sys` or
//! `/dev`, whose entries are not files. Every entry left out is reported.

use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};

use super::{FileId, SkipReason, Skipped, Upload, display_url, object_url, too_big};
use crate::digest::MAX_OBJECT_SIZE;
use crate::error::Error;
use crate::error::io_reason;
use crate::escape::shown_path;
use crate::sign::url;
use crate::transfer::signing::UrlSigner;

/// Where the bytes come from.
///
/// ```
/// use std::io::Write;
/// use cfsign::transfer::put::{self, PlanOptions, Source};
///
/// // Standard input is spooled first: the upload needs its length and
/// // SHA-256 before the first byte is sent.
/// let mut spool = tempfile::NamedTempFile::new()?;
/// spool.write_all(b"piped")?;
/// let sources = [Source::Stdin(spool.path().to_path_buf())];
/// let plan = put::plan(&sources, "https://h.net/in.txt", PlanOptions::default())?;
/// assert_eq!(plan.uploads[0].name, "-");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub enum Source {
    /// A file, or with `recursive` a folder.
    Path(PathBuf),
    /// Standard input, already spooled to this file.
    Stdin(PathBuf),
}

/// How folders are read. The default reads none: a folder is an error.
///
/// ```
/// use cfsign::transfer::put::{self, PlanOptions, Source};
///
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("a.txt"), "a")?;
/// let sources = [Source::Path(dir.path().to_path_buf())];
/// let dest = "https://h.net/up/";
/// assert!(put::plan(&sources, dest, PlanOptions::default()).is_err());
/// let recursive = PlanOptions { recursive: true, follow_symlinks: false };
/// assert_eq!(put::plan(&sources, dest, recursive)?.uploads.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct PlanOptions {
    /// Upload the files in folders (`-r`).
    pub recursive: bool,
    /// Follow links that lead to files or folders inside the folder walked
    /// (`--follow-symlinks`); links out of it are skipped all the same.
    pub follow_symlinks: bool,
}

/// The objects to upload, and what a folder walk left out.
///
/// ```
/// use cfsign::transfer::put::{self, PlanOptions, Source};
///
/// let dir = tempfile::tempdir()?;
/// for name in ["b.txt", "a.txt"] {
///     std::fs::write(dir.path().join(name), name)?;
/// }
/// // `dir/` with a slash: its contents go directly under the prefix.
/// let sources = [Source::Path(dir.path().join(""))];
/// let options = PlanOptions { recursive: true, ..PlanOptions::default() };
/// let plan = put::plan(&sources, "https://h.net/up/", options)?;
/// let urls: Vec<_> = plan.uploads.iter().map(|u| u.url.as_str()).collect();
/// assert_eq!(urls, ["https://h.net/up/a.txt", "https://h.net/up/b.txt"]);
/// assert!(plan.skipped.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// The objects, in the order given (a folder's entries sorted by name).
    pub uploads: Vec<Upload>,
    /// The entries left out, each to be reported.
    pub skipped: Vec<Skipped>,
}

/// The folders whose entries are views of the system, not files: reading
/// them has effects (`/proc/self/environ` is our own environment, a device
/// may never end), and their sizes are not what a read returns.
const SYSTEM_FOLDERS: [&str; 3] = ["/proc", "/sys", "/dev"];

/// True for a resolved path in [`SYSTEM_FOLDERS`].
fn in_system_folder(resolved: &Path) -> bool {
    SYSTEM_FOLDERS.iter().any(|dir| resolved.starts_with(dir))
}

/// Turns sources and a destination URL into the objects to upload, checking
/// everything that can be checked before a byte is sent: that each file can
/// be read, that none is over 5 GiB, that names are UTF-8 and targets unique.
///
/// A URL whose path ends in `/` is a prefix: each file goes under it by its
/// name, and a folder (with `recursive`) with its name and the paths inside
/// it; a folder written with a trailing slash (`dist/`) puts its contents
/// directly under the prefix, as rsync does. Otherwise the URL names the one
/// object. Names are percent-encoded segment by segment.
///
/// A file named on the command line is read even through a link (the user
/// named it), but never from `/proc`, `/sys` or `/dev`; in folders, see the
/// module's documentation.
///
/// ```
/// use cfsign::transfer::put::{self, PlanOptions, Source};
///
/// let dir = tempfile::tempdir()?;
/// let (a, b) = (dir.path().join("a b.txt"), dir.path().join("c.txt"));
/// std::fs::write(&a, "a")?;
/// std::fs::write(&b, "c")?;
/// let sources = [Source::Path(a), Source::Path(b)];
///
/// let plan = put::plan(&sources, "https://h.net/up/", PlanOptions::default())?;
/// assert_eq!(plan.uploads[0].url, "https://h.net/up/a%20b.txt");
/// assert_eq!(plan.uploads[1].url, "https://h.net/up/c.txt");
///
/// // Two files cannot both be one object.
/// let err = put::plan(&sources, "https://h.net/up/one.txt", PlanOptions::default()).unwrap_err();
/// assert!(err.to_string().contains("end the URL with /"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn plan(sources: &[Source], dest: &str, options: PlanOptions) -> Result<Plan, Error> {
    check_destination(dest)?;
    let is_prefix = dest
        .split(['?', '#'])
        .next()
        .is_some_and(|path| path.ends_with('/'));
    let mut plan = Plan::default();
    if !is_prefix {
        let [source] = sources else {
            return Err(Error::usage(format!(
                "{} files go to one URL: end the URL with / to upload them under it as a prefix",
                sources.len()
            )));
        };
        let url = object_url(dest, &[])?;
        let upload = match source {
            Source::Stdin(spool) => Upload {
                name: "-".to_string(),
                path: spool.clone(),
                url,
                file_id: std::fs::metadata(spool).ok().as_ref().and_then(FileId::of),
            },
            Source::Path(path) => {
                if stat(path)?.is_dir() {
                    return Err(folder_needs_prefix(path, options.recursive));
                }
                named_file(path, url)?
            }
        };
        plan.uploads.push(upload);
        return Ok(plan);
    }
    for source in sources {
        let path = match source {
            Source::Stdin(_) => {
                return Err(Error::usage(
                    "stdin has no file name: give the full object URL, not a prefix ending in /",
                ));
            }
            Source::Path(path) => path,
        };
        if !stat(path)?.is_dir() {
            let name = utf8_name(path, path.file_name())?;
            plan.uploads
                .push(named_file(path, object_url(dest, &[name])?)?);
            continue;
        }
        if !options.recursive {
            return Err(folder_needs_prefix(path, options.recursive));
        }
        let root = resolve(path)?;
        let mut under = Vec::new();
        if !contents_only(path) {
            under.push(utf8_name(path, path.file_name())?);
        }
        let mut walk = Walk {
            dest,
            follow: options.follow_symlinks,
            plan: &mut plan,
            ancestors: vec![root.clone()],
            root,
        };
        let real = walk.root.clone();
        walk.folder(path, &real, &mut under)?;
    }
    if plan.uploads.is_empty() {
        return Err(Error::usage(match plan.skipped.len() {
            0 => "nothing to upload: the folders are empty".to_string(),
            n => format!(
                "nothing to upload: the folders hold no regular files, only {n} links or special files, which were skipped"
            ),
        }));
    }
    let mut seen = std::collections::HashMap::new();
    for u in &plan.uploads {
        if let Some(other) = seen.insert(u.url.as_str(), u.name.as_str()) {
            return Err(Error::usage(format!(
                "{} and {} would both go to {}",
                crate::escape::shown(other),
                crate::escape::shown(&u.name),
                crate::escape::shown_url(&display_url(&u.url))
            )));
        }
    }
    Ok(plan)
}

/// A file named on the command line, links resolved.
fn named_file(path: &Path, url: String) -> Result<Upload, Error> {
    let meta = stat(path)?;
    check_file(path, &meta)?;
    let upload = Upload {
        name: path.display().to_string(),
        path: resolve(path)?,
        url,
        file_id: FileId::of(&meta),
    };
    upload.open().map_err(|e| read_error(path, &e))?;
    Ok(upload)
}

/// The path with every link resolved; never one in `/proc`, `/sys` or `/dev`.
fn resolve(path: &Path) -> Result<PathBuf, Error> {
    let real = std::fs::canonicalize(path).map_err(|e| read_error(path, &e))?;
    if in_system_folder(&real) {
        let p = shown_path(path);
        let resolved = if real == path {
            String::new()
        } else {
            format!(" (as {})", shown_path(&real))
        };
        return Err(Error::usage(format!(
            "{p}{resolved} is in /proc, /sys or /dev, which hold no real files: cfsign never reads them (to upload such data anyway, pipe it: `cfsign put - URL < {p}`)"
        )));
    }
    Ok(real)
}

/// One folder walk: where links may lead, and what was found.
struct Walk<'a> {
    dest: &'a str,
    follow: bool,
    /// The folder walked, resolved: no link leads out of it.
    root: PathBuf,
    /// The resolved folders being walked, to stop a followed link's loop.
    ancestors: Vec<PathBuf>,
    plan: &'a mut Plan,
}

impl Walk<'_> {
    /// Files under `shown` (its resolved path is `real`) in name order.
    fn folder(&mut self, shown: &Path, real: &Path, under: &mut Vec<String>) -> Result<(), Error> {
        let mut entries = std::fs::read_dir(real)
            .map_err(|e| read_error(shown, &e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| read_error(shown, &e))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let shown = shown.join(entry.file_name());
            let name = utf8_name(&shown, Some(&entry.file_name()))?;
            let kind = entry.file_type().map_err(|e| read_error(&shown, &e))?;
            under.push(name);
            if kind.is_symlink() {
                self.link(&shown, &entry.path(), under)?;
            } else {
                // Not a link, in a resolved folder: resolved as it is.
                let meta = entry.metadata().map_err(|e| read_error(&shown, &e))?;
                self.entry(&shown, entry.path(), &meta, under)?;
            }
            under.pop();
        }
        Ok(())
    }

    /// A link: followed only when asked and when it stays in the folder.
    fn link(&mut self, shown: &Path, link: &Path, under: &mut Vec<String>) -> Result<(), Error> {
        let why = match std::fs::canonicalize(link) {
            Err(e) => SkipReason::LinkBroken(unresolved(&e)),
            Ok(target) if !target.starts_with(&self.root) => SkipReason::LinkOutside,
            Ok(_) if !self.follow => SkipReason::LinkNotFollowed,
            Ok(target) => {
                // `target` has no links left: this follows none either.
                let meta = std::fs::symlink_metadata(&target).map_err(|e| read_error(shown, &e))?;
                if !(meta.is_dir() && self.ancestors.contains(&target)) {
                    return self.entry(shown, target, &meta, under);
                }
                SkipReason::LinkLoop
            }
        };
        self.skip(shown, why);
        Ok(())
    }

    /// A resolved folder or file (`real`, described by `meta`).
    fn entry(
        &mut self,
        shown: &Path,
        real: PathBuf,
        meta: &Metadata,
        under: &mut Vec<String>,
    ) -> Result<(), Error> {
        if in_system_folder(&real) {
            self.skip(shown, SkipReason::SystemFolder);
        } else if meta.is_dir() {
            self.ancestors.push(real.clone());
            let walked = self.folder(shown, &real, under);
            self.ancestors.pop();
            walked?;
        } else if meta.is_file() {
            let upload = Upload {
                name: shown.display().to_string(),
                path: real,
                url: object_url(self.dest, under)?,
                file_id: FileId::of(meta),
            };
            check_file(shown, meta)?;
            upload.open().map_err(|e| read_error(shown, &e))?;
            self.plan.uploads.push(upload);
        } else {
            self.skip(shown, SkipReason::NotRegular);
        }
        Ok(())
    }

    fn skip(&mut self, shown: &Path, why: SkipReason) {
        self.plan.skipped.push(Skipped {
            path: shown.to_path_buf(),
            why,
        });
    }
}

/// Why a link cannot be resolved, in words.
fn unresolved(e: &io::Error) -> String {
    #[cfg(target_os = "linux")]
    if e.raw_os_error() == Some(libc::ELOOP) {
        return "it loops".into();
    }
    match e.kind() {
        io::ErrorKind::NotFound => "its target is missing".into(),
        _ => io_reason(e),
    }
}

fn folder_needs_prefix(path: &Path, recursive: bool) -> Error {
    let p = shown_path(path);
    if recursive {
        Error::usage(format!(
            "{p} is a folder: end the URL with / to upload it under that prefix"
        ))
    } else {
        Error::usage(format!(
            "{p} is a folder: pass -r to upload the files in it, under a URL ending in /"
        ))
    }
}

/// A folder named with a trailing `/` (or `.`) stands for its contents.
fn contents_only(path: &Path) -> bool {
    let raw = path.as_os_str().as_encoded_bytes();
    raw.ends_with(b"/") || raw.ends_with(b"/.") || raw == b"." || path.file_name().is_none()
}

fn utf8_name(path: &Path, name: Option<&std::ffi::OsStr>) -> Result<String, Error> {
    name.and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| {
            Error::usage(format!(
                "{}: the file name is not UTF-8, so it has no URL form",
                shown_path(path)
            ))
        })
}

fn read_error(path: &Path, e: &io::Error) -> Error {
    Error::usage(format!(
        "cannot read {}: {}",
        shown_path(path),
        io_reason(e)
    ))
}

fn stat(path: &Path) -> Result<Metadata, Error> {
    std::fs::metadata(path).map_err(|e| read_error(path, &e))
}

/// A regular file small enough for one PUT (whether it can be read is
/// [`Upload::open`]'s to say).
fn check_file(path: &Path, meta: &Metadata) -> Result<(), Error> {
    if !meta.is_file() {
        let p = shown_path(path);
        return Err(Error::usage(format!(
            "{p} is not a regular file: pipe it in with `cfsign put - URL < {p}`"
        )));
    }
    if meta.len() > MAX_OBJECT_SIZE {
        return Err(too_big(path, meta.len()));
    }
    Ok(())
}

/// The destination must be an http(s) URL; a signed one is taken as it is.
fn check_destination(dest: &str) -> Result<(), Error> {
    if UrlSigner::is_signed(dest) {
        url::to_wire(&url::split_signed(dest).0)?;
    } else {
        url::to_wire(dest)?;
    }
    crate::transfer::client::check_parses(dest)?;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn walked(dir: &Path) -> Plan {
        let options = PlanOptions {
            recursive: true,
            follow_symlinks: true,
        };
        plan(&[Source::Path(dir.to_path_buf())], "https://h/p/", options).unwrap()
    }

    /// What was planned is what is read: a file swapped for a link, for
    /// another file, or a folder on its path swapped for a link, after the
    /// walk, is refused at the open (the walk/open race).
    #[test]
    fn an_entry_swapped_after_the_walk_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let site = d.join("site");
        std::fs::create_dir_all(site.join("sub")).unwrap();
        std::fs::write(site.join("a.txt"), b"a").unwrap();
        std::fs::write(site.join("sub/b.txt"), b"b").unwrap();
        std::fs::write(d.join("secret"), b"secret").unwrap();
        let secret_dir = d.join("elsewhere");
        std::fs::create_dir(&secret_dir).unwrap();
        std::fs::write(secret_dir.join("b.txt"), b"secret").unwrap();

        let uploads = walked(&site).uploads;
        assert_eq!(uploads.len(), 2);
        let (a, b) = (&uploads[0], &uploads[1]);
        // Held open, so that a new file cannot reuse its inode number.
        let _held = (a.open().unwrap(), b.open().unwrap());

        std::fs::remove_file(site.join("a.txt")).unwrap();
        symlink(d.join("secret"), site.join("a.txt")).unwrap();
        let e = a.open().unwrap_err().to_string();
        assert!(e.contains("replaced by a link"), "{e}");

        std::fs::remove_file(site.join("a.txt")).unwrap();
        std::fs::write(site.join("a.txt"), b"another file").unwrap();
        let e = a.open().unwrap_err().to_string();
        assert!(e.contains("replaced by another file"), "{e}");

        std::fs::rename(site.join("sub"), d.join("old-sub")).unwrap();
        symlink(&secret_dir, site.join("sub")).unwrap();
        let e = b.open().unwrap_err().to_string();
        assert!(e.contains("replaced by another file"), "{e}");
    }

    #[test]
    fn a_walk_of_the_root_skips_the_system_folders() {
        let skipped = |path: &str| Skipped {
            path: path.into(),
            why: SkipReason::SystemFolder,
        };
        let mut walk = Walk {
            dest: "https://h/p/",
            follow: false,
            root: "/".into(),
            ancestors: Vec::new(),
            plan: &mut Plan::default(),
        };
        for system in ["/proc", "/sys", "/dev"] {
            let meta = std::fs::symlink_metadata(system).unwrap();
            walk.entry(Path::new(system), system.into(), &meta, &mut Vec::new())
                .unwrap();
        }
        assert_eq!(
            walk.plan.skipped,
            [skipped("/proc"), skipped("/sys"), skipped("/dev")]
        );
        assert!(walk.plan.uploads.is_empty());
    }
}
