#!/usr/bin/env bash
# virtio with real Linux guests (slow suite), in the nested harness (tests/vm/linux/nested-run),
# with two kernels:
#  - the micro-VM kernel from scripts/kernel/build (virtio-mmio command-line devices and the
#    drivers built in, no ACPI: booted with acpi=off, so capsule lists the devices as
#    virtio_mmio.device=): checks linux_virtio_*;
#  - Debian's cloud kernel (finds the devices in capsule's ACPI DSDT; the virtio modules are
#    loaded from the initramfs): checks linux_virtio_*_debian.
# Each boots under `capsule vm run` in L1 with a disk, a TAP, vsock and rng, and its init
# (tests/vm/linux/virtio-l2-part):
#   linux_virtio_blk_ext4   mounts an ext4 image from virtio-blk and writes a file; after capsule
#                           exits, L1 loop-mounts the image and the file's checksum matches
#   linux_virtio_rng        the kernel's hw_random uses virtio-rng and bytes arrive
#   linux_virtio_net_ping   the guest pings the L1 host over the TAP
#   linux_virtio_vsock_echo a line sent to host port 5000 (a socat echo on the Unix socket
#                           PATH_5000 in L1) comes back
# Bounds on runaway runs (tests/run gives a suite 1200 s): fetch-kernel 240 s (0 s once cached),
# each nested boot 300 s (15-21 s measured), so the worst case is about 900 s.
source "$CAPSULE_ROOT/tests/lib.sh"
HERE=$CAPSULE_ROOT/tests/vm/linux
LINUX=${CAPSULE_LINUX_DIR:-$CAPSULE_ROOT/build/linux}
NAMES="linux_virtio_blk_ext4 linux_virtio_rng linux_virtio_net_ping linux_virtio_vsock_echo"

skip_all() {
	for c in $NAMES; do skip "$c" "$1"; skip "${c}_debian" "$1"; done
	exit 0
}
[ -x "$CAPSULE" ] || skip_all "$CAPSULE is not built"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 missing"
command -v mkfs.ext4 >/dev/null || skip_all "mkfs.ext4 missing"
command -v socat >/dev/null || skip_all "socat missing"
timeout -k 5 240 "$CAPSULE_ROOT/scripts/fetch-kernel" >"$TMPD/fetch.log" 2>&1 ||
	skip_all "no L1 kernel: scripts/fetch-kernel failed (status $?): $(tail -n1 "$TMPD/fetch.log")"

