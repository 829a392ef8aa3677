//! `cfsign put`: validates the options and every source before a byte is
//! sent, spools stdin to a temporary file, then uploads with
//! [`transfer::put`](cfsign::transfer::put) a few objects at a time, printing
//! one result line per object in input order. A failed object does not stop
//! the others; the exit code is the first failure's.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use std::sync::Arc;

use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::cli::config::{self, StdinData};
use crate::cli::progress::{self, Bar, ProgressMode};
use crate::cli::{PutArgs, PutFormat};
use cfsign::error::Error;
use cfsign::error::io_reason;
use cfsign::escape;
use cfsign::transfer::put::{self, PlanOptions, PutOptions, Skipped, Source, Upload, Uploaded};
use cfsign::transfer::{ClientOptions, Progress, RetryPolicy, UrlSigner};

pub fn run(args: PutArgs) -> Result<ExitCode, Error> {
    if args.follow_symlinks && !args.recursive {
        return Err(Error::usage(
            "--follow-symlinks is for links in folders: add -r (a file named on the command line is read through its link anyway)",
        ));
    }
    let options = put_options(&args)?;
    let (files, url) = files_and_url(&args.paths)?;
    let stdin = Path::new("-");
    let wants_stdin = files.iter().any(|f| f == stdin);
    if wants_stdin && files.len() > 1 {
        return Err(Error::usage(
            "- (stdin) must be the only file: upload it separately",
        ));
    }
    let data = wants_stdin.then_some(StdinData {
        name: "the data to upload (-)",
        key_conflict: "the private key is read from stdin, so the upload cannot be: give a file, or the key with --private-key PATH",
    });
    config::claim_stdin(&args.key, &args.policy, data)?;
    let signer = config::url_signer(args.key, &args.policy)?;
    put::object_url(&url, &[])?; // a bad URL is reported before stdin is read
    // So is a bad --cacert, SSL_CERT_FILE or proxy variable.
    let client = ClientOptions {
        // reqwest's read timeout would run from the first byte of the upload;
        // `put` watches for stalls itself (PutOptions::stall_timeout).
        read_timeout: Duration::from_secs(24 * 3600),
        ..config::client_options(args.cacert.clone())?
    }
    .build()?;

    let spool = if wants_stdin {
        Some(spool_stdin()?)
    } else {
        None
    };
    let sources: Vec<Source> = match &spool {
        Some(file) => vec![Source::Stdin(file.path().to_path_buf())],
        None => files.into_iter().map(Source::Path).collect(),
    };
    let plan = put::plan(
        &sources,
        &url,
        PlanOptions {
            recursive: args.recursive,
            follow_symlinks: args.follow_symlinks,
        },
    )?;
    for skipped in &plan.skipped {
        crate::cli::warn(skipped);
    }
    let uploads = plan.uploads;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(format!("cannot start the I/O runtime: {e}")))?;
    let mode = ProgressMode::from_flags(args.progress, args.quiet);
    let jobs = usize::from(args.jobs);
    let outcome = super::until_interrupted(
        &runtime,
        upload_all(
            &client,
            &signer,
            &uploads,
            &options,
            jobs,
            mode,
            args.format,
        ),
    );
    runtime.shutdown_background();
    drop(spool);
    if let Some(summary) = skipped_summary(&plan.skipped) {
        crate::cli::warn(summary);
    }
    outcome
}

/// The line after the results that says how much a walk left out, so that
/// warnings scrolled away are not missed.
fn skipped_summary(skipped: &[Skipped]) -> Option<String> {
    let n = skipped.len();
    let hint = if skipped
        .iter()
        .any(|s| s.why == put::SkipReason::LinkNotFollowed)
    {
        "; pass --follow-symlinks to follow links that stay inside the folder"
    } else {
        ""
    };
    (n > 0).then(|| {
        let entries = if n == 1 { "entry" } else { "entries" };
        format!("skipped {n} {entries} in all (see the warnings above){hint}")
    })
}

/// The positional arguments: files, then the URL (which must be UTF-8).
fn files_and_url(paths: &[OsString]) -> Result<(Vec<PathBuf>, String), Error> {
    let (url, files) = paths
        .split_last()
        .filter(|(_, files)| !files.is_empty())
        .ok_or_else(|| {
            Error::usage("give the files to upload, then the URL (see `cfsign put --help`)")
        })?;
    let url = url
        .to_str()
        .ok_or_else(|| Error::usage("the URL is not valid UTF-8"))?
        .to_string();
    Ok((files.iter().map(PathBuf::from).collect(), url))
}

/// The validated options: headers typed and checked once.
fn put_options(args: &PutArgs) -> Result<PutOptions, Error> {
    let value = |flag: &str, v: &str| put::extra_header(flag, v).map(|(_, value)| value);
    let mut headers = HeaderMap::new();
    if let Some(cc) = &args.cache_control {
        headers.insert(reqwest::header::CACHE_CONTROL, value("Cache-Control", cc)?);
    }
    for pair in &args.meta {
        let (name, value) = parse_meta(pair)?;
        headers.append(name, value);
    }
    for line in &args.headers {
        let (name, value) = parse_header_line(line)?;
        headers.append(name, value);
    }
    Ok(PutOptions {
        acl: (!args.no_acl).then(|| HeaderValue::from_str(&args.acl).expect("a canned ACL name")),
        content_type: args
            .content_type
            .as_deref()
            .map(|t| value("Content-Type", t))
            .transpose()?,
        headers,
        retry: RetryPolicy::with_retries(args.retries),
        ..PutOptions::default()
    })
}

