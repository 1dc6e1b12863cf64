#!/usr/bin/env bash
# Confinement: read-only rootfs, masked and read-only paths, capabilities, seccomp (EPERM, a
# custom errno, kill), noNewPrivileges, user/groups, rlimits, devices, sysctl, oomScoreAdj.
source "$(dirname "$0")/common.bash"
oci_require

# run_in NAME JQ-FILTER ARGS...: a bundle running ARGS with the config edited by FILTER.
run_in() {
	local name=$1 filter=$2; shift 2
	new_bundle "$name" -- "$@"
	[ -n "$filter" ] && cfg "$BUNDLE" "$filter"
	ct_run "$name" "$name" "$BUNDLE"
}

# --- read-only rootfs: writing / fails; a tmpfs mount (/dev/shm) stays writable
run_in rofs '.root.readonly = true' sh -c 'touch /newfile 2>&1; echo rc=$?; touch /dev/shm/ok && echo shm-ok'
if grep -q 'rc=0' "$OUT" || [ -e "$BUNDLE/rootfs/newfile" ]; then
	fail oci-readonly-rootfs "write to / succeeded: $(said)"
elif ! grep -qi 'read-only file system' "$OUT"; then
	fail oci-readonly-rootfs "write failed, but not with EROFS: $(said)"
elif ! grep -qx shm-ok "$OUT"; then
	fail oci-readonly-rootfs "a tmpfs mount is not writable: $(said)"
else
	pass oci-readonly-rootfs
fi
# control: the same write on a writable rootfs succeeds
run_in rwfs '' sh -c 'touch /newfile && echo ok'
[ $RC -eq 0 ] && grep -qx ok "$OUT" && [ -e "$BUNDLE/rootfs/newfile" ] && pass oci-writable-rootfs ||
	fail oci-writable-rootfs "exit $RC: $(said)"

# --- maskedPaths: every masked path that exists on this host is masked in the container: a file
# is /dev/null bound over it (char 1:3, reads empty), a directory is an empty mount. Paths this
# kernel lacks (e.g. /proc/kcore) prove nothing and are left out. /proc/version stays readable.
MASK_SH='for p in "$@"; do
	if [ -d "$p" ]; then echo "$p dir $(ls -A "$p" | wc -l) $(awk -v p="$p" "\$5 == p" /proc/self/mountinfo | wc -l)"
	elif [ -e "$p" ]; then echo "$p file $(stat -c %t:%T "$p") $(head -c 16 "$p" | wc -c)"
	else echo "$p absent"; fi
done; echo version=$(cat /proc/version | wc -c)'
new_bundle masked -- true
mapfile -t masked < <(jq -r '.linux.maskedPaths[]?' "$BUNDLE/config.json")
cfg "$BUNDLE" '.process.args = ["sh", "-c", $s, "sh"] + (.linux.maskedPaths // [])' --arg s "$MASK_SH"
ct_run masked masked "$BUNDLE"
bad="" checked=""
for p in "${masked[@]}"; do
	line=$(grep -m1 "^$p " "$OUT")
	if [ -d "$p" ]; then
		[[ "$line" =~ ^$p\ dir\ 0\ [1-9] ]] || bad+="dir $p: '$line' (want empty and a mount); "
	elif [ -e "$p" ]; then
		[ "$line" = "$p file 1:3 0" ] || bad+="file $p: '$line' (want /dev/null, 1:3, empty); "
	else
		continue
	fi
	checked+="$p "
done
if [ $RC -ne 0 ]; then
	fail oci-masked-paths "exit $RC: $(said)"
elif [ -z "$checked" ]; then
	fail oci-masked-paths "none of the maskedPaths (${masked[*]}) exists on this host: nothing checked"
elif [ -n "$bad" ]; then
	fail oci-masked-paths "$bad"
elif grep -qx 'version=0' "$OUT" || ! grep -q '^version=' "$OUT"; then
	fail oci-masked-paths "/proc/version masked too or unread (control): $(said)"
else
	pass oci-masked-paths
fi

# --- readonlyPaths: /proc/sys is mounted read-only (and /proc/bus, /proc/fs, /proc/irq where they exist)
run_in ropaths '' sh -c 'awk "\$5 ~ /^\/proc\/(sys|bus|fs|irq)\$/ { print \$5, \$6 }" /proc/self/mountinfo'
want=0
for p in /proc/sys /proc/bus /proc/fs /proc/irq; do [ -e $p ] && want=$((want + 1)); done
if [ $RC -eq 0 ] && grep -Eq '^/proc/sys ro(,|$)' "$OUT" && [ "$(grep -Ec ' ro(,|$)' "$OUT")" -eq $want ]; then
	pass oci-readonly-paths
else
	fail oci-readonly-paths "exit $RC, want $want of /proc/{sys,bus,fs,irq} mounted ro: $(said)"
