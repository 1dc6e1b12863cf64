#!/usr/bin/env bash
# More bad inputs for capsule vm run: each gives exactly one "capsule: ..." line and its status.
source "$CAPSULE_ROOT/tests/lib.sh"
G=$CAPSULE_ROOT/$B/guest/hello.elf

: >"$TMPD/empty.img"
many=()
for _ in $(seq 16); do many+=(--disk "$TMPD/empty.img"); done
# Checked before KVM is touched, so these run (and must pass) on any host.
expect_error err_too_many_virtio_devices 2 '^capsule: 17 virtio devices: at most 16 \(one interrupt line each\)$' \
  "$CAPSULE" vm run --kernel "$G" "${many[@]}" --rng
# The configuration validator's messages name the value: an empty disk path is refused as such
# (it used to be read as a disk called "ro"), a memory size with junk or an overflow is refused.
expect_error err_disk_empty_path 2 "^capsule: disk ',ro': the path is empty" \
  "$CAPSULE" vm run --kernel "$G" --disk ,ro
expect_error err_memory_bad_unit 2 "^capsule: memory 64Q: unknown unit 'Q'" \
  "$CAPSULE" vm run --kernel "$G" --memory 64Q
expect_error err_memory_overflow 2 '^capsule: memory 17179869184T: too large$' \
  "$CAPSULE" vm run --kernel "$G" --memory 17179869184T
expect_error err_vsock_cid_reserved 2 '^capsule: vsock cid 2: must be 3 or more \(0-2 are reserved\)' \
  "$CAPSULE" vm run --kernel "$G" --vsock cid=2,uds="$TMPD/v.sock"

if ! have_kvm; then
  skip memory_units "/dev/kvm is not usable"
  skip err_initrd_empty "/dev/kvm is not usable"
  skip err_initrd_not_regular "/dev/kvm is not usable"
  skip err_kernel_not_regular "/dev/kvm is not usable"
  exit 0
fi
# --memory with a unit: 98304K is 96 MiB, which the guest sees as the top of its RAM.
run_capture memory_units 60 "$CAPSULE" vm run --kernel "$CAPSULE_ROOT/$B/guest/cmdline.elf" --memory 98304K
if [ "$RC" = 0 ] && grep -Eq '^ram: [0-9]+ KiB usable, top 96 MiB$' "$OUT"; then
  pass memory_units
else
  fail memory_units "status $RC: $(grep '^ram:' "$OUT" || tail -c 200 "$OUT")"
fi
expect_error err_initrd_empty 1 "initrd $TMPD/empty.img: the file is empty" \
  "$CAPSULE" vm run --kernel "$G" --memory 64 --initrd "$TMPD/empty.img"
mkfifo "$TMPD/fifo"
expect_error err_initrd_not_regular 1 "initrd $TMPD/fifo: not a regular file" \
  "$CAPSULE" vm run --kernel "$G" --memory 64 --initrd "$TMPD/fifo"
expect_error err_kernel_not_regular 1 "kernel $TMPD/fifo: " \
  "$CAPSULE" vm run --kernel "$TMPD/fifo" --memory 64
