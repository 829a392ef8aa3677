#!/usr/bin/env bash
# The whole loop on one machine, without AWS: make a key pair, start
# `cfsign serve` (a local CloudFront edge on a folder) trusting its public key,
# upload a file with `cfsign put`, download it with `cfsign get`, compare,
# sign and verify a URL, and watch an unsigned request get CloudFront's 403.
#
#   bash examples/local-roundtrip.sh
#
# Builds cfsign first (cargo build --release) unless CFSIGN names a binary to
# use. Needs curl for the last step. Leaves nothing behind: the server is
# stopped and the scratch folder removed however the script ends.
# shellcheck disable=SC2016 # the commands shown are printed, not expanded
set -euo pipefail

if [[ -n ${CFSIGN:-} ]]; then
  cfsign=$CFSIGN
else
  repo=$(cd "$(dirname "$0")/.." && pwd)
  echo "==> building cfsign (cargo build --release)"
  cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
  cfsign=$repo/target/release/cfsign
fi
# An absolute path: the steps below run in the scratch folder.
[[ $cfsign == */* && $cfsign != /* ]] && cfsign=$PWD/$cfsign
command -v curl >/dev/null || { echo "local-roundtrip: curl is needed for the last step" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cfsign-roundtrip.XXXXXX")
serve_pid=
cleanup() {
  if [[ -n $serve_pid ]]; then
    kill "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$work"

n=0
step() {
  n=$((n + 1))
  printf '\n==> %d. %s\n' "$n" "$1"
}
# Prints a command (with `cfsign` for the binary's path), then runs it.
run() {
  local shown=("$@")
  [[ ${shown[0]} == "$cfsign" ]] && shown[0]=cfsign
  printf '$ %s\n' "${shown[*]}"
  "$@"
}

# Any ID will do locally; on AWS it is the one CloudFront gives the public key.
key_id=KLOCALROUNDTRIP

step "a CloudFront-ready key pair"
mkdir keys bucket
run "$cfsign" keygen --out keys

step "a local CloudFront edge on ./bucket, trusting the public key"
printf '$ cfsign serve --listen 127.0.0.1:0 --root bucket --public-key %s=keys/public_key.pem &\n' "$key_id"
"$cfsign" serve --listen 127.0.0.1:0 --root bucket --public-key "$key_id=keys/public_key.pem" \
  >serve.out 2>serve.log &
serve_pid=$!
# Its first stdout line is the address it listens on.
for _ in $(seq 200); do
  [[ -s serve.out ]] && break
  kill -0 "$serve_pid" 2>/dev/null || { cat serve.log >&2; exit 1; }
  sleep 0.05
done
read -r base <serve.out || true
[[ $base == http://* ]] || { echo "local-roundtrip: serve did not start" >&2; cat serve.log >&2; exit 1; }
echo "listening on $base"

# put and get sign every request with this key, as they would for CloudFront.
export CLOUDFRONT_KEY_PAIR_ID=$key_id CLOUDFRONT_PRIVATE_KEY_FILE=keys/private_key.pem
url=$base/uploads/payload.bin

step "upload a file (1 MiB of random bytes)"
head -c 1048576 /dev/urandom >payload.bin
run "$cfsign" put payload.bin "$url"

step "download it again"
run "$cfsign" get "$url" -o downloaded.bin

step "compare"
run cmp payload.bin downloaded.bin
echo "identical"

step "sign a URL for 5 minutes, and verify it as CloudFront would"
printf '$ signed=$(cfsign sign %s --expires-in 5m)\n' "$url"
signed=$("$cfsign" sign "$url" --expires-in 5m)
echo "$signed"
printf '$ cfsign verify "$signed" --public-key %s=keys/public_key.pem\n' "$key_id"
"$cfsign" verify "$signed" --public-key "$key_id=keys/public_key.pem"

step "the signed URL is served; an unsigned request gets CloudFront's 403"
printf '$ curl -s -o /dev/null -w %%{http_code} "$signed"\n'
code=$(curl -s -o /dev/null -w '%{http_code}' "$signed")
echo "$code"
[[ $code == 200 ]] || { echo "local-roundtrip: expected 200 for the signed URL" >&2; exit 1; }
printf '$ curl -s -w "\\n%%{http_code}\\n" %s\n' "$url"
answer=$(curl -s -w '\n%{http_code}' "$url")
echo "$answer"
[[ $answer == *MissingKey* && $answer == *$'\n'403 ]] || {
  echo "local-roundtrip: expected 403 MissingKey for the unsigned URL" >&2
  exit 1
}

step "the server's request log"
cat serve.log

printf '\nlocal round trip: OK\n'
