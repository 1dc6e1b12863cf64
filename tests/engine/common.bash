# Shared set-up of the image store suites: a private store per suite, and a base image made
# with umoci (two layers: a gzip one from umoci repack, a plain one added verbatim).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

STORE=$TMPD/store
cap() { "$CAPSULE" --root "$STORE" "$@"; }

# engine_require TOOL...: SKIP the whole suite (and exit) when a tool is missing.
engine_require() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || { skip "engine-$(basename "$0" .sh)" "$t not installed (scripts/deps)"; exit 0; }
	done
	if [ "$(id -u)" -ne 0 ]; then
		skip "engine-$(basename "$0" .sh)" "needs root (layers keep owners and overlay whiteouts)"; exit 0
	fi
}

# tree_list DIR: every entry with its type, mode, owner, size and link target, sorted: two
# trees that list alike hold the same files.
tree_list() {
	(cd "$1" && find . -mindepth 1 -printf '%p %y %m %U:%G %s %l\n' | grep -v ' d .* [0-9]* $' |
		sed 's/ [0-9]* \(\S*\)$/ \1/' ; find . -mindepth 1 -type d -printf '%p d %m %U:%G\n') | sort
}

# make_base OCI_DIR: an OCI layout with tag "base": layer 1 (umoci repack, gzip) has
# bin/busybox, etc/hello, etc/gone, d/old, keep/a; layer 2 (plain, added verbatim) deletes
# etc/gone (.wh.gone), makes d opaque after writing d/new first, and adds etc/two.
make_base() {
	local oci=$1 w=$TMPD/mkbase
	rm -rf "$w" && mkdir -p "$w"
	umoci init --layout "$oci" && umoci new --image "$oci:base" &&
		umoci unpack --image "$oci:base" "$w/b" >/dev/null || return 1
	mkdir -p "$w/b/rootfs/bin" "$w/b/rootfs/etc" "$w/b/rootfs/d" "$w/b/rootfs/keep"
	cp /bin/busybox "$w/b/rootfs/bin/busybox"
	echo hello >"$w/b/rootfs/etc/hello"
	echo gone >"$w/b/rootfs/etc/gone"
	echo old >"$w/b/rootfs/d/old"
	echo a >"$w/b/rootfs/keep/a"
	ln -s busybox "$w/b/rootfs/bin/sh"
	umoci repack --image "$oci:base" "$w/b" >/dev/null || return 1
	umoci config --image "$oci:base" --config.cmd /bin/sh --config.env FOO=bar >/dev/null || return 1
	mkdir -p "$w/l2/d" "$w/l2/etc"
	echo new >"$w/l2/d/new"
	: >"$w/l2/d/.wh..wh..opq"
	: >"$w/l2/etc/.wh.gone"
	echo two >"$w/l2/etc/two"
	tar -C "$w/l2" --owner=0 --group=0 --no-recursion -cf "$w/l2.tar" d d/new d/.wh..wh..opq etc etc/.wh.gone etc/two &&
		umoci raw add-layer --image "$oci:base" "$w/l2.tar" >/dev/null
}

# ids_of OUTPUT: the sha256 ids a `capsule image import` printed.
count_dir() { find "$1" -mindepth 1 -maxdepth 1 | wc -l; }
