//! One object to upload, and the file it must be read from.
//!
//! The walk of [`plan`](super::plan) and the reads are apart in time, so
//! each upload remembers the file it found (device and inode) and every
//! later open refuses to follow a final link and checks that it holds that
//! same file: a file swapped for a link, or a folder on its path swapped for
//! one, is an error, not a read of whatever the link names.

use std::fs::{File, Metadata};
use std::io;
use std::path::PathBuf;

/// One object to upload: a local file and the URL it goes to. [`plan`](super::plan)
/// makes them from the command line's sources; a caller may also make one
/// by hand (see [`Uploaded`](super::Uploaded) for one uploaded).
///
/// ```
/// use cfsign::transfer::put::{self, PlanOptions, Source, Upload};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("a.txt");
/// std::fs::write(&path, "a")?;
/// let by_hand = Upload {
///     name: "a.txt".into(),
///     path: path.clone(),
///     url: "https://d111111abcdef8.cloudfront.net/a.txt".into(),
///     file_id: None, // no check that the file is still the one listed
/// };
/// let planned = put::plan(&[Source::Path(path)], &by_hand.url, PlanOptions::default())?;
/// assert_eq!(planned.uploads[0].url, by_hand.url);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    /// The file as the user named it (`-` for stdin), for messages.
    pub name: String,
    /// The file read (for stdin, its spooled copy). It is opened without
    /// following a final link: [`plan`](super::plan) gives the resolved path of a link
    /// it decided to follow.
    pub path: PathBuf,
    /// The object's URL in wire form: unsigned, or signed as the user gave it.
    pub url: String,
    /// The file found at `path` when the upload was planned; opening
    /// anything else there fails. `None` checks nothing.
    pub file_id: Option<FileId>,
}

impl Upload {
    /// Opens the file to read: never through a final link, and only when it
    /// is still the regular file that was planned.
    pub(crate) fn open(&self) -> io::Result<File> {
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // O_NONBLOCK: a FIFO swapped in must not hang the open before
            // the checks below refuse it (regular files ignore the flag).
            options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
        }
        let file = options.open(&self.path).map_err(|e| {
            #[cfg(target_os = "linux")]
            if e.raw_os_error() == Some(libc::ELOOP) {
                return io::Error::other("it was replaced by a link since it was listed");
            }
            e
        })?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::other("it is no longer a regular file"));
        }
        if self.file_id.is_some() && self.file_id != FileId::of(&meta) {
            return Err(io::Error::other(
                "it was replaced by another file since it was listed",
            ));
        }
        Ok(file)
    }
}

/// Which file a path led to: its device and inode. It is opaque: [`plan`](super::plan)
/// records it, and `put` refuses a path that leads elsewhere by the time it
/// reads.
///
/// ```
/// use std::sync::Arc;
/// use cfsign::transfer::put::{self, PlanOptions, PutOptions, Source};
/// use cfsign::transfer::{ClientOptions, NoProgress, UrlSigner};
///
/// # #[cfg(unix)]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("a.txt");
/// std::fs::write(&path, "listed")?;
/// let sources = [Source::Path(path.clone())];
/// let plan = put::plan(&sources, "https://h.net/a.txt", PlanOptions::default())?;
/// assert!(plan.uploads[0].file_id.is_some());
///
/// // Another file takes the name before the upload reads it.
/// std::fs::write(dir.path().join("b.txt"), "swapped in")?;
/// std::fs::rename(dir.path().join("b.txt"), &path)?;
/// let client = ClientOptions::default().build()?;
/// let err = put::put(&client, &UrlSigner::none(), &plan.uploads[0], &PutOptions::default(), &(Arc::new(NoProgress) as _))
///     .await
///     .unwrap_err();
/// assert!(err.to_string().contains("replaced by another file"), "{err}");
/// # Ok(())
/// # }
/// # #[cfg(not(unix))]
/// # fn main() {}
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    /// The file `meta` describes (`None` where the system has no inodes).
    pub(crate) fn of(meta: &Metadata) -> Option<FileId> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Some(FileId {
                dev: meta.dev(),
                ino: meta.ino(),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            None
        }
    }
}
