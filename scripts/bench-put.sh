#!/usr/bin/env bash
# Peak memory and speed of `cfsign put` for a 1 GiB upload over loopback.
#
#   scripts/bench-put.sh [--runs N] [--size MIB] [--server sink|s3|serve]... [--memory]
#
# 1. Peak RSS of one upload (/usr/bin/time -v, else, or with BENCH_RUSAGE=1, python3's
#    getrusage(RUSAGE_CHILDREN)); fails when over 32 MiB.
# 2. Wall time of `cfsign put FILE URL` against the usual shell recipe,
#    `openssl dgst -sha256` then `curl -XPUT --upload-file` with the
#    x-amz-content-sha256 and x-amz-acl headers, in interleaved runs (the
#    order alternates); prints the medians and their ratio (target <= 1.0).
#
# Servers: `serve` is `cfsign serve` (used by default when the binary has it);
# `sink` (scripts/put-sink.py) reads and discards, so only the clients'
# work is measured; `s3` is the same sink doing what S3 does per PUT
# (recompute the SHA-256, answer the MD5 as ETag). The file is read from the
# page cache in every run (it is written just before).
#
# `cfsign serve` stores under $TMPDIR, on disk. `--memory` puts its store in
# /dev/shm instead (3 GiB free needed for 1 GiB runs), where its fsync costs
# nothing and runs scatter much less. That is not a stricter test: removing
# a cost both sides share moves a ratio away from 1, in either direction.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=5
size_mib=1024
servers=()
memory=
rss_limit_kib=$((32 * 1024))
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --size) size_mib=$2; shift 2 ;;
    --server) servers+=("$2"); shift 2 ;;
    --memory) memory=1; shift ;;
    *) echo "usage: $0 [--runs N] [--size MIB] [--server sink|s3|serve]... [--memory]" >&2; exit 2 ;;
  esac
done

cargo build --release --quiet
bin=$PWD/target/release/cfsign
key_id=K2JCJMDEHXQW5F
public_key=$PWD/tests/fixtures/keys/rsa2048-public.pem
private_key=$PWD/tests/fixtures/keys/rsa2048-pkcs8.pem
chmod 600 "$private_key"
if [ ${#servers[@]} -eq 0 ]; then
  if "$bin" serve --help >/dev/null 2>&1; then servers=(serve sink); else servers=(sink s3); fi
fi

work=$(mktemp -d)
store=$work/root
if [ -n "$memory" ]; then
  need_kib=$((3 * size_mib * 1024))
  free_kib=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $4}')
  if [ -z "$free_kib" ] || [ "$free_kib" -lt "$need_kib" ]; then
    echo "--memory: /dev/shm needs $((need_kib >> 10)) MiB free" >&2
    exit 2
  fi
  store=$(mktemp -d /dev/shm/cfsign-bench-put.XXXXXX)
fi
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work" "$store"
}
trap cleanup EXIT

file=$work/upload.bin
head -c $((size_mib << 20)) /dev/urandom >"$file"
# Written back now, not by the kernel in the middle of the first runs.
sync "$file"

# Starts a server; sets $base (http://127.0.0.1:PORT) and $server_pid.
start_server() {
  local out=$work/server.out
  : >"$out"
  case "$1" in
    serve)
      mkdir -p "$store"
      "$bin" serve --listen 127.0.0.1:0 --root "$store" \
        --public-key "$key_id=$public_key" >"$out" 2>"$work/server.err" &
      ;;
    sink) python3 scripts/put-sink.py >"$out" &;;
    s3) python3 scripts/put-sink.py --s3 >"$out" &;;
    *) echo "unknown server $1" >&2; exit 2 ;;
  esac
  server_pid=$!
  for _ in $(seq 100); do
    base=$(head -1 "$out" | grep -oE '[0-9.]+:[0-9]+' | head -1 || true)
    [ -n "$base" ] && { base=http://$base; return; }
    sleep 0.1
  done
  echo "the $1 server did not start" >&2
  exit 1
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

# `cfsign put` for the current server (serve checks signatures, so sign).
cfsign_put() {
  local cmd=("$bin" put --quiet "$file" "$base/bench/cfsign.bin")
  [ "$server" = serve ] && cmd+=(--key-pair-id "$key_id" --private-key "$private_key")
  "$@" "${cmd[@]}" >/dev/null
}

recipe_put() {
  local sha
  sha=$(openssl dgst -sha256 -r "$file" | cut -d' ' -f1)
  curl -sS -f -o /dev/null -XPUT --upload-file "$file" \
    -H "x-amz-content-sha256: $sha" -H "x-amz-acl: bucket-owner-full-control" \
    "$recipe_url"
}

now_ns() { date +%s%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "cfsign put, $size_mib MiB file, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); serve stores in $store"

# 1. Peak memory.
server=${servers[0]}
start_server "$server"
if [ -x /usr/bin/time ] && [ -z "${BENCH_RUSAGE:-}" ]; then
  cfsign_put /usr/bin/time -v 2>"$work/time.txt"
  rss_kib=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/time.txt")
  how="/usr/bin/time -v"
else
  rss_kib=$(cfsign_put python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)' 2>&1 >/dev/null)
  how="getrusage(RUSAGE_CHILDREN)"
fi
stop_server
rss_mib=$(awk -v k="$rss_kib" 'BEGIN {printf "%.1f", k / 1024}')
if [ "$rss_kib" -gt "$rss_limit_kib" ]; then
  echo "peak RSS: $rss_mib MiB ($how, server $server) — OVER the 32 MiB limit"
  exit 1
fi
echo "peak RSS: $rss_mib MiB ($how, server $server) — within 32 MiB"

# 2. Speed, per server.
for server in "${servers[@]}"; do
  start_server "$server"
  recipe_url=$base/bench/recipe.bin
  if [ "$server" = serve ]; then
    recipe_url=$("$bin" sign "$recipe_url" --key-pair-id "$key_id" --private-key "$private_key" --expires-in 1h)
  fi
  # One untimed upload each first: the objects exist, the caches are warm.
  cfsign_put
  recipe_put
  ours=() theirs=()
  for i in $(seq "$runs"); do
    for who in $( ((i % 2)) && echo "cfsign recipe" || echo "recipe cfsign"); do
      t0=$(now_ns)
      if [ "$who" = cfsign ]; then cfsign_put; else recipe_put; fi
      t=$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
      if [ "$who" = cfsign ]; then ours+=("$t"); else theirs+=("$t"); fi
    done
  done
  stop_server
  m_ours=$(median "${ours[@]}")
  m_theirs=$(median "${theirs[@]}")
  ratio=$(awk -v a="$m_ours" -v b="$m_theirs" 'BEGIN {printf "%.2f", a / b}')
  verdict=$(awk -v r="$ratio" 'BEGIN {print (r <= 1.0) ? "meets the target <= 1.0" : "ABOVE the target <= 1.0"}')
  echo "server $server: cfsign put median ${m_ours} s (${ours[*]}); openssl+curl median ${m_theirs} s (${theirs[*]}); ratio $ratio, $verdict"
done
