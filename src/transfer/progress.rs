//! A progress bar on stderr when it is a terminal, and nothing otherwise, so
//! CI logs stay clean. `--quiet` silences it; `--progress` asks for the
//! closing summary line even when stderr is not a terminal (indicatif still
//! draws the moving bar only on a terminal, so logs get no bar frames).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ProgressMode {
    #[default]
    Auto,
    Always,
    Never,
}

impl ProgressMode {
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

/// A byte counter with a bar when visible.
pub fn bar(mode: ProgressMode, total: Option<u64>, label: &str) -> ProgressBar {
    if !mode.visible() {
        return ProgressBar::hidden();
    }
    let bar = match total {
        Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
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
