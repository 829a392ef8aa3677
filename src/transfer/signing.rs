//! Signing for transfers: a URL that already carries a signature is used as
//! is; otherwise, when a key is given, it is signed afresh before every
//! attempt, so a retry after the expiry does not meet a 403.

use crate::error::Error;
use crate::sign::PolicySpec;
use crate::sign::{PublicKey, Signer, url};
use crate::time::{self, Epoch};

/// What to sign at a given time: called before every attempt, so a policy
/// relative to the clock (`--expires-in`) is computed again each time.
///
/// ```
/// use cfsign::sign::PolicySpec;
/// use cfsign::transfer::PolicySource;
///
/// // A canned policy that expires five minutes after each attempt starts.
/// let source: PolicySource = Box::new(|now| Ok(PolicySpec::canned(now + 300)?));
/// let spec = source(1_800_000_000)?;
/// let policy = spec.policy_for("https://d111111abcdef8.cloudfront.net/a")?;
/// assert_eq!(policy.expires(), 1_800_000_300);
/// # Ok::<(), cfsign::Error>(())
/// ```
pub type PolicySource = Box<dyn Fn(Epoch) -> Result<PolicySpec, Error> + Send + Sync>;

/// Signs the URLs of a transfer (or leaves them as given): a URL that
/// already carries `Signature` is requested as is; any other is signed
/// afresh before each attempt, when there is a key.
///
/// A download from an edge that accepts only URLs signed with one key:
///
/// ```
/// use cfsign::sign::{PolicySpec, PrivateKey, Signer};
/// use cfsign::transfer::get::{self, Destination, GetOptions};
/// use cfsign::transfer::{ClientOptions, NoProgress, UrlSigner};
///
/// # #[cfg(feature = "serve")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use cfsign::serve::{self, Config};
/// # let root = tempfile::tempdir()?;
/// # std::fs::write(root.path().join("private.txt"), "for signed eyes")?;
/// # let mut keys = cfsign::verify::KeyRing::new();
/// # keys.insert("K2JCJMDEHXQW5F", cfsign::sign::PublicKey::from_bytes(
/// #     include_bytes!("../../tests/fixtures/keys/rsa2048-public.pem"))?);
/// # let edge = serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, Config::new(root.path(), keys))?;
/// let pem = include_bytes!("../../tests/fixtures/keys/rsa2048-pkcs8.pem");
/// let signer = Signer::new(PrivateKey::from_bytes(pem, None)?, "K2JCJMDEHXQW5F".parse()?, None);
/// let urls = UrlSigner::new(
///     Some(signer),
///     Box::new(|now| Ok(PolicySpec::canned(now + 300)?)),
/// );
///
/// let url = format!("{}/private.txt", edge.url());
/// let client = ClientOptions::default().build()?;
/// let out = tempfile::tempdir()?;
/// let to = Destination::File(out.path().join("private.txt"));
/// let options = GetOptions::default();
/// let pending = std::future::pending;
/// get::get(&client, &urls, &url, &to, &options, &NoProgress, pending()).await?;
/// assert_eq!(std::fs::read_to_string(out.path().join("private.txt"))?, "for signed eyes");
///
/// // Unsigned, the edge refuses it (CloudFront's 403).
/// let refused = get::get(&client, &UrlSigner::none(), &url, &to, &options, &NoProgress, pending()).await;
/// assert!(refused.unwrap_err().to_string().contains("403"));
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "serve"))]
/// # fn main() {}
/// ```
pub struct UrlSigner {
    signer: Option<Signer>,
    policy: PolicySource,
}

impl UrlSigner {
    /// Signs with `signer`, when there is one, for the policy `policy` gives
    /// at the time of each attempt (the caller has checked it once already,
    /// so that a bad one fails before any request). See [`UrlSigner`] for a
    /// download with it.
    ///
    /// ```
    /// use cfsign::sign::{PolicySpec, PrivateKey, Signer};
    /// use cfsign::transfer::UrlSigner;
    ///
    /// let pem = include_bytes!("../../tests/fixtures/keys/ec-p256-pkcs8.pem");
    /// let signer = Signer::new(PrivateKey::from_bytes(pem, None)?, "K2JCJMDEHXQW5F".parse()?, None);
    /// let expires = cfsign::time::now() + 3600;
    /// // One fixed expiry for every attempt.
    /// let urls = UrlSigner::new(Some(signer), Box::new(move |_| Ok(PolicySpec::canned(expires)?)));
    /// # drop(urls);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(signer: Option<Signer>, policy: PolicySource) -> Self {
        UrlSigner { signer, policy }
    }

    /// A signer that never signs: URLs are requested as given (already
    /// signed, or public).
    ///
    /// ```
    /// use cfsign::transfer::get::{self, Destination, GetOptions};
    /// use cfsign::transfer::{ClientOptions, NoProgress, UrlSigner};
    ///
    /// # #[cfg(feature = "serve")]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use cfsign::serve::{self, Access, Config};
    /// # let root = tempfile::tempdir()?;
    /// # std::fs::write(root.path().join("public.txt"), "for all eyes")?;
    /// # let config = Config { access: Access::Open, ..Config::new(root.path(), Default::default()) };
    /// # let edge = serve::spawn(std::net::TcpListener::bind("127.0.0.1:0")?, config)?;
    /// let url = format!("{}/public.txt", edge.url());
    /// let out = tempfile::tempdir()?;
    /// let fetched = get::get(
    ///     &ClientOptions::default().build()?,
    ///     &UrlSigner::none(),
    ///     &url,
    ///     &Destination::File(out.path().join("public.txt")),
    ///     &GetOptions::default(),
    ///     &NoProgress,
    ///     std::future::pending(),
    /// )
    /// .await?;
    /// assert_eq!(fetched.bytes, 12);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "serve"))]
    /// # fn main() {}
    /// ```
    pub fn none() -> Self {
        UrlSigner {
            signer: None,
            // Never asked: there is no key.
            policy: Box::new(|_| Err(Error::usage("no key to sign with"))),
        }
    }

    /// The public half of the key URLs are signed with, when there is one:
    /// what tells a refused key from a refused signature.
    pub(crate) fn public_key(&self) -> Option<PublicKey> {
        self.signer.as_ref().map(|s| s.key().public_key())
    }

    /// Whether `url` already carries signing parameters.
    pub(crate) fn is_signed(url: &str) -> bool {
        url.split_once('?')
            .is_some_and(|(_, q)| url::signing_param_in(q).is_some())
    }

    /// The URL to request now.
    pub(crate) fn sign(&self, raw: &str) -> Result<String, Error> {
        self.sign_at(raw, time::now())
    }

    /// The URL to request, signed as of `now`: `doctor` signs by
    /// CloudFront's clock, so that a skewed local clock fails only its own
    /// check.
    pub(crate) fn sign_at(&self, raw: &str, now: Epoch) -> Result<String, Error> {
        let Some(signer) = &self.signer else {
            return Ok(raw.to_string());
        };
        if Self::is_signed(raw) {
            return Ok(raw.to_string());
        }
        let wire = url::to_wire(raw)?;
        let policy = (self.policy)(now)?.policy_for(&wire)?;
        Ok(signer.sign(&policy).apply_to(&wire)?.as_str().to_string())
    }
}
