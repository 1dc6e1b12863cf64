#!/usr/bin/env bash
# capsule image pull and push against a real registry: Debian's docker-registry serving on
# 127.0.0.1 (a private port, storage under $TMPD), filled with skopeo. The pulled image's id is
# the digest skopeo reports and it unpacks to umoci's tree; a manifest list picks this host's
# platform; a blob changed in the registry's storage is refused; a pushed image is what skopeo
# reads back; a cut download resumes; layers download in parallel; an interrupted pull leaves
# nothing prune does not remove; build pulls a FROM image the store lacks.
source "$(dirname "$0")/common.bash"
engine_require umoci skopeo docker-registry python3 jq
C=("$CAPSULE" --root "$STORE")

OCI=$TMPD/oci
if ! make_base "$OCI" >"$TMPD/base.log" 2>&1; then
	fail engine-base-image "umoci could not make the base image: $(tail -c 300 "$TMPD/base.log")"; exit 0
fi
umoci unpack --image "$OCI:base" "$TMPD/want" >/dev/null 2>&1
tree_list "$TMPD/want/rootfs" >"$TMPD/want.list"

# a free port on loopback, then the registry on it
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
R=127.0.0.1:$port
cat >"$TMPD/registry.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $TMPD/registry
  delete:
    enabled: true
http:
  addr: $R
YML
docker-registry serve "$TMPD/registry.yml" >"$TMPD/registry.log" 2>&1 &
regpid=$!
trap 'kill $regpid 2>/dev/null; wait $regpid 2>/dev/null; rm -rf "$TMPD"' EXIT
for ((i = 0; i < 100; i++)); do
	python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$port" 2>/dev/null && break
	sleep 0.1
done
if ! skopeo copy -q --dest-tls-verify=false "oci:$OCI:base" "docker://$R/test/base:1" 2>"$TMPD/err"; then
	fail engine-registry-fill "skopeo copy to the registry failed: $(tail -c 300 "$TMPD/err"; tail -c 300 "$TMPD/registry.log")"
	exit 0
fi
want=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$R/test/base:1")

# --- pull: id = skopeo's digest, named HOST/REPO:TAG, the tree umoci unpacks
id=$("${C[@]}" image pull "$R/test/base:1" 2>"$TMPD/err")
if [ $? -ne 0 ] || [ "$id" != "$want" ]; then
	fail engine-pull "id '$id', skopeo says $want: $(cat "$TMPD/err")"
elif ! "${C[@]}" image unpack "$R/test/base:1" "$TMPD/u" 2>"$TMPD/err" || ! diff "$TMPD/want.list" <(tree_list "$TMPD/u") >/dev/null; then
	fail engine-pull "the pulled image unpacks to another tree: $(cat "$TMPD/err")"
else
	pass engine-pull
fi
# by digest too, and again (everything already there)
id2=$("${C[@]}" image pull "$R/test/base@$want" 2>"$TMPD/err")
[ "$id2" = "$want" ] && pass engine-pull-by-digest || fail engine-pull-by-digest "'$id2': $(cat "$TMPD/err")"
expect_error engine-pull-unknown 1 "test/nope:1: manifest: HTTP 404 \(MANIFEST_UNKNOWN" "${C[@]}" image pull "$R/test/nope:1"
expect_error engine-pull-no-registry 1 "127.0.0.1:1: Connection refused" "${C[@]}" image pull 127.0.0.1:1/test/base:1

# --- a manifest list: this host's platform is picked (the other entry is another real image)
arch=$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')
other=$([ "$arch" = amd64 ] && echo arm64 || echo amd64)
cp -a "$OCI" "$TMPD/multi"
umoci new --image "$TMPD/multi:other" >/dev/null 2>&1 && umoci config --image "$TMPD/multi:other" --architecture "$other" >/dev/null 2>&1
mine=$(jq -c '.manifests[] | select(.annotations."org.opencontainers.image.ref.name" == "base") | del(.annotations)' "$TMPD/multi/index.json")
theirs=$(jq -c '.manifests[] | select(.annotations."org.opencontainers.image.ref.name" == "other") | del(.annotations)' "$TMPD/multi/index.json")
jq -cn --argjson m "$mine" --argjson t "$theirs" --arg a "$arch" --arg o "$other" \
	'{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
	  manifests: [($t + {platform: {os: "linux", architecture: $o}}), ($m + {platform: {os: "linux", architecture: $a}})]}' >"$TMPD/index-blob"
ih=$(sha256sum "$TMPD/index-blob" | cut -c1-64)
cp "$TMPD/index-blob" "$TMPD/multi/blobs/sha256/$ih"
jq -cn --arg d "sha256:$ih" --argjson s "$(stat -c %s "$TMPD/index-blob")" \
	'{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
	  annotations: {"org.opencontainers.image.ref.name": "multi"}}]}' >"$TMPD/multi/index.json"
