#!/usr/bin/env bash
# The layer extractor against hostile layers: a tampered blob (digest mismatch), a "../" path,
# an absolute and a climbing symlink followed by a file through it, hard links to outside the
# root, forged overlay xattrs; and whiteouts, applied (image unpack) and as overlay markers
# (the store's unpacked layers, mounted as an overlay).
source "$(dirname "$0")/common.bash"
engine_require umoci tar python3
C=("$CAPSULE" --root "$STORE")
MK="python3 $(dirname "$0")/mktar.py"

OCI=$TMPD/oci
if ! make_base "$OCI" >"$TMPD/base.log" 2>&1; then
	fail engine-base-image "umoci could not make the base image: $(tail -c 300 "$TMPD/base.log")"; exit 0
fi

# store_clean: nothing named, no blob, no unpacked layer, no temporary file.
store_clean() {
	[ "$("${C[@]}" image ls -q | wc -l)" -eq 0 ] && [ "$(count_dir "$STORE/blobs/sha256")" -eq 0 ] &&
		[ "$(count_dir "$STORE/layers")" -eq 0 ] && [ "$(count_dir "$STORE/tmp")" -eq 0 ]
}
# after a refused import: nothing named, nothing in tmp; prune leaves the store empty
refused_clean() {
	local name=$1
	if [ "$("${C[@]}" image ls -q | wc -l)" -ne 0 ] || [ "$(count_dir "$STORE/tmp")" -ne 0 ]; then
		fail "$name-clean" "a refused import left: $("${C[@]}" image ls -q) $(ls "$STORE/tmp")"
	elif "${C[@]}" image prune >/dev/null && store_clean; then
		pass "$name-clean"
	else
		fail "$name-clean" "prune left $(find "$STORE/blobs" "$STORE/layers" "$STORE/tmp" -mindepth 1 | head -5)"
	fi
}

# --- a layer blob with one byte changed: refused, by its digest
cp -a "$OCI" "$TMPD/bad"
blob=$(jq -r '.layers[1].digest' "$TMPD/bad/blobs/sha256/$(jq -r '.manifests[0].digest' "$TMPD/bad/index.json" | cut -c8-)" | cut -c8-)
python3 - "$TMPD/bad/blobs/sha256/$blob" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 1
open(p, "wb").write(b)
PY
expect_error engine-digest-mismatch 1 "blobs/sha256/$blob: digest mismatch: content is sha256:[0-9a-f]{64}, expected sha256:$blob" \
	"${C[@]}" image import "$TMPD/bad" bad:1
refused_clean engine-digest-mismatch

# --- a blob that is a FIFO: refused at once (not waited on)
cp -a "$OCI" "$TMPD/fifo"
rm "$TMPD/fifo/blobs/sha256/$blob" && mkfifo "$TMPD/fifo/blobs/sha256/$blob"
expect_error engine-blob-fifo 1 "blobs/sha256/$blob is not a regular file" "${C[@]}" image import "$TMPD/fifo" fifo:1
refused_clean engine-blob-fifo

# --- a docker-archive whose layer is not the one its config names: refused, by the diff id
mkdir -p "$TMPD/da" && umoci unpack --image "$OCI:base" "$TMPD/da-u" >/dev/null 2>&1
if command -v skopeo >/dev/null && skopeo copy -q "oci:$OCI:base" "docker-archive:$TMPD/da.tar:x/da:1" 2>/dev/null; then
	tar -C "$TMPD/da" -xf "$TMPD/da.tar"
	l=$(jq -r '.[0].Layers[1]' "$TMPD/da/manifest.json")
	# a real tar, of other content, in place of layer 2
	tar -C "$TMPD/da-u/rootfs" -cf "$TMPD/da/$l" etc
	expect_error engine-diffid-mismatch 1 "layer 1: its content \(diff id sha256:[0-9a-f]{64}\) is not what the config says" \
		"${C[@]}" image import "$TMPD/da"
	refused_clean engine-diffid-mismatch
else
	skip engine-diffid-mismatch "skopeo cannot make a docker-archive here"
fi

# --- escapes: each refused, nothing written outside, nothing left in the store
mkdir -p "$TMPD/outside"
$MK "$TMPD/dotdot.tar" dotdot "$TMPD/outside/dotdot-pwned"
expect_error engine-escape-dotdot 1 "entry '(\.\./)+.*dotdot-pwned': path climbs out of the root" \
	"${C[@]}" image import "$TMPD/dotdot.tar" evil:1
[ ! -e "$TMPD/outside/dotdot-pwned" ] && refused_clean engine-escape-dotdot || fail engine-escape-dotdot-outside "the file was written outside"

# an absolute symlink to a host directory, then a file through it: the link resolves inside
# the root, where that directory does not exist, so the file has no parent: refused
$MK "$TMPD/abs.tar" abs-symlink "$TMPD/outside"
expect_error engine-escape-abs-symlink 1 "entry 'esc/pwned': its parent directory cannot be opened inside the root" \
	"${C[@]}" image import "$TMPD/abs.tar" evil:1
[ ! -e "$TMPD/outside/pwned" ] && refused_clean engine-escape-abs-symlink || fail engine-escape-abs-symlink-outside "written outside"
$MK "$TMPD/rel.tar" rel-symlink "$TMPD/outside"
expect_error engine-escape-rel-symlink 1 "entry 'esc/pwned': its parent directory cannot be opened inside the root" \
	"${C[@]}" image import "$TMPD/rel.tar" evil:1
