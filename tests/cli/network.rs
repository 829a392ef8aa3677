//! Where users work: HTTPS signed by an authority of their own (`--cacert`,
//! `SSL_CERT_FILE`, the system's store) and proxies (`HTTPS_PROXY`,
//! `HTTP_PROXY`, `NO_PROXY`). Everything is on 127.0.0.1: the test CA's
//! server is a TLS front on the fault server, and the proxy is in
//! `support/proxy.rs`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::faulty::FaultyServer;
use crate::support::proxy::Proxy;
use crate::support::tls::{TlsFront, pki};
use crate::support::*;

const OBJECT: &[u8] = b"an object behind a private certificate authority\n";

/// The fault server (plain HTTP) and the TLS front that the tests talk to.
fn https_server() -> (FaultyServer, TlsFront) {
    let plain = FaultyServer::start(OBJECT.to_vec());
    let front = TlsFront::start(pki(), plain.addr);
    (plain, front)
}

fn get(url: &str, dir: &Path, env: &[(&str, &str)], extra: &[&str]) -> Output {
    cfsign()
        .envs(env.iter().copied())
        .arg("get")
        .arg(url)
        .arg("-o")
        .arg(dir.join("object"))
        .args(extra)
        .output()
        .unwrap()
}

fn put(url: &str, dir: &Path, env: &[(&str, &str)], extra: &[&str]) -> Output {
    let file = dir.join("upload.bin");
    std::fs::write(&file, b"uploaded through TLS\n").unwrap();
    cfsign()
        .envs(env.iter().copied())
        .arg("put")
        .arg(&file)
        .arg(url)
        .args(extra)
        .output()
        .unwrap()
}

/// A download and an upload both went through, with the right bytes.
#[track_caller]
fn assert_both_work(env: &[(&str, &str)], extra: &[&str]) {
    let (plain, front) = https_server();
    let dir = tempdir();
    assert_ok(&get(&front.url("/a.txt"), dir.path(), env, extra));
    assert_eq!(std::fs::read(dir.path().join("object")).unwrap(), OBJECT);
    assert_ok(&put(&front.url("/up.bin"), dir.path(), env, extra));
    assert_eq!(plain.object(), b"uploaded through TLS\n");
}

#[test]
fn an_unknown_authority_is_refused_with_the_fix_and_not_retried() {
    let (plain, front) = https_server();
    let dir = tempdir();
    let needles = [
        "127.0.0.1:",
        "certificate is not trusted: unknown issuer",
        "--cacert CA.pem",
        "SSL_CERT_FILE",
    ];
    let out = get(&front.url("/a.txt"), dir.path(), &[], &[]);
    assert_refused(&out, 4, &needles);
    assert!(!dir.path().join("object").exists());
    let out = put(&front.url("/up.bin"), dir.path(), &[], &[]);
    assert_refused(&out, 4, &needles);
    // Nothing got past the handshake, and each command tried once: the same
    // certificate would be refused again.
    assert_eq!(front.handshakes(), 0);
    assert_eq!(front.connections(), 2);
    assert!(plain.requests().is_empty());
}

#[test]
fn cacert_trusts_the_authority_for_get_and_put() {
    let ca = pki().ca.to_str().unwrap();
    assert_both_work(&[], &["--cacert", ca]);
}

#[test]
fn ssl_cert_file_trusts_the_authority_for_get_and_put() {
    let ca = pki().ca.to_str().unwrap();
    assert_both_work(&[("SSL_CERT_FILE", ca)], &[]);
}

