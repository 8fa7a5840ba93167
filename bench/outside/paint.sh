#!/usr/bin/env bash
# paint.sh [WEIGHTS]: ask the model about a picture drawn by another program. ImageMagick
# draws a large red circle left of a small blue square on a 32 x 32 canvas, anti-aliased,
# on a dark grey background (not m4sc's black) in colours near but not at the
# palette's; m4sc ask answers seven questions and a caption, with the embedded model or
# WEIGHTS. Prints each answer against the truth and exits 1 if any is wrong. Installs
# Debian's imagemagick when missing.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
convert=/usr/bin/convert
if ! "$convert" -version 2>/dev/null | grep -q ImageMagick; then
	echo "installing imagemagick" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq imagemagick >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$here" && go build -o "$tmp/m4sc" ./cmd/m4sc)
png=$tmp/painted.png
"$convert" -size 32x32 xc:'#161618' -fill '#e8241c' -draw 'circle 9,15 9,10' \
	-fill '#2a26dc' -draw 'rectangle 20,18 26,24' "PNG24:$png"
weights=()
if [ $# -gt 0 ]; then weights=(--weights "$1"); fi
wrong=0
ask() {
	local want=$1
	shift
	local got
	got=$("$tmp/m4sc" ask "${weights[@]}" --image "$png" "$@" 2>/dev/null | tail -1)
	if [ "$got" = "$want" ]; then echo "ok     $* -> $got"; else echo "WRONG  $* -> $got (want $want)"; wrong=$((wrong + 1)); fi
}
ask red --task image.vqa --question "what color is the circle?"
ask square --task image.vqa --question "what shape is the blue object?"
ask large --task image.vqa --question "what size is the circle?"
ask small --task image.vqa --question "what size is the square?"
ask 2 --task image.vqa --question "how many objects are there?"
ask yes --task image.vqa --question "is the circle left of the square?"
ask no --task image.vqa --question "is there a red square?"
ask "a large red circle left of a small blue square" --task image.caption
echo "$wrong wrong"
[ "$wrong" -eq 0 ]
