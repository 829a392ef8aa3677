//! What a transfer tells whoever watches it: how many bytes of what, and
//! the odd warning. Transfers never draw or print: the command line renders
//! this on a terminal, a library user may ignore it ([`NoProgress`]).

/// Receives a transfer's progress. Calls come from the transfer's task and,
/// for uploads, from the blocking threads that read the file.
pub trait Progress: Send + Sync {
    /// A phase begins, counting bytes from zero: `label` says what is done
    /// (escaped for a terminal already), `total` how many bytes, if known.
    /// An upload starts a phase for its first pass and again for every
    /// attempt (a retry starts afresh).
    fn start(&self, label: &str, total: Option<u64>);
    /// The phase's total, learnt after it began.
    fn set_total(&self, total: u64);
    /// `bytes` more are done.
    fn advance(&self, bytes: u64);
    /// `bytes` are done in all (a download that starts over goes back).
    fn set_position(&self, bytes: u64);
    /// The transfer ended, well or not: nothing more is reported.
    fn finish(&self);
    /// Something the user should know that does not stop the transfer
    /// (`get --continue` starting over), as one line of text from outside
    /// (the receiver escapes it).
    fn warn(&self, line: &str);
}

/// Reports nothing (warnings included).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: Option<u64>) {}
    fn set_total(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn set_position(&self, _: u64) {}
    fn finish(&self) {}
    fn warn(&self, _: &str) {}
}
