#!/usr/bin/env bash
# Times default `bitswap encode` (which probes the model and may calibrate it, or codes a
# decoded JPEG through its Y'CbCr planes) against `--coder fallback` on the same images, in
# one run, best of REPS, and prints the ratios and how many patches the model coded
# (issue: "the choice costs little"; docs/coding.md).
#
#   scripts/choice-cost.sh [REPS] IMAGE...
set -euo pipefail
reps=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/bitswap" ./cmd/bitswap
. "$(dirname "$0")/lib.sh"
printf '%-44s %9s %9s %6s %10s %10s  %s\n' image fallback default ratio fb-bytes def-bytes model-coded
for img in "$@"; do
  fb=$(best "$tmp/bitswap" encode -f --coder fallback "$img" -o "$tmp/f.bsw")
  def=$(best "$tmp/bitswap" encode -f "$img" -o "$tmp/d.bsw")
  coded=$("$tmp/bitswap" info "$tmp/d.bsw" | sed -n 's/^model-coded patches: \([^:]*\).*/\1/p')
  printf '%-44.44s %8.2fs %8.2fs %5.2fx %10d %10d  %s\n' "$(basename "$img")" "$fb" "$def" \
    "$(echo "$def / $fb" | bc -l)" "$(stat -c %s "$tmp/f.bsw")" "$(stat -c %s "$tmp/d.bsw")" "$coded"
done