fi

# --- capabilities: with CAP_CHOWN chown works; without it, chown fails with EPERM and the
# bit (0) is clear in CapEff/CapBnd.
CHOWN='touch /tmp/f; chown 1:1 /tmp/f 2>&1; echo rc=$?; grep -E "^Cap(Eff|Bnd)" /proc/self/status'
run_in capyes '' sh -c "$CHOWN"
yes_rc=$RC yes_out=$(said)
run_in capno '.process.capabilities |= map_values(map(select(. != "CAP_CHOWN")))' sh -c "$CHOWN"
capeff=$(awk '/^CapEff/ { print $2 }' "$OUT")
if ! grep -q 'rc=0' "$TMPD/capyes.out"; then
	fail oci-cap-dropped "control with CAP_CHOWN failed: exit $yes_rc: $yes_out"
elif grep -q 'rc=0' "$OUT" || ! grep -qi 'operation not permitted' "$OUT"; then
	fail oci-cap-dropped "chown without CAP_CHOWN did not fail with EPERM: $(said)"
elif [ -z "$capeff" ] || (( 0x$capeff & 1 )); then
	fail oci-cap-dropped "CapEff '$capeff' still has CAP_CHOWN"
else
	pass oci-cap-dropped
fi
# The exact sets: CapEff equals the configured 14 docker-like capabilities (0xa80425fb).
capeff_yes=$(awk '/^CapEff/ { print $2 }' "$TMPD/capyes.out")
[ "$capeff_yes" = 00000000a80425fb ] && pass oci-cap-sets ||
	fail oci-cap-sets "CapEff $capeff_yes, want 00000000a80425fb"

# --- seccomp
SECCOMP_BASE='.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], "syscalls": [$rule]}'
MKDIR='mkdir /tmp/d 2>&1; echo rc=$?; touch /tmp/t && echo touch-ok'
new_bundle scperm -- sh -c "$MKDIR"
cfg "$BUNDLE" "$SECCOMP_BASE" --argjson rule '{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}'
ct_run scperm scperm "$BUNDLE"
if [ $RC -ne 0 ]; then
	fail oci-seccomp-eperm "exit $RC: $(said)"
elif ! grep -qi 'operation not permitted' "$OUT" || grep -q 'rc=0' "$OUT" || [ -d "$BUNDLE/rootfs/tmp/d" ]; then
	fail oci-seccomp-eperm "mkdir did not fail with EPERM: $(said)"
elif ! grep -qx touch-ok "$OUT"; then
	fail oci-seccomp-eperm "other syscalls were blocked too: $(said)"
else
	pass oci-seccomp-eperm
fi

new_bundle scerrno -- sh -c "$MKDIR"
cfg "$BUNDLE" "$SECCOMP_BASE" --argjson rule '{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28}'
ct_run scerrno scerrno "$BUNDLE"
if [ $RC -eq 0 ] && grep -qi 'no space left on device' "$OUT" && grep -qx touch-ok "$OUT"; then
	pass oci-seccomp-errno
else
	fail oci-seccomp-errno "exit $RC, want mkdir to fail with ENOSPC (errnoRet 28): $(said)"
fi

# SCMP_ACT_KILL_PROCESS: the mkdir child dies of SIGSYS (shell status 128 + 31).
new_bundle sckill -- sh -c 'mkdir /tmp/d; echo rc=$?'
cfg "$BUNDLE" "$SECCOMP_BASE" --argjson rule '{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}'
ct_run sckill sckill "$BUNDLE"
[ $RC -eq 0 ] && grep -qx 'rc=159' "$OUT" && pass oci-seccomp-kill ||
	fail oci-seccomp-kill "exit $RC, want the mkdir child killed by SIGSYS (rc=159): $(said)"

# An argument filter: only chmod to mode 0700 is refused.
new_bundle scargs -- sh -c 'touch /tmp/f; chmod 700 /tmp/f 2>&1; echo a=$?; chmod 755 /tmp/f; echo b=$?'
cfg "$BUNDLE" "$SECCOMP_BASE" --argjson rule '{"names": ["chmod"], "action": "SCMP_ACT_ERRNO",
	"args": [{"index": 1, "value": 448, "op": "SCMP_CMP_EQ"}]}'
ct_run scargs scargs "$BUNDLE"
[ $RC -eq 0 ] && grep -qx 'a=1' "$OUT" && grep -qx 'b=0' "$OUT" && pass oci-seccomp-args ||
	fail oci-seccomp-args "exit $RC, want a=1 (mode 0700 refused) and b=0: $(said)"

