#!/usr/bin/env bash
# Times bitswap encode/decode against cjxl -d 0 -e 7 / djxl on the same image, in one run,
# and prints the ratios (docs/coding.md). Needs cjxl and djxl (Debian: libjxl-tools).
#
#   scripts/speed.sh IMAGE [REPS]
set -euo pipefail
img=$1
reps=${2:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/bitswap" ./cmd/bitswap
. "$(dirname "$0")/lib.sh"
enc=$(best "$tmp/bitswap" encode -f "$img" -o "$tmp/x.bsw")
dec=$(best "$tmp/bitswap" decode -f "$tmp/x.bsw" -o "$tmp/x.png")
jenc=$(best cjxl -d 0 -e 7 "$img" "$tmp/x.jxl")
jdec=$(best djxl "$tmp/x.jxl" "$tmp/y.png")
printf 'image %s, best of %d\n' "$img" "$reps"
printf 'bitswap encode %.2f s, decode %.2f s (%d bytes)\n' "$enc" "$dec" "$(stat -c %s "$tmp/x.bsw")"
printf 'cjxl -d 0 -e 7 %.2f s, djxl %.2f s (%d bytes)\n' "$jenc" "$jdec" "$(stat -c %s "$tmp/x.jxl")"
printf 'ratio encode %.1fx, decode %.1fx\n' "$(echo "$enc / $jenc" | bc -l)" "$(echo "$dec / $jdec" | bc -l)"
