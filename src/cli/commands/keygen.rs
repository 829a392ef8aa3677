//! `cfsign keygen`: a CloudFront-ready key pair — the private key as PKCS#8
//! PEM (mode 0600, never overwriting a file) and the public key as the
//! `BEGIN PUBLIC KEY` PEM that the console and `create-public-key` take.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use p256::pkcs8::EncodePrivateKey as _;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use zeroize::Zeroizing;

use crate::cli::{KeyType, KeygenArgs};
use cfsign::error::Error;
use cfsign::error::io_reason;

pub fn run(args: KeygenArgs) -> Result<ExitCode, Error> {
    let dir = args.out.unwrap_or_else(|| PathBuf::from("."));
    let private_path = dir.join(format!("{}private_key.pem", args.prefix));
    let public_path = dir.join(format!("{}public_key.pem", args.prefix));
    for path in [&private_path, &public_path] {
        if path.exists() {
            return Err(Error::usage(format!(
                "{} already exists: keygen never overwrites a key (move it away or pass --out DIR)",
                path.display()
            )));
        }
    }
    let (private_pem, public_pem) = generate(args.r#type)?;
    write_new(&private_path, private_pem.as_bytes(), 0o600)?;
    if let Err(e) = write_new(&public_path, public_pem.as_bytes(), 0o644) {
        let _ = std::fs::remove_file(&private_path);
        return Err(e);
    }
    let kind = match args.r#type {
        KeyType::Rsa => "RSA-2048",
        KeyType::Ecdsa => "ECDSA P-256",
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "wrote {kind} private key {private} (mode 0600) and public key {public}\n\
         next steps:\n\
         \x20 1. add {public} to CloudFront (console: Key management > Public keys, or\n\
         \x20    `aws cloudfront create-public-key`), put it in a key group, and make that key\n\
         \x20    group a trusted key group of the distribution's cache behaviour\n\
         \x20 2. cfsign sign URL --key-pair-id <the public key's ID> --private-key {private}",
        private = private_path.display(),
        public = public_path.display(),
    );
    Ok(ExitCode::SUCCESS)
}

/// A new key pair as (private PKCS#8 PEM, public SPKI PEM).
pub fn generate(kind: KeyType) -> Result<(Zeroizing<String>, String), Error> {
    let failed = |e: &dyn std::fmt::Display| Error::Runtime(format!("key generation failed: {e}"));
    let mut rng = rand::rngs::OsRng;
    match kind {
        KeyType::Rsa => {
            let key = rsa::RsaPrivateKey::new(&mut rng, 2048).map_err(|e| failed(&e))?;
            let private = rsa::pkcs8::EncodePrivateKey::to_pkcs8_pem(&key, LineEnding::LF)
                .map_err(|e| failed(&e))?;
            let public = key
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .map_err(|e| failed(&e))?;
            Ok((private, public))
        }
        KeyType::Ecdsa => {
            let key = p256::SecretKey::random(&mut rng);
            let private = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| failed(&e))?;
            let public = key
                .public_key()
                .to_public_key_pem(LineEnding::LF)
                .map_err(|e| failed(&e))?;
            Ok((private, public))
        }
    }
}

/// Creates `path` (failing if it exists) with `mode`, and writes `bytes`.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|e| {
        Error::usage(format!(
            "cannot create {}: {}",
            path.display(),
            io_reason(&e)
        ))
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::Runtime(format!("cannot write {}: {e}", path.display())))
}
