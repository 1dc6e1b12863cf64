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
expect_error err_vsock_cid_reserved 2 '^capsule: vsock cid 2: must be 3 or more \(0-2 are reserved\)' \
  "$CAPSULE" vm run --kernel "$G" --vsock cid=2,uds="$TMPD/v.sock"

if ! have_kvm; then
  skip err_initrd_empty "/dev/kvm is not usable"
  skip err_initrd_not_regular "/dev/kvm is not usable"
  skip err_kernel_not_regular "/dev/kvm is not usable"
  exit 0
fi
expect_error err_initrd_empty 1 "initrd $TMPD/empty.img: the file is empty" \
  "$CAPSULE" vm run --kernel "$G" --memory 64 --initrd "$TMPD/empty.img"
mkfifo "$TMPD/fifo"
expect_error err_initrd_not_regular 1 "initrd $TMPD/fifo: not a regular file" \
  "$CAPSULE" vm run --kernel "$G" --memory 64 --initrd "$TMPD/fifo"
expect_error err_kernel_not_regular 1 "kernel $TMPD/fifo: " \
  "$CAPSULE" vm run --kernel "$TMPD/fifo" --memory 64
