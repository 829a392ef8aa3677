//! A progress bar on stderr when it is a terminal, and nothing otherwise, so
//! CI logs stay clean. `--quiet` silences it; `--progress` asks for the
//! closing summary line even when stderr is not a terminal (indicatif still
//! draws the moving bar only on a terminal, so logs get no bar frames).
//!
//! This is the command line's rendering of [`cfsign::transfer::Progress`]: the
//! transfers report, this draws.

use std::io::IsTerminal;
use std::sync::OnceLock;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use cfsign::transfer::Progress;

/// `--progress` / `--quiet`, or neither.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ProgressMode {
    /// A bar when stderr is a terminal.
    #[default]
    Auto,
    /// `--progress`.
    Always,
    /// `--quiet`.
    Never,
}

impl ProgressMode {
    /// The mode the two flags ask for (`--quiet` wins).
    pub fn from_flags(progress: bool, quiet: bool) -> Self {
        match (progress, quiet) {
            (_, true) => ProgressMode::Never,
            (true, false) => ProgressMode::Always,
            (false, false) => ProgressMode::Auto,
        }
    }

    /// Whether a bar (and a closing summary) is shown.
    pub fn visible(&self) -> bool {
        match self {
            ProgressMode::Auto => std::io::stderr().is_terminal(),
            ProgressMode::Always => true,
            ProgressMode::Never => false,
        }
    }
}

/// Where the bars of concurrent uploads are drawn together.
pub fn group(mode: ProgressMode) -> MultiProgress {
    MultiProgress::with_draw_target(match mode {
        ProgressMode::Never => ProgressDrawTarget::hidden(),
        _ => ProgressDrawTarget::stderr(),
    })
}

/// One transfer's bar, drawn from its first [`Progress::start`] on (a
/// download that fails before its first byte draws nothing).
pub struct Bar {
    mode: ProgressMode,
    group: Option<MultiProgress>,
    bar: OnceLock<ProgressBar>,
}

impl Bar {
    /// A bar of its own.
    pub fn new(mode: ProgressMode) -> Self {
        Bar {
            mode,
            group: None,
            bar: OnceLock::new(),
        }
    }

    /// A bar among others, removed from the group when it finishes.
    pub fn in_group(mode: ProgressMode, group: &MultiProgress) -> Self {
        Bar {
            group: Some(group.clone()),
            ..Bar::new(mode)
        }
    }
}

impl Progress for Bar {
    fn start(&self, label: &str, total: Option<u64>) {
        if let Some(bar) = self.bar.get() {
            bar.reset(); // position, elapsed time and rate: the phase starts afresh
            match total {
                Some(n) => bar.set_length(n),
                None => bar.unset_length(),
            }
            bar.set_message(label.to_string());
            return;
        }
        let mut bar = counter(self.mode, total, label);
        if let Some(group) = &self.group {
            bar = group.add(bar);
        }
        let _ = self.bar.set(bar);
    }

    fn set_total(&self, total: u64) {
        if let Some(bar) = self.bar.get() {
            bar.set_length(total);
        }
    }

    fn advance(&self, bytes: u64) {
        if let Some(bar) = self.bar.get() {
            bar.inc(bytes);
        }
    }

    fn set_position(&self, bytes: u64) {
        if let Some(bar) = self.bar.get() {
            bar.set_position(bytes);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
            if let Some(group) = &self.group {
                group.remove(bar);
            }
        }
    }

    fn warn(&self, line: &str) {
        match (&self.group, self.bar.get()) {
            (Some(group), _) => group.suspend(|| crate::cli::warn(line)),
            (None, Some(bar)) => bar.suspend(|| crate::cli::warn(line)),
            (None, None) => crate::cli::warn(line),
        }
    }
}

/// A byte counter with a bar when visible.
fn counter(mode: ProgressMode, total: Option<u64>, label: &str) -> ProgressBar {
    if !mode.visible() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
    let template = if total.is_some() {
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
    } else {
        "{msg} {bytes} {bytes_per_sec}"
    };
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(label.to_string());
    bar
}
