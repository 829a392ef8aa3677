#!/usr/bin/env bash
# Benchmark `cfsign get` against `curl -o` on loopback: a 1 GiB object, runs
# interleaved (the order alternating each round), medians compared. Fails when
# cfsign's median is over MAX_RATIO times curl's, or its peak RSS is over
# MAX_RSS_MIB.
#
#   bash scripts/bench-get.sh                 # 1 GiB, 5 rounds
#   SIZE_MIB=256 RUNS=3 bash scripts/bench-get.sh
#   BENCH_DIR=/dev/shm bash scripts/bench-get.sh   # memory-backed: no disk in the figures
#
# The server is `cfsign serve` when this build has it (URLs signed with the
# test key), else `python3 -m http.server`. Both tools fetch the same URL.
# cfsign fsyncs the file before renaming it into place and curl does not, so
# on a disk the comparison includes that flush.
set -euo pipefail

SIZE_MIB=${SIZE_MIB:-1024}
RUNS=${RUNS:-5}
MAX_RATIO=${MAX_RATIO:-1.05}
MAX_RSS_MIB=${MAX_RSS_MIB:-32}

cd "$(dirname "$0")/.."
root=$PWD
cargo build --release --quiet
bin=$root/target/release/cfsign

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/cfsign-bench.XXXXXX")
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/root" "$work/out"
object=$work/root/object.bin
head -c $((SIZE_MIB << 20)) /dev/urandom >"$object"

# Start a server and read its address from its first line of output.
log=$work/server.log
if "$bin" serve --help >/dev/null 2>&1; then
  server=cfsign-serve
  "$bin" serve --root "$work/root" --listen 127.0.0.1:0 \
    --public-key "K2JCJMDEHXQW5F=$root/tests/fixtures/keys/rsa2048-public.pem" >"$log" 2>&1 &
else
  server=python3-http.server
  (cd "$work/root" && exec python3 -u -m http.server 0 --bind 127.0.0.1) >"$log" 2>&1 &
fi
server_pid=$!
for _ in $(seq 100); do
  addr=$(grep -Eo '127\.0\.0\.1[: ]+(port )?[0-9]+' "$log" | head -1 | sed -E 's/[: ]+(port )?/:/') || true
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { echo "bench-get: the server did not start:" >&2; cat "$log" >&2; exit 1; }
url=http://$addr/object.bin
if [ "$server" = cfsign-serve ]; then
  chmod 600 "$root/tests/fixtures/keys/rsa2048-pkcs8.pem"
  url=$("$bin" sign "$url" --key-pair-id K2JCJMDEHXQW5F \
    --private-key "$root/tests/fixtures/keys/rsa2048-pkcs8.pem" --expires-in 1h)
fi

# Runs a command; prints "<wall seconds> <peak RSS KiB>".
measure() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>"$work/stderr" ||
      { cat "$work/stderr" >&2; return 1; }
    cat "$work/time"
  else
    python3 - "$@" <<'EOF'
import os, sys, time
start = time.perf_counter()
pid = os.spawnvp(os.P_NOWAIT, sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
if status != 0:
    sys.exit(1)
print(f"{time.perf_counter() - start:.2f} {usage.ru_maxrss}")
EOF
  fi
}

run_curl() { rm -f "$work/out/curl.bin"; measure curl -sSf -o "$work/out/curl.bin" "$url"; }
run_cfsign() { rm -f "$work/out/cfsign.bin"; measure "$bin" get "$url" -o "$work/out/cfsign.bin" --quiet; }

echo "bench-get: ${SIZE_MIB} MiB from $server at $addr, $RUNS interleaved rounds, in $work"
curl_times=() cfsign_times=() peak_rss=0
for round in $(seq "$RUNS"); do
  if [ $((round % 2)) -eq 1 ]; then
    c=$(run_curl); g=$(run_cfsign)
  else
    g=$(run_cfsign); c=$(run_curl)
  fi
  read -r ct _ <<<"$c"
  read -r gt rss <<<"$g"
  cmp -s "$object" "$work/out/cfsign.bin" || { echo "bench-get: cfsign's copy differs" >&2; exit 1; }
  curl_times+=("$ct") cfsign_times+=("$gt")
  [ "$rss" -gt "$peak_rss" ] && peak_rss=$rss
  printf '  round %d: curl %6.2fs  cfsign %6.2fs  (cfsign peak RSS %d KiB)\n' "$round" "$ct" "$gt" "$rss"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
curl_median=$(median "${curl_times[@]}")
cfsign_median=$(median "${cfsign_times[@]}")
ratio=$(awk -v a="$cfsign_median" -v b="$curl_median" 'BEGIN {printf "%.3f", a/b}')
rss_mib=$(awk -v k="$peak_rss" 'BEGIN {printf "%.1f", k/1024}')
mib_s() { awk -v s="$1" -v m="$SIZE_MIB" 'BEGIN {printf "%.0f", m/s}'; }
echo "median: curl ${curl_median}s ($(mib_s "$curl_median") MiB/s), cfsign ${cfsign_median}s ($(mib_s "$cfsign_median") MiB/s)"
echo "ratio cfsign/curl: $ratio (limit $MAX_RATIO); cfsign peak RSS: $rss_mib MiB (limit $MAX_RSS_MIB MiB)"

status=0
awk -v r="$ratio" -v m="$MAX_RATIO" 'BEGIN {exit !(r > m)}' && { echo "FAIL: slower than curl by more than the limit"; status=1; }
awk -v r="$rss_mib" -v m="$MAX_RSS_MIB" 'BEGIN {exit !(r > m)}' && { echo "FAIL: peak RSS over the limit"; status=1; }
[ "$status" -eq 0 ] && echo "ok"
exit "$status"
