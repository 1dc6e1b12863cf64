#!/usr/bin/env bash
# capsule build: a two-stage recipe with FROM, ARG, RUN, COPY (context, --from, --chown), ADD,
# ENV, WORKDIR, USER, EXPOSE, LABEL and CMD builds and runs; a rebuild reuses every step and gives
# the same image; a changed source rebuilds from its step on; .dockerignore leaves files out; a bad
# line is FILE:LINE: reason; a failing RUN shows its output and status and leaves nothing; COPY
# cannot leave the context nor write through an image's symlink to the host.
source "$(dirname "$0")/common.bash"
engine_require umoci
if ! make_base "$TMPD/oci" >"$TMPD/base.log" 2>&1 || ! cap image import "$TMPD/oci" localhost/base:1 >/dev/null 2>"$TMPD/imp.err"; then
	fail engine-build-setup "base image: $(tail -c 300 "$TMPD/base.log" "$TMPD/imp.err")"; exit 0
fi
leftovers() {
	local out=
	[ -n "$(ls -A "$STORE/oci" 2>/dev/null)" ] && out+=" runtime state: $(ls "$STORE/oci")"
	grep -q " $STORE/" /proc/self/mountinfo && out+=" mounts"
	[ -n "$(ls -A "$STORE/tmp" 2>/dev/null)" ] && out+=" tmp: $(ls "$STORE/tmp")"
	echo "$out"
}

C=$TMPD/ctx
mkdir -p "$C/sub"
echo file-a >"$C/a.txt"
echo in-sub >"$C/sub/s.txt"
echo secret >"$C/secret.key"
printf '# not in the image\n*.key\n' >"$C/.dockerignore"
mkdir -p "$TMPD/tarsrc/t" && echo from-tar >"$TMPD/tarsrc/t/x" && tar -C "$TMPD/tarsrc" -czf "$C/arch.tar.gz" t
cat >"$C/Capsulefile" <<'EOF'
# two stages
ARG BASE=localhost/base:1
FROM $BASE AS builder
ARG GREETING=hello
RUN echo "$GREETING from the builder" > /built.txt
FROM ${BASE}
ENV APP_HOME=/app \
    MODE=prod
WORKDIR $APP_HOME
COPY a.txt sub ./
COPY --chown=1234:5678 a.txt /owned
COPY --from=builder /built.txt built.txt
ADD arch.tar.gz /unpacked/
COPY . /ctx/
RUN rm /etc/hello && echo ran > ran.txt
USER 1000:1000
EXPOSE 8080
LABEL org.example.name="demo app"
CMD ["/bin/sh", "-c", "cat a.txt s.txt built.txt ran.txt /unpacked/t/x; echo MODE=$MODE; id -u; ls /etc/hello 2>&1; stat -c '%u:%g' /owned; ls /ctx"]
EOF
id1=$(cap build -t demo:1 --build-arg GREETING=hi "$C" 2>"$TMPD/b1.err")
rc=$?
out=$(cap run --rm demo:1 2>&1)
want=$(printf 'file-a\nin-sub\nhi from the builder\nran\nfrom-tar\nMODE=prod\n1000\nls: /etc/hello: No such file or directory\n1234:5678\nCapsulefile\na.txt\narch.tar.gz\nsub')
[ $rc -eq 0 ] && [[ "$id1" =~ ^sha256:[0-9a-f]{64}$ ]] && [ "$out" = "$want" ] && pass engine-build-run ||
	fail engine-build-run "build exit $rc ($(tail -c 300 "$TMPD/b1.err")); run: '$out'"
cfg=$(cap image inspect demo:1 | python3 -c 'import json,sys; c=json.load(sys.stdin)[0]["Config"]["config"]; print(c.get("WorkingDir"), c.get("User"), sorted(c.get("ExposedPorts", {})), c.get("Labels", {}).get("org.example.name"))' 2>&1)
[ "$cfg" = "/app 1000:1000 ['8080/tcp'] demo app" ] && pass engine-build-config || fail engine-build-config "$cfg"
[ -z "$(leftovers)" ] && pass engine-build-clean || fail engine-build-clean "left:$(leftovers)"

