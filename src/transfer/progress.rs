//! What a transfer tells whoever watches it: how many bytes of what, and
//! the odd warning. Transfers never draw or print: the command line renders
//! this on a terminal, a library user may ignore it ([`NoProgress`]).

/// Receives a transfer's progress. Calls come from the transfer's task and,
/// for uploads, from the blocking threads that read the file.
///
/// A receiver that counts the bytes of a download (here from a local edge
/// standing in for CloudFront):
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use cfsign::transfer::get::{self, Destination, GetOptions};
/// use cfsign::transfer::{ClientOptions, Progress, UrlSigner};
///
/// #[derive(Default)]
/// struct Count(AtomicU64);
///
/// impl Progress for Count {
///     fn start(&self, _label: &str, _total: Option<u64>) {}
///     fn set_total(&self, _total: u64) {}
///     fn advance(&self, bytes: u64) {
///         self.0.fetch_add(bytes, Ordering::Relaxed);
///     }
///     fn set_position(&self, bytes: u64) {
///         self.0.store(bytes, Ordering::Relaxed);
///     }
///     fn finish(&self) {}
///     fn warn(&self, line: &str) {
///         let _ = line; // a real receiver shows it, escaped
///     }
/// }
///
/// # #[cfg(feature = "serve")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use cfsign::serve::{self, Access, Config};
/// # let root = tempfile::tempdir()?;
/// # std::fs::write(root.path().join("data.bin"), [7u8; 1000])?;
/// # let config = Config { access: Access::Open, ..Config::new(root.path(), Default::default()) };
/// # let edge = serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
/// let url = format!("{}/data.bin", edge.url());
/// let out = tempfile::tempdir()?;
/// let count = Count::default();
/// get::get(
///     &ClientOptions::default().build()?,
///     &UrlSigner::none(),
///     &url,
///     &Destination::File(out.path().join("data.bin")),
///     &GetOptions::default(),
///     &count,
///     std::future::pending(),
/// )
/// .await?;
/// assert_eq!(count.0.load(Ordering::Relaxed), 1000);
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "serve"))]
/// # fn main() {}
/// ```
pub trait Progress: Send + Sync {
    /// A phase begins, counting bytes from zero: `label` says what is done
    /// (escaped for a terminal already), `total` how many bytes, if known.
    /// An upload starts a phase for its first pass and again for every
    /// attempt (a retry starts afresh).
    ///
    /// ```
    /// # use std::sync::Mutex;
    /// # use cfsign::transfer::Progress;
    /// # #[derive(Default)]
    /// # struct Log(Mutex<Vec<String>>);
    /// # impl Log { fn said(&self) -> Vec<String> { self.0.lock().unwrap().clone() } }
    /// # impl Progress for Log {
    /// #     fn start(&self, l: &str, t: Option<u64>) { self.0.lock().unwrap().push(format!("start {l} {t:?}")) }
    /// #     fn set_total(&self, t: u64) { self.0.lock().unwrap().push(format!("total {t}")) }
    /// #     fn advance(&self, b: u64) { self.0.lock().unwrap().push(format!("advance {b}")) }
    /// #     fn set_position(&self, b: u64) { self.0.lock().unwrap().push(format!("position {b}")) }
    /// #     fn finish(&self) { self.0.lock().unwrap().push("finish".into()) }
    /// #     fn warn(&self, l: &str) { self.0.lock().unwrap().push(format!("warn {l}")) }
    /// # }
    /// let log = Log::default();
    /// log.start("a.bin", Some(3));
    /// assert_eq!(log.said(), ["start a.bin Some(3)"]);
    /// ```
    fn start(&self, label: &str, total: Option<u64>);
    /// The phase's total, learnt after it began.
    ///
    /// ```
    /// # use std::sync::Mutex;
    /// # use cfsign::transfer::Progress;
    /// # #[derive(Default)]
    /// # struct Log(Mutex<Vec<String>>);
    /// # impl Log { fn said(&self) -> Vec<String> { self.0.lock().unwrap().clone() } }
    /// # impl Progress for Log {
    /// #     fn start(&self, l: &str, t: Option<u64>) { self.0.lock().unwrap().push(format!("start {l} {t:?}")) }
    /// #     fn set_total(&self, t: u64) { self.0.lock().unwrap().push(format!("total {t}")) }
    /// #     fn advance(&self, b: u64) { self.0.lock().unwrap().push(format!("advance {b}")) }
    /// #     fn set_position(&self, b: u64) { self.0.lock().unwrap().push(format!("position {b}")) }
    /// #     fn finish(&self) { self.0.lock().unwrap().push("finish".into()) }
    /// #     fn warn(&self, l: &str) { self.0.lock().unwrap().push(format!("warn {l}")) }
    /// # }
    /// let log = Log::default();
    /// log.start("a.bin", None);
    /// log.set_total(3);
    /// assert_eq!(log.said(), ["start a.bin None", "total 3"]);
    /// ```
    fn set_total(&self, total: u64);
    /// `bytes` more are done.
    ///
    /// ```
    /// # use std::sync::Mutex;
    /// # use cfsign::transfer::Progress;
    /// # #[derive(Default)]
    /// # struct Log(Mutex<Vec<String>>);
    /// # impl Log { fn said(&self) -> Vec<String> { self.0.lock().unwrap().clone() } }
    /// # impl Progress for Log {
    /// #     fn start(&self, l: &str, t: Option<u64>) { self.0.lock().unwrap().push(format!("start {l} {t:?}")) }
    /// #     fn set_total(&self, t: u64) { self.0.lock().unwrap().push(format!("total {t}")) }
    /// #     fn advance(&self, b: u64) { self.0.lock().unwrap().push(format!("advance {b}")) }
    /// #     fn set_position(&self, b: u64) { self.0.lock().unwrap().push(format!("position {b}")) }
    /// #     fn finish(&self) { self.0.lock().unwrap().push("finish".into()) }
    /// #     fn warn(&self, l: &str) { self.0.lock().unwrap().push(format!("warn {l}")) }
    /// # }
    /// let log = Log::default();
    /// log.advance(2);
    /// log.advance(1);
    /// assert_eq!(log.said(), ["advance 2", "advance 1"]);
    /// ```
    fn advance(&self, bytes: u64);
    /// `bytes` are done in all (a download that starts over goes back).
    ///
    /// ```
    /// # use std::sync::Mutex;
    /// # use cfsign::transfer::Progress;
    /// # #[derive(Default)]
    /// # struct Log(Mutex<Vec<String>>);
    /// # impl Log { fn said(&self) -> Vec<String> { self.0.lock().unwrap().clone() } }
    /// # impl Progress for Log {
    /// #     fn start(&self, l: &str, t: Option<u64>) { self.0.lock().unwrap().push(format!("start {l} {t:?}")) }
    /// #     fn set_total(&self, t: u64) { self.0.lock().unwrap().push(format!("total {t}")) }
    /// #     fn advance(&self, b: u64) { self.0.lock().unwrap().push(format!("advance {b}")) }
    /// #     fn set_position(&self, b: u64) { self.0.lock().unwrap().push(format!("position {b}")) }
    /// #     fn finish(&self) { self.0.lock().unwrap().push("finish".into()) }
    /// #     fn warn(&self, l: &str) { self.0.lock().unwrap().push(format!("warn {l}")) }
    /// # }
    /// let log = Log::default();
    /// log.set_position(0);
    /// assert_eq!(log.said(), ["position 0"]);
    /// ```
    fn set_position(&self, bytes: u64);
    /// The transfer ended, well or not: nothing more is reported.
    ///
    /// ```
    /// # use std::sync::Mutex;
    /// # use cfsign::transfer::Progress;
    /// # #[derive(Default)]
    /// # struct Log(Mutex<Vec<String>>);
    /// # impl Log { fn said(&self) -> Vec<String> { self.0.lock().unwrap().clone() } }
    /// # impl Progress for Log {
    /// #     fn start(&self, l: &str, t: Option<u64>) { self.0.lock().unwrap().push(format!("start {l} {t:?}")) }
    /// #     fn set_total(&self, t: u64) { self.0.lock().unwrap().push(format!("total {t}")) }
    /// #     fn advance(&self, b: u64) { self.0.lock().unwrap().push(format!("advance {b}")) }
    /// #     fn set_position(&self, b: u64) { self.0.lock().unwrap().push(format!("position {b}")) }
    /// #     fn finish(&self) { self.0.lock().unwrap().push("finish".into()) }
    /// #     fn warn(&self, l: &str) { self.0.lock().unwrap().push(format!("warn {l}")) }
    /// # }
    /// let log = Log::default();
    /// log.finish();
    /// assert_eq!(log.said(), ["finish"]);
    /// ```
    fn finish(&self);
    /// Something the user should know that does not stop the transfer
    /// (`get --continue` starting over), as one line of text from outside
    /// (the receiver escapes it).
    ///
    /// ```
    /// # use std::sync::Mutex;
    /// # use cfsign::transfer::Progress;
    /// # #[derive(Default)]
    /// # struct Log(Mutex<Vec<String>>);
    /// # impl Log { fn said(&self) -> Vec<String> { self.0.lock().unwrap().clone() } }
    /// # impl Progress for Log {
    /// #     fn start(&self, l: &str, t: Option<u64>) { self.0.lock().unwrap().push(format!("start {l} {t:?}")) }
    /// #     fn set_total(&self, t: u64) { self.0.lock().unwrap().push(format!("total {t}")) }
    /// #     fn advance(&self, b: u64) { self.0.lock().unwrap().push(format!("advance {b}")) }
    /// #     fn set_position(&self, b: u64) { self.0.lock().unwrap().push(format!("position {b}")) }
    /// #     fn finish(&self) { self.0.lock().unwrap().push("finish".into()) }
    /// #     fn warn(&self, l: &str) { self.0.lock().unwrap().push(format!("warn {l}")) }
    /// # }
    /// let log = Log::default();
    /// log.warn("starting over");
    /// assert_eq!(log.said(), ["warn starting over"]);
    /// ```
    fn warn(&self, line: &str);
}

/// Reports nothing (warnings included): for a caller that only wants the
/// result.
///
/// ```
/// use std::sync::Arc;
/// use cfsign::transfer::{NoProgress, Progress};
///
/// // `get` takes a `&dyn Progress`, `put` an `Arc<dyn Progress>`.
/// let quiet: Arc<dyn Progress> = Arc::new(NoProgress);
/// quiet.start("report.pdf", Some(8));
/// quiet.advance(8);
/// quiet.finish();
/// ```
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
