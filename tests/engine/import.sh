#!/usr/bin/env bash
# capsule image import of every input kind, made on this machine by umoci, skopeo and podman:
# an OCI layout (directory and tar; gzip, plain and zstd layers), a docker-archive (skopeo, and
# `podman save`), a plain rootfs tarball (gzip, zstd); each unpacks to the tree umoci unpacks.
# Then export to an OCI layout and a docker-archive, read back by skopeo, umoci and podman.
source "$(dirname "$0")/common.bash"
engine_require umoci skopeo tar zstd python3

OCI=$TMPD/oci
if ! make_base "$OCI" >"$TMPD/base.log" 2>&1; then
	fail engine-base-image "umoci could not make the base image: $(tail -c 300 "$TMPD/base.log")"; exit 0
fi
umoci unpack --image "$OCI:base" "$TMPD/want" >/dev/null 2>&1 || { fail engine-base-image "umoci unpack failed"; exit 0; }
tree_list "$TMPD/want/rootfs" >"$TMPD/want.list"
want_digest=$(skopeo inspect --format '{{.Digest}}' "oci:$OCI:base" 2>/dev/null)

# check_unpack NAME IMAGE: capsule image unpack IMAGE gives the tree umoci unpacked.
check_unpack() {
	local name=$1 img=$2 d=$TMPD/unpack-$1
	if ! cap image unpack "$img" "$d" 2>"$TMPD/$name.uerr"; then
		fail "$name" "image unpack $img: $(cat "$TMPD/$name.uerr")"; return 1
	fi
	if ! diff "$TMPD/want.list" <(tree_list "$d") >"$TMPD/$name.diff"; then
		fail "$name" "unpacked tree differs from umoci's: $(head -c 400 "$TMPD/$name.diff")"; return 1
	fi
	rm -rf "$d"
	return 0
}

# --- OCI layout directory: the id is the manifest digest skopeo reports; names, ls, inspect
id=$(cap image import "$OCI" localhost/base:1 2>"$TMPD/err")
if [ $? -ne 0 ] || [ "$id" != "$want_digest" ]; then
	fail engine-import-oci-dir "id '$id' (want $want_digest): $(cat "$TMPD/err")"
elif check_unpack engine-import-oci-dir localhost/base:1; then
	pass engine-import-oci-dir
fi

js=$(cap image ls --format json)
if [ "$(jq -r '.[0].Id' <<<"$js")" = "$id" ] && [ "$(jq -r '.[0].Names[0]' <<<"$js")" = localhost/base:1 ] &&
	[ "$(jq length <<<"$js")" = 1 ] && cap image ls | grep -q '^localhost/base  *1  *'"${id:7:12}"; then
	pass engine-ls
else
	fail engine-ls "json $js; table $(cap image ls)"
fi
insp=$(cap image inspect base:1 2>&1)
if [ "$(jq -r '.[0].Config.config.Env | index("FOO=bar") != null' <<<"$insp")" = true ] &&
	[ "$(jq -r '.[0].Manifest.layers | length' <<<"$insp")" = 2 ] &&
	[ "$(cap image inspect "${id:7:8}" | jq -r '.[0].Id')" = "$id" ]; then
	pass engine-inspect
else
	fail engine-inspect "$(head -c 300 <<<"$insp")"
fi

# --- OCI layout as a tar
tar -C "$OCI" -cf "$TMPD/oci.tar" .
id2=$(cap image import "$TMPD/oci.tar" 2>"$TMPD/err")
[ $? -eq 0 ] && [ "$id2" = "$id" ] && pass engine-import-oci-tar || fail engine-import-oci-tar "id '$id2': $(cat "$TMPD/err")"

# --- zstd layers (skopeo recompresses)
if skopeo copy -q --dest-compress --dest-compress-format zstd "oci:$OCI:base" "oci:$TMPD/oci-zstd:z" 2>"$TMPD/err"; then
	zid=$(cap image import "$TMPD/oci-zstd" zstd:1 2>"$TMPD/err")
	mts=$(cap image inspect zstd:1 2>/dev/null | jq -r '.[0].Manifest.layers[].mediaType' | sort -u | tr '\n' ' ')
	if [ -z "$zid" ]; then
		fail engine-import-zstd "$(cat "$TMPD/err")"
	elif [[ "$mts" != *zstd* ]]; then
		fail engine-import-zstd "layers are $mts, not zstd"
	elif check_unpack engine-import-zstd zstd:1; then
		pass engine-import-zstd
	fi
