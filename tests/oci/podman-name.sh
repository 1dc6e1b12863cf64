#!/usr/bin/env bash
# `make install` makes Capsule a runtime podman knows by name: after an install (PREFIX and
# SYSCONFDIR under $TMPD) `podman --runtime capsule run` runs the container with the installed
# capsule-runtime, found through the containers.conf.d drop-in; without the drop-in podman
# refuses the name (the control that shows the drop-in is what does it).
#
# Podman 4.3 reads no drop-in directory when CONTAINERS_CONF is set, so podman runs with the
# system configuration path /etc/containers, replaced (in a private mount namespace only) by a
# copy of the host's one holding podman-setup's containers.conf and the installed drop-in.
source "$(dirname "$0")/common.bash"
oci_require
if ! command -v podman >/dev/null || ! command -v conmon >/dev/null; then
	skip oci-podman-name "podman/conmon not installed (scripts/deps)"; exit 0
fi
if ! is_capsule; then
	skip oci-podman-name "checks Capsule's make install (RUNTIME=$RUNTIME)"; exit 0
fi

PD=$TMPD/podman
podman_cleanup() {
	"$CAPSULE_ROOT/scripts/podman-setup" --clean "$PD" >/dev/null 2>&1
	oci_cleanup
}
trap podman_cleanup EXIT
if ! env=$("$CAPSULE_ROOT/scripts/podman-setup" "$PD" 2>"$TMPD/setup.err"); then
	fail oci-podman-name-setup "scripts/podman-setup failed: $(tail -c 300 "$TMPD/setup.err")"; exit 0
fi
eval "$env"
cd "$TMPD" || exit 1

P=$TMPD/prefix ETC=$TMPD/etc
if ! make -s -C "$CAPSULE_ROOT" B="$B" PREFIX="$P" SYSCONFDIR="$ETC" install >"$TMPD/install.out" 2>&1; then
	fail oci-podman-name-install "make install: $(tail -c 300 "$TMPD/install.out")"; exit 0
fi
cp -a /etc/containers/. "$ETC/containers/"
cp "$CONTAINERS_CONF" "$ETC/containers/containers.conf"

# podman with /etc/containers replaced by $ETC/containers, CONTAINERS_CONF unset.
pm_sys() {
	timeout -k 5 90 unshare -m --propagation private env -u CONTAINERS_CONF sh -c \
		'mount --bind "$1" /etc/containers && shift && exec podman "$@"' sh "$ETC/containers" "$@" </dev/null
}

for name in capsule capsule-runtime; do
	out=$(pm_sys --runtime "$name" run --rm --cgroup-parent "$PODMAN_CGROUP_PARENT" "$PODMAN_IMAGE" \
		sh -c 'echo by-name' 2>&1)
	rc=$?
	[ $rc -eq 0 ] && [ "$out" = by-name ] && pass "oci-podman-name-$name" ||
		fail "oci-podman-name-$name" "podman --runtime $name run: exit $rc: $(head -c 300 <<<"$out")"
done

path=$(pm_sys --runtime capsule info --format '{{.Host.OCIRuntime.Path}}' 2>&1)
[ "$path" = "$P/bin/capsule-runtime" ] && pass oci-podman-name-path ||
	fail oci-podman-name-path "podman info says the runtime is '$path', want $P/bin/capsule-runtime"

rm "$ETC/containers/containers.conf.d/50-capsule.conf"
out=$(pm_sys --runtime capsule run --rm --cgroup-parent "$PODMAN_CGROUP_PARENT" "$PODMAN_IMAGE" true 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q 'runtime "capsule" not found' <<<"$out" && pass oci-podman-name-control ||
	fail oci-podman-name-control "without the drop-in: exit $rc: $(head -c 300 <<<"$out")"
