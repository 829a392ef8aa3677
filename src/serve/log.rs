//! The request log. The server never writes to the terminal itself: the
//! embedder hands it a [`LogSink`] (the CLI's writes to stderr), and every
//! line the server gives the sink has gone through [`escape::line`], so
//! what a request carries (its path, a policy quoted in a reason) can
//! neither start another line nor reach a terminal as a control sequence.
//! One line is one request (or one failed accept).

use std::fmt;
use std::sync::Arc;

use crate::escape;

/// Where the request log goes: called once per line, with the line already
/// escaped and without its newline. It is called from the server's threads,
/// possibly from several at once, so it should write each line whole.
/// See [`Config`](super::Config) for one in use.
///
/// ```
/// use std::io::Write;
/// use cfsign::serve::{Config, LogSink};
///
/// // One write per line, so that lines from several threads never mix.
/// let to_stderr = LogSink::new(|line| {
///     let _ = std::io::stderr().lock().write_all(format!("{line}\n").as_bytes());
/// });
/// let config = Config { log: Some(to_stderr), ..Config::new("/srv/objects", Default::default()) };
/// # drop(config);
/// ```
#[derive(Clone)]
pub struct LogSink(Arc<dyn Fn(&str) + Send + Sync>);

impl LogSink {
    /// A sink that hands each line to `write`.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use cfsign::serve::{self, Access, Config, LogSink};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (tx, rx) = mpsc::channel();
    /// let log = LogSink::new(move |line| {
    ///     let _ = tx.send(line.to_string());
    /// });
    /// let root = tempfile::tempdir()?;
    /// let config = Config { access: Access::Open, log: Some(log), ..Config::new(root.path(), Default::default()) };
    /// let edge = serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
    /// let mut stream = std::net::TcpStream::connect(edge.addr())?;
    /// std::io::Write::write_all(&mut stream, b"GET /missing.txt HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")?;
    /// std::io::Read::read_to_end(&mut stream, &mut Vec::new())?;
    /// assert!(rx.recv()?.starts_with("GET /missing.txt 404"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(write: impl Fn(&str) + Send + Sync + 'static) -> Self {
        LogSink(Arc::new(write))
    }

    /// Escapes `line` and hands it to the sink.
    pub(super) fn line(&self, line: &str) {
        (self.0)(&escape::line(line));
    }
}

impl fmt::Debug for LogSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogSink(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn lines_reach_the_sink_escaped() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = {
            let lines = lines.clone();
            LogSink::new(move |line| lines.lock().unwrap().push(line.to_string()))
        };
        sink.line("GET /a\nb 404");
        assert_eq!(*lines.lock().unwrap(), ["GET /a\\nb 404"]);
    }
}