else
	skip engine-import-zstd "skopeo cannot write zstd layers: $(tail -c 200 "$TMPD/err")"
fi

# --- docker-archive by skopeo: names from RepoTags; the layers are stored as the plain tars
skopeo copy -q "oci:$OCI:base" "docker-archive:$TMPD/da.tar:example.com/da:v1" 2>"$TMPD/err" ||
	fail engine-import-docker-archive "skopeo copy failed: $(cat "$TMPD/err")"
did=$(cap image import "$TMPD/da.tar" 2>"$TMPD/err")
if [ $? -ne 0 ]; then
	fail engine-import-docker-archive "$(cat "$TMPD/err")"
elif [ "$(cap image inspect example.com/da:v1 2>/dev/null | jq -r '.[0].Id')" != "$did" ]; then
	fail engine-import-docker-archive "no image named example.com/da:v1: $(cap image ls)"
elif check_unpack engine-import-docker-archive example.com/da:v1; then
	pass engine-import-docker-archive
fi
# its unpacked directory imports too
mkdir -p "$TMPD/da-dir" && tar -C "$TMPD/da-dir" -xf "$TMPD/da.tar"
did2=$(cap image import "$TMPD/da-dir" dadir:1 2>"$TMPD/err")
[ "$did2" = "$did" ] && pass engine-import-docker-dir || fail engine-import-docker-dir "id '$did2' want '$did': $(cat "$TMPD/err")"