/// The system's store as the platform loader reads it on Linux: with no
/// variable set, the bundle `/etc/ssl/certs/ca-certificates.crt` (and the
/// hashed folder `/etc/ssl/certs`). The test puts the CA there in a private
/// mount namespace (`unshare`), so nothing changes outside this command.
/// Where namespaces are not allowed it falls back to `SSL_CERT_DIR`, the
/// same loader's override of that folder, and says so.
#[cfg(target_os = "linux")]
#[test]
fn the_system_store_is_trusted() {
    let store = tempdir();
    std::fs::copy(&pki().ca, store.path().join("ca-certificates.crt")).unwrap();
    let rehash = std::process::Command::new("openssl")
        .arg("rehash")
        .arg(store.path())
        .output()
        .unwrap();
    assert_ok(&rehash);
    let (plain, front) = https_server();
    let dir = tempdir();
    let object = dir.path().join("object");
    let bin = env!("CARGO_BIN_EXE_cfsign");
    let in_namespace = |args: &[&str]| {
        assert_cmd::Command::from_std(scrubbed("unshare"))
            .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
            .arg(r#"mount --bind "$1" /etc/ssl/certs && shift && exec "$@""#)
            .args(["sh", store.path().to_str().unwrap(), bin])
            .args(args)
            .output()
            .unwrap()
    };
    let probe = in_namespace(&["--version"]);
    let (get_out, put_out) = if probe.status.success() {
        let url = front.url("/a.txt");
        let get_out = in_namespace(&["get", &url, "-o", object.to_str().unwrap()]);
        let file = dir.path().join("up.bin");
        std::fs::write(&file, b"system store\n").unwrap();
        let put_out = in_namespace(&["put", file.to_str().unwrap(), &front.url("/up.bin")]);
        (get_out, put_out)
    } else {
        eprintln!(
            "no mount namespace here ({}): testing the store through SSL_CERT_DIR",
            String::from_utf8_lossy(&probe.stderr).trim()
        );
        let env = [("SSL_CERT_DIR", store.path().to_str().unwrap())];
        (
            get(&front.url("/a.txt"), dir.path(), &env, &[]),
            put(&front.url("/up.bin"), dir.path(), &env, &[]),
        )
    };
    assert_ok(&get_out);
    assert_eq!(std::fs::read(&object).unwrap(), OBJECT);
    assert_ok(&put_out);
    assert_eq!(front.handshakes(), 2);
    assert_eq!(plain.requests().len(), 2);
}

#[test]
fn a_cacert_or_ssl_cert_file_that_holds_no_authority_is_refused_before_any_request() {
    let (_plain, front) = https_server();
    let dir = tempdir();
    let key = key_arg("rsa2048-pkcs8.pem");
    let key = key.strip_prefix("file://").unwrap();
    let missing = dir.path().join("missing.pem");
    let missing = missing.to_str().unwrap();
    for (env, extra, needles) in [
        (
            vec![],
            vec!["--cacert", missing],
            vec!["--cacert", "no such file"],
        ),
        // A private key given by mistake is named, not shown.
        (
            vec![],
            vec!["--cacert", key],
            vec!["--cacert", "no certificate in it"],
        ),
        (
            vec![("SSL_CERT_FILE", missing)],
            vec![],
            vec!["SSL_CERT_FILE=", "no such file", "unset it"],
        ),
        // An endless file is refused, not read for ever.
        (
            vec![],
            vec!["--cacert", "/dev/zero"],
            vec!["--cacert", "larger than 16 MiB"],
        ),
    ] {
        let out = get(&front.url("/a.txt"), dir.path(), &env, &extra);
        assert_refused(&out, 2, &needles);
        assert!(!String::from_utf8_lossy(&out.stderr).contains("PRIVATE"));
        let out = put(&front.url("/up.bin"), dir.path(), &env, &extra);
        assert_refused(&out, 2, &needles);
    }
    assert_eq!(front.connections(), 0);
}

#[test]
fn https_proxy_carries_get_and_put_through_a_tunnel() {
    let (plain, front) = https_server();
    let proxy = Proxy::start();
    let dir = tempdir();
    let ca = pki().ca.to_str().unwrap();
    // Both spellings are read; the upper case one is documented.
    for (i, var) in ["HTTPS_PROXY", "https_proxy"].into_iter().enumerate() {
        let env = [(var, proxy.url())];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_ok(&get(
            &front.url("/a.txt"),
            dir.path(),
            &env,
            &["--cacert", ca],
        ));
        assert_ok(&put(
            &front.url("/up.bin"),
            dir.path(),
            &env,
            &["--cacert", ca],
        ));
        let tunnel = format!("CONNECT {} HTTP/1.1", front.addr);
        assert_eq!(proxy.seen(), vec![tunnel; 2 * (i + 1)], "{var}");
    }
    assert_eq!(plain.requests().len(), 4);
}

#[test]
fn no_proxy_bypasses_the_proxy() {
    let (plain, front) = https_server();
    let proxy = Proxy::start();
    let dir = tempdir();
    let ca = pki().ca.to_str().unwrap();
    let url = proxy.url();
    let port = front.addr.port();
    // Loopback is not exempt by itself; `*` matches host names only (an IP
    // address needs an entry of its own), as the README says.
    for (no_proxy, host) in [
        ("127.0.0.1", "127.0.0.1"),
        ("example.com, 127.0.0.0/8", "127.0.0.1"),
        ("localhost", "localhost"),
        ("*", "localhost"),
    ] {
        let env = [
            ("HTTPS_PROXY", url.as_str()),
            ("HTTP_PROXY", url.as_str()),
            ("NO_PROXY", no_proxy),
        ];
        let base = format!("https://{host}:{port}");
        assert_ok(&get(
            &format!("{base}/a.txt"),
            dir.path(),
            &env,
            &["--cacert", ca],
        ));
        assert_ok(&put(
            &format!("{base}/up.bin"),
            dir.path(),
            &env,
            &["--cacert", ca],
        ));
        assert!(
            proxy.seen().is_empty(),
            "NO_PROXY={no_proxy}: {:?}",
            proxy.seen()
        );
    }
    assert_eq!(plain.requests().len(), 8);
}

#[test]
fn http_proxy_carries_plain_http() {
    let plain = FaultyServer::start(OBJECT.to_vec());
    let proxy = Proxy::start();
    let dir = tempdir();
    let env = [("HTTP_PROXY", proxy.url())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_ok(&get(&plain.url("/a.txt"), dir.path(), &env, &[]));
    assert_eq!(std::fs::read(dir.path().join("object")).unwrap(), OBJECT);
    assert_eq!(
        proxy.seen(),
        vec![format!("GET http://{}/a.txt HTTP/1.1", plain.addr)]
    );
    assert_eq!(plain.requests()[0].target, "/a.txt");
}

/// A plain HTTP server that answers anything with a 400, as most do when
/// a TLS ClientHello arrives; it counts the connections.
fn plain_http_400() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            seen.fetch_add(1, Ordering::SeqCst);
            let _ = stream.read(&mut [0u8; 4096]);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    (addr, count)
}

#[test]
fn an_https_url_to_a_plain_http_server_is_named_and_not_retried() {
    let (addr, connections) = plain_http_400();
    let dir = tempdir();
    let url = format!("https://{addr}/a.txt");
    let out = get(&url, dir.path(), &[], &[]);
    assert_refused(&out, 4, &["does not speak TLS", "http:// URL"]);
    let out = put(&url, dir.path(), &[], &[]);
    assert_refused(&out, 4, &["does not speak TLS"]);
    assert_eq!(connections.load(Ordering::SeqCst), 2, "one attempt each");
}

/// A proxy that will not open the tunnel (403 to `CONNECT`, or 407 for
/// credentials) is named as the cause — not the origin "cannot connect" —
/// with the fix, once: asking again gets the same answer. Credentials in
/// `HTTPS_PROXY` are never printed.
#[test]
fn a_proxy_that_refuses_the_tunnel_is_named_not_retried_and_its_password_not_shown() {
    let dir = tempdir();
    // The test proxy only tunnels to loopback: any other host gets a 403.
    let proxy = Proxy::start();
    let with_password = format!("http://user:s3cret-pw@{}", proxy.addr);
    let env = [("HTTPS_PROXY", with_password.as_str())];
    let url = "https://blocked.invalid/a.txt";
    for (i, command) in [get, put].into_iter().enumerate() {
        let out = command(url, dir.path(), &env, &[]);
        assert_refused(
            &out,
            4,
            &["proxy refused", "blocked.invalid", "HTTPS_PROXY"],
        );
        assert!(!String::from_utf8_lossy(&out.stderr).contains("s3cret-pw"));
        assert_eq!(proxy.seen().len(), i + 1, "{:?}", proxy.seen());
    }

    // 407: the proxy wants credentials.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for mut c in listener.incoming().flatten() {
            seen.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            let _ = c.write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n",
            );
        }
    });
    let proxy_url = format!("http://{addr}");
    let out = get(url, dir.path(), &[("HTTPS_PROXY", proxy_url.as_str())], &[]);
    assert_refused(
        &out,
        4,
        &["proxy asks for credentials", "407", "HTTPS_PROXY"],
    );
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

