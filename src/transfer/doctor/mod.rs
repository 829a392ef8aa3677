//! `doctor`: a distribution's setup checked one step at a time, from the
//! outside, with the key the user signs with. Each check asks one question
//! that only one setup step answers (viewer access restricted, the clock,
//! the key trusted, reads, `PUT` allowed, writes, read back), so that a
//! distribution that misses one step fails exactly that check; a check
//! whose prerequisite failed is skipped, not failed.
//!
//! Every signed request is signed by CloudFront's clock (the `Date` of its
//! first answer), so that a skewed local clock fails the clock check alone.
//! The explanations are the ones `get` and `put` give (`transfer::refusal`).
//! Nothing here prints: each step goes to the caller as it completes.

mod checks;

use crate::error::Error;
use crate::sign::Signer;
use crate::transfer::RetryPolicy;

/// What to check besides the prefix itself. The default: the prefix only
/// (no object read, nothing written), [`RetryPolicy::default`].
///
/// ```
/// use cfsign::transfer::doctor::DoctorOptions;
///
/// let options = DoctorOptions {
///     object: Some("docs/report.pdf".into()),
///     write: Some("cfsign-doctor-probe.txt".into()),
///     ..DoctorOptions::default()
/// };
/// assert!(options.retry.attempts > 1);
/// ```
#[derive(Clone, Debug, Default)]
pub struct DoctorOptions {
    /// An object that exists, as a key relative to the prefix: its signed
    /// `HEAD` and `GET` check reads.
    pub object: Option<String>,
    /// A key relative to the prefix to write a small probe object to (and
    /// read it back). The probe is left there, overwritten by each run.
    pub write: Option<String>,
    /// How many attempts each request gets before a network failure ends
    /// the run.
    pub retry: RetryPolicy,
}

/// The checks, in the order they run.
///
/// ```
/// use cfsign::transfer::doctor::Check;
///
/// assert_eq!(Check::ALL.len(), 7);
/// assert_eq!(Check::ALL[0].name(), "viewer access restricted");
/// assert_eq!(Check::ALL[0].id(), "viewer-access");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// An unsigned `GET` gets CloudFront's 403 `MissingKey`.
    ViewerAccess,
    /// CloudFront's `Date` agrees with this machine's clock.
    Clock,
    /// A signed `HEAD` is not refused by CloudFront.
    KeyTrusted,
    /// A signed `HEAD` and `GET` of an existing object succeed.
    SignedReads,
    /// A signed `PUT` is not refused by the cache behaviour.
    PutAllowed,
    /// That `PUT` succeeds, checked as `put` checks an upload (S3's echo of
    /// the checksum, or the MD5 ETag).
    SignedWrites,
    /// A signed `GET` of the probe returns its bytes.
    ReadBack,
}

impl Check {
    /// Every check, in order.
    ///
    /// ```
    /// use cfsign::transfer::doctor::Check;
    /// assert_eq!(Check::ALL.last(), Some(&Check::ReadBack));
    /// ```
    pub const ALL: [Check; 7] = [
        Check::ViewerAccess,
        Check::Clock,
        Check::KeyTrusted,
        Check::SignedReads,
        Check::PutAllowed,
        Check::SignedWrites,
        Check::ReadBack,
    ];

    /// Its name in words, for people.
    ///
    /// ```
    /// assert_eq!(cfsign::transfer::doctor::Check::PutAllowed.name(), "PUT allowed");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Check::ViewerAccess => "viewer access restricted",
            Check::Clock => "clock",
            Check::KeyTrusted => "key trusted",
            Check::SignedReads => "signed reads",
            Check::PutAllowed => "PUT allowed",
            Check::SignedWrites => "signed writes",
            Check::ReadBack => "read back",
        }
    }

    /// Its stable name, for scripts.
    ///
    /// ```
    /// assert_eq!(cfsign::transfer::doctor::Check::ReadBack.id(), "read-back");
    /// ```
    pub fn id(self) -> &'static str {
        match self {
            Check::ViewerAccess => "viewer-access",
            Check::Clock => "clock",
            Check::KeyTrusted => "key-trusted",
            Check::SignedReads => "signed-reads",
            Check::PutAllowed => "put-allowed",
            Check::SignedWrites => "signed-writes",
            Check::ReadBack => "read-back",
        }
    }
}

