#!/usr/bin/env bash
# scripts/bench-sign.sh — time the `cfsign sign` process against the AWS CLI
# and the usual openssl shell loop, and measure batch throughput.
#
# Usage:  bash scripts/bench-sign.sh [--runs N] [--batch-runs M] [--no-targets]   (any cwd)
#
#   --runs N        interleaved rounds for the single-URL and openssl-loop
#                   comparisons (default 15)
#   --batch-runs M  interleaved rounds for the 10,000-URL batches (default 5)
#   --no-targets    only report; do not fail when a target is missed
#
# Steps (all from the repo root, after `cargo build --release`):
#   1. one URL: `cfsign sign --url U --key-pair-id K --private-key
#      file://tests/fixtures/keys/rsa2048-pkcs1.pem --date-less-than 2030-01-01`
#      against `aws cloudfront sign` with the same arguments (run with an empty
#      AWS config; a pyenv shim is resolved to the real `aws` so its own start-up
#      is not counted) and against `/bin/true`, a process that does nothing.
#      Both URLs must be the same. The AWS CLI is skipped, with how to install
#      it, when `aws` is missing.
#   2. 200 URLs: `cfsign sign --date-less-than 2030-01-01 < urls` against the
#      usual shell loop (`printf policy | openssl dgst -sha1 -sign key |
#      openssl base64 -A | tr -- '+=/' '-_~'` per URL). Outputs must be equal.
#   3. 10,000 URLs on stdin: canned policies (one RSA-2048 signature per URL),
#      with SHA-1 and with `--hash-algorithm SHA256`, and one wildcard policy
#      (`--resource 'https://…/assets/*'`, one signature in all); each run must
#      print 10,000 lines. `openssl speed -seconds 5 -multi <cores> rsa2048`
#      runs just before and just after them; the canned rates are compared
#      with the mean of its two sign/s figures (the load on a shared machine
#      moves both by tens of percent within a minute).
#   4. 10,000 URLs on stdin, canned policies signed with ECDSA P-256
#      (tests/fixtures/keys/ec-p256-pkcs8.pem, SHA-256), between two runs of
#      `openssl speed -seconds 5 -multi <cores> ecdsap256`; the ratio is
#      reported, with no target (the p256 crate signs in portable Rust, with
#      RFC 6979 nonces: see benches/README.md).
# Every process is timed wall-clock by scripts/bench_timer.py
# (time.perf_counter around subprocess.run); cases run interleaved, rotated
# each round; figures are medians and ratios of medians. For the canned batch
# the CPU time per URL (getrusage) is shown too, with the rate it allows on
# idle cores: on a shared machine the wall-clock rate depends on the load.
#
# Targets (exit 1 when one is missed, unless --no-targets), issue 16:
#   one process: aws / cfsign >= 150 and cfsign / `/bin/true` <= 2;
#   canned SHA-1 and SHA-256 >= 95 % of `openssl speed -multi <cores> rsa2048`
#   and >= 1,000 URLs/s; one wildcard policy >= 100,000 URLs/s. ECDSA P-256
#   batches are measured beside `openssl speed ecdsap256`, with no target.
# Tools: bash, cargo, python3 (stdlib), openssl; aws (awscli) optional.
set -euo pipefail

RUNS=15
BATCH_RUNS=5
TARGETS=1
while (($#)); do
  case "$1" in
    --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
    --batch-runs) BATCH_RUNS=${2:?--batch-runs needs a number}; shift 2 ;;
    --no-targets) TARGETS=0; shift ;;
    -h|--help) sed -n '2,46p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-sign.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TIMER=(python3 scripts/bench_timer.py)
KEY=tests/fixtures/keys/rsa2048-pkcs1.pem
KPID=K2JCJMDEHXQW5F
EXPIRES=1893456000 # 2030-01-01T00:00:00Z, what --date-less-than 2030-01-01 means
HOST=https://d111111abcdef8.cloudfront.net
BATCH=10000
LOOP_URLS=200
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