/// A proxy variable reqwest cannot use would be ignored, and the request
/// would go straight past the proxy: it is refused before any request, named
/// by its variable, its password never shown.
#[test]
fn a_proxy_variable_that_names_no_usable_proxy_is_refused() {
    let server = FaultyServer::start(b"object".to_vec());
    let dir = tempdir();
    for (name, value, needles) in [
        (
            "HTTPS_PROXY",
            "http://user:s3cret@[::1",
            vec!["HTTPS_PROXY", "not a proxy URL"],
        ),
        (
            "HTTP_PROXY",
            "socks5://user:s3cret@127.0.0.1:1080",
            vec!["HTTP_PROXY", "socks5 proxy is not supported"],
        ),
        ("ALL_PROXY", "http://", vec!["ALL_PROXY", "not a proxy URL"]),
    ] {
        for out in [
            get(&server.url("/a.txt"), dir.path(), &[(name, value)], &[]),
            put(&server.url("/up.bin"), dir.path(), &[(name, value)], &[]),
        ] {
            assert_refused(&out, 2, &needles);
            assert!(!String::from_utf8_lossy(&out.stderr).contains("s3cret"));
        }
    }
    assert!(server.requests().is_empty());
    // A plain HOST:PORT is a proxy URL to reqwest, and so it is here.
    let out = get(
        &server.url("/a.txt"),
        dir.path(),
        &[("HTTP_PROXY", "127.0.0.1:9"), ("NO_PROXY", "127.0.0.1")],
        &[],
    );
    assert_ok(&out);
}