[ ! -e "$TMPD/outside/pwned" ] && refused_clean engine-escape-rel-symlink || fail engine-escape-rel-symlink-outside "written outside"
# a symlink to "/" then a file through it: the file lands at the root of the image, not of the host
$MK "$TMPD/root.tar" abs-symlink /
pw=capsule-engine-pwned-$$
python3 - "$TMPD/root.tar" "$pw" <<'PY'
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w")
i = tarfile.TarInfo("esc"); i.type = tarfile.SYMTYPE; i.linkname = "/"; t.addfile(i)
d = b"in the image\n"; i = tarfile.TarInfo("esc/" + sys.argv[2]); i.size = len(d); t.addfile(i, io.BytesIO(d))
t.close()
PY
if "${C[@]}" image import "$TMPD/root.tar" rootlink:1 >/dev/null 2>"$TMPD/err" && [ ! -e "/$pw" ] &&
	"${C[@]}" image unpack rootlink:1 "$TMPD/rootlink" 2>>"$TMPD/err" && [ "$(cat "$TMPD/rootlink/$pw")" = "in the image" ]; then
	pass engine-escape-root-symlink-contained
else
	fail engine-escape-root-symlink-contained "$(cat "$TMPD/err"); /$pw exists: $([ -e "/$pw" ] && echo yes || echo no)"
	rm -f "/$pw"
fi
"${C[@]}" image rm rootlink:1 >/dev/null

# hard links: to the host's /etc/passwd (an absolute name is the image's /etc/passwd, which
# this layer lacks) and climbing out with ../
nl=$(stat -c %h /etc/passwd)
$MK "$TMPD/hl.tar" hardlink /etc/passwd
expect_error engine-escape-hardlink-abs 1 "entry 'pw': hard link target's directory is not in the root" \
	"${C[@]}" image import "$TMPD/hl.tar" evil:1
refused_clean engine-escape-hardlink-abs
$MK "$TMPD/hl2.tar" hardlink ../../../../../../../../etc/passwd
expect_error engine-escape-hardlink-dotdot 1 "entry 'pw': hard link target climbs out of the root" \
	"${C[@]}" image import "$TMPD/hl2.tar" evil:1
refused_clean engine-escape-hardlink-dotdot
[ "$(stat -c %h /etc/passwd)" = "$nl" ] && pass engine-escape-hardlink-host-untouched ||
	fail engine-escape-hardlink-host-untouched "/etc/passwd has $(stat -c %h /etc/passwd) links, had $nl"

# --- forged overlay xattrs are dropped, other xattrs kept (in the layer the store unpacked)
$MK "$TMPD/xattr.tar" xattr
if xid=$("${C[@]}" image import "$TMPD/xattr.tar" xattr:1 2>"$TMPD/err"); then
	did=$("${C[@]}" image inspect xattr:1 | jq -r '.[0].Config.rootfs.diff_ids[0]' | cut -c8-)
	got=$(python3 -c 'import os, sys; print(" ".join(sorted(os.listxattr(sys.argv[1]) + os.listxattr(sys.argv[2]))))' \
		"$STORE/layers/$did/d" "$STORE/layers/$did/d/f" 2>&1)
	if [[ "$got" == *overlay* ]]; then
		fail engine-xattr-overlay-dropped "the layer kept: $got"
	elif [[ "$got" != *user.capsule-test* ]]; then
		fail engine-xattr-overlay-dropped "the user xattr was dropped too: '$got'"
	else
		pass engine-xattr-overlay-dropped
	fi
	"${C[@]}" image rm xattr:1 >/dev/null
else
	fail engine-xattr-overlay-dropped "$(cat "$TMPD/err")"
fi

# --- whiteouts applied: image unpack deletes etc/gone and d/old (opaque), keeps d/new (written
# in the same layer before the opaque marker) and everything else
"${C[@]}" image import "$OCI" base:1 >/dev/null 2>"$TMPD/err" || fail engine-whiteouts "$(cat "$TMPD/err")"
U=$TMPD/u
if ! "${C[@]}" image unpack base:1 "$U" 2>"$TMPD/err"; then
	fail engine-whiteouts-applied "$(cat "$TMPD/err")"
elif [ -e "$U/etc/gone" ] || [ -e "$U/d/old" ] || [ ! -f "$U/d/new" ] || [ ! -f "$U/etc/hello" ] ||
	[ ! -f "$U/etc/two" ] || [ ! -f "$U/keep/a" ] || ls -a "$U/d" "$U/etc" | grep -q '\.wh\.'; then
	fail engine-whiteouts-applied "$(cd "$U" && find . | sort | tr '\n' ' ')"
else
	pass engine-whiteouts-applied
fi
# as overlay markers: the unpacked layers mounted as an overlay show the same tree
dids=$("${C[@]}" image inspect base:1 | jq -r '.[0].Config.rootfs.diff_ids | reverse | .[]' | cut -c8- |
	sed "s|^|$STORE/layers/|" | paste -sd:)
mkdir -p "$TMPD/ovl"
if mount -t overlay capsule-engine-test -o "lowerdir=$dids" "$TMPD/ovl" 2>"$TMPD/err"; then
	if diff <(tree_list "$U") <(tree_list "$TMPD/ovl") >"$TMPD/ovl.diff"; then
		pass engine-whiteouts-overlay
	else
		fail engine-whiteouts-overlay "the overlay differs from the unpacked tree: $(head -c 300 "$TMPD/ovl.diff")"
	fi
	umount "$TMPD/ovl"
else
	skip engine-whiteouts-overlay "cannot mount an overlay here: $(cat "$TMPD/err")"
fi
expect_error engine-unpack-not-empty 1 "unpack destination $U: Directory not empty" "${C[@]}" image unpack base:1 "$U"
