#!/usr/bin/env bash
# Image import: Capsule vs umoci and skopeo, side by side, on one OCI layout made here by umoci
# (one gzip layer holding /usr/lib/python3.* and busybox: ~55 MB, ~1500 files).
#
#   capsule image import   copy + verify every blob into the store, unpack the layer for overlay
#   capsule image unpack   flatten the stored image into a directory (what umoci unpack makes)
#   umoci unpack           verify + unpack the layout into a bundle's rootfs
#   skopeo copy            copy + verify the blobs into another OCI layout (no unpacking)
#
#   ROUNDS=7 bench/image_import.sh
#
# Each round runs all four in turn (A,B,C,D), each into a fresh destination (made and removed
# outside the timing), so the machine's load falls on all alike. Medians of wall time, and
# ratios to umoci unpack. Timings are never pass/fail.
set -uo pipefail
export LC_ALL=C
: "${B:=build}"
: "${CAPSULE_ROOT:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${CAPSULE:=$CAPSULE_ROOT/$B/capsule}"
ROUNDS=${ROUNDS:-7}

if [ "$(id -u)" -ne 0 ]; then echo "image_import: needs root; skipped"; exit 0; fi
for t in umoci skopeo; do
	command -v $t >/dev/null || { echo "image_import: $t not installed (scripts/deps); skipped"; exit 0; }
done
W=$(mktemp -d /tmp/capsule-bench-image.XXXXXX)
trap 'rm -rf "$W"' EXIT

py=$(ls -d /usr/lib/python3.* 2>/dev/null | head -n1)
umoci init --layout "$W/oci" && umoci new --image "$W/oci:bench" && umoci unpack --image "$W/oci:bench" "$W/b" >/dev/null || exit 1
mkdir -p "$W/b/rootfs/usr/lib" "$W/b/rootfs/bin"
[ -n "$py" ] && cp -a "$py" "$W/b/rootfs/usr/lib/"
cp /bin/busybox "$W/b/rootfs/bin/"
umoci repack --image "$W/oci:bench" "$W/b" >/dev/null || exit 1
rm -rf "$W/b"
size=$(du -sm "$W/oci/blobs" | cut -f1)
files=$(tar -tzf "$W/oci/blobs/sha256/$(jq -r '.layers[0].digest' "$W/oci/blobs/sha256/$(jq -r '.manifests[0].digest' "$W/oci/index.json" | cut -c8-)" | cut -c8-)" | wc -l)
"$CAPSULE" --root "$W/keep" image import "$W/oci" bench:1 >/dev/null || exit 1

declare -A T C
timed() { # timed NAME CMD...: appends the wall time and the CPU time (user + sys) in ms
	local n=$1; shift
	local TIMEFORMAT='%R %U %S' t
	t=$( { time "$@" >/dev/null 2>"$W/err"; } 2>&1 ) || { echo "image_import: $n failed: $(tail -c 300 "$W/err")"; exit 1; }
	T[$n]+="$(awk '{ printf "%d", $1 * 1000 }' <<<"$t") "
	C[$n]+="$(awk '{ printf "%d", ($2 + $3) * 1000 }' <<<"$t") "
}
for ((r = 0; r < ROUNDS; r++)); do
	timed "capsule image import" "$CAPSULE" --root "$W/s" image import "$W/oci"
	rm -rf "$W/s"
	timed "capsule image unpack" "$CAPSULE" --root "$W/keep" image unpack bench:1 "$W/cu"
	rm -rf "$W/cu"
	timed "umoci unpack" umoci unpack --image "$W/oci:bench" "$W/u"
	rm -rf "$W/u"
	timed "skopeo copy" skopeo copy -q "oci:$W/oci:bench" "oci:$W/c:bench"
	rm -rf "$W/c"
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
base=$(median <<<"${T[umoci unpack]}") cbase=$(median <<<"${C[umoci unpack]}")
echo "one OCI layout, 1 gzip layer: $size MB of blobs, $files entries; $ROUNDS rounds, interleaved; load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-22s %9s %8s %9s %8s  %s\n' "command" "wall ms" "vs umoci" "CPU ms" "vs umoci" "wall, every run (ms)"
for n in "capsule image import" "capsule image unpack" "umoci unpack" "skopeo copy"; do
	m=$(median <<<"${T[$n]}") c=$(median <<<"${C[$n]}")
	printf '%-22s %9s %7.2fx %9s %7.2fx  %s\n' "$n" "$m" "$(awk -v a="$m" -v b="$base" 'BEGIN { print a / b }')" \
		"$c" "$(awk -v a="$c" -v b="$cbase" 'BEGIN { print a / b }')" "${T[$n]}"
done
echo "(medians; CPU = user + sys of the command and its children)"