if skopeo copy -q --all --dest-tls-verify=false "oci:$TMPD/multi:multi" "docker://$R/test/multi:1" 2>"$TMPD/err"; then
	mid=$("${C[@]}" image pull "$R/test/multi:1" 2>"$TMPD/err")
	[ "$mid" = "$want" ] && pass engine-pull-manifest-list || fail engine-pull-manifest-list "id '$mid' want $want: $(cat "$TMPD/err")"
else
	skip engine-pull-manifest-list "skopeo cannot push the index: $(tail -c 200 "$TMPD/err")"
fi

# --- push: skopeo reads back the same digest and umoci unpacks the same tree
pid=$("${C[@]}" image push "$R/test/base:1" "$R/test/pushed:2" 2>"$TMPD/err")
if [ $? -ne 0 ] || [ "$pid" != "$want" ]; then
	fail engine-push "'$pid': $(cat "$TMPD/err")"
elif [ "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$R/test/pushed:2" 2>&1)" != "$want" ]; then
	fail engine-push "skopeo inspect of the pushed image: $(skopeo inspect --tls-verify=false "docker://$R/test/pushed:2" 2>&1 | tail -c 200)"
elif ! skopeo copy -q --src-tls-verify=false "docker://$R/test/pushed:2" "oci:$TMPD/back:b" 2>"$TMPD/err" ||
	! umoci unpack --image "$TMPD/back:b" "$TMPD/back-u" >/dev/null 2>&1 || ! diff "$TMPD/want.list" <(tree_list "$TMPD/back-u/rootfs") >/dev/null; then
	fail engine-push "copied back, the image differs: $(cat "$TMPD/err")"
else
	pass engine-push
fi
# an image imported from a docker-archive (its own blobs) pushed to a new repository
if skopeo copy -q "oci:$OCI:base" "docker-archive:$TMPD/da.tar:x/da:1" 2>/dev/null && "${C[@]}" image import "$TMPD/da.tar" >/dev/null 2>&1; then
	did=$("${C[@]}" image push x/da:1 "$R/test/fromarchive:1" 2>"$TMPD/err")
	[ -n "$did" ] && [ "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$R/test/fromarchive:1" 2>/dev/null)" = "$did" ] &&
		pass engine-push-archive || fail engine-push-archive "'$did': $(cat "$TMPD/err")"
fi

