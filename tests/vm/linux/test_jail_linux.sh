#!/usr/bin/env bash
# A jailed VMM boots a real Linux guest (slow suite, in the nested harness tests/vm/linux/nested-run):
# `capsule vm run --jail` in L1 (cgroup v2 mounted there, so the jail's v2 path is the one taken)
# as uid 65534 with a virtio disk and a TAP the jail makes, and the guest's init
# (tests/vm/linux/virtio-l2-part) uses both:
#   linux_jail_blk_ext4   the guest writes a file on an ext4 disk; after capsule exits, L1 loop-mounts
#                         the image and the file's checksum matches
#   linux_jail_net_ping   the guest pings L1 over the jail-made TAP
#   linux_jail_identity   while it runs, the VMM is uid 65534 with no capabilities, in /capsule-vm/l2
#                         with pids.max 200 written there
#   linux_jail_cleanup    afterwards the jail directory, the cgroup and the TAP are gone
# The micro-VM kernel when it is built (scripts/kernel/build), else Debian's cloud kernel.
NAMES="linux_jail_blk_ext4 linux_jail_net_ping linux_jail_identity linux_jail_cleanup"
source "$CAPSULE_ROOT/tests/vm/linux/common.bash"
nested_require mkfs.ext4
nested_ext4_disk 64M
nested_l2_initrd "$HERE/virtio-l2-part" /l2/virtio-initrd.gz --modules

d=$TMPD
cat >"$d/l1.sh" <<L1
mkdir -p /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup
chown 65534:65534 /l2/disk.img
/bin/capsule vm run --jail --id l2 --chroot-base /tmp/jail --uid 65534 --gid 65534 --cgroup pids.max=200 \\
	--kernel $kernel --initrd /l2/virtio-initrd.gz --memory 256 --cmdline "$cmdline" \\
	--disk /l2/disk.img --net tap=tap0,mac=52:54:00:00:00:02 &
pid=\$!
i=0
while [ ! -e /sys/class/net/tap0 ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
ip addr add 10.0.2.1/24 dev tap0 && ip link set tap0 up
vmm=
for p in /proc/[0-9]*; do [ "\$(cut -d' ' -f4 \$p/stat 2>/dev/null)" = "\$pid" ] && vmm=\${p#/proc/}; done
echo "l1: vmm \$(grep -E '^(Uid|CapEff):' /proc/\$vmm/status | tr '\t\n' '  ')"
echo "l1: vmm cgroup \$(cat /proc/\$vmm/cgroup) pids.max \$(cat /sys/fs/cgroup/capsule-vm/l2/pids.max)"
wait \$pid
rc=\$?
echo "l1: left \$(ls -d /tmp/jail/l2 /sys/fs/cgroup/capsule-vm/l2 /sys/class/net/tap0 2>/dev/null | tr '\n' ' ')end"
mkdir -p /mnt
if mount -o loop,ro /l2/disk.img /mnt; then
	echo "l1: image file md5 \$(md5sum /mnt/guest-file | cut -d' ' -f1)"
	umount /mnt
else
	echo "l1: cannot mount the image"
fi
exit \$rc
L1
nested_run 300
g=$(sed -n 's/^virtio: blk file md5 \([0-9a-f]*\)$/\1/p' "$d/o")
h=$(sed -n 's/^l1: image file md5 \([0-9a-f]*\)$/\1/p' "$d/o")
[ -n "$g" ] && [ "$g" = "$h" ] && pass linux_jail_blk_ext4 || fail linux_jail_blk_ext4 "guest md5 '${g}', image md5 '${h}'"
grep -q '^virtio: net ping ok$' "$d/o" && pass linux_jail_net_ping || fail linux_jail_net_ping "$(grep '^virtio: net' "$d/o")"
grep -qE '^l1: vmm Uid: 65534 65534 65534 65534 CapEff: 0+ $' "$d/o" &&
	grep -qE '^l1: vmm cgroup 0::/capsule-vm/l2 pids.max 200$' "$d/o" && pass linux_jail_identity ||
	fail linux_jail_identity "$(grep '^l1: vmm' "$d/o" | tr '\n' ' ')"
grep -qx 'l1: left end' "$d/o" && pass linux_jail_cleanup || fail linux_jail_cleanup "$(grep '^l1: left' "$d/o")"
