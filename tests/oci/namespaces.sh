#!/usr/bin/env bash
# Each namespace: the container gets a new one (its /proc/self/ns link differs from the host's)
# and it behaves like one; joining an existing namespace by path.
source "$(dirname "$0")/common.bash"
oci_require

# differs TYPE: the container printed its ns link on the first line of $OUT; it must differ from ours.
differs() {
	local mine; mine=$(readlink "/proc/self/ns/$1")
	local theirs; theirs=$(head -n1 "$OUT")
	[[ "$theirs" == "$1:["*"]" ]] && [ "$theirs" != "$mine" ]
}

# --- pid: the container process sees itself as pid 1
new_bundle pidns -- sh -c 'readlink /proc/self/ns/pid; echo $$; ps -o pid,comm | wc -l'
ct_run pidns pidns "$BUNDLE"
if [ $RC -ne 0 ]; then
	fail oci-ns-pid "exit $RC: $(said)"
elif ! differs pid; then
	fail oci-ns-pid "same pid namespace as the host: $(said)"
elif [ "$(sed -n 2p "$OUT")" != 1 ]; then
	fail oci-ns-pid "\$\$ is $(sed -n 2p "$OUT"), want 1"
elif [ "$(sed -n 3p "$OUT")" -gt 4 ]; then
	fail oci-ns-pid "ps sees $(sed -n 3p "$OUT") lines: host processes visible"
else
	pass oci-ns-pid
fi

# --- uts: hostname (and domainname) from config.json
new_bundle utsns --hostname box-under-test -- sh -c 'readlink /proc/self/ns/uts; hostname'
ct_run utsns utsns "$BUNDLE"
if [ $RC -ne 0 ]; then
	fail oci-ns-uts "exit $RC: $(said)"
elif ! differs uts; then
	fail oci-ns-uts "same uts namespace as the host: $(said)"
elif [ "$(sed -n 2p "$OUT")" != box-under-test ]; then
	fail oci-ns-uts "hostname '$(sed -n 2p "$OUT")', want box-under-test"
elif [ "$(hostname)" = box-under-test ]; then
	fail oci-ns-uts "the host's hostname changed"
else
	pass oci-ns-uts
fi
# domainname (runtime-spec 1.0.2; runc 1.1.5 ignores it, crun sets it).
new_bundle utsdom -- cat /proc/sys/kernel/domainname
cfg "$BUNDLE" '.domainname = "example.test"'
ct_run utsdom utsdom "$BUNDLE"
[ $RC -eq 0 ] && [ "$(cat "$OUT")" = example.test ] && pass oci-ns-uts-domainname ||
	fail oci-ns-uts-domainname "exit $RC, domainname '$(said)', want example.test"

# --- ipc: a System V message queue made on the host is not visible inside.
qid=$(ipcmk -Q 2>/dev/null | awk '{ print $NF }')
new_bundle ipcns -- sh -c 'readlink /proc/self/ns/ipc; cat /proc/sysvipc/msg | wc -l'
ct_run ipcns ipcns "$BUNDLE"
[ -n "$qid" ] && ipcrm -q "$qid"
if [ -z "$qid" ]; then
	fail oci-ns-ipc "could not make a host message queue with ipcmk"
elif [ $RC -ne 0 ]; then
	fail oci-ns-ipc "exit $RC: $(said)"
elif ! differs ipc; then
	fail oci-ns-ipc "same ipc namespace as the host: $(said)"
elif [ "$(sed -n 2p "$OUT")" != 1 ]; then
	fail oci-ns-ipc "/proc/sysvipc/msg not empty inside: $(said)"
else
	pass oci-ns-ipc
fi

# --- mount: the host's mounts are not visible, / is the bundle's rootfs
new_bundle mntns -- sh -c 'readlink /proc/self/ns/mnt; awk "{ print \"mp\", \$5 }" /proc/self/mountinfo; ls /'
ct_run mntns mntns "$BUNDLE"
if [ $RC -ne 0 ]; then
	fail oci-ns-mount "exit $RC: $(said)"
