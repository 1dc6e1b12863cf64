#!/usr/bin/env bash
# A real Linux guest live-migrated between two capsule processes (slow suite, in the nested harness
# tests/vm/linux/nested-run, on L1's hardware-like KVM): its init counts on the console and into a
# file on a virtio-blk ext4 disk (tests/vm/linux/migrate-l2-part); it also has a vsock device. L1
# starts `capsule vm receive` and the source VM, waits for "count: 10", runs `capsule vm migrate`:
#   linux_migrate_done        the migration succeeded and the source exited 0
#   linux_migrate_continues   the counts over the two consoles are 0..59, each once, in order, no
#                             second boot, and the destination powered the guest off (exit 0)
#   linux_migrate_disk        after the destination exited, L1 loop-mounts the disk: the counts file
#                             holds 0..59, each once (the writes before and after the move)
# The micro-VM kernel when it is built (scripts/kernel/build), else Debian's cloud kernel.
NAMES="linux_migrate_done linux_migrate_continues linux_migrate_disk"
source "$CAPSULE_ROOT/tests/vm/linux/common.bash"
nested_require mkfs.ext4
nested_ext4_disk 64M
nested_l2_initrd "$HERE/migrate-l2-part" /l2/mig-initrd.gz --modules

d=$TMPD
cat >"$d/l1.sh" <<L1
/bin/capsule vm receive --listen unix:/tmp/mig.sock --vsock-uds /tmp/v2.sock --console file:/tmp/b.out &
dst=\$!
/bin/capsule vm run --id src --kernel $kernel --initrd /l2/mig-initrd.gz --memory 256 --cmdline "$cmdline" \\
	--disk /l2/disk.img --vsock cid=3,uds=/tmp/v.sock --console file:/tmp/a.out &
src=\$!
i=0
while ! grep -q '^count: 10' /tmp/a.out 2>/dev/null && [ \$i -lt 1500 ]; do sleep 0.1; i=\$((i + 1)); done
/bin/capsule vm migrate src --to unix:/tmp/mig.sock
echo "l1: migrate rc \$?"
wait \$src
echo "l1: source rc \$?"
wait \$dst
echo "l1: destination rc \$?"
mkdir -p /mnt
if mount -o loop,ro /l2/disk.img /mnt; then
	echo "l1: counts \$(tr '\n' ' ' </mnt/counts)"
	umount /mnt
else
	echo "l1: cannot mount the image"
fi
sed 's/^/a: /' /tmp/a.out
echo
sed 's/^/b: /' /tmp/b.out
L1
nested_run 400 '^l1: destination rc'
grep -qE '^l1: migrate rc 0$' "$d/o" && grep -qE '^l1: source rc 0$' "$d/o" && pass linux_migrate_done ||
	fail linux_migrate_done "$(grep -E '^l1: (migrate|source)' "$d/o" | tr '\n' ' ') $(grep -h 'capsule:' "$d/o" | head -3 | tr '\n' ' ')"
seq_ok=$(counts_in_order 60)
if ! grep -q '^l1: destination rc 0$' "$d/o"; then
	fail linux_migrate_continues "$(grep '^l1: destination' "$d/o"): $(sed -n 's/^b: //p' "$d/o" | tail -n 3 | tr '\n' ' ')"
elif sed -n 's/^b: //p' "$d/o" | grep -qE 'Linux version|^guest: uname'; then
	fail linux_migrate_continues "the destination booted the guest again"
elif [ "$seq_ok" != yes ]; then
	fail linux_migrate_continues "counts over the two consoles are not 0..59 in order ($seq_ok)"
elif ! sed -n 's/^b: //p' "$d/o" | grep -q 'migrate: disk unmounted'; then
	fail linux_migrate_continues "the guest did not unmount its disk at the end: $(sed -n 's/^b: //p' "$d/o" | tail -n 3 | tr '\n' ' ')"
else
	pass linux_migrate_continues
fi
counts=$(sed -n 's/^l1: counts //p' "$d/o")
[ "$counts" = "$(seq 0 59 | tr '\n' ' ')" ] && pass linux_migrate_disk || fail linux_migrate_disk "the disk's counts: '$counts'"
