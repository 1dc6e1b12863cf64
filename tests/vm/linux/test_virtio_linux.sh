#!/usr/bin/env bash
# virtio with a real Linux guest (slow suite), in the nested harness (tests/vm/linux/nested-run):
# the micro-VM kernel from scripts/kernel/build (virtio-mmio command-line devices and the drivers
# built in, no ACPI: booted with acpi=off, so capsule lists the devices as virtio_mmio.device=)
# boots under `capsule vm run` in L1 with a disk, a TAP, vsock and rng, and its init
# (tests/vm/linux/virtio-l2-part):
#   linux_virtio_blk_ext4   mounts an ext4 image from virtio-blk and writes a file; after capsule
#                           exits, L1 loop-mounts the image and the file's checksum matches
#   linux_virtio_rng        the kernel's hw_random uses virtio-rng and bytes arrive
#   linux_virtio_net_ping   the guest pings the L1 host over the TAP
#   linux_virtio_vsock_echo a line sent to host port 5000 (a socat echo on the Unix socket
#                           PATH_5000 in L1) comes back
source "$CAPSULE_ROOT/tests/lib.sh"
HERE=$CAPSULE_ROOT/tests/vm/linux
KDIR=${CAPSULE_KERNEL_DIR:-$CAPSULE_ROOT/build/kernel}/out
CHECKS="linux_virtio_blk_ext4 linux_virtio_rng linux_virtio_net_ping linux_virtio_vsock_echo"

skip_all() {
	for c in $CHECKS; do skip "$c" "$1"; done
	exit 0
}
[ -x "$CAPSULE" ] || skip_all "$CAPSULE is not built"
[ -f "$KDIR/bzImage" ] || skip_all "no micro-VM kernel at $KDIR/bzImage (scripts/kernel/build makes it)"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 missing"
command -v mkfs.ext4 >/dev/null || skip_all "mkfs.ext4 missing"
command -v socat >/dev/null || skip_all "socat missing"
"$CAPSULE_ROOT/scripts/fetch-kernel" >"$TMPD/fetch.log" 2>&1 || skip_all "no L1 kernel: scripts/fetch-kernel failed"

truncate -s 64M "$TMPD/disk.img"
mkfs.ext4 -q -F "$TMPD/disk.img" || skip_all "mkfs.ext4 failed"
if ! "$CAPSULE_ROOT/scripts/mkinitramfs" -o "$TMPD/l2.cpio.gz" --part "$HERE/virtio-l2-part" \
	--bin "$(command -v socat)=/bin/socat" >"$TMPD/mk.log" 2>&1; then
	skip_all "mkinitramfs failed: $(tail -n1 "$TMPD/mk.log")"
fi

# In L1: a vsock echo service, capsule in the background (it creates tap0), the host side of the
# TAP once it exists, then the image checked after capsule has exited.
cat >"$TMPD/l1.sh" <<'L1'
socat UNIX-LISTEN:/tmp/v.sock_5000,fork EXEC:cat &
/bin/capsule vm run --kernel /l2/microvm --initrd /l2/virtio-initrd.gz --memory 256 \
	--cmdline "console=ttyS0 panic=-1 quiet acpi=off" --disk /l2/disk.img --net tap=tap0,mac=52:54:00:00:00:02 \
	--vsock cid=3,uds=/tmp/v.sock --rng &
pid=$!
i=0
while [ ! -e /sys/class/net/tap0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
ip addr add 10.0.2.1/24 dev tap0 && ip link set tap0 up
wait $pid
rc=$?
mkdir -p /mnt
if mount -o loop,ro /l2/disk.img /mnt; then
	echo "l1: image file md5 $(md5sum /mnt/guest-file | cut -d' ' -f1)"
	umount /mnt
else
	echo "l1: cannot mount the image"
fi
exit $rc
L1

"$HERE/nested-run" --timeout 900 --bin "$(command -v socat)=/bin/socat" \
	--file "$KDIR/bzImage=/l2/microvm" --file "$TMPD/l2.cpio.gz=/l2/virtio-initrd.gz" \
	--file "$TMPD/disk.img=/l2/disk.img" --sh "$(cat "$TMPD/l1.sh")" \
	>"$TMPD/out" 2>"$TMPD/err" </dev/null
rc=$?
tr -d '\r' <"$TMPD/out" >"$TMPD/o"
grep -hE '^nested-run: timings' "$TMPD/err" | sed 's/^nested-run: //; s/^/  time: /'
grep -E '^(virtio|l1): ' "$TMPD/o" | sed 's/^/  /'
if [ $rc -ne 0 ]; then
	why="nested-run/capsule exited $rc: $(grep -E 'capsule:|virtio:' "$TMPD/o" | tail -n 5 | tr '\n' ' ') $(tail -n 2 "$TMPD/err" | tr '\n' ' ')"
	for c in $CHECKS; do fail "$c" "$why"; done
	exit 0
fi

g=$(sed -n 's/^virtio: blk file md5 \([0-9a-f]*\)$/\1/p' "$TMPD/o")
h=$(sed -n 's/^l1: image file md5 \([0-9a-f]*\)$/\1/p' "$TMPD/o")
if [ -z "$g" ]; then fail linux_virtio_blk_ext4 "the guest did not write the file: $(grep '^virtio: blk' "$TMPD/o")"
elif [ "$g" != "$h" ]; then fail linux_virtio_blk_ext4 "guest md5 $g, image md5 ${h:-none}"
else pass linux_virtio_blk_ext4
fi
if grep -q '^virtio: rng current virtio_rng' "$TMPD/o" && grep -q '^virtio: rng bytes 64$' "$TMPD/o"; then
	pass linux_virtio_rng
else
	fail linux_virtio_rng "$(grep '^virtio: rng' "$TMPD/o" | tr '\n' ' ')"
fi
if grep -q '^virtio: net ping ok$' "$TMPD/o"; then pass linux_virtio_net_ping
else fail linux_virtio_net_ping "$(grep '^virtio: net' "$TMPD/o")"
fi
if grep -q '^virtio: vsock echo \[capsule-vsock-ping\]$' "$TMPD/o"; then pass linux_virtio_vsock_echo
else fail linux_virtio_vsock_echo "$(grep '^virtio: vsock' "$TMPD/o")"
fi