# --- noNewPrivileges
run_in nnp '' sh -c 'grep NoNewPrivs /proc/self/status'
nnp1=$(said)
run_in nnp0 '.process.noNewPrivileges = false' sh -c 'grep NoNewPrivs /proc/self/status'
[[ "$nnp1" == *"NoNewPrivs:"*1* ]] && [[ "$(said)" == *"NoNewPrivs:"*0* ]] && pass oci-no-new-privileges ||
	fail oci-no-new-privileges "true gave '$nnp1', false gave '$(said)'"

# --- user: uid, gid, additionalGids, umask
run_in user '.process.user = {"uid": 1000, "gid": 1001, "additionalGids": [20, 30], "umask": 63}' \
	sh -c 'id -u; id -g; id -G; umask'
got=$(tr '\n' ' ' <"$OUT")
if [ $RC -eq 0 ] && [[ "$got" == "1000 1001 "* ]] && [[ " $(sed -n 3p "$OUT") " == *" 20 "* ]] &&
   [[ " $(sed -n 3p "$OUT") " == *" 30 "* ]]; then
	pass oci-process-user
else
	fail oci-process-user "exit $RC, want uid 1000 gid 1001 groups incl. 20 30: $got"
fi
[ "$(sed -n 4p "$OUT")" = 0077 ] && pass oci-process-umask || fail oci-process-umask "umask '$(sed -n 4p "$OUT")', want 0077"

# --- rlimits
run_in rlim '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1000},
	{"type": "RLIMIT_NPROC", "soft": 300, "hard": 300}]' sh -c 'ulimit -Sn; ulimit -Hn; ulimit -u'
[ $RC -eq 0 ] && [ "$(tr '\n' ' ' <"$OUT")" = "512 1000 300 " ] && pass oci-rlimits ||
	fail oci-rlimits "exit $RC, got '$(said)', want 512 1000 300"

# --- env and cwd
run_in envcwd '.process.env += ["GREETING=hello world"] | .process.cwd = "/tmp"' sh -c 'echo "$GREETING"; pwd'
[ $RC -eq 0 ] && [ "$(tr '\n' '|' <"$OUT")" = "hello world|/tmp|" ] && pass oci-env-cwd ||
	fail oci-env-cwd "exit $RC: $(said)"

# --- devices: the default devices exist; a device node outside the allow list cannot be opened
# (devices cgroup), though CAP_MKNOD lets it be made.
run_in devs '' sh -c 'for d in null zero full random urandom tty; do [ -c /dev/$d ] || echo missing $d; done;
	head -c 4 /dev/zero | wc -c; [ -e /dev/ptmx ] || echo missing ptmx;
	mknod /dev/blk b 7 0 && { head -c 1 /dev/blk >/dev/null 2>&1; echo open=$?; }'
if [ $RC -ne 0 ] || grep -q missing "$OUT" || ! grep -qx 4 "$OUT"; then
	fail oci-default-devices "exit $RC: $(said)"
else
	pass oci-default-devices
fi
denied=$OUT
# control: the same mknod and open with b 7:0 in the allow list succeeds, so the refusal above
# came from the devices cgroup and not from the device itself.
run_in devallow '.linux.resources.devices += [{"allow": true, "type": "b", "major": 7, "minor": 0, "access": "rwm"}]' \
	sh -c 'mknod /dev/blk b 7 0 && { head -c 1 /dev/blk >/dev/null 2>&1; echo open=$?; }'
if grep -qx 'open=0' "$denied" || ! grep -q 'open=' "$denied"; then
	fail oci-devices-cgroup "a block device outside the allow list was opened (or not made): $(head -c 400 "$denied" | tr '\n' '|')"
elif [ $RC -ne 0 ] || ! grep -qx 'open=0' "$OUT"; then
	fail oci-devices-cgroup "control: with b 7:0 allowed the open still fails: exit $RC: $(said)"
else
	pass oci-devices-cgroup
fi
# An allowed device from linux.devices + resources.devices is created and usable.
run_in devadd '.linux.devices = [{"path": "/dev/fuse-test", "type": "c", "major": 1, "minor": 3, "fileMode": 438, "uid": 0, "gid": 0}]
	| .linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]' \
	sh -c 'stat -c "%t %T %a" /dev/fuse-test; echo x > /dev/fuse-test && echo write-ok'
[ $RC -eq 0 ] && grep -qx '1 3 666' "$OUT" && grep -qx write-ok "$OUT" && pass oci-linux-devices ||
	fail oci-linux-devices "exit $RC: $(said)"

# --- sysctl (namespaced) and oomScoreAdj
run_in sysctl '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "4096"} | .process.oomScoreAdj = 500' \
	sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax /proc/self/oom_score_adj'
[ $RC -eq 0 ] && [ "$(tr '\n' ' ' <"$OUT")" = "1 4096 500 " ] && pass oci-sysctl-oom-score ||
	fail oci-sysctl-oom-score "exit $RC, got '$(said)', want 1 4096 500"
