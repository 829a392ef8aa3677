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
#[derive(Clone)]
pub struct LogSink(Arc<dyn Fn(&str) + Send + Sync>);

impl LogSink {
    /// A sink that hands each line to `write`.
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