elif ! differs mnt; then
	fail oci-ns-mount "same mount namespace as the host: $(said)"
elif grep -Eq "^mp ($TMPD|/work|/tmp/)" "$OUT" || ! grep -qx 'mp /' "$OUT" || ! grep -qx 'mp /proc' "$OUT"; then
	fail oci-ns-mount "host mount points visible inside, or no / and /proc: $(grep '^mp' "$OUT" | tr '\n' ' ')"
elif ! grep -qx bin "$OUT" || grep -qx work "$OUT"; then
	fail oci-ns-mount "/ is not the bundle's rootfs"
elif awk -v b="$BUNDLE" 'index($5, b) == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
	fail oci-ns-mount "container mounts leaked to the host mount namespace"
else
	pass oci-ns-mount
fi

# --- network: only lo, and it is up
new_bundle netns -- sh -c 'readlink /proc/self/ns/net; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\n" " "'
ct_run netns netns "$BUNDLE"
if [ $RC -ne 0 ]; then
	fail oci-ns-net "exit $RC: $(said)"
elif ! differs net; then
	fail oci-ns-net "same network namespace as the host: $(said)"
elif [ "$(sed -n 2p "$OUT")" != "lo " ]; then
	fail oci-ns-net "interfaces other than lo: $(said)"
else
	pass oci-ns-net
fi

# --- user: uid/gid mappings; root inside is 100000 outside
# (mapped root must be able to reach the bundles: mktemp made $TMPD 0700)
chmod 755 "$TMPD"
new_bundle userns -- sh -c 'readlink /proc/self/ns/user; cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; sleep 30'
cfg "$BUNDLE" '.linux.namespaces += [{"type": "user"}]
	| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	| .mounts |= map(select(.type != "cgroup"))'
chown -R 100000:100000 "$BUNDLE/rootfs"
ct_create userns "$BUNDLE"
if [ $RC -ne 0 ]; then
	fail oci-ns-user "create exit $RC: $(head -c 300 "$TMPD/userns.create")"
else
	upid=$(ct_pid userns)
	rt start userns >/dev/null 2>&1
	for _ in $(seq 50); do grep -q sleep "/proc/$upid/cmdline" && break; sleep 0.1; done
	map=$(tr -s ' ' <"/proc/$upid/uid_map" 2>/dev/null)
	huid=$(awk '/^Uid:/ { print $2 }' "/proc/$upid/status" 2>/dev/null)
	hgid=$(awk '/^Gid:/ { print $2 }' "/proc/$upid/status" 2>/dev/null)
	if [ "$(ns_inode "$upid" user)" = "$(readlink /proc/self/ns/user)" ]; then
		fail oci-ns-user "same user namespace as the host"
	elif [ "$map" != " 0 100000 65536" ]; then
		fail oci-ns-user "uid_map '$map', want '0 100000 65536'"
	elif [ "$huid" != 100000 ] || [ "$hgid" != 100000 ]; then
		fail oci-ns-user "host sees uid $huid gid $hgid, want 100000"
	else
		pass oci-ns-user
	fi
	rt kill userns KILL >/dev/null 2>&1; wait_status userns stopped; rt delete userns >/dev/null 2>&1
fi
# The same from inside: root in the container.
new_bundle userns2 -- sh -c 'id -u; id -g; touch /tmp/x && stat -c %u /tmp/x'
cfg "$BUNDLE" '.linux.namespaces += [{"type": "user"}]
	| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	| .mounts |= map(select(.type != "cgroup"))'
chown -R 100000:100000 "$BUNDLE/rootfs"
ct_run userns2 userns2 "$BUNDLE"
if [ $RC -eq 0 ] && [ "$(tr '\n' ' ' <"$OUT")" = "0 0 0 " ] &&
   [ "$(stat -c %u "$BUNDLE/rootfs/tmp/x" 2>/dev/null)" = 100000 ]; then
	pass oci-ns-user-root-inside
else
	fail oci-ns-user-root-inside "exit $RC, want '0 0 0' and a host-side owner 100000: $(said)"
