#!/usr/bin/env bash
# Containment (issue 8): a config must never reach the host. Sysctls only of namespaces the
# container owns; cgroupsPath normalised and resolved per hierarchy; values that cannot be
# applied refused; mount destinations resolved inside the root.
#
# Nothing here changes the host: a sysctl the runtime must refuse is asked for with the value
# the host already has (so a runtime that wrongly writes it writes what was there), and every
# cgroup is a throwaway one with "oci-contain" in its name, removed at exit.
source "$(dirname "$0")/common.bash"
oci_require
CGPREFIX=/capsule-oci-contain-$$

# refused NAME REGEX ID BUNDLE: create fails with one line matching REGEX and leaves nothing.
refused() {
	local name=$1 re=$2 id=$3 b=$4 left
	track "$id"
	if expect_rt_error "$name" "$re" rt create --bundle "$b" "$id"; then
		left=$(leftovers "$id" "$b")
		[ -z "$left" ] || { fail "$name" "refused, but left: $left"; rt delete --force "$id" >/dev/null 2>&1; }
	else
		rt delete --force "$id" >/dev/null 2>&1
	fi
	# for the comparison with the anchors (RUNTIME=runc|crun): what they said
	is_capsule || echo "note: $name: $(basename "$RUNTIME"): $(head -c 200 "$TMPD/$name.err" | tr '\n' ' ')"
}

# ---------------------------------------------------------------------------------------------
# linux.sysctl: only keys of a namespace the container has of its own.
# host_same KEY: {"KEY": <the host's current value>} as a jq object argument.
host_same() { jq -cn --arg k "$1" --arg v "$(cat "/proc/sys/${1//.//}")" '{($k): $v}'; }

sysctl_refused() {
	local name=$1 key=$2 filter=${3:-.}
	new_bundle "$name" -- true
	cfg "$BUNDLE" ".linux.sysctl = \$s | $filter" --argjson s "$(host_same "$key")"
	refused "$name" "${4:-sysctl.*$key}" "$name" "$BUNDLE"
}
# not namespaced at all: would be the host's
sysctl_refused oci-sysctl-host-vm vm.swappiness
sysctl_refused oci-sysctl-host-kernel kernel.printk_ratelimit_burst
# the same key spelt with slashes
new_bundle oci-sysctl-host-slash -- true
cfg "$BUNDLE" '.linux.sysctl = {"vm/swappiness": $v}' --arg v "$(cat /proc/sys/vm/swappiness)"
refused oci-sysctl-host-slash 'sysctl.*vm/swappiness' oci-sysctl-host-slash "$BUNDLE"
# namespaced, but the namespace is the host's: not in linux.namespaces ...
sysctl_refused oci-sysctl-no-netns net.ipv4.ip_forward 'del(.linux.namespaces[] | select(.type == "network"))'
sysctl_refused oci-sysctl-no-ipcns kernel.msgmax 'del(.linux.namespaces[] | select(.type == "ipc"))'
sysctl_refused oci-sysctl-no-mqns fs.mqueue.msg_max 'del(.linux.namespaces[] | select(.type == "ipc"))'
sysctl_refused oci-sysctl-no-utsns kernel.domainname 'del(.linux.namespaces[] | select(.type == "uts")) | del(.hostname)'
# ... or joined by path, and that path is the runtime's own (the host's)
sysctl_refused oci-sysctl-host-netns-path net.ipv4.ip_forward \
	'(.linux.namespaces[] | select(.type == "network")) |= {type: "network", path: "/proc/self/ns/net"}'

# control: each namespaced kind with its own namespace is set inside the container only
new_bundle oci-sysctl-owned -- sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax /proc/sys/fs/mqueue/msg_max /proc/sys/kernel/domainname'
cfg "$BUNDLE" '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "4097", "fs.mqueue.msg_max": "17", "kernel.domainname": "oci-contain"}'
host_before="$(cat /proc/sys/kernel/msgmax /proc/sys/fs/mqueue/msg_max /proc/sys/kernel/domainname)"
ct_run oci-sysctl-owned oci-sysctl-owned "$BUNDLE"
if [ $RC -ne 0 ] || [ "$(tr '\n' ' ' <"$OUT")" != "1 4097 17 oci-contain " ]; then
	fail oci-sysctl-owned "exit $RC, got '$(said)', want '1 4097 17 oci-contain'"
elif [ "$host_before" != "$(cat /proc/sys/kernel/msgmax /proc/sys/fs/mqueue/msg_max /proc/sys/kernel/domainname)" ]; then
	fail oci-sysctl-owned "the host's values changed"
else
	pass oci-sysctl-owned
fi