# --- a layer download cut off half-way resumes with a Range request
freeport() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
waitport() { for ((i = 0; i < 100; i++)); do python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
pp=$(freeport)
python3 "$(dirname "$0")/cutproxy.py" "$pp" "$port" "$TMPD/cut.log" cut &
proxies=$!
trap 'kill $regpid $proxies 2>/dev/null; wait 2>/dev/null; rm -rf "$TMPD"' EXIT
waitport "$pp"
rid=$(STORE=$TMPD/store-resume; "$CAPSULE" --root "$STORE" image pull "127.0.0.1:$pp/test/base:1" 2>"$TMPD/err")
if [ "$rid" != "$want" ]; then
	fail engine-pull-resume "'$rid': $(cat "$TMPD/err")"
elif ! grep -q '^CUT GET' "$TMPD/cut.log" || ! grep -q 'blobs/sha256:.* RANGE$' "$TMPD/cut.log"; then
	fail engine-pull-resume "no cut and resumed download seen: $(cat "$TMPD/cut.log")"
else
	pass engine-pull-resume
fi

# --- a pull killed half-way (through a slow proxy): nothing named, prune leaves the store clean;
# the image has two layers of 384 KiB, which take seconds each through the proxy
umoci init --layout "$TMPD/big" >/dev/null 2>&1 && umoci new --image "$TMPD/big:b" >/dev/null 2>&1
for n in 1 2; do
	python3 - "$TMPD/big$n.tar" $n <<'PY'
import io, os, sys, tarfile
t = tarfile.open(sys.argv[1], "w")
d = os.urandom(384 * 1024)
i = tarfile.TarInfo("big%s" % sys.argv[2]); i.size = len(d); t.addfile(i, io.BytesIO(d))
t.close()
PY
	umoci raw add-layer --image "$TMPD/big:b" "$TMPD/big$n.tar" >/dev/null 2>&1
done
skopeo copy -q --dest-tls-verify=false "oci:$TMPD/big:b" "docker://$R/test/big:1" 2>"$TMPD/err" ||
	fail engine-pull-killed "skopeo cannot push the two-layer image: $(tail -c 200 "$TMPD/err")"
ps2=$(freeport)
python3 "$(dirname "$0")/cutproxy.py" "$ps2" "$port" "$TMPD/slow.log" slow &
proxies="$proxies $!"
trap 'kill $regpid $proxies 2>/dev/null; wait 2>/dev/null; rm -rf "$TMPD"' EXIT
waitport "$ps2"
KS=$TMPD/store-killed
"$CAPSULE" --root "$KS" image pull "127.0.0.1:$ps2/test/big:1" >/dev/null 2>&1 &
kp=$!
for ((i = 0; i < 300; i++)); do
	[ -n "$(find "$KS/tmp" -size +128k 2>/dev/null)" ] && break
	sleep 0.02
done
{ kill -9 $kp; k=$?; wait $kp; } 2>/dev/null
# parallel: two layer downloads overlapped by more than 0.3 s (one after the other they overlap
# by the few ms the proxy takes to see a connection end)
if python3 - "$TMPD/slow.log" <<'PY'
import sys
start, end = {}, {}
for l in open(sys.argv[1]):
    w = l.split()
    if len(w) == 3 and w[0] in ("START", "END"):
        (start if w[0] == "START" else end)[w[2]] = float(w[1])
def overlap(a, b):
    return min(end.get(a, 1e18), end.get(b, 1e18)) - max(start[a], start[b])
sys.exit(0 if any(overlap(a, b) > 0.3 for a in start for b in start if a != b) else 1)
PY
then
	pass engine-pull-parallel
else
	fail engine-pull-parallel "no two layers downloaded at the same time: $(grep -E '^(START|END)' "$TMPD/slow.log" | tr '\n' ' ')"
fi
if [ $k -ne 0 ]; then
	skip engine-pull-killed "the pull finished before it could be killed"
elif [ "$("$CAPSULE" --root "$KS" image ls -q | wc -l)" != 0 ]; then
	fail engine-pull-killed "a killed pull named an image"
elif [ "$(count_dir "$KS/tmp")" = 0 ]; then
	fail engine-pull-killed "the killed pull left nothing to prune (killed too early?)"
elif ! "$CAPSULE" --root "$KS" image prune >/dev/null ||
	[ "$(count_dir "$KS/tmp")$(count_dir "$KS/blobs/sha256")$(count_dir "$KS/layers")" != 000 ]; then
	fail engine-pull-killed "prune left: $(find "$KS" -mindepth 2 | head -5)"
else
	pass engine-pull-killed
fi

# --- build: a FROM image the store lacks is pulled (as podman does), with the registry options
BS=$TMPD/store-build
mkdir -p "$TMPD/ctx"
printf 'FROM %s/test/base:1\nRUN cat /etc/hello /etc/two > /from-pull\n' "$R" >"$TMPD/ctx/Capsulefile"
bid=$("$CAPSULE" --root "$BS" build --tls-verify=false -q -t built:1 "$TMPD/ctx" 2>"$TMPD/err")
if [ $? -ne 0 ]; then
	fail engine-build-from-pull "$(cat "$TMPD/err")"
elif [ "$("$CAPSULE" --root "$BS" image inspect "$R/test/base:1" 2>/dev/null | jq -r '.[0].Id')" != "$want" ]; then
	fail engine-build-from-pull "the base is not in the store as $R/test/base:1 with id $want"
elif ! "$CAPSULE" --root "$BS" image unpack built:1 "$TMPD/bu" 2>"$TMPD/err" || [ "$(cat "$TMPD/bu/from-pull" 2>&1)" != "$(printf 'hello\ntwo')" ]; then
	fail engine-build-from-pull "the built image lacks the RUN's file: $(cat "$TMPD/err")"
else
	pass engine-build-from-pull
fi
printf 'FROM 127.0.0.1:1/test/base:1\nRUN true\n' >"$TMPD/ctx/Capsulefile"
expect_error engine-build-from-pull-fails 1 \
	"Capsulefile:1: FROM 127.0.0.1:1/test/base:1: not in the store, and the pull failed: 127.0.0.1:1/test/base:1: 127.0.0.1:1: Connection refused$" \
	"$CAPSULE" --root "$BS" build -q "$TMPD/ctx"
printf 'FROM %s/test/nope:1\n' "$R" >"$TMPD/ctx/Capsulefile"
expect_error engine-build-from-pull-unknown 1 "Capsulefile:1: FROM $R/test/nope:1: not in the store, and the pull failed: .*HTTP 404 \(MANIFEST_UNKNOWN" \
	"$CAPSULE" --root "$BS" build -q "$TMPD/ctx"

# --- a layer changed in the registry's own storage: the pull is refused by its digest
STORE=$TMPD/store-tampered
C=("$CAPSULE" --root "$STORE")
ld=$(jq -r '.layers[1].digest' "$OCI/blobs/sha256/$(jq -r '.manifests[0].digest' "$OCI/index.json" | cut -c8-)" | cut -c8-)
data=$(find "$TMPD/registry" -path "*/blobs/sha256/${ld:0:2}/$ld/data")
if [ -f "$data" ]; then
	python3 - "$data" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 1
open(p, "wb").write(b)
PY
	expect_error engine-pull-tampered 1 "blob sha256:$ld: digest mismatch: content is sha256:[0-9a-f]{64}, expected sha256:$ld" \
		"${C[@]}" image pull "$R/test/base:1"
	if [ "$("${C[@]}" image ls -q | wc -l)" = 0 ] && [ "$(count_dir "$STORE/tmp")" = 0 ]; then
		pass engine-pull-tampered-clean
	else
		fail engine-pull-tampered-clean "named: $("${C[@]}" image ls -q); tmp: $(ls "$STORE/tmp")"
	fi
else
	skip engine-pull-tampered "no blob $ld in the registry's storage"
fi