/// `name: value` from `--header`.
fn parse_header_line(line: &str) -> Result<(HeaderName, HeaderValue), Error> {
    let (name, value) = line
        .split_once(':')
        .ok_or_else(|| Error::usage(format!("--header `{line}`: expected `Name: value`")))?;
    put::extra_header(name, value)
}

/// `key=value` from `--meta`, as `x-amz-meta-key: value`.
fn parse_meta(pair: &str) -> Result<(HeaderName, HeaderValue), Error> {
    let (key, value) = pair
        .split_once('=')
        .ok_or_else(|| Error::usage(format!("--meta `{pair}`: expected `key=value`")))?;
    if key.is_empty() {
        return Err(Error::usage(format!("--meta `{pair}`: the key is empty")));
    }
    put::extra_header(&format!("x-amz-meta-{key}"), value)
}

/// Copies stdin to a temporary file (removed when dropped): the upload needs
/// its length and SHA-256 before the first byte is sent.
fn spool_stdin() -> Result<tempfile::NamedTempFile, Error> {
    let mut spool = tempfile::NamedTempFile::new()
        .map_err(|e| Error::Runtime(format!("cannot create a temporary file for stdin: {e}")))?;
    std::io::copy(&mut std::io::stdin().lock(), spool.as_file_mut()).map_err(|e| {
        Error::Runtime(format!(
            "cannot spool stdin to {}: {}",
            spool.path().display(),
            io_reason(&e)
        ))
    })?;
    Ok(spool)
}

async fn upload_all(
    client: &reqwest::Client,
    signer: &UrlSigner,
    uploads: &[Upload],
    options: &PutOptions,
    jobs: usize,
    mode: ProgressMode,
    format: PutFormat,
) -> Result<ExitCode, Error> {
    let multi = progress::group(mode);
    let multi = &multi;
    let mut results = futures_util::stream::iter(uploads)
        .map(|upload| {
            let bar: Arc<dyn Progress> = Arc::new(Bar::in_group(mode, multi));
            async move {
                let result = put::put(client, signer, upload, options, &bar).await;
                (upload, result)
            }
        })
        .buffered(jobs);

    let stdout = std::io::stdout();
    let mut first_failure = None;
    let mut stdout_open = true;
    while let Some((upload, result)) = results.next().await {
        match result {
            Ok(done) => {
                let line = render(&done, format);
                if stdout_open {
                    stdout_open = multi.suspend(|| -> Result<bool, Error> {
                        let mut out = stdout.lock();
                        let open = super::write_stdout(&mut out, line.as_bytes())?;
                        super::flush_stdout(&mut out)?;
                        Ok(open)
                    })?;
                }
            }
            Err(e) => {
                let message = format!("{}: {e}", escape::shown(&upload.name));
                multi.suspend(|| {
                    let _ = writeln!(std::io::stderr(), "cfsign: {}", escape::line(&message));
                });
                first_failure.get_or_insert(e.exit_code());
            }
        }
    }
    Ok(first_failure.map_or(ExitCode::SUCCESS, ExitCode::from))
}

/// `uploaded FILE → URL (N bytes, sha256 HEX, etag ETAG)`, or one JSON
/// object. The name, URL and ETag come from outside: escaped, not shortened
/// (a result line is a record; two long names must not look alike).
fn render(done: &Uploaded, format: PutFormat) -> String {
    match format {
        PutFormat::Text => format!(
            "uploaded {} → {} ({} bytes, sha256 {}, etag {})\n",
            escape::line(&done.source),
            escape::line(&done.url),
            done.bytes,
            done.sha256,
            escape::line(done.etag.as_deref().unwrap_or("none"))
        ),
        PutFormat::Json => crate::cli::json::line(done),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_arguments() {
        let (n, v) = parse_header_line("Cache-Control: max-age=60").unwrap();
        assert_eq!(
            (n.as_str(), v.to_str().unwrap()),
            ("cache-control", "max-age=60")
        );
        let (n, v) = parse_meta("build=42=x").unwrap();
        assert_eq!(
            (n.as_str(), v.to_str().unwrap()),
            ("x-amz-meta-build", "42=x")
        );
        for bad in [
            "nocolon",
            "Content-Length: 3",
            "x-amz-content-sha256: a",
            "Bad Name: v",
            "X: é",
        ] {
            let e = parse_header_line(bad).unwrap_err();
            assert_eq!(e.exit_code(), cfsign::error::exit::USAGE, "{bad}");
        }
        assert!(parse_meta("novalue").is_err());
        assert!(parse_meta("=v").is_err());
    }
}
