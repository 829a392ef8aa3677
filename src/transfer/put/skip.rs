//! What a folder walk leaves out, and the warning that says so.

use std::fmt;
use std::path::PathBuf;

use crate::escape::shown_path;

/// An entry of a folder that is not uploaded, and why. Its `Display` is
/// the warning to show.
///
/// ```
/// use cfsign::transfer::put::{self, PlanOptions, SkipReason, Source};
///
/// # #[cfg(unix)]
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("a.txt"), "a")?;
/// std::os::unix::fs::symlink("/etc/passwd", dir.path().join("passwd"))?;
/// let sources = [Source::Path(dir.path().join(""))];
/// let options = PlanOptions { recursive: true, ..PlanOptions::default() };
/// let plan = put::plan(&sources, "https://h.net/up/", options)?;
/// assert_eq!(plan.uploads.len(), 1);
/// let skipped = &plan.skipped[0];
/// assert_eq!(skipped.why, SkipReason::LinkOutside);
/// assert!(skipped.to_string().ends_with("passwd: a link to outside the folder"));
/// # Ok(())
/// # }
/// # #[cfg(not(unix))]
/// # fn main() {}
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// As the user would name it (the folder as given, then the entry).
    pub path: PathBuf,
    /// Why it is left out.
    pub why: SkipReason,
}

impl fmt::Display for Skipped {
    /// `skipped PATH: WHY`, the path escaped for a terminal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "skipped {}: {}", shown_path(&self.path), self.why)
    }
}

/// Why a folder's entry is not uploaded.
///
/// ```
/// use cfsign::transfer::put::{self, PlanOptions, SkipReason, Source};
///
/// # #[cfg(unix)]
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("a.txt"), "a")?;
/// std::os::unix::fs::symlink("a.txt", dir.path().join("link.txt"))?;
/// let sources = [Source::Path(dir.path().join(""))];
/// let walk = |follow_symlinks| {
///     put::plan(&sources, "https://h.net/up/", PlanOptions { recursive: true, follow_symlinks })
/// };
/// assert_eq!(walk(false)?.skipped[0].why, SkipReason::LinkNotFollowed);
/// assert_eq!(walk(true)?.uploads.len(), 2); // a link inside the folder
/// # Ok(())
/// # }
/// # #[cfg(not(unix))]
/// # fn main() {}
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// A link whose target is not under the folder walked.
    LinkOutside,
    /// A link inside the folder, without `--follow-symlinks`.
    LinkNotFollowed,
    /// A link that cannot be resolved: its target is missing, or it loops.
    LinkBroken(String),
    /// A link to a folder that holds it: following it would never end.
    LinkLoop,
    /// `/proc`, `/sys` or `/dev` (a walk of `/`).
    SystemFolder,
    /// A FIFO, socket or device: nothing to take a length and hash of.
    NotRegular,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::LinkOutside => f.write_str("a link to outside the folder"),
            SkipReason::LinkNotFollowed => f.write_str(
                "a link (pass --follow-symlinks to follow links that stay inside the folder)",
            ),
            SkipReason::LinkBroken(why) => write!(f, "a link that leads nowhere ({why})"),
            SkipReason::LinkLoop => f.write_str("a link to a folder that holds it (a loop)"),
            SkipReason::SystemFolder => {
                f.write_str("cfsign never reads /proc, /sys or /dev: they hold no real files")
            }
            SkipReason::NotRegular => f.write_str("not a regular file (a FIFO, socket or device)"),
        }
    }
}
