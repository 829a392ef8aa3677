#!/usr/bin/env bash
# What a CI job runs to upload its build artifacts through CloudFront to a
# private S3 bucket with `cfsign put`.
#
#   ci-upload.sh DIR URL_PREFIX/ [more `cfsign put` options]
#
# uploads the files under DIR (keeping their relative paths) to URL_PREFIX/,
# writes one JSON line per uploaded object to the result log, and exits with
# cfsign's code, explained in one line: 3 refused, 4 network, 5 integrity.
#
# Environment:
#   CLOUDFRONT_KEY_PAIR_ID   the public key's ID in CloudFront (required)
#   CLOUDFRONT_PRIVATE_KEY   the private key's PEM text, from the CI secret store
#                            (literal \n escapes are fine); or CLOUDFRONT_PRIVATE_KEY_FILE
#   UPLOAD_JOBS              objects uploaded at a time (default 8)
#   UPLOAD_EXPIRES_IN        lifetime of each signature (default 15m; re-signed per attempt)
#   UPLOAD_RESULT_LOG        the JSON result log (default cfsign-upload.jsonl)
#   CFSIGN                   the cfsign binary (default: cfsign on PATH)
#
# The key never appears in the job log: cfsign reads it from the environment
# and prints neither keys nor signatures. Do not add `set -x` here.
set -euo pipefail

# Fails the job with a readable reason; on GitHub Actions also as an annotation.
fail() {
  local code=$1 reason=$2
  echo "ci-upload: $reason (exit $code)" >&2
  if [[ ${GITHUB_ACTIONS:-} == true ]]; then
    echo "::error title=upload failed (exit $code)::$reason"
  fi
  exit "$code"
}

[[ $# -ge 2 ]] || fail 2 "usage: ci-upload.sh DIR URL_PREFIX/ [cfsign put options]"
dir=${1%/}/
prefix=$2
shift 2
[[ -d $dir ]] || fail 2 "$dir is not a folder"
[[ $prefix == */ ]] || fail 2 "the URL prefix must end with / (got $prefix)"
[[ -n ${CLOUDFRONT_KEY_PAIR_ID:-} ]] ||
  fail 2 "set CLOUDFRONT_KEY_PAIR_ID to the public key's ID in CloudFront"
[[ -n ${CLOUDFRONT_PRIVATE_KEY:-} || -n ${CLOUDFRONT_PRIVATE_KEY_FILE:-} ]] ||
  fail 2 "set CLOUDFRONT_PRIVATE_KEY from the CI secret holding the private key's PEM text"

cfsign=${CFSIGN:-cfsign}
log=${UPLOAD_RESULT_LOG:-cfsign-upload.jsonl}

# Progress bars only appear on a terminal, so the log holds the JSON lines
# (one per object, in input order) and cfsign's one-line errors on stderr.
status=0
"$cfsign" put -r "$dir" "$prefix" \
  --jobs "${UPLOAD_JOBS:-8}" --expires-in "${UPLOAD_EXPIRES_IN:-15m}" --format json "$@" \
  >"$log" || status=$?
uploaded=$(wc -l <"$log" | tr -d ' ')

case $status in
  0) echo "ci-upload: uploaded $uploaded objects to $prefix; results in $log" ;;
  2) fail 2 "bad input: a flag, the key, or a file (see the line above)" ;;
  3) fail 3 "CloudFront or S3 refused an upload ($uploaded uploaded): check the key pair ID and key group, that the cache behaviour allows PUT, and that the bucket policy lets the distribution s3:PutObject" ;;
  4) fail 4 "network failure or 5xx after retries ($uploaded uploaded): rerunning the job is safe" ;;
  5) fail 5 "integrity failure ($uploaded uploaded): an ETag was not the MD5 of its file, or a file changed while uploading; do not publish this build" ;;
  130) fail 130 "interrupted" ;;
  *) fail "$status" "cfsign put failed ($uploaded uploaded)" ;;
esac
