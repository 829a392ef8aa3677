//! `cfsign serve`: runs [`cfsign::serve`] in the foreground. The URL it listens
//! on is the first line of stdout (so a test or a CI script can start it with
//! `--listen 127.0.0.1:0` and read the port); the request log goes to stderr
//! through the [`LogSink`] it hands the server.
//! Ctrl-C or SIGTERM stops it (exit 130).

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use crate::cli::args::OriginOperation;
use crate::cli::{ServeArgs, warn};
use cfsign::error::Error;
use cfsign::serve::{self, Access, Config, LogSink, OriginDeny, Server};
use cfsign::verify::KeyRing;

pub fn run(args: ServeArgs) -> Result<ExitCode, Error> {
    let access = if args.no_auth {
        Access::Open
    } else {
        if args.public_key.is_empty() {
            return Err(Error::usage(
                "serve checks signatures: pass --public-key ID=PATH or ID=PEM-text (repeatable), or --no-auth to allow every request",
            ));
        }
        let mut keys = KeyRing::new();
        for spec in &args.public_key {
            {
                let (id, key) =
                    crate::cli::config::public_key(spec.expose()).map_err(Error::Usage)?;
                keys.insert(id.as_str(), key);
            }
        }
        Access::Signed(keys)
    };
    let describe_access = match &access {
        Access::Open => "no signature checks".to_string(),
        Access::Signed(keys) => format!(
            "signed requests only, keys {}",
            keys.ids().collect::<Vec<_>>().join(", ")
        ),
    };
    let server = Server::new(Config {
        root: args.root,
        access,
        read_only: args.read_only,
        base_url: args.base_url,
        log: (!args.quiet).then(|| LogSink::new(log_to_stderr)),
        idle_timeout: std::time::Duration::from_secs(args.idle_timeout.seconds()),
        max_uploads: usize::from(args.max_uploads),
        allowed_methods: args.methods,
        origin_deny: OriginDeny {
            get: args.origin_deny.contains(&OriginOperation::Get),
            put: args.origin_deny.contains(&OriginOperation::Put),
        },
        unknown_keys: args.unknown_key,
        clock_skew: args.clock_skew.unwrap_or(0),
    })
    .map_err(|e| Error::Usage(e.to_string()))?;

    let listener = std::net::TcpListener::bind(args.listen).map_err(|e| {
        use std::io::ErrorKind;
        let reason = match e.kind() {
            ErrorKind::AddrInUse => {
                "the port is in use: stop what holds it, or pick another with --listen (port 0 picks a free one)".to_string()
            }
            ErrorKind::AddrNotAvailable => {
                "that address is not one of this machine's: use 127.0.0.1, 0.0.0.0 or an address of this host".to_string()
            }
            ErrorKind::PermissionDenied => {
                "permission denied: ports below 1024 need privileges, pick a higher one".to_string()
            }
            _ => cfsign::error::io_reason(&e),
        };
        Error::Runtime(format!("cannot listen on {}: {reason}", args.listen))
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Runtime(format!("cannot listen on {}: {e}", args.listen)))?;
    if args.no_auth && !addr.ip().is_loopback() {
        warn(format!(
            "--no-auth on {addr}: anyone who can reach this address can read and write {}",
            server.root().display()
        ));
    }

    let mut stdout = std::io::stdout().lock();
    if super::write_stdout(&mut stdout, format!("http://{addr}\n").as_bytes())? {
        super::flush_stdout(&mut stdout)?;
    }
    drop(stdout);
    if !args.quiet {
        let _ = writeln!(
            std::io::stderr(),
            "cfsign: serving {} at http://{addr} ({describe_access}{})",
            cfsign::escape::shown_path(server.root()),
            if args.read_only { ", read-only" } else { "" }
        );
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(format!("cannot start the server: {e}")))?;
    runtime
        .block_on(async {
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            serve::serve(listener, Arc::new(server), stop_signal()).await
        })
        .map_err(|e| Error::Runtime(format!("the server failed: {e}")))?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    Err(Error::Interrupted)
}

/// The request log: one write per line, so that lines from the server's
/// threads never interleave.
fn log_to_stderr(line: &str) {
    let mut text = String::with_capacity(line.len() + 1);
    text.push_str(line);
    text.push('\n');
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Ctrl-C, or SIGTERM where there is one.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
