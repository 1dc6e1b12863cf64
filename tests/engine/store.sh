#!/usr/bin/env bash
# The store itself: --root (global, the noun's, $CAPSULE_STORE_ROOT), tag and rm (all or
# nothing, blobs of a removed image go), two imports at once into one store, an import killed
# half-way leaving nothing `image prune` does not remove, and bad command lines.
source "$(dirname "$0")/common.bash"
engine_require umoci tar python3
C=("$CAPSULE" --root "$STORE")

OCI=$TMPD/oci
if ! make_base "$OCI" >"$TMPD/base.log" 2>&1; then
	fail engine-base-image "umoci could not make the base image: $(tail -c 300 "$TMPD/base.log")"; exit 0
fi
id=$("${C[@]}" image import "$OCI" base:1 2>"$TMPD/err") || { fail engine-store-import "$(cat "$TMPD/err")"; exit 0; }

# --- where the store is: global --root, the noun's --root, $CAPSULE_STORE_ROOT
a=$("$CAPSULE" --root="$STORE" image ls -q) b=$("$CAPSULE" image --root "$STORE" ls -q)
c=$(CAPSULE_STORE_ROOT=$STORE "$CAPSULE" image ls -q)
[ "$a" = "${id:7:12}" ] && [ "$b" = "$a" ] && [ "$c" = "$a" ] && pass engine-store-root ||
	fail engine-store-root "global '$a', noun '$b', env '$c', want ${id:7:12}"
expect_error engine-store-root-relative 1 "image store rel/store: the root must be an absolute path" \
	"$CAPSULE" --root rel/store image ls
expect_error engine-store-root-missing 2 "^capsule: --root: want a directory" "$CAPSULE" --root

# --- tag, then rm: a name untags, the last name removes the image and its blobs
"${C[@]}" image tag base:1 other:2 localhost/third >/dev/null 2>"$TMPD/err"
names=$("${C[@]}" image inspect "$id" | jq -r '.[0].Names | sort | join(" ")')
[ "$names" = "base:1 localhost/third:latest other:2" ] && pass engine-tag || fail engine-tag "names '$names': $(cat "$TMPD/err")"
expect_error engine-tag-bad-name 2 "image tag: 'Bad@x' is not a valid NAME\[:TAG\]" "${C[@]}" image tag base:1 'Bad@x'
expect_error engine-rm-unknown 1 "image 'nope:1': no such image in the store" "${C[@]}" image rm other:2 nope:1
[ "$("${C[@]}" image inspect other:2 2>/dev/null | jq -r '.[0].Id')" = "$id" ] && pass engine-rm-all-or-nothing ||
	fail engine-rm-all-or-nothing "other:2 went although nope:1 is unknown"
nblobs=$(count_dir "$STORE/blobs/sha256")
out=$("${C[@]}" image rm other:2 third 2>&1)
if [ "$out" = "$(printf 'Untagged: other:2\nUntagged: localhost/third:latest')" ] && [ "$(count_dir "$STORE/blobs/sha256")" = "$nblobs" ]; then
	pass engine-rm-untag
else
	fail engine-rm-untag "$out; $(count_dir "$STORE/blobs/sha256") blobs, had $nblobs"
fi
out=$("${C[@]}" image rm base:1 2>&1)
if [ "$out" = "$(printf 'Untagged: base:1\nDeleted: %s' "$id")" ] && [ "$(count_dir "$STORE/blobs/sha256")" = 0 ] &&
	[ "$(count_dir "$STORE/layers")" = 0 ] && [ "$("${C[@]}" image ls --format json)" = "[]" ]; then
	pass engine-rm-last-name
else
	fail engine-rm-last-name "$out; blobs $(ls "$STORE/blobs/sha256" | head -3) layers $(ls "$STORE/layers")"
fi

# --- two imports at once into one store (one image they share layers of, one of its own)
python3 - "$TMPD/big.tar.gz" <<'PY'
import io, os, sys, tarfile
t = tarfile.open(sys.argv[1], "w:gz")
for i in range(400):
    d = os.urandom(16384)
    e = tarfile.TarInfo("data/f%04d" % i); e.size = len(d); t.addfile(e, io.BytesIO(d))
t.close()
PY
"${C[@]}" image import "$OCI" one:1 >"$TMPD/c1.out" 2>"$TMPD/c1.err" &
p1=$!
"${C[@]}" image import "$TMPD/big.tar.gz" two:1 >"$TMPD/c2.out" 2>"$TMPD/c2.err" &
p2=$!
"${C[@]}" image import "$OCI" three:1 >"$TMPD/c3.out" 2>"$TMPD/c3.err" &
p3=$!
wait $p1; r1=$?; wait $p2; r2=$?; wait $p3; r3=$?
names=$("${C[@]}" image ls --format json | jq -r '[.[].Names[]] | sort | join(" ")')
if [ $r1$r2$r3 != 000 ]; then
	fail engine-concurrent-imports "exit $r1 $r2 $r3: $(cat "$TMPD/c1.err" "$TMPD/c2.err" "$TMPD/c3.err")"
elif [ "$names" != "one:1 three:1 two:1" ]; then
	fail engine-concurrent-imports "names after: '$names'"
