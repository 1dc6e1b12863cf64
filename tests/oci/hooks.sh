#!/usr/bin/env bash
# Hooks: each of prestart, createRuntime, createContainer, startContainer, poststart, poststop
# fires once, in that order, with its env and the state JSON on stdin; a failing hook fails create
# and leaves nothing behind.
# createContainer and startContainer run in the container's mount namespace, which alone sees the
# log through the bind mount of $HD: at BUNDLE/rootfs/hooklog before pivot_root (createContainer,
# per the spec) or at /hooklog after it (startContainer). Run in the host's namespace, they find
# neither and fail.
source "$(dirname "$0")/common.bash"
oci_require

HD=$TMPD/hooklog
mkdir -p "$HD"
LOG=$HD/log
: >"$LOG"

# hook NAME DIR...: a hook that appends NAME to the log in the first DIR holding one and saves its
# stdin (the state) there as NAME.state.
hook() {
	local n=$1 script="" d; shift
	for d in "$@"; do script+="if [ -f $d/log ]; then d=$d; el"; done
	script+="se exit 1; fi; echo $n \$HOOKVAR >> \$d/log; cat > \$d/$n.state"
	jq -n --arg s "$script" '{path: "/bin/sh", args: ["sh", "-c", $s],
		env: ["HOOKVAR=from-env", "PATH=/bin:/usr/bin"], timeout: 10}'
}

new_bundle hooks -- sleep 60
IN=("/hooklog" "$BUNDLE/rootfs/hooklog")
cfg "$BUNDLE" '.hooks = {
	prestart: [$pre], createRuntime: [$cr], createContainer: [$cc],
	startContainer: [$sc], poststart: [$post], poststop: [$stop] }
	| .mounts += [{destination: "/hooklog", type: "bind", source: $hd, options: ["rbind", "rw"]}]' \
	--argjson pre "$(hook prestart "$HD")" --argjson cr "$(hook createRuntime "$HD")" \
	--argjson cc "$(hook createContainer "${IN[@]}")" --argjson sc "$(hook startContainer "${IN[@]}")" \
	--argjson post "$(hook poststart "$HD")" --argjson stop "$(hook poststop "$HD")" --arg hd "$HD"

order() { awk '{ print $1 }' "$LOG" 2>/dev/null | tr '\n' ' '; }

ct_create hooks "$BUNDLE"
if [ $RC -ne 0 ]; then
	fail oci-hooks-create "create exit $RC: $(head -c 300 "$TMPD/hooks.create")"
else
	[ "$(order)" = "prestart createRuntime createContainer " ] && pass oci-hooks-create ||
		fail oci-hooks-create "after create the log says '$(order)', want 'prestart createRuntime createContainer'"
	rt start hooks >/dev/null 2>&1
	wait_status hooks running 50
	[ "$(order)" = "prestart createRuntime createContainer startContainer poststart " ] && pass oci-hooks-start ||
		fail oci-hooks-start "after start the log says '$(order)'"
	rt kill hooks KILL >/dev/null 2>&1
	wait_status hooks stopped
	rt delete hooks >/dev/null 2>&1
	want="prestart createRuntime createContainer startContainer poststart poststop "
	[ "$(order)" = "$want" ] && pass oci-hooks-order || fail oci-hooks-order "log says '$(order)', want '$want'"

	# Every hook got its env, and a state JSON naming the container and the bundle on stdin.
	bad=""
	grep -qv 'from-env$' "$LOG" && bad+="env missing in: $(grep -v 'from-env$' "$LOG" | tr '\n' ' '); "
	# (crun 1.8 passes the container-namespace hooks a state with bundle "/" and pid 0, so only
	# the runtime-namespace hooks are held to the bundle path.)
	for h in prestart createRuntime createContainer startContainer poststart poststop; do
		case $h in createContainer|startContainer) b=any ;; *) b=$BUNDLE ;; esac
		jq_true '.id == "hooks" and ($b == "any" or .bundle == $b) and (.status | type == "string")' \
			--arg b "$b" "$HD/$h.state" || bad+="$h state: $(head -c 120 "$HD/$h.state" 2>/dev/null); "
	done
	jq_true '.pid > 0' "$HD/createRuntime.state" || bad+="createRuntime state has no pid; "
	[ -z "$bad" ] && pass oci-hooks-state || fail oci-hooks-state "$bad"
fi

# A failing createRuntime hook fails create with nothing left behind; a poststop hook failing
# does not stop delete.
new_bundle hookfail -- true
cfg "$BUNDLE" '.hooks = {createRuntime: [{path: "/bin/sh", args: ["sh", "-c", "exit 3"]}]}'
track hookfail
expect_rt_error oci-hook-fails-create 'hook|createRuntime' rt create --bundle "$BUNDLE" hookfail
left=$(leftovers hookfail "$BUNDLE")
[ -z "$left" ] && ! rt state hookfail >/dev/null 2>&1 && pass oci-hook-fails-clean ||
	fail oci-hook-fails-clean "left behind: ${left:-a state that still answers for hookfail}"

# hook timeout: a prestart hook that sleeps past its timeout fails create.
new_bundle hookslow -- true
cfg "$BUNDLE" '.hooks = {prestart: [{path: "/bin/sleep", args: ["sleep", "30"], timeout: 1}]}'
track hookslow
expect_rt_error oci-hook-timeout 'hook|prestart|timed out|timeout' rt create --bundle "$BUNDLE" hookslow
left=$(leftovers hookslow "$BUNDLE")
[ -z "$left" ] && ! rt state hookslow >/dev/null 2>&1 && pass oci-hook-timeout-clean ||
	fail oci-hook-timeout-clean "left behind: ${left:-a state that still answers for hookslow}"
