#!/usr/bin/env bash
# Benchmark `cfsign get` against curl on loopback: a 1 GiB object, rounds
# interleaved (the order alternating each round), medians compared. Fails when
# cfsign's median is over MAX_RATIO times curl's, or its peak RSS is over
# MAX_RSS_MIB.
#
#   bash scripts/bench-get.sh                      # 1 GiB, 5 rounds
#   SIZE_MIB=256 RUNS=3 bash scripts/bench-get.sh
#
# Two comparisons, because cfsign fsyncs the file before renaming it into
# place and `curl -o` does not:
#   memory  the files land in /dev/shm, where fsync costs nothing: the two
#           tools' own speed, against plain `curl -o`;
#   disk    the files land in $TMPDIR: against `curl -o FILE && sync FILE`,
#           the same durability; plain `curl -o` is printed alongside (it
#           returns before the disk has the data).
# Every measured run starts with no dirty pages (`sync` before it, untimed).
#
# The server is `cfsign serve` when this build has it (URLs signed with the
# test key), else `python3 -m http.server`. Both tools fetch the same URL.
set -euo pipefail

SIZE_MIB=${SIZE_MIB:-1024}
RUNS=${RUNS:-5}
MAX_RATIO=${MAX_RATIO:-1.05}
MAX_RSS_MIB=${MAX_RSS_MIB:-32}

cd "$(dirname "$0")/.."
root=$PWD
cargo build --release --quiet
bin=$root/target/release/cfsign

work=$(mktemp -d "${TMPDIR:-/tmp}/cfsign-bench.XXXXXX")
shm=
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  rm -rf "$work" ${shm:+"$shm"}
}
trap cleanup EXIT
mkdir "$work/root" "$work/out"
object=$work/root/object.bin
head -c $((SIZE_MIB << 20)) /dev/urandom >"$object"

# Start a server and read its address from its first line of output.
log=$work/server.log
if "$bin" serve --help >/dev/null 2>&1; then
  server=cfsign-serve
  "$bin" serve --root "$work/root" --listen 127.0.0.1:0 --read-only --quiet \
    --public-key "K2JCJMDEHXQW5F=$root/tests/fixtures/keys/rsa2048-public.pem" >"$log" 2>&1 &
else
  server=python3-http.server
  (cd "$work/root" && exec python3 -u -m http.server 0 --bind 127.0.0.1) >"$log" 2>&1 &
fi
server_pid=$!
addr=
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

# Runs a command after an untimed `sync`; prints "<wall seconds> <peak RSS KiB>".
measure() {
  sync
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

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a/b}'; }
mib_s() { awk -v s="$1" -v m="$SIZE_MIB" 'BEGIN {printf "%.0f", m/s}'; }

status=0
peak_rss=0

# bench LABEL DIR SYNC_CURL: interleaved rounds into DIR; with SYNC_CURL=1 the
# reference is `curl -o F && sync F` and plain curl is timed alongside.
bench() {
  local label=$1 dir=$2 sync_curl=$3
  local ref_times=() plain_times=() cfsign_times=()
  local c p g ct pt gt rss round
  for round in $(seq "$RUNS"); do
    rm -f "$dir/curl.bin" "$dir/cfsign.bin"
    run_ref() {
      rm -f "$dir/curl.bin"
      if [ "$sync_curl" = 1 ]; then
        measure sh -c 'curl -sSf -o "$1" "$2" && sync "$1"' sh "$dir/curl.bin" "$url"
      else
        measure curl -sSf -o "$dir/curl.bin" "$url"
      fi
    }
    run_cfsign() { rm -f "$dir/cfsign.bin"; measure "$bin" get "$url" -o "$dir/cfsign.bin" --quiet; }
    if [ $((round % 2)) -eq 1 ]; then
      c=$(run_ref); g=$(run_cfsign)
    else
      g=$(run_cfsign); c=$(run_ref)
    fi
    p=$c
    if [ "$sync_curl" = 1 ]; then
      rm -f "$dir/curl.bin"
      p=$(measure curl -sSf -o "$dir/curl.bin" "$url")
    fi
    cmp -s "$object" "$dir/cfsign.bin" || { echo "bench-get: cfsign's copy differs" >&2; exit 1; }
    read -r ct _ <<<"$c"
    read -r pt _ <<<"$p"
    read -r gt rss <<<"$g"
    ref_times+=("$ct") plain_times+=("$pt") cfsign_times+=("$gt")
    [ "$rss" -gt "$peak_rss" ] && peak_rss=$rss
    if [ "$sync_curl" = 1 ]; then
      printf '  %s round %d: curl+sync %6.2fs  curl %6.2fs  cfsign %6.2fs  (RSS %d KiB)\n' \
        "$label" "$round" "$ct" "$pt" "$gt" "$rss"
    else
      printf '  %s round %d: curl %6.2fs  cfsign %6.2fs  (RSS %d KiB)\n' "$label" "$round" "$ct" "$gt" "$rss"
    fi
  done
  rm -f "$dir/curl.bin" "$dir/cfsign.bin"
  local ref_m plain_m cfsign_m r
  ref_m=$(median "${ref_times[@]}")
  plain_m=$(median "${plain_times[@]}")
  cfsign_m=$(median "${cfsign_times[@]}")
  r=$(ratio "$cfsign_m" "$ref_m")
  if [ "$sync_curl" = 1 ]; then
    echo "$label median: curl+sync ${ref_m}s, cfsign ${cfsign_m}s ($(mib_s "$cfsign_m") MiB/s): ratio $r (limit $MAX_RATIO);" \
      "plain curl -o ${plain_m}s: ratio $(ratio "$cfsign_m" "$plain_m") (not checked)"
  else
    echo "$label median: curl ${ref_m}s ($(mib_s "$ref_m") MiB/s), cfsign ${cfsign_m}s ($(mib_s "$cfsign_m") MiB/s): ratio $r (limit $MAX_RATIO)"
  fi
  if awk -v r="$r" -v m="$MAX_RATIO" 'BEGIN {exit !(r > m)}'; then
    echo "FAIL ($label): slower than curl by more than the limit"
    status=1
  fi
}

echo "bench-get: ${SIZE_MIB} MiB from $server at $addr, $RUNS interleaved rounds"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  shm=$(mktemp -d /dev/shm/cfsign-bench.XXXXXX)
  bench memory "$shm" 0
fi
bench disk "$work/out" 1

rss_mib=$(awk -v k="$peak_rss" 'BEGIN {printf "%.1f", k/1024}')
echo "cfsign peak RSS: $rss_mib MiB (limit $MAX_RSS_MIB MiB)"
if awk -v r="$rss_mib" -v m="$MAX_RSS_MIB" 'BEGIN {exit !(r > m)}'; then
  echo "FAIL: peak RSS over the limit"
  status=1
fi
[ "$status" -eq 0 ] && echo "ok"
exit "$status"
