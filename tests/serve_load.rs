//! The load generator of `benches/serve_load.rs`, small: 1,000 mixed requests
//! over 16 connections against an in-process `cfsign serve`, so that the
//! bench cannot rot and the concurrency checks run with every `cargo test`.

#[path = "../benches/load/mod.rs"]
mod load;

#[test]
fn serve_under_small_load_keeps_every_object_whole() {
    let options = load::Options {
        requests: 1_000,
        connections: 16,
        keys: 40,
        hot_keys: 4,
        // Big objects are what takes time in a debug build; a few still go.
        big_per_mille: 10,
        ..load::Options::default()
    };
    let report = load::run(options);
    let text = report.render();
    eprint!("{text}");
    assert!(report.ok(), "{text}");
    let count = |kind: &str| {
        report
            .statuses
            .iter()
            .filter(|(k, _, _)| *k == kind)
            .map(|(_, _, n)| n)
            .sum::<usize>()
    };
    assert_eq!(
        ["GET", "GET range", "HEAD", "PUT"]
            .map(count)
            .iter()
            .sum::<usize>(),
        1_000,
        "{text}"
    );
    // The run exercised what it checks: PUTs of one key overlapping, reads
    // during writes.
    assert!(report.overlapping_puts > 0, "{text}");
    assert!(report.reads_during_puts > 0, "{text}");
    assert_eq!(report.reconnects, 0, "{text}");
}

#[test]
fn options_from_args() {
    let args = ["--bench", "--requests", "50", "--connections=4", "--other"];
    let o = load::Options::from_args(args.map(String::from)).unwrap();
    assert_eq!((o.requests, o.connections, o.keys), (50, 4, 200));
    assert!(load::Options::from_args(["--requests".to_string()]).is_err());
    assert!(load::Options::from_args(["--keys=x".to_string()]).is_err());
}

#[test]
fn bodies_are_deterministic_and_named() {
    let a = load::version_body("/k", 7, 2000, 42);
    assert_eq!(a, load::version_body("/k", 7, 2000, 42));
    assert_eq!(a.len(), 2000);
    assert!(a.starts_with(b"cfsign-load /k version 7 length 2000\n"));
    assert_ne!(a, load::version_body("/k", 7, 2000, 43));
}
