#!/usr/bin/env bash
# Every SVG `sushi serve` writes renders to a non-empty PNG with rsvg-convert (librsvg2-bin), which also
# rejects malformed XML; each SVG must be well-formed (one <svg> root, closed). Usage: render_svgs.sh SUSHI
set -euo pipefail
sushi=$1
out=build/test_tmp/render_svgs
rm -rf "$out" && mkdir -p "$out"
command -v rsvg-convert >/dev/null || { echo "rsvg-convert missing (tools/install-deps.sh installs librsvg2-bin)"; exit 1; }
"$sushi" serve workloads/experiments/sushi_mbv3.yaml --count 300 --seeds 2 --platform zcu104_sushi \
  --out "$out/sushi" >/dev/null
"$sushi" serve workloads/experiments/superserve_a40.yaml --count 2000 --seeds 2 --out "$out/superserve" >/dev/null
n=0
while IFS= read -r svg; do
  head -c 5 "$svg" | grep -q '^<svg ' || { echo "not an SVG root: $svg"; exit 1; }
  tail -n 1 "$svg" | grep -q '^</svg>$' || { echo "unclosed SVG: $svg"; exit 1; }
  png="${svg%.svg}.png"
  rsvg-convert -o "$png" "$svg" || { echo "rsvg-convert failed on $svg"; exit 1; }
  [ -s "$png" ] || { echo "empty PNG from $svg"; exit 1; }
  head -c 8 "$png" | od -An -c | grep -q 'P   N   G' || { echo "not a PNG: $png"; exit 1; }
  n=$((n + 1))
done < <(find "$out" -name '*.svg' | sort)
for f in latency_cdf accuracy_vs_slo pb_hit_ratio pb_contents attainment_vs_load; do
  [ -f "$out/sushi/zcu104_sushi/latency_constrained/$f.png" ] || { echo "no $f rendered"; exit 1; }
done
[ -f "$out/sushi/sushi_summary.png" ] || { echo "no cross-platform summary rendered"; exit 1; }
echo "rendered $n SVGs"
