# Sourced by the nested suites that run one L1 script (tests/vm/linux/test_*_linux.sh), after they
# set NAMES to their checks. It holds what they all do around their own L1 script:
#   nested_require [TOOL...]      SKIP every check unless capsule is built, QEMU, the TOOLs and the
#                                 L1 kernel (scripts/fetch-kernel) are there
#   nested_ext4_disk SIZE         an empty ext4 image, $TMPD/disk.img, at /l2/disk.img in L1
#   nested_l2_initrd PART PATH [--modules]
#                                 the L2 initramfs made from PART at PATH in L1; sets $kernel and
#                                 $cmdline: the micro-VM kernel when built (scripts/kernel/build),
#                                 else Debian's cloud kernel (with its modules when asked)
#   nested_run TIMEOUT [DONE_RE]  runs $TMPD/l1.sh in L1 with $files; prints the timings and L1's
#                                 "l1: " and the guest's "virtio: " lines; FAILs every check when
#                                 L1 ended non-zero without a line matching DONE_RE (any non-zero
#                                 end without one). L1's console, without CRs, is in $TMPD/o.
source "$CAPSULE_ROOT/tests/lib.sh"
HERE=$CAPSULE_ROOT/tests/vm/linux
LINUX=${CAPSULE_LINUX_DIR:-$CAPSULE_ROOT/build/linux}
files=()

skip_all() { for c in $NAMES; do skip "$c" "$1"; done; exit 0; }
fail_all() { for c in $NAMES; do fail "$c" "$1"; done; exit 0; }

nested_require() {
	[ -x "$CAPSULE" ] || skip_all "$CAPSULE is not built"
	local t
	for t in qemu-system-x86_64 "$@"; do
		command -v "$t" >/dev/null || skip_all "$t missing"
	done
	timeout -k 5 240 "$CAPSULE_ROOT/scripts/fetch-kernel" >"$TMPD/fetch.log" 2>&1 ||
		skip_all "no L1 kernel: scripts/fetch-kernel failed (status $?): $(tail -n1 "$TMPD/fetch.log")"
}

# A host that cannot make an ext4 image is a host limit (SKIP).
nested_ext4_disk() {
	{ truncate -s "$1" "$TMPD/disk.img" && mkfs.ext4 -q -F "$TMPD/disk.img"; } >"$TMPD/mkfs.log" 2>&1 ||
		skip_all "cannot make the ext4 image: $(tail -n1 "$TMPD/mkfs.log")"
	files+=(--file "$TMPD/disk.img=/l2/disk.img")
}

# The project's own mkinitramfs failing is a bug here (FAIL), or a regression in it would hide
# behind SKIP lines.
nested_l2_initrd() {
	local part=$1 dest=$2 modules=${3:-}
	local mk=(--part "$part")
	if microvm_kernel && [ -f "$KDIR/bzImage" ]; then
		kernel=/l2/microvm cmdline="console=ttyS0 panic=-1 quiet acpi=off"
		files+=(--file "$KDIR/bzImage=/l2/microvm")
	else
		kernel=/l2/vmlinuz cmdline="console=ttyS0 panic=-1 quiet"
		[ "$modules" = --modules ] && mk+=(--file "$LINUX/modules=/lib/capsule/modules")
	fi
	"$CAPSULE_ROOT/scripts/mkinitramfs" -o "$TMPD/l2.cpio.gz" "${mk[@]}" >"$TMPD/mk.log" 2>&1 ||
		fail_all "scripts/mkinitramfs failed: $(tail -n1 "$TMPD/mk.log")"
	files+=(--file "$TMPD/l2.cpio.gz=$dest")
}

nested_run() {
	local timeout_s=$1 done_re=${2:-} rc
	"$HERE/nested-run" --timeout "$timeout_s" "${files[@]}" --sh "$(cat "$TMPD/l1.sh")" \
		>"$TMPD/out" 2>"$TMPD/err" </dev/null
	rc=$?
	tr -d '\r' <"$TMPD/out" >"$TMPD/o"
	grep -hE '^nested-run: timings' "$TMPD/err" | sed "s|^nested-run: |  time ($kernel): |"
	grep -E '^(l1|virtio): |^migrated ' "$TMPD/o" | sed 's/^/  /' | cut -c1-200
	[ $rc -eq 0 ] && return 0
	[ -n "$done_re" ] && grep -qE "$done_re" "$TMPD/o" && return 0
	fail_all "nested-run exited $rc: $(grep -E 'capsule:' "$TMPD/o" | tail -n 3 | tr '\n' ' ')$(tail -n 3 "$TMPD/o" | tr '\n' ' ') $(tail -n 2 "$TMPD/err" | tr '\n' ' ')"
}

# counts_in_order N: "yes" when the two consoles (L1's "a: " and "b: " lines) together hold
# "count: 0" .. "count: N-1", each once, in order. Newlines are dropped first, so that a line cut by
# the snapshot or the migration is joined again.
counts_in_order() {
	{ sed -n 's/^a: //p' "$TMPD/o"; sed -n 's/^b: //p' "$TMPD/o"; } | tr -d '\n' | grep -o 'count: [0-9]*' |
		awk -v n="$1" '{ if ($2 != NR - 1) bad = 1 } END { print (NR == n && !bad) ? "yes" : "no: " NR " counts" }'
}