die() { echo "bench-sign.sh: FAIL: $*" >&2; exit 1; }
note() { echo "bench-sign.sh: $*" >&2; }
for tool in cargo python3 openssl; do command -v "$tool" >/dev/null || die "$tool not found"; done

note "cargo build --release"
cargo build --release --quiet
BIN=$ROOT/target/release/cfsign
note "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# A value of the timer's TSV output: field $2 (2 = median s) of case $1 in file $3.
field() { awk -F'\t' -v n="$1" -v f="$2" '$1 == n { print $f }' "$3"; }
# Quote an argv for bench_timer's shlex.
q() { printf '%q ' "$@"; }
# Arithmetic on decimals.
calc() { python3 -c "print(f'{$1:$2}')"; }

declare -A RESULT   # summary figures
FAILED=()

# ------------------------------------------------------------ 1. one process
URL="$HOST/images/photo.jpg"
SIGN_ARGS=(--url "$URL" --key-pair-id "$KPID" --private-key "file://$KEY" --date-less-than 2030-01-01)
AWS=$(command -v aws || true)
if [[ -n $AWS ]] && [[ $AWS == */shims/aws ]] && command -v pyenv >/dev/null; then
  AWS=$(pyenv which aws) # the shim re-executes pyenv first; time aws itself
fi
TRUE=/bin/true # the program, not the shell builtin
# Two floors, measured beside it: a Rust process that prints one line (what
# any Rust binary pays before its first instruction of work), and OpenSSL's
# own command signing the same canned policy once (what any process that
# signs pays). If they are already near 2x /bin/true, so is any signer.
printf 'fn main() { println!("hello"); }\n' >"$TMP/hello.rs"
rustc -O -o "$TMP/hello" "$TMP/hello.rs"
printf '{"Statement":[{"Resource":"%s","Condition":{"DateLessThan":{"AWS:EpochTime":%s}}}]}' "$URL" "$EXPIRES" >"$TMP/policy.json"
CASES=(--case "cfsign|-|1|$(q "$BIN" sign "${SIGN_ARGS[@]}")" --case "true|-|-|$(q "$TRUE")"
  --case "hello|-|-|$(q "$TMP/hello")"
  --case "openssl|-|-|$(q openssl dgst -sha1 -sign "$KEY" -out /dev/null "$TMP/policy.json")")
if [[ -z $AWS ]]; then
  note "aws not found: skipping the AWS CLI comparison (install it with: python3 -m pip install awscli)"
  RESULT[one]="skipped (no aws)"
  note "1/4: one URL, cfsign vs $TRUE, $RUNS interleaved runs"
else
  note "1/4: one URL, cfsign vs $("$AWS" --version 2>&1 | cut -d' ' -f1) vs $TRUE, $RUNS interleaved runs"
  export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_DEFAULT_REGION=us-east-1
  CASES+=(--case "aws|-|1|$(q "$AWS" cloudfront sign "${SIGN_ARGS[@]}")")
fi
mkdir "$TMP/one"
"${TIMER[@]}" --runs "$RUNS" --keep-output "$TMP/one" "${CASES[@]}" >"$TMP/one.tsv"
t_cf=$(field cfsign 2 "$TMP/one.tsv")
t_true=$(field true 2 "$TMP/one.tsv")
RESULT[one_cf]=$(calc "$t_cf * 1e3" .2f)
RESULT[one_true]=$(calc "$t_true * 1e3" .2f)
RESULT[one_cf_cpu]=$(calc "$(field cfsign 6 "$TMP/one.tsv") * 1e3" .2f)
RESULT[one_true_cpu]=$(calc "$(field true 6 "$TMP/one.tsv") * 1e3" .2f)
RESULT[over_true]=$(calc "$t_cf / $t_true" .2f)
RESULT[hello_true]=$(calc "$(field hello 2 "$TMP/one.tsv") / $t_true" .2f)
RESULT[openssl_true]=$(calc "$(field openssl 2 "$TMP/one.tsv") / $t_true" .2f)
python3 -c "import sys; sys.exit(0 if $t_cf / $t_true <= 2 else 1)" ||
  FAILED+=("one process: cfsign / /bin/true = ${RESULT[over_true]}x > 2x")