fi

# --- cgroup: the container's own cgroup is its root
new_bundle cgns -- sh -c 'readlink /proc/self/ns/cgroup; cat /proc/self/cgroup'
cfg "$BUNDLE" '.linux.namespaces += [{"type": "cgroup"}]'
ct_run cgns cgns "$BUNDLE"
if [ $RC -ne 0 ]; then
	fail oci-ns-cgroup "exit $RC: $(said)"
elif ! differs cgroup; then
	fail oci-ns-cgroup "same cgroup namespace as the host: $(said)"
elif grep -E '^[0-9]+:(memory|pids):' "$OUT" | grep -qv ':/$'; then
	fail oci-ns-cgroup "cgroup paths not rooted at the container: $(said)"
elif ! grep -Eq '^[0-9]+:(memory|pids):/$|^0::/$' "$OUT"; then
	fail oci-ns-cgroup "no root cgroup line: $(said)"
else
	pass oci-ns-cgroup
fi

# --- time: boottime offset shows in /proc/uptime (kernel >= 5.6 with CONFIG_TIME_NS)
if [ ! -e /proc/self/ns/time ]; then
	skip oci-ns-time "kernel has no time namespace"
elif feat=$("$RUNTIME" features 2>/dev/null) && jq_true '.linux.namespaces | type == "array"' <<<"$feat" &&
     ! jq_true '.linux.namespaces | index("time") != null' <<<"$feat"; then
	skip oci-ns-time "runtime's features list no time namespace"
else
	new_bundle timens -- sh -c 'readlink /proc/self/ns/time; cut -d. -f1 /proc/uptime'
	cfg "$BUNDLE" '.linux.namespaces += [{"type": "time"}]
		| .linux.timeOffsets = {"boottime": {"secs": 1000000, "nanosecs": 0},
					"monotonic": {"secs": 1000000, "nanosecs": 0}}'
	ct_run timens timens "$BUNDLE"
	host_up=$(cut -d. -f1 /proc/uptime)
	in_up=$(sed -n 2p "$OUT")
	if [ $RC -ne 0 ]; then
		fail oci-ns-time "exit $RC: $(said)"
	elif [ "$(head -n1 "$OUT")" = "$(readlink /proc/self/ns/time)" ]; then
		fail oci-ns-time "same time namespace as the host"
	elif ! [[ "$in_up" =~ ^[0-9]+$ ]] || [ "$in_up" -lt $((host_up + 999000)) ]; then
		fail oci-ns-time "uptime inside $in_up, want about $((host_up + 1000000))"
	else
		pass oci-ns-time
	fi
fi

# --- joining: a second container joins the first's network and ipc namespaces by path
new_bundle holder -- sleep 60
ct_create holder "$BUNDLE"
hpid=$(ct_pid holder)
new_bundle joiner -- sh -c 'readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts'
cfg "$BUNDLE" '.linux.namespaces |= map(if .type == "network" then .path = "/proc/\($p)/ns/net"
	elif .type == "ipc" then .path = "/proc/\($p)/ns/ipc" else . end)' --arg p "$hpid"
ct_run joiner joiner "$BUNDLE"
if [ -z "$hpid" ]; then
	fail oci-ns-join-path "holder container not created: $(head -c 300 "$TMPD/holder.create")"
elif [ $RC -ne 0 ]; then
	fail oci-ns-join-path "exit $RC: $(said)"
elif [ "$(sed -n 1p "$OUT")" != "$(ns_inode "$hpid" net)" ] || [ "$(sed -n 2p "$OUT")" != "$(ns_inode "$hpid" ipc)" ]; then
	fail oci-ns-join-path "did not join the holder's net/ipc: $(said) vs $(ns_inode "$hpid" net) $(ns_inode "$hpid" ipc)"
elif [ "$(sed -n 3p "$OUT")" = "$(ns_inode "$hpid" uts)" ]; then
	fail oci-ns-join-path "joined the holder's uts namespace too"
else
	pass oci-ns-join-path
fi
rt delete --force holder >/dev/null 2>&1
