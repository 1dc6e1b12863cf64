#!/usr/bin/env bash
# The engine against podman, side by side, on the same busybox image (scripts/mkbundle's rootfs,
# imported into a Capsule store and into an isolated podman, scripts/podman-setup):
#
#   capsule run --rm IMAGE /bin/true            vs  podman run --rm IMAGE /bin/true
#                                                   (podman with runc, and with capsule-runtime)
#   capsule build (every step cached)            vs  podman build (every step cached)
#
#   ROUNDS=10 bench/engine_run.sh
#
# Interleaved: each round runs every contender once, in turn. Medians of wall time and ratios to
# podman+runc. The target (issue 10): capsule run at most 0.5x of podman's wall time.
# Timings are never pass/fail.
set -uo pipefail
export LC_ALL=C
: "${B:=build}"
: "${CAPSULE_ROOT:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${CAPSULE:=$CAPSULE_ROOT/$B/capsule}"
ROUNDS=${ROUNDS:-10}
if [ "$(id -u)" -ne 0 ]; then echo "engine_run: needs root; skipped"; exit 0; fi
command -v podman >/dev/null || { echo "engine_run: podman not installed (scripts/deps); skipped"; exit 0; }
W=$(mktemp -d /tmp/capsule-bench-engine.XXXXXX)
cleanup() { "$CAPSULE_ROOT/scripts/podman-setup" --clean "$W/pd" >/dev/null 2>&1; rm -rf "$W"; }
trap cleanup EXIT

env=$("$CAPSULE_ROOT/scripts/podman-setup" "$W/pd" 2>"$W/setup.err") || { echo "engine_run: podman-setup failed: $(tail -c 200 "$W/setup.err")"; exit 0; }
eval "$env"
"$CAPSULE_ROOT/scripts/mkbundle" --rootfs-only "$W/bundle" >/dev/null
tar -C "$W/bundle/rootfs" -cf "$W/rootfs.tar" .
S=$W/store
"$CAPSULE" --root "$S" image import "$W/rootfs.tar" bench/busybox:1 >/dev/null || { echo "engine_run: import failed"; exit 1; }
RT=$(cd "$(dirname "$CAPSULE")" && pwd)/capsule-runtime
mkdir -p "$W/ctx"
echo data >"$W/ctx/f"
printf 'FROM %s\nRUN echo one > /one\nCOPY f /f\nRUN cat /f /one > /both\n' "bench/busybox:1" >"$W/ctx/Capsulefile"
printf 'FROM %s\nRUN echo one > /one\nCOPY f /f\nRUN cat /f /one > /both\n' "$PODMAN_IMAGE" >"$W/ctx/Dockerfile.podman"
"$CAPSULE" --root "$S" build -q -t bench/built:1 "$W/ctx" >/dev/null 2>&1
podman --runtime runc build -q --cgroup-manager cgroupfs -f "$W/ctx/Dockerfile.podman" -t bench-built "$W/ctx" >/dev/null 2>&1
PARENT=$PODMAN_CGROUP_PARENT

ms() { local s=$EPOCHREALTIME; "$@" >/dev/null 2>&1; local rc=$?; local e=$EPOCHREALTIME; awk -v s="$s" -v e="$e" 'BEGIN {printf "%.1f\n", (e - s) * 1000}'; return $rc; }
declare -A F
for ((i = 0; i < ROUNDS; i++)); do
	ms "$CAPSULE" --root "$S" run --rm bench/busybox:1 /bin/true >>"$W/t.capsule"
	ms podman --runtime runc run --rm --cgroup-parent "$PARENT" "$PODMAN_IMAGE" /bin/true >>"$W/t.podman-runc" || F[podman-runc]=1
	ms podman --runtime "$RT" run --rm --cgroup-parent "$PARENT" "$PODMAN_IMAGE" /bin/true >>"$W/t.podman-capsule" || F[podman-capsule]=1
	ms "$CAPSULE" --root "$S" build -q -t bench/built:1 "$W/ctx" >>"$W/b.capsule"
	ms podman --runtime runc build -q --cgroup-manager cgroupfs -f "$W/ctx/Dockerfile.podman" -t bench-built "$W/ctx" >>"$W/b.podman" || F[podman-build]=1
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2}'; }
echo "== engine vs podman ($ROUNDS rounds, interleaved; wall ms, medians)"
pr=$(median "$W/t.podman-runc")
printf "%-52s %10s %8s\n" "run --rm IMAGE /bin/true" "median ms" "ratio"
printf "%-52s %10s %8s\n" "capsule run" "$(median "$W/t.capsule")" "$(awk -v a="$(median "$W/t.capsule")" -v b="$pr" 'BEGIN {printf "%.2fx", a / b}')"
printf "%-52s %10s %8s\n" "podman run (runc)${F[podman-runc]:+ (failed runs)}" "$pr" "1.00x"
printf "%-52s %10s %8s\n" "podman run (capsule-runtime)${F[podman-capsule]:+ (failed runs)}" "$(median "$W/t.podman-capsule")" \
	"$(awk -v a="$(median "$W/t.podman-capsule")" -v b="$pr" 'BEGIN {printf "%.2fx", a / b}')"
pb=$(median "$W/b.podman")
printf "%-52s %10s %8s\n" "build, every step cached (FROM, RUN, COPY, RUN)" "median ms" "ratio"
printf "%-52s %10s %8s\n" "capsule build" "$(median "$W/b.capsule")" "$(awk -v a="$(median "$W/b.capsule")" -v b="$pb" 'BEGIN {printf "%.2fx", a / b}')"
printf "%-52s %10s %8s\n" "podman build (runc)${F[podman-build]:+ (failed runs)}" "$pb" "1.00x"
echo "target: capsule run <= 0.5x podman run"