# --- a rebuild: every layer step cached, the same image
id2=$(cap build -t demo:1 --build-arg GREETING=hi "$C" 2>"$TMPD/b2.err")
cached=$(grep -c -- '--> cached' "$TMPD/b2.err")
[ "$id2" = "$id1" ] && [ "$cached" = 7 ] && pass engine-build-cache || fail engine-build-cache "id $id2 (first $id1), $cached of 7 steps cached"
# --- a changed source: its COPY and everything after run again, what came before is cached
echo file-b >"$C/a.txt"
id3=$(cap build -t demo:2 --build-arg GREETING=hi "$C" 2>"$TMPD/b3.err")
cached=$(grep -c -- '--> cached' "$TMPD/b3.err")
out=$(cap run --rm --entrypoint /bin/sh demo:2 -c 'cat /app/a.txt' 2>&1)
[ "$id3" != "$id1" ] && [ "$cached" = 1 ] && [ "$out" = file-b ] && pass engine-build-cache-invalidate ||
	fail engine-build-cache-invalidate "$cached steps cached (want 1: the builder's RUN), a.txt '$out'"
# --- a build-arg is an input too
cap build -q -t demo:3 --build-arg GREETING=bye "$C" >/dev/null 2>"$TMPD/b4.err"
out=$(cap run --rm --entrypoint /bin/sh demo:3 -c 'cat /app/built.txt' 2>&1)
[ "$out" = "bye from the builder" ] && pass engine-build-arg || fail engine-build-arg "$out: $(tail -c 200 "$TMPD/b4.err")"

# --- bad recipes: FILE:LINE: reason, exit 2
printf 'FROM localhost/base:1\nRUN true\nFROBNICATE x\n' >"$TMPD/bad1"
out=$(cap build -f "$TMPD/bad1" "$C" 2>&1)
rc=$?
[ $rc -eq 2 ] && [ "$out" = "capsule: bad1:3: unknown instruction 'FROBNICATE'" ] && pass engine-build-bad-line ||
	fail engine-build-bad-line "exit $rc: $out"
printf 'RUN true\n' >"$TMPD/bad2"
out=$(cap build -f "$TMPD/bad2" "$C" 2>&1)
[ "$out" = "capsule: bad2:1: RUN before any FROM" ] && pass engine-build-no-from || fail engine-build-no-from "$out"
printf 'FROM localhost/base:1\nCOPY ../../etc/passwd /x\n' >"$TMPD/bad3"
out=$(cap build -q -f "$TMPD/bad3" "$C" 2>&1)
rc=$?
[ $rc -ne 0 ] && [ "$out" = "capsule: bad3:2: ../../etc/passwd: outside the build context" ] && [ -z "$(leftovers)" ] &&
	pass engine-build-copy-outside || fail engine-build-copy-outside "exit $rc: $out"
# --- a failing RUN: its output, its status, nothing left
printf 'FROM localhost/base:1\nRUN echo about-to-fail; exit 3\n' >"$TMPD/bad4"
out=$(cap build -q -f "$TMPD/bad4" "$C" 2>&1)
rc=$?
[ $rc -eq 1 ] && [ "$out" = "$(printf 'about-to-fail\ncapsule: bad4:2: RUN exited with status 3')" ] && [ -z "$(leftovers)" ] &&
	pass engine-build-run-fails || fail engine-build-run-fails "exit $rc: '$out'; left:$(leftovers)"
# --- an image's symlink to a host path: COPY writes inside the image, never on the host
tgt=/tmp/capsule-build-escape-$$
printf 'FROM localhost/base:1\nRUN ln -s %s /escape\nCOPY a.txt /escape/pwned\nCMD ["/bin/sh","-c","cat %s/pwned"]\n' "$tgt" "$tgt" >"$TMPD/esc"
out=$(cap build -q -t esc:1 -f "$TMPD/esc" "$C" 2>&1 && cap run --rm esc:1 2>&1)
[ ! -e "$tgt/pwned" ] && [ "$(tail -n1 <<<"$out")" = file-b ] && pass engine-build-symlink-stays-inside ||
	fail engine-build-symlink-stays-inside "host $tgt/pwned $( [ -e "$tgt/pwned" ] && echo EXISTS || echo absent): $out"
rm -rf "$tgt"
# --- scratch and an exec-form RUN
printf 'FROM scratch\nCOPY sub /\n' >"$TMPD/scratch"
sid=$(cap build -q -t scratchy:1 -f "$TMPD/scratch" "$C" 2>&1)
n=$(cap image inspect scratchy:1 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[0]["Manifest"]["layers"]))' 2>&1)
mkdir -p "$TMPD/sx" && cap image unpack scratchy:1 "$TMPD/sx" >/dev/null 2>&1
[ "$n" = 1 ] && [ "$(cat "$TMPD/sx/s.txt" 2>/dev/null)" = in-sub ] && pass engine-build-scratch || fail engine-build-scratch "$sid; layers $n"