/// How a check came out.
///
/// ```
/// use cfsign::transfer::doctor::{Check, Skip, Verdict};
///
/// let skipped = Verdict::Skip(Skip::Failed(Check::KeyTrusted));
/// assert_ne!(skipped, Verdict::Fail);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The step is set up.
    Pass,
    /// The step is missing; the [`Step::fix`] says what to change.
    Fail,
    /// Not checked.
    Skip(Skip),
}

/// Why a check was not made.
///
/// ```
/// use cfsign::transfer::doctor::Skip;
/// assert_ne!(Skip::NoObject, Skip::NoWrite);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// No object to read was named ([`DoctorOptions::object`]).
    NoObject,
    /// No name to write to was given ([`DoctorOptions::write`]).
    NoWrite,
    /// The answer carried no `Date` to compare clocks with.
    NoDate,
    /// Viewer access is not restricted, so CloudFront checks no key: a
    /// signed request passing says nothing about it.
    Unrestricted,
    /// This check failed, so the answer would say nothing new.
    Failed(Check),
}

/// One check's outcome: what was seen and, when it failed, the fix.
///
/// ```
/// use cfsign::transfer::doctor::{Check, Step, Verdict};
///
/// let step = Step {
///     check: Check::Clock,
///     verdict: Verdict::Pass,
///     detail: "CloudFront's Date is within 5s of this machine's clock".into(),
///     fix: None,
/// };
/// assert_eq!(step.check.name(), "clock");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Which check.
    pub check: Check,
    /// How it came out.
    pub verdict: Verdict,
    /// What was seen (empty when skipped). Server text in it is escaped.
    pub detail: String,
    /// For a failed check: the setup step to change.
    pub fix: Option<String>,
}

/// Checks the distribution behind `prefix` step by step with `signer`,
/// handing each [`Step`] to `report` as it completes (all seven, in
/// [`Check::ALL`]'s order). `Err` is a usage error (a bad prefix or name),
/// or a network failure (no answer, or a 5xx once `retry` is spent), which
/// ends the run there.
///
/// Against a local edge (`cfsign::serve`, standing in for CloudFront) set up
/// right:
///
/// ```
/// use cfsign::sign::{PrivateKey, Signer};
/// use cfsign::transfer::ClientOptions;
/// use cfsign::transfer::doctor::{self, DoctorOptions, Verdict};
///
/// # #[cfg(feature = "serve")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let root = tempfile::tempdir()?;
/// # std::fs::write(root.path().join("a.txt"), "0123456789")?;
/// # let mut keys = cfsign::verify::KeyRing::new();
/// # keys.insert("K2JCJMDEHXQW5F", cfsign::sign::PublicKey::from_bytes(
/// #     include_bytes!("../../../tests/fixtures/keys/rsa2048-public.pem"))?);
/// # let config = cfsign::serve::Config::new(root.path(), keys);
/// # let edge = cfsign::serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
/// let pem = include_bytes!("../../../tests/fixtures/keys/rsa2048-pkcs8.pem");
/// let signer = Signer::new(PrivateKey::from_bytes(pem, None)?, "K2JCJMDEHXQW5F".parse()?, None);
/// let options = DoctorOptions {
///     object: Some("a.txt".into()),
///     write: Some("probe.txt".into()),
///     ..DoctorOptions::default()
/// };
/// let client = ClientOptions::default().build()?;
/// let mut steps = Vec::new();
/// let prefix = format!("{}/", edge.url());
/// doctor::doctor(&client, signer, &prefix, &options, &mut |step| steps.push(step.clone())).await?;
/// assert_eq!(steps.len(), 7);
/// assert!(steps.iter().all(|s| s.verdict == Verdict::Pass), "{steps:?}");
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "serve"))]
/// # fn main() {}
/// ```
pub async fn doctor(
    client: &reqwest::Client,
    signer: Signer,
    prefix: &str,
    options: &DoctorOptions,
    report: &mut dyn FnMut(&Step),
) -> Result<(), Error> {
    let mut run = checks::Run::new(client, signer, prefix, options)?;
    let mut report = |step: Step| {
        report(&step);
        step.verdict
    };
    let (viewer, first) = run.viewer_access().await?;
    let viewer = report(viewer);
    report(run.clock(&first));
    let (trusted, head) = run.key_trusted(viewer).await?;
    let trusted = report(trusted);
    let reads = report(run.signed_reads(trusted, head).await?);
    let (allowed, put) = run.put_allowed(trusted).await?;
    let allowed = report(allowed);
    let written = report(run.signed_writes(allowed, put));
    report(run.read_back(written, reads).await?);
    Ok(())
}