microvm_kernel || true
# run SUFFIX KERNEL_IN_L1 CMDLINE [mkinitramfs options...]: one nested boot, four checks.
run() {
	local sfx=$1 kernel=$2 cmdline=$3 d=$TMPD/run$1
	shift 3
	mkdir -p "$d"
	# A host that cannot make an ext4 image is a host limit (SKIP); the project's own mkinitramfs
	# failing is a bug here (FAIL), or a regression in it would hide behind SKIP lines.
	if ! { truncate -s 64M "$d/disk.img" && mkfs.ext4 -q -F "$d/disk.img"; } >"$d/mkfs.log" 2>&1; then
		for c in $NAMES; do skip "$c$sfx" "cannot make the ext4 image: $(tail -n1 "$d/mkfs.log")"; done
		return
	fi
	if ! "$CAPSULE_ROOT/scripts/mkinitramfs" -o "$d/l2.cpio.gz" --part "$HERE/virtio-l2-part" \
		--bin "$(command -v socat)=/bin/socat" "$@" >"$d/mk.log" 2>&1; then
		for c in $NAMES; do fail "$c$sfx" "scripts/mkinitramfs failed: $(tail -n1 "$d/mk.log")"; done
		return
	fi
	# In L1: a vsock echo service, capsule in the background (it creates tap0), the host side of
	# the TAP once it exists, then the image checked after capsule has exited.
	cat >"$d/l1.sh" <<L1
socat UNIX-LISTEN:/tmp/v.sock_5000,fork EXEC:cat &
/bin/capsule vm run --kernel $kernel --initrd /l2/virtio-initrd.gz --memory 256 \\
	--cmdline "$cmdline" --disk /l2/disk.img --net tap=tap0,mac=52:54:00:00:00:02 \\
	--vsock cid=3,uds=/tmp/v.sock --rng &
pid=\$!
i=0
while [ ! -e /sys/class/net/tap0 ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
ip addr add 10.0.2.1/24 dev tap0 && ip link set tap0 up
wait \$pid
rc=\$?
mkdir -p /mnt
if mount -o loop,ro /l2/disk.img /mnt; then
	echo "l1: image file md5 \$(md5sum /mnt/guest-file | cut -d' ' -f1)"
	umount /mnt
else
	echo "l1: cannot mount the image"
fi
exit \$rc
L1
	local files=(--file "$d/l2.cpio.gz=/l2/virtio-initrd.gz" --file "$d/disk.img=/l2/disk.img")
	[ -f "$KDIR/bzImage" ] && files+=(--file "$KDIR/bzImage=/l2/microvm")
	"$HERE/nested-run" --timeout 300 --bin "$(command -v socat)=/bin/socat" "${files[@]}" \
		--sh "$(cat "$d/l1.sh")" >"$d/out" 2>"$d/err" </dev/null
	local rc=$?
	tr -d '\r' <"$d/out" >"$d/o"
	grep -hE '^nested-run: timings' "$d/err" | sed "s|^nested-run: |  time ($kernel): |"
	grep -E '^(virtio|l1): ' "$d/o" | sed 's/^/  /'
	if [ $rc -ne 0 ]; then
		local why="nested-run/capsule exited $rc: $(grep -E 'capsule:|virtio:' "$d/o" | tail -n 5 | tr '\n' ' ') $(tail -n 2 "$d/err" | tr '\n' ' ')"
		for c in $NAMES; do fail "$c$sfx" "$why"; done
		return
	fi
	local g h
	g=$(sed -n 's/^virtio: blk file md5 \([0-9a-f]*\)$/\1/p' "$d/o")
	h=$(sed -n 's/^l1: image file md5 \([0-9a-f]*\)$/\1/p' "$d/o")
	if [ -z "$g" ]; then fail "linux_virtio_blk_ext4$sfx" "the guest did not write the file: $(grep '^virtio: blk' "$d/o")"
	elif [ "$g" != "$h" ]; then fail "linux_virtio_blk_ext4$sfx" "guest md5 $g, image md5 ${h:-none}"
	else pass "linux_virtio_blk_ext4$sfx"
	fi
	if grep -q '^virtio: rng current virtio_rng' "$d/o" && grep -q '^virtio: rng bytes 64$' "$d/o"; then
		pass "linux_virtio_rng$sfx"
	else
		fail "linux_virtio_rng$sfx" "$(grep '^virtio: rng' "$d/o" | tr '\n' ' ')"
	fi
	if grep -q '^virtio: net ping ok$' "$d/o"; then pass "linux_virtio_net_ping$sfx"
	else fail "linux_virtio_net_ping$sfx" "$(grep '^virtio: net' "$d/o")"
	fi
	if grep -q '^virtio: vsock echo \[capsule-vsock-ping\]$' "$d/o"; then pass "linux_virtio_vsock_echo$sfx"
	else fail "linux_virtio_vsock_echo$sfx" "$(grep '^virtio: vsock' "$d/o")"
	fi
}

if [ -f "$KDIR/bzImage" ]; then
	run "" /l2/microvm "console=ttyS0 panic=-1 quiet acpi=off"
else
	for c in $NAMES; do skip "$c" "$KWHY"; done
fi
run _debian /l2/vmlinuz "console=ttyS0 panic=-1 quiet" --file "$LINUX/modules=/lib/capsule/modules"