elif ! "${C[@]}" image unpack one:1 "$TMPD/u1" || ! "${C[@]}" image unpack two:1 "$TMPD/u2" ||
	[ "$(count_dir "$TMPD/u2/data")" != 400 ] || [ ! -f "$TMPD/u1/etc/two" ] || [ "$(count_dir "$STORE/tmp")" != 0 ]; then
	fail engine-concurrent-imports "unpacked trees are incomplete, or tmp holds $(ls "$STORE/tmp")"
else
	pass engine-concurrent-imports
fi
"${C[@]}" image rm one:1 two:1 three:1 >/dev/null

# --- an import killed half-way: nothing named, and prune removes every leftover
python3 - "$TMPD/huge.tar" <<'PY'
import io, os, sys, tarfile
t = tarfile.open(sys.argv[1], "w")
for i in range(3000):
    d = os.urandom(65536)
    e = tarfile.TarInfo("data/f%05d" % i); e.size = len(d); t.addfile(e, io.BytesIO(d))
t.close()
PY
killed=0
for attempt in 1 2 3; do
	"${C[@]}" image import "$TMPD/huge.tar" huge:1 >/dev/null 2>&1 &
	p=$!
	# wait until it has written something (a temporary blob or a layer being unpacked)
	for ((i = 0; i < 500; i++)); do
		[ -n "$(ls -A "$STORE/tmp" 2>/dev/null)" ] && break
		sleep 0.01
	done
	sleep 0.$((RANDOM % 3 + 1))
	kill -9 $p 2>/dev/null && killed=1
	wait $p 2>/dev/null
	[ $killed = 1 ] && break
	"${C[@]}" image rm huge:1 >/dev/null 2>&1
done
if [ $killed = 0 ]; then
	skip engine-interrupted-import "the import finished before it could be killed (3 tries)"
else
	left="$(ls -A "$STORE/tmp" "$STORE/blobs/sha256" "$STORE/layers" | grep -c '^[0-9a-z]')"
	named=$("${C[@]}" image ls -q | wc -l)
	out=$("${C[@]}" image prune --format json 2>&1)
	if [ "$named" != 0 ]; then
		fail engine-interrupted-import "a killed import named an image"
	elif [ "$(count_dir "$STORE/tmp")$(count_dir "$STORE/blobs/sha256")$(count_dir "$STORE/layers")" != 000 ]; then
		fail engine-interrupted-import "prune left: $(find "$STORE" -mindepth 2 -maxdepth 3 | head -5)"
	elif [ "$left" -eq 0 ]; then
		fail engine-interrupted-import "the killed import left nothing to prune (killed too early?): $out"
	else
		pass engine-interrupted-import
	fi
fi
# and the store works after it
"${C[@]}" image import "$OCI" after:1 >/dev/null 2>"$TMPD/err" && "${C[@]}" image unpack after:1 "$TMPD/ua" 2>>"$TMPD/err" &&
	pass engine-store-after-kill || fail engine-store-after-kill "$(cat "$TMPD/err")"

# --- progress: on a terminal a line per layer step (copy, unpack) with bytes and a total; in a pipe nothing
"${C[@]}" image rm after:1 >/dev/null
if command -v script >/dev/null; then
	script -qec "$(printf '%q ' "${C[@]}" image import "$OCI" prog:1)" /dev/null >"$TMPD/tty.out" 2>&1
	if tr '\r' '\n' <"$TMPD/tty.out" | grep -Eq '^.\[Kunpack [0-9a-f]{12}\.\.: [0-9.]+ / [0-9.]+ MB, total [0-9.]+ MB$' &&
		tr '\r' '\n' <"$TMPD/tty.out" | grep -Eq '^.\[Kcopy [0-9a-f]{12}\.\.: [0-9.]+ / [0-9.]+ MB'; then
		pass engine-progress-tty
	else
		fail engine-progress-tty "$(tr '\r' '\n' <"$TMPD/tty.out" | cat -v | head -c 300)"
	fi
else
	skip engine-progress-tty "no script(1) to make a terminal"
fi
"${C[@]}" image rm prog:1 >/dev/null 2>&1
"${C[@]}" image import "$OCI" prog:1 >/dev/null 2>"$TMPD/pipe.err" && [ ! -s "$TMPD/pipe.err" ] && pass engine-progress-quiet-pipe ||
	fail engine-progress-quiet-pipe "stderr in a pipe: $(cat -v "$TMPD/pipe.err" | head -c 200)"

# --- bad command lines and inputs: one line each
expect_error engine-import-missing 1 "^capsule: $TMPD/nope: No such file or directory" "${C[@]}" image import "$TMPD/nope"
mkdir -p "$TMPD/empty"
expect_error engine-import-neither 1 "empty: neither an OCI layout \(oci-layout\) nor a docker-archive" "${C[@]}" image import "$TMPD/empty"
expect_error engine-import-bad-type 2 "type" "${C[@]}" image import --type zip "$OCI"
expect_error engine-import-bad-name 2 "'UPPER/x:1' is not a valid NAME" "${C[@]}" image import "$OCI" UPPER/x:1
echo "not a tar" >"$TMPD/junk.tar"
expect_error engine-import-junk 1 "junk.tar" "${C[@]}" image import "$TMPD/junk.tar"
expect_error engine-inspect-unknown 1 "image 'nope': no such image in the store" "${C[@]}" image inspect nope
[ "$(count_dir "$STORE/tmp")" = 0 ] && pass engine-bad-inputs-leave-nothing || fail engine-bad-inputs-leave-nothing "tmp: $(ls "$STORE/tmp")"