# --- plain root file system tarballs (gzip, zstd), with a name
tar -C "$TMPD/want/rootfs" --numeric-owner -czf "$TMPD/rootfs.tar.gz" .
tar -C "$TMPD/want/rootfs" --numeric-owner -cf - . | zstd -q -o "$TMPD/rootfs.tar.zst"
for f in rootfs.tar.gz rootfs.tar.zst; do
	n=engine-import-rootfs-${f##*.}
	rid=$(cap image import "$TMPD/$f" "rootfs-${f##*.}" 2>"$TMPD/err")
	if [ $? -ne 0 ]; then
		fail "$n" "$(cat "$TMPD/err")"
	elif [ "$(cap image inspect "rootfs-${f##*.}" | jq -r '.[0].Config.rootfs.diff_ids | length')" != 1 ]; then
		fail "$n" "not a one-layer image"
	elif check_unpack "$n" "rootfs-${f##*.}"; then
		pass "$n"
	fi
done

# --- podman save (docker-archive) of podman-setup's busybox image
PD=$TMPD/podman
if command -v podman >/dev/null && env=$("$CAPSULE_ROOT/scripts/podman-setup" "$PD" 2>"$TMPD/setup.err"); then
	eval "$env"
	trap '"$CAPSULE_ROOT/scripts/podman-setup" --clean "$PD" >/dev/null 2>&1; rm -rf "$TMPD"' EXIT
	if podman save -q -o "$TMPD/podman.tar" "$PODMAN_IMAGE" 2>"$TMPD/err"; then
		pid=$(cap image import "$TMPD/podman.tar" 2>"$TMPD/err")
		pwant=$(podman image inspect --format '{{.Id}}' "$PODMAN_IMAGE")
		cfg=$(cap image inspect "$PODMAN_IMAGE" 2>/dev/null | jq -r '.[0].Manifest.config.digest')
		if [ -z "$pid" ]; then
			fail engine-import-podman-save "$(cat "$TMPD/err")"
		elif [ "$cfg" != "sha256:$pwant" ]; then
			fail engine-import-podman-save "config $cfg, podman's image id sha256:$pwant"
		elif ! cap image unpack "$PODMAN_IMAGE" "$TMPD/pu" 2>"$TMPD/err" || [ ! -x "$TMPD/pu/bin/busybox" ]; then
			fail engine-import-podman-save "unpack: $(cat "$TMPD/err"); $(ls "$TMPD/pu" 2>&1 | head -c 200)"
		else
			pass engine-import-podman-save
		fi
	else
		fail engine-import-podman-save "podman save failed: $(tail -c 300 "$TMPD/err")"
	fi
else
	skip engine-import-podman-save "no podman here (scripts/podman-setup: $(tail -c 200 "$TMPD/setup.err" 2>/dev/null))"
	PD=
fi

# --- export to an OCI layout: skopeo reads the same digest, umoci unpacks the same tree
if cap image export localhost/base:1 "$TMPD/exp-oci" 2>"$TMPD/err"; then
	d=$(skopeo inspect --format '{{.Digest}}' "oci:$TMPD/exp-oci:1" 2>"$TMPD/err2")
	if [ "$d" != "$id" ]; then
		fail engine-export-oci "skopeo inspect: '$d' want $id: $(cat "$TMPD/err2")"
	elif ! umoci unpack --image "$TMPD/exp-oci:1" "$TMPD/exp-u" >/dev/null 2>"$TMPD/err2"; then
		fail engine-export-oci "umoci unpack: $(tail -c 300 "$TMPD/err2")"
	elif ! diff "$TMPD/want.list" <(tree_list "$TMPD/exp-u/rootfs") >/dev/null; then
		fail engine-export-oci "umoci unpacks another tree from the export"
	else
		pass engine-export-oci
	fi
else
	fail engine-export-oci "$(cat "$TMPD/err")"
fi
if cap image export localhost/base:1 "$TMPD/exp-oci.tar" 2>"$TMPD/err" &&
	[ "$(skopeo inspect --format '{{.Digest}}' "oci-archive:$TMPD/exp-oci.tar:1" 2>/dev/null)" = "$id" ]; then
	pass engine-export-oci-tar
else
	fail engine-export-oci-tar "$(cat "$TMPD/err")"
fi
expect_error engine-export-exists 1 'exp-oci.*exists' "$CAPSULE" --root "$STORE" image export localhost/base:1 "$TMPD/exp-oci"

# --- export to a docker-archive: skopeo reads it, a second store imports it alike, podman loads and runs it
if cap image export --type docker-archive localhost/base:1 "$TMPD/exp-da.tar" 2>"$TMPD/err"; then
	nl=$(skopeo inspect "docker-archive:$TMPD/exp-da.tar" 2>"$TMPD/err2" | jq -r '.Layers | length')
	if [ "$nl" != 2 ]; then
		fail engine-export-docker "skopeo inspect: $nl layers: $(cat "$TMPD/err2")"
	elif ! STORE=$TMPD/store2 cap image import "$TMPD/exp-da.tar" >/dev/null 2>"$TMPD/err2" ||
		! STORE=$TMPD/store2 cap image unpack localhost/base:1 "$TMPD/exp-da-u" 2>>"$TMPD/err2" ||
		! diff "$TMPD/want.list" <(tree_list "$TMPD/exp-da-u") >/dev/null; then
		fail engine-export-docker "re-import into a second store: $(cat "$TMPD/err2")"
	else
		pass engine-export-docker
	fi
else
	fail engine-export-docker "$(cat "$TMPD/err")"
fi
# podman runs it with Capsule's runtime (by absolute path: the capsule-runtime name matters)
PRT=$(cd "$(dirname "$CAPSULE")" && pwd)/capsule-runtime
if [ -n "$PD" ] && [ -f "$TMPD/exp-da.tar" ]; then
	# podman load writes a blob-info cache at the hardwired /var/lib/containers/cache: private /var/lib
	if unshare -m --propagation private sh -c 'mount -t tmpfs -o size=16m capsule-scratch /var/lib &&
		exec podman load -q -i "$1"' sh "$TMPD/exp-da.tar" >"$TMPD/load.out" 2>&1 &&
		out=$(podman --runtime "$PRT" run --rm --cgroup-parent "$PODMAN_CGROUP_PARENT" localhost/base:1 /bin/busybox cat /etc/hello /etc/two 2>"$TMPD/err") &&
		[ "$out" = "$(printf 'hello\ntwo')" ]; then
		pass engine-export-podman-run
	else
		fail engine-export-podman-run "$(cat "$TMPD/load.out" "$TMPD/err" 2>/dev/null | tail -c 300) out='${out:-}'"
	fi
else
	skip engine-export-podman-run "no podman here"
fi
