//! `cfsign serve` under load: an in-process server with signature checks on,
//! 64 keep-alive connections and 20,000 mixed GET/HEAD/PUT requests on
//! loopback, every answer checked (no errors, no torn, stale or lost objects,
//! no leftover temp files). Prints requests/s, latency percentiles and CPU
//! time per request (the server's and the client's); exits
//! 1 on any error. What is generated and checked: `benches/load/mod.rs`.
//!
//! `cargo bench --bench serve_load -- --requests 20000 --connections 64`
//! (also `--keys K`, `--seed S`). Figures: `benches/README.md`.

mod load;

fn main() {
    let options = match load::Options::from_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("serve_load: {e}");
            std::process::exit(2);
        }
    };
    let report = load::run(options);
    print!("{}", report.render());
    if !report.ok() {
        std::process::exit(1);
    }
}