if [[ -n $AWS ]]; then
  # The AWS CLI prints no final newline; cfsign does.
  [[ $(cat "$TMP/one/cfsign.out") == "$(cat "$TMP/one/aws.out")" ]] ||
    die "cfsign and aws printed different URLs: $(cat "$TMP/one/cfsign.out") vs $(cat "$TMP/one/aws.out")"
  t_aws=$(field aws 2 "$TMP/one.tsv")
  ratio=$(calc "$t_aws / $t_cf" .0f)
  RESULT[one_aws]=$(calc "$t_aws * 1e3" .1f)
  RESULT[one]=$ratio
  python3 -c "import sys; sys.exit(0 if $t_aws / $t_cf >= 150 else 1)" ||
    FAILED+=("one process: aws/cfsign = ${ratio}x < 150x")
fi

# ------------------------------------------------------------ URL lists
python3 - "$HOST" "$BATCH" >"$TMP/urls.txt" <<'EOF'
import sys
host, n = sys.argv[1], int(sys.argv[2])
kinds = ["jpg", "png", "mp4", "css", "js"]
for i in range(n):
    q = f"?v={i % 7}" if i % 3 == 0 else ""
    print(f"{host}/assets/{i // 100:03d}/file-{i:05d}.{kinds[i % 5]}{q}")
EOF
head -n "$LOOP_URLS" "$TMP/urls.txt" >"$TMP/urls-small.txt"

# ------------------------------------------------------------ 2. openssl loop
cat >"$TMP/openssl-loop.sh" <<'EOF'
# The usual shell recipe: one canned policy, three processes per URL.
while IFS= read -r url; do
  policy='{"Statement":[{"Resource":"'"$url"'","Condition":{"DateLessThan":{"AWS:EpochTime":'"$EXPIRES"'}}}]}'
  sig=$(printf '%s' "$policy" | openssl dgst -sha1 -sign "$KEY" | openssl base64 -A | tr -- '+=/' '-_~')
  sep='?'; [[ $url == *\?* ]] && sep='&'
  printf '%s%sExpires=%s&Signature=%s&Key-Pair-Id=%s\n' "$url" "$sep" "$EXPIRES" "$sig" "$KPID"
done
EOF
note "2/4: $LOOP_URLS URLs, cfsign vs openssl shell loop, $RUNS interleaved runs"
mkdir "$TMP/loop"
export EXPIRES KEY KPID
"${TIMER[@]}" --runs "$RUNS" --keep-output "$TMP/loop" \
  --case "cfsign|$TMP/urls-small.txt|$LOOP_URLS|$(q "$BIN" sign --key-pair-id "$KPID" --private-key "$KEY" --date-less-than 2030-01-01)" \
  --case "openssl|$TMP/urls-small.txt|$LOOP_URLS|$(q bash "$TMP/openssl-loop.sh")" >"$TMP/loop.tsv"
cmp -s "$TMP/loop/cfsign.out" "$TMP/loop/openssl.out" ||
  die "cfsign and the openssl loop signed differently: diff $TMP/loop/{cfsign,openssl}.out"
t_cf=$(field cfsign 2 "$TMP/loop.tsv")
t_ssl=$(field openssl 2 "$TMP/loop.tsv")
RESULT[loop]=$(calc "$t_ssl / $t_cf" .1f)
RESULT[loop_cf]=$(calc "$LOOP_URLS / $t_cf" ,.0f)
RESULT[loop_ssl]=$(calc "$LOOP_URLS / $t_ssl" ,.0f)

