#!/usr/bin/env bash
# Times the model coding every patch of IMAGE (encode and decode, bitswap scheme, as
# BenchmarkCodingRate's bitswap-allvae-k10 does: the default encoder would give a losing
# model's patches to the fallback coder) against cjxl -d 0 -e 7 / djxl on the same image,
# in one run, best of REPS, and prints the ratios (docs/coding.md, issue "speed with the
# model coding"). Needs cjxl and djxl (Debian: libjxl-tools). Stop training first.
#
#   scripts/speed.sh IMAGE [REPS]
set -euo pipefail
img=$(realpath "$1")
reps=${2:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
go test -c -o "$tmp/bitswap.test" ./bitswap
(cd bitswap && BITSWAP_MEASURE_IMAGES="$img" "$tmp/bitswap.test" -test.run '^$' \
  -test.bench 'CodingRate/.*/bitswap-allvae-k10$' -test.benchtime 1x -test.count "$reps") >"$tmp/bench.txt"
# the best encode and decode times over the runs
metric() { grep -o "[0-9.]* $1" "$tmp/bench.txt" | awk 'NR == 1 || $1 < b { b = $1 } END { print b }'; }
enc=$(metric encode-sec/op)
dec=$(metric decode-sec/op)
rate=$(grep -o '[0-9.]* bits/dim' "$tmp/bench.txt" | head -1)
jenc=$(best cjxl -d 0 -e 7 "$img" "$tmp/x.jxl")
jdec=$(best djxl "$tmp/x.jxl" "$tmp/y.png")
printf 'image %s, best of %d\n' "$img" "$reps"
printf 'model on every patch: encode %.2f s, decode %.2f s (%s)\n' "$enc" "$dec" "$rate"
printf 'cjxl -d 0 -e 7 %.2f s, djxl %.2f s (%d bytes)\n' "$jenc" "$jdec" "$(stat -c %s "$tmp/x.jxl")"
printf 'ratio to cjxl: encode %.1fx, decode %.1fx\n' "$(echo "$enc / $jenc" | bc -l)" "$(echo "$dec / $jenc" | bc -l)"
