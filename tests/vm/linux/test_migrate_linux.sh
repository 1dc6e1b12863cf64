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
source "$CAPSULE_ROOT/tests/lib.sh"
HERE=$CAPSULE_ROOT/tests/vm/linux
LINUX=${CAPSULE_LINUX_DIR:-$CAPSULE_ROOT/build/linux}
NAMES="linux_migrate_done linux_migrate_continues linux_migrate_disk"
skip_all() { for c in $NAMES; do skip "$c" "$1"; done; exit 0; }
[ -x "$CAPSULE" ] || skip_all "$CAPSULE is not built"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 missing"
command -v mkfs.ext4 >/dev/null || skip_all "mkfs.ext4 missing"
timeout -k 5 240 "$CAPSULE_ROOT/scripts/fetch-kernel" >"$TMPD/fetch.log" 2>&1 ||
	skip_all "no L1 kernel: scripts/fetch-kernel failed (status $?): $(tail -n1 "$TMPD/fetch.log")"

d=$TMPD
{ truncate -s 64M "$d/disk.img" && mkfs.ext4 -q -F "$d/disk.img"; } >"$d/mkfs.log" 2>&1 ||
	skip_all "cannot make the ext4 image: $(tail -n1 "$d/mkfs.log")"
mk=(--part "$HERE/migrate-l2-part")
files=(--file "$d/disk.img=/l2/disk.img")
if microvm_kernel && [ -f "$KDIR/bzImage" ]; then
	kernel=/l2/microvm cmdline="console=ttyS0 panic=-1 quiet acpi=off"
	files+=(--file "$KDIR/bzImage=/l2/microvm")
else
	kernel=/l2/vmlinuz cmdline="console=ttyS0 panic=-1 quiet"
	mk+=(--file "$LINUX/modules=/lib/capsule/modules")
fi
"$CAPSULE_ROOT/scripts/mkinitramfs" -o "$d/l2.cpio.gz" "${mk[@]}" >"$d/mk.log" 2>&1 || {
	for c in $NAMES; do fail "$c" "scripts/mkinitramfs failed: $(tail -n1 "$d/mk.log")"; done
	exit 0
}
files+=(--file "$d/l2.cpio.gz=/l2/mig-initrd.gz")

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
"$HERE/nested-run" --timeout 400 "${files[@]}" --sh "$(cat "$d/l1.sh")" >"$d/out" 2>"$d/err" </dev/null
rc=$?
tr -d '\r' <"$d/out" >"$d/o"
grep -hE '^nested-run: timings' "$d/err" | sed "s|^nested-run: |  time ($kernel): |"
grep -E '^l1: |^migrated ' "$d/o" | sed 's/^/  /' | cut -c1-200
if [ $rc -ne 0 ] && ! grep -q '^l1: destination rc' "$d/o"; then
	why="nested-run exited $rc: $(tail -n 3 "$d/o" | tr '\n' ' ') $(tail -n 2 "$d/err" | tr '\n' ' ')"
	for c in $NAMES; do fail "$c" "$why"; done
	exit 0
fi
grep -qE '^l1: migrate rc 0$' "$d/o" && grep -qE '^l1: source rc 0$' "$d/o" && pass linux_migrate_done ||
	fail linux_migrate_done "$(grep -E '^l1: (migrate|source)' "$d/o" | tr '\n' ' ') $(grep -h 'capsule:' "$d/o" | head -3 | tr '\n' ' ')"
seq_ok=$({ sed -n 's/^a: //p' "$d/o"; sed -n 's/^b: //p' "$d/o"; } | tr -d '\n' | grep -o 'count: [0-9]*' |
	awk '{ if ($2 != NR - 1) bad = 1 } END { print (NR == 60 && !bad) ? "yes" : "no: " NR " counts" }')
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