# ------------------------------------------------------------ 3. batches
# OpenSSL's own signing rate on every core, the ceiling for the canned
# batches; -mr prints the total as `+F2:k:2048:sign/s:verify/s` for rsa2048
# and `+F4:k:256:sign/s:verify/s` for ecdsap256.
openssl_speed() { # ALGORITHM (rsa2048 or ecdsap256)
  local tag=+F2 bits=2048
  [[ $1 == ecdsap256 ]] && tag=+F4 bits=256
  openssl speed -seconds 5 -multi "$(nproc)" -mr "$1" 2>/dev/null |
    awk -F: -v t="$tag" -v b="$bits" '$1 == t && $3 == b { print $4 }' | tail -n 1
}
note "3/4: openssl speed -multi $(nproc) rsa2048, then $BATCH URLs from stdin (canned SHA-1, SHA-256, one wildcard policy), $BATCH_RUNS interleaved runs, then openssl speed again"
ssl_before=$(openssl_speed rsa2048)
SIGN=(sign --key-pair-id "$KPID" --private-key "$KEY" --date-less-than 2030-01-01)
"${TIMER[@]}" --runs "$BATCH_RUNS" \
  --case "canned|$TMP/urls.txt|$BATCH|$(q "$BIN" "${SIGN[@]}")" \
  --case "sha256|$TMP/urls.txt|$BATCH|$(q "$BIN" "${SIGN[@]}" --hash-algorithm SHA256)" \
  --case "wildcard|$TMP/urls.txt|$BATCH|$(q "$BIN" "${SIGN[@]}" --resource "$HOST/assets/*")" \
  >"$TMP/batch.tsv"
ssl_after=$(openssl_speed rsa2048)
[[ -n $ssl_before && -n $ssl_after ]] || die "could not read openssl speed's sign/s"
ssl=$(calc "($ssl_before + $ssl_after) / 2" .0f)
canned=$(calc "$BATCH / $(field canned 2 "$TMP/batch.tsv")" .0f)
sha256=$(calc "$BATCH / $(field sha256 2 "$TMP/batch.tsv")" .0f)
wild=$(calc "$BATCH / $(field wildcard 2 "$TMP/batch.tsv")" .0f)
RESULT[canned]=$canned
RESULT[sha256]=$sha256
RESULT[wild]=$wild
RESULT[ssl]="$(calc "$ssl_before" ,.0f) before, $(calc "$ssl_after" ,.0f) after"
RESULT[canned_pct]=$(calc "100 * $canned / $ssl" .0f)
RESULT[sha256_pct]=$(calc "100 * $sha256 / $ssl" .0f)
# CPU per URL (user + sys, median run) and the rate that would give on idle cores.
cpu_ms=$(calc "$(field canned 6 "$TMP/batch.tsv") * 1e3 / $BATCH" .3f)
RESULT[canned_cpu]="$cpu_ms ms CPU/URL, $(calc "$(nproc) * 1e3 / $cpu_ms" ,.0f) URLs/s on $(nproc) idle cores"
((canned >= 1000)) || FAILED+=("canned RSA-2048 batch: $canned URLs/s < 1,000")
for c in canned sha256; do
  python3 -c "import sys; sys.exit(0 if ${RESULT[$c]} >= 0.95 * $ssl else 1)" ||
    FAILED+=("$c batch: ${RESULT[$c]} URLs/s = ${RESULT[${c}_pct]} % of openssl speed's $ssl sign/s (mean) < 95 %")
done
((wild >= 100000)) || FAILED+=("one wildcard policy: $wild URLs/s < 100,000")

# ------------------------------------------------------------ 4. ECDSA batch
EC_KEY=tests/fixtures/keys/ec-p256-pkcs8.pem
note "4/4: openssl speed -multi $(nproc) ecdsap256, then $BATCH URLs signed with ECDSA P-256, $BATCH_RUNS runs, then openssl speed again"
ec_before=$(openssl_speed ecdsap256)
"${TIMER[@]}" --runs "$BATCH_RUNS" \
  --case "ecdsa|$TMP/urls.txt|$BATCH|$(q "$BIN" sign --key-pair-id "$KPID" --private-key "$EC_KEY" --date-less-than 2030-01-01)" \
  >"$TMP/ecdsa.tsv"
ec_after=$(openssl_speed ecdsap256)
[[ -n $ec_before && -n $ec_after ]] || die "could not read openssl speed's ecdsap256 sign/s"
ec_ssl=$(calc "($ec_before + $ec_after) / 2" .0f)
ecdsa=$(calc "$BATCH / $(field ecdsa 2 "$TMP/ecdsa.tsv")" .0f)
RESULT[ec_ssl]="$(calc "$ec_before" ,.0f) before, $(calc "$ec_after" ,.0f) after"
RESULT[ecdsa_pct]=$(calc "100 * $ecdsa / $ec_ssl" .0f)
ec_cpu_ms=$(calc "$(field ecdsa 6 "$TMP/ecdsa.tsv") * 1e3 / $BATCH" .3f)
RESULT[ecdsa_cpu]="$ec_cpu_ms ms CPU/URL, $(calc "$(nproc) * 1e3 / $ec_cpu_ms" ,.0f) URLs/s on $(nproc) idle cores"

# ------------------------------------------------------------ summary
fmt() { python3 -c "print(f'{$1:,}')"; }
row() { printf '%-46s %-30s %s\n' "$@"; }
echo
echo "cfsign sign benchmark — $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), medians"
row case result target
row "one URL: cfsign, /bin/true (ms per process)" "${RESULT[one_cf]} ms, ${RESULT[one_true]} ms" ""
row "  CPU per process: cfsign, /bin/true" "${RESULT[one_cf_cpu]} ms, ${RESULT[one_true_cpu]} ms" ""
row "one URL: cfsign / /bin/true" "${RESULT[over_true]}x" "<= 2x"
row "  floors: Rust hello, openssl dgst -sign (/ true)" "${RESULT[hello_true]}x, ${RESULT[openssl_true]}x" ""
if [[ ${RESULT[one]} == skipped* ]]; then
  row "one URL: aws cloudfront sign / cfsign" "${RESULT[one]}" ">= 150x"
else
  row "one URL: aws (ms per process)" "${RESULT[one_aws]} ms" ""
  row "one URL: aws cloudfront sign / cfsign" "${RESULT[one]}x" ">= 150x"
fi
row "$LOOP_URLS URLs: openssl loop, cfsign (URLs/s)" "${RESULT[loop_ssl]}, ${RESULT[loop_cf]}" ""
row "$LOOP_URLS URLs: openssl loop / cfsign" "${RESULT[loop]}x" ""
row "openssl speed -multi $(nproc) rsa2048 (sign/s)" "${RESULT[ssl]}" ""
row "$(fmt "$BATCH") URLs, canned RSA-2048 SHA-1" "$(fmt "$canned") URLs/s, ${RESULT[canned_pct]} %" ">= 95 % of openssl, >= 1,000"
row "$(fmt "$BATCH") URLs, canned RSA-2048 SHA-256" "$(fmt "$sha256") URLs/s, ${RESULT[sha256_pct]} %" ">= 95 % of openssl"
printf '%-46s %s\n' "  canned: CPU cost, and the idle ceiling" "${RESULT[canned_cpu]}"
row "$(fmt "$BATCH") URLs, one wildcard policy" "$(fmt "$wild") URLs/s" ">= 100,000"
row "openssl speed -multi $(nproc) ecdsap256 (sign/s)" "${RESULT[ec_ssl]}" ""
row "$(fmt "$BATCH") URLs, canned ECDSA P-256 SHA-256" "$(fmt "$ecdsa") URLs/s, ${RESULT[ecdsa_pct]} %" "(measured, no target)"
printf '%-46s %s\n' "  ECDSA: CPU cost, and the idle ceiling" "${RESULT[ecdsa_cpu]}"

if ((${#FAILED[@]})); then
  for f in "${FAILED[@]}"; do echo "target missed: $f"; done
  ((TARGETS)) && exit 1
fi
exit 0
