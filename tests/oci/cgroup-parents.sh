#!/usr/bin/env bash
# A cgroupsPath whose ancestors do not exist: create makes them, and removing the container
# removes those it made once they are empty (runc and crun leave them: the empty /capsule-*
# parents such hosts collect). Ancestors that existed before, or that still hold another
# container, stay.
source "$(dirname "$0")/common.bash"
oci_require

# cg_left REL: the hierarchies (v1 ones and the unified mount, or the v2 root) holding REL.
cg_left() {
	local d out=""
	for d in /sys/fs/cgroup/*"$1" /sys/fs/cgroup"$1"; do
		[ -d "$d" ] || continue
		[ -n "${CAPSULE_OCI_V1ONLY:-}" ] && [[ "$d" == /sys/fs/cgroup/unified/* ]] && continue
		out+="$d "
	done
	printf '%s' "$out"
}
# Every hierarchy's directory for REL (mkdir -p; a v1 cpuset one gets its parent's cpus and
# mems, without which no task could join below it).
cg_make() {
	local h d f rel=
	for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[ -e "$h/cgroup.procs" ] || continue
		[ -n "${CAPSULE_OCI_V1ONLY:-}" ] && [[ "$h" == /sys/fs/cgroup/unified/ ]] && continue
		d=${h%/}
		for rel in ${1//\// }; do
			d+=/$rel
			mkdir -p "$d"
			for f in cpuset.cpus cpuset.mems; do
				[ -f "$d/$f" ] && [ -z "$(cat "$d/$f")" ] && cat "${d%/*}/$f" >"$d/$f"
			done
		done
	done
}

# The suite's prefix exists beforehand, as an engine's parent would: only what is below is
# this test's.
cg_make "$CGPREFIX"

# --- run of a container three levels below a fresh ancestor: nothing of it is left
new_bundle deep -- true
cfg "$BUNDLE" '.linux.cgroupsPath = $p' --arg p "$CGPREFIX/made/mid/deep"
ct_run deep deep "$BUNDLE"
left=$(cg_left "$CGPREFIX/made")
if [ $RC -ne 0 ]; then
	fail oci-cgroup-made-parents-removed "run exit $RC: $(said)"
elif [ -n "$left" ]; then
	fail oci-cgroup-made-parents-removed "ancestors create made are left: $left"
elif [ -z "$(cg_left "$CGPREFIX")" ]; then
	fail oci-cgroup-made-parents-removed "the pre-existing $CGPREFIX was removed"
else
	pass oci-cgroup-made-parents-removed
fi

# --- an ancestor that existed before stays (in every hierarchy); those below it go
cg_make "$CGPREFIX/pre"
new_bundle pre -- true
cfg "$BUNDLE" '.linux.cgroupsPath = $p' --arg p "$CGPREFIX/pre/mid/pre"
ct_run pre pre "$BUNDLE"
n_pre=$(wc -w <<<"$(cg_left "$CGPREFIX/pre")")
n_all=$(wc -w <<<"$(cg_left "$CGPREFIX")")
if [ $RC -ne 0 ]; then
	fail oci-cgroup-existing-parent-kept "run exit $RC: $(said)"
elif [ -n "$(cg_left "$CGPREFIX/pre/mid")" ]; then
	fail oci-cgroup-existing-parent-kept "ancestors create made are left: $(cg_left "$CGPREFIX/pre/mid")"
elif [ "$n_pre" -ne "$n_all" ]; then
	fail oci-cgroup-existing-parent-kept "$CGPREFIX/pre was in $n_all hierarchies, $n_pre are left"
else
	pass oci-cgroup-existing-parent-kept
fi

# --- a parent one container made and another one shares: deleting the first leaves it (the
# second is inside); deleting the second then removes only its own cgroup
for c in sha shb; do
	new_bundle "$c" -- sleep 1000
	cfg "$BUNDLE" '.linux.cgroupsPath = $p' --arg p "$CGPREFIX/shared/$c"
	track "$c"
	rt run -d --bundle "$BUNDLE" "$c" >"$TMPD/$c.run" 2>&1 </dev/null || fail oci-cgroup-shared-parent-kept "run -d $c: $(head -c 200 "$TMPD/$c.run")"
done
rt delete --force sha >"$TMPD/sha.del" 2>&1
after_a=$(cg_left "$CGPREFIX/shared/shb")
a_left=$(cg_left "$CGPREFIX/shared/sha")
rt delete --force shb >"$TMPD/shb.del" 2>&1
b_left=$(cg_left "$CGPREFIX/shared/shb")
if [ -n "$a_left" ] || [ -n "$b_left" ]; then
	fail oci-cgroup-shared-parent-kept "a container's own cgroup is left: $a_left $b_left"
elif [ -z "$after_a" ]; then
	fail oci-cgroup-shared-parent-kept "deleting sha removed shb's cgroup (or its parent)"
else
	pass oci-cgroup-shared-parent-kept
fi

# --- a failed create removes the ancestors it made too
new_bundle failed -- /no/such/program
cfg "$BUNDLE" '.linux.cgroupsPath = $p' --arg p "$CGPREFIX/failmade/x/failed"
ct_run failed failed "$BUNDLE"
left=$(cg_left "$CGPREFIX/failmade")
if [ $RC -eq 0 ]; then
	fail oci-cgroup-failed-create-parents "run of a missing program succeeded"
elif [ -n "$left" ]; then
	fail oci-cgroup-failed-create-parents "ancestors the failed create made are left: $left"
else
	pass oci-cgroup-failed-create-parents
fi

# --- a v1 cpuset ancestor someone made with a plain mkdir has no cpus or mems: create fills it
# (as runc does) instead of failing with ENOSPC when the init joins below it
if [ ! -f /sys/fs/cgroup/cpuset/cpuset.cpus ]; then
	skip oci-cgroup-empty-cpuset-parent "no v1 cpuset hierarchy"
else
	mkdir -p "/sys/fs/cgroup/cpuset$CGPREFIX/rawmk"
	new_bundle rawmk -- true
	cfg "$BUNDLE" '.linux.cgroupsPath = $p' --arg p "$CGPREFIX/rawmk/c"
	ct_run rawmk rawmk "$BUNDLE"
	if [ $RC -ne 0 ]; then
		fail oci-cgroup-empty-cpuset-parent "run below a plainly made cpuset parent: exit $RC: $(said)"
	else
		pass oci-cgroup-empty-cpuset-parent
	fi
fi
