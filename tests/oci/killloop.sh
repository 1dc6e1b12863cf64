#!/usr/bin/env bash
# kill -9 of the runtime at a random moment of `create` (40 times) and of `run` (30 times).
# Every container it leaves half-made must be visible to `list` (a state directory only
# `create` trips over is a leak), and `delete --force` of what `list` shows must leave no
# state directory, no cgroup (every v1 hierarchy and the unified mount) and no mount.
source "$(dirname "$0")/common.bash"
oci_require

N_CREATE=${KILLLOOP_CREATE:-40}
N_RUN=${KILLLOOP_RUN:-30}

# One rootfs for all; a bundle per container (config.json only), each with its own cgroup.
new_bundle klbase -- sleep 1000
RFS=$BUNDLE/rootfs
kl_bundle() {   # kl_bundle ID ARGS...: $TMPD/b-ID/config.json
	local id=$1; shift
	mkdir -p "$TMPD/b-$id"
	jq --arg r "$RFS" --arg p "$CGPREFIX/$id" '.root.path = $r | .linux.cgroupsPath = $p
		| .process.args = $ARGS.positional' "$BUNDLE/config.json" --args "$@" >"$TMPD/b-$id/config.json"
}

# The delays are drawn from 0 .. 1.5 x one undisturbed command's duration (measured here,
# so the kills land across the whole command on a fast or slow machine; nothing is timed).
ms() { echo $(( $(date +%s%N) / 1000000 )); }
measure() {   # measure VERB ARGS...: duration in ms of one undisturbed VERB, cleaned up after
	local id=kl-m$1 t0 t1
	kl_bundle "$id" "${@:2}"
	t0=$(ms)
	timeout -k 2 20 "$RUNTIME" --root "$ROOT" "$1" --bundle "$TMPD/b-$id" "$id" >/dev/null 2>&1 </dev/null
	t1=$(ms)
	rt delete --force "$id" >/dev/null 2>&1
	echo $(( t1 - t0 < 5 ? 5 : t1 - t0 ))
}
T_CREATE=$(measure create sleep 1000)
T_RUN=$(measure run true)

# kill_during VERB ID MAXMS: start VERB, SIGKILL it after a random 0..MAXMS ms.
kill_during() {
	local verb=$1 id=$2 max=$3 p d
	track "$id"
	"$RUNTIME" --root "$ROOT" "$verb" --bundle "$TMPD/b-$id" "$id" >/dev/null 2>&1 </dev/null &
	p=$!
	d=$(( RANDOM % (max + 1) ))
	sleep "$(printf '0.%03d' "$d")"
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
}
start=$(ms)
for ((i = 0; i < N_CREATE; i++)); do
	kl_bundle "kl-c$i" sleep 1000
	kill_during create "kl-c$i" $(( T_CREATE * 3 / 2 ))
done
# run: half keep running (sleep), half exit at once (true), so kills land in run's wait and
# in its own delete too.
for ((i = 0; i < N_RUN; i++)); do
	if ((i % 2)); then kl_bundle "kl-r$i" true; else kl_bundle "kl-r$i" sleep 1000; fi
	kill_during run "kl-r$i" $(( T_RUN * 3 / 2 ))
done
loop_ms=$(( $(ms) - start ))

# Half-made containers are containers: every state directory is listed.
listed=$(rt list -q 2>"$TMPD/list.err")
rc=$?
dirs=$(cd "$ROOT" && ls -A 2>/dev/null)
unlisted=$(comm -13 <(sort <<<"$listed") <(sort <<<"$dirs") | grep . | tr '\n' ' ')
if [ $rc -ne 0 ]; then
	fail oci-killloop-list "list exit $rc: $(head -c 300 "$TMPD/list.err")"
elif [ -n "$unlisted" ]; then
	fail oci-killloop-list "state directories list does not show: $unlisted"
else
	pass oci-killloop-list
fi
echo "killloop: $N_CREATE kills in create (0..$((T_CREATE * 3 / 2)) ms), $N_RUN in run (0..$((T_RUN * 3 / 2)) ms) in $loop_ms ms; $(wc -w <<<"$dirs") state directories left, $(wc -w <<<"$listed") listed"

bad=""
for id in $listed; do
	timeout -k 2 20 "$RUNTIME" --root "$ROOT" delete --force "$id" >"$TMPD/del.out" 2>&1 </dev/null ||
		bad+="$id: $(head -c 200 "$TMPD/del.out" | tr '\n' ' '); "
done
if [ -n "$bad" ]; then
	fail oci-killloop-delete "delete --force failed: $(head -c 400 <<<"$bad")"
else
	pass oci-killloop-delete
fi

left=$(cd "$ROOT" && ls -A 2>/dev/null | tr '\n' ' ')
if [ -n "$left" ]; then
	fail oci-killloop-no-state "state directories left: $left"
else
	pass oci-killloop-no-state
fi

# Every hierarchy: the v1 ones, the unified mount (hybrid) or the v2 root.
cgs=""
for d in /sys/fs/cgroup/*/"$CGPREFIX" /sys/fs/cgroup"$CGPREFIX"; do
	[ -d "$d" ] || continue
	[ -n "${CAPSULE_OCI_V1ONLY:-}" ] && [[ "$d" == /sys/fs/cgroup/unified/* ]] && continue
	cgs+=$(find "$d" -mindepth 1 -type d -printf '%p ' 2>/dev/null)
done
if [ -n "$cgs" ]; then
	fail oci-killloop-no-cgroup "$(wc -w <<<"$cgs") cgroup directories left: $(head -c 300 <<<"$cgs")"
else
	pass oci-killloop-no-cgroup
fi

mnts=$(awk -v t="$TMPD" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | tr '\n' ' ')
if [ -n "$mnts" ]; then
	fail oci-killloop-no-mount "mounts left: $(head -c 300 <<<"$mnts")"
else
	pass oci-killloop-no-mount
fi

# No process of these containers is left (in any of their cgroups, even one moved out of
# a cgroup directory that is gone).
procs=""
for p in /proc/[0-9]*; do
	# (a zombie is dead: it waits for pid 1, which these killed runtimes' children went to)
	grep -q '^State:.*Z' "$p/status" 2>/dev/null && continue
	grep -qF -- "$CGPREFIX/" "$p/cgroup" 2>/dev/null && procs+="${p#/proc/}($(tr '\0' ' ' <"$p/cmdline" | head -c 40)) "
done
if [ -n "$procs" ]; then
	fail oci-killloop-no-process "processes left in the containers' cgroups: $procs"
else
	pass oci-killloop-no-process
fi
