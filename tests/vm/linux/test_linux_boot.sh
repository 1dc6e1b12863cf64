#!/usr/bin/env bash
# Real Debian kernel boots (slow suite: `make check` runs it, `make asan` does not).
#  - nested (tests/vm/linux/nested-run: QEMU TCG L1 with kvm-amd): `capsule vm run --cpus 2` boots the
#    Debian cloud kernel to user space from its bzImage and from its ELF vmlinux; the guest sees 2 CPUs
#    and capsule exits 0 after the guest powers off.
#  - direct, on this machine's /dev/kvm: the ELF kernel reaches its console and echoes our command line.
# Bounds on runaway runs, not judgements (normal durations measured here in parentheses):
# fetch-kernel 240 s (0 s once cached), the TCG initramfs boot and the bare harness 90 s each (3-6 s),
# each of the four nested boots NESTED_TIMEOUT 120 s (10-23 s), the direct boot DIRECT_TIMEOUT 300 s
# (75-125 s; 200 s on a loaded machine). On top, the whole suite has BUDGET s (LINUX_BOOT_BUDGET,
# default 5/6 of tests/run's SUITE_TIMEOUT, so 1000 s of its 1200 s), so that a run slow everywhere still
# ends with one line per check instead of being killed by the driver: a step that starts when less
# than its bound is left gets what is left, and says so if it runs out.
source "$CAPSULE_ROOT/tests/lib.sh"
HERE=$CAPSULE_ROOT/tests/vm/linux
LINUX=${CAPSULE_LINUX_DIR:-$CAPSULE_ROOT/build/linux}
L2_CMDLINE=${L2_CMDLINE:-console=ttyS0 panic=-1 quiet}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

SUITE_T0=$(date +%s)
BUDGET=${LINUX_BOOT_BUDGET:-$((${SUITE_TIMEOUT:-1200} * 5 / 6))}
# bound S: sets $BOUND to S, or to what is left of the suite's budget when that is less (then
# $BOUND_WHY says so, for the failure message of a step that runs out).
bound() {
	local left=$((BUDGET - ($(date +%s) - SUITE_T0)))
	[ $left -lt 1 ] && left=1
	BOUND=$1 BOUND_WHY=
	if [ $left -lt "$1" ]; then
		BOUND=$left
		BOUND_WHY=" (bounded at $left s instead of $1 s: the suite's $BUDGET s budget was nearly spent)"
	fi
}

# Every check of this suite, for the SKIP lines when there is no kernel to boot.
ALL_CHECKS="linux_extract_vmlinux linux_initramfs_tcg linux_nested_harness linux_nested_bzimage
linux_nested_elf linux_nested_virtio_rng_modules linux_nested_microvm_kernel linux_kvm_cmdline"

timeout -k 5 240 "$CAPSULE_ROOT/scripts/fetch-kernel" >"$TMPD/fetch.log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
	why="status $rc: $(tail -n1 "$TMPD/fetch.log")"
	[ $rc -eq 124 ] && why="no answer within 240 s"
	for t in $ALL_CHECKS; do skip "$t" "no Debian kernel: scripts/fetch-kernel failed ($why)"; done
	exit 0
fi
release=$(cat "$LINUX/release")

# The ELF inside the bzImage: the shell fallback (by payload magic) must give an ELF with the
# kernel's load segments; when capsule has its own extractor, both must agree on the segments.
name=linux_extract_vmlinux
if ! CAPSULE_EXTRACT_SHELL=1 "$CAPSULE_ROOT/scripts/extract-vmlinux" "$LINUX/vmlinuz" "$TMPD/vmlinux.sh" \
	>"$TMPD/ex.log" 2>&1; then
	fail "$name" "shell extraction: $(tail -n1 "$TMPD/ex.log")"
elif ! readelf -lW "$TMPD/vmlinux.sh" 2>/dev/null | grep -q '^  LOAD .* 0x0*1000000 '; then
	fail "$name" "the extracted ELF has no LOAD segment at physical 16 MiB"
elif "$CAPSULE" vm extract-kernel --help >/dev/null 2>&1; then
	if ! "$CAPSULE" vm extract-kernel "$LINUX/vmlinuz" "$TMPD/vmlinux.cap" >"$TMPD/ex2.log" 2>&1; then
		fail "$name" "capsule vm extract-kernel: $(tail -n1 "$TMPD/ex2.log")"
	elif ! cmp -s <(readelf -lW "$TMPD/vmlinux.sh" | grep -E '^  (LOAD|NOTE)') \
		<(readelf -lW "$TMPD/vmlinux.cap" | grep -E '^  (LOAD|NOTE)'); then
		fail "$name" "capsule vm extract-kernel and the shell extraction disagree on the ELF segments"
	else
		pass "$name"
	fi
else
	pass "$name"
	echo "  note: capsule vm extract-kernel not there yet; checked the shell extraction ($(cat "$TMPD/vmlinux.sh.how"))"
fi
rm -f "$TMPD"/vmlinux.*

have_vm_run=0
"$CAPSULE" vm run --help >/dev/null 2>&1 && have_vm_run=1

# The pieces, without capsule: the L2 initramfs under plain QEMU TCG, then the harness itself
# (L1 up, kvm-amd loaded, /dev/kvm present, the command's exit status carried out by the marker).
if ! command -v qemu-system-x86_64 >/dev/null; then
	skip linux_initramfs_tcg "qemu-system-x86_64 missing"
	skip linux_nested_harness "qemu-system-x86_64 missing"
else
	name=linux_initramfs_tcg
	t0=$(now)
	if ! "$CAPSULE_ROOT/scripts/mkinitramfs" -o "$TMPD/l2.cpio.gz" >"$TMPD/mk.log" 2>&1; then
		fail "$name" "mkinitramfs: $(tail -n1 "$TMPD/mk.log")"
	else
		bound 90
		run_capture "$name" $BOUND qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m 512 -smp 2 \
			-nographic -no-reboot -nic none -kernel "$LINUX/vmlinuz" -initrd "$TMPD/l2.cpio.gz" \
			-append "console=ttyS0 panic=-1 quiet"
		echo "  time: $name $(since "$t0") s"
		if [ "$RC" -ne 0 ]; then fail "$name" "qemu exited $RC$BOUND_WHY: $(tail -n 3 "$OUT" | tr -d '\r' | tr '\n' ' ')"
		elif ! tr -d '\r' <"$OUT" | grep -q "guest: uname -r = $release$"; then fail "$name" "no uname line"
		elif ! tr -d '\r' <"$OUT" | grep -q '^guest: nproc = 2$'; then fail "$name" "no 'guest: nproc = 2'"
		elif ! tr -d '\r' <"$OUT" | grep -q '^guest: MemTotal = [0-9]* kB$'; then fail "$name" "no MemTotal line"
		elif ! tr -d '\r' <"$OUT" | grep -q '^capsule-init: done (poweroff)$'; then fail "$name" "init did not finish"
		else pass "$name"
		fi
	fi

	name=linux_nested_harness
	t0=$(now)
	bound 90
	"$HERE/nested-run" --timeout $BOUND --sh '[ -c /dev/kvm ] && grep -q "^kvm_amd " /proc/modules && echo "l1: kvm ok"; exit 3' \
		>"$TMPD/$name.out" 2>"$TMPD/$name.err" </dev/null
	rc=$?
	grep -hE '^nested-run: timings' "$TMPD/$name.err" | sed 's/^nested-run: //; s/^/  time: /'
	if [ $rc -ne 3 ]; then fail "$name" "want status 3 from the L1 command, got $rc$BOUND_WHY: $(tail -n 3 "$TMPD/$name.err" | tr '\n' ' ')"
	elif ! grep -q '^l1: kvm ok$' "$TMPD/$name.out"; then fail "$name" "no /dev/kvm or kvm_amd in L1: $(cat "$TMPD/$name.out")"
	elif ! grep -q 'Nested Paging enabled' "$TMPD/$name.err"; then fail "$name" "L1 kvm-amd without nested paging"
	else pass "$name"
	fi
fi

# nested NAME KERNEL RELEASE [NESTED-RUN OPTIONS]: boots KERNEL (a path inside L1) with 2 vCPUs
# under capsule in the harness; the guest must report RELEASE as its uname -r.
nested() {
	local name=$1 kernel=$2 rel=$3
	shift 3
	if [ $have_vm_run -eq 0 ]; then skip "$name" "capsule vm run is not built yet"; return; fi
	if ! command -v qemu-system-x86_64 >/dev/null; then skip "$name" "qemu-system-x86_64 missing"; return; fi
	local t0; t0=$(now)
	bound "${NESTED_TIMEOUT:-120}"
	"$HERE/nested-run" --timeout $BOUND --exit-grace 30 --log "$TMPD/$name.serial" "$@" -- \
		vm run --kernel "$kernel" --initrd /l2/initrd.gz --cpus 2 --memory 512 --boot-timer \
		--cmdline "$L2_CMDLINE" >"$TMPD/$name.out" 2>"$TMPD/$name.err" </dev/null
	local rc=$? took; took=$(since "$t0")
	grep -hE '^nested-run: timings|^boot: |^start: ' "$TMPD/$name.err" "$TMPD/$name.out" |
		sed 's/^nested-run: //; s/^/  time: /'
	echo "  time: $name total $took s"
	# Say everything that is wrong, not just the first thing.
	local why= o=$TMPD/$name.out
	add() { why="${why:+$why; }$1"; }
	if [ $rc -eq 125 ]; then add "harness failed: $(grep -v '^  |' "$TMPD/$name.err" | tail -n 2 | tr '\n' ' ')"
	elif [ $rc -eq 124 ] && grep -q '^capsule-init: done' "$o"; then
		add "the guest powered off but capsule did not exit ($(grep -o 'reboot: [A-Za-z ]*' "$o" | tail -n1))"
	elif [ $rc -eq 124 ]; then add "timed out$BOUND_WHY; last: $(tail -n 3 "$TMPD/$name.err" | tr '\n' ' ')"
	elif [ $rc -ne 0 ]; then add "capsule exited $rc"
	fi
	grep -q "^guest: uname -r = $rel\$" "$o" || add "no 'guest: uname -r = $rel' line"
	grep -q '^guest: nproc = 2$' "$o" ||
		add "the guest did not see 2 CPUs ($(grep '^guest: nproc' "$o" || echo 'no nproc line'))"
	grep -q '^capsule-init: done' "$o" || add "the guest's init did not finish"
	grep -q '^boot: [0-9.]* ms' "$o" || add "no 'boot: N ms' line from --boot-timer (the guest pokes 0xd0000000 at init)"
	if [ -n "$why" ]; then
		fail "$name" "$why"
		sed 's/^/  | /' "$TMPD/$name.out" | tail -n 40
	else
		pass "$name"
	fi
}

nested linux_nested_bzimage /l2/vmlinuz "$release"
nested linux_nested_elf /l2/vmlinux "$release"

# Guest modules through the harness (--l2-modules: the 05-modules init part insmods Debian's virtio
# modules): with `--rng`, the Debian kernel must bind virtio_rng to capsule's device (found in ACPI).
name=linux_nested_virtio_rng_modules
if [ $have_vm_run -eq 0 ]; then skip "$name" "capsule vm run is not built yet"
elif ! command -v qemu-system-x86_64 >/dev/null; then skip "$name" "qemu-system-x86_64 missing"
else
	bound "${NESTED_TIMEOUT:-120}"
	"$HERE/nested-run" --timeout $BOUND --exit-grace 30 --l2-modules \
		--l2-part "$HERE/l2/50-virtio-rng" -- vm run --kernel /l2/vmlinuz --initrd /l2/initrd.gz \
		--cpus 2 --memory 512 --rng --cmdline "$L2_CMDLINE" >"$TMPD/$name.out" 2>"$TMPD/$name.err" </dev/null
	rc=$?
	if [ $rc -ne 0 ]; then fail "$name" "status $rc$BOUND_WHY: $(tail -n 3 "$TMPD/$name.err" | tr '\n' ' ')"
	elif grep -q '^guest: insmod' "$TMPD/$name.out"; then fail "$name" "$(grep '^guest: insmod' "$TMPD/$name.out" | head -n1)"
	elif ! grep -q '^guest: hwrng = virtio_rng' "$TMPD/$name.out"; then
		fail "$name" "the guest has no virtio hwrng ($(grep '^guest: hwrng' "$TMPD/$name.out" || echo 'no hwrng line'))"
	else pass "$name"
	fi
fi

# The micro-VM kernel of scripts/kernel/build (`make check` builds it once per machine, cached).
if microvm_kernel && [ -f "$KDIR/config" ]; then
	MICRO=$KDIR
	# The boot header's kernel_version (0x20e) points, minus 0x200, at "RELEASE (builder) #N ...".
	kv=$(od -An -tu2 -j $((0x20e)) -N2 "$MICRO/bzImage" | tr -d ' ')
	micro_rel=$(tail -c +$((kv + 0x200 + 1)) "$MICRO/bzImage" | head -c 64 | tr '\0' '\n' | head -n1 | cut -d' ' -f1)
	nested linux_nested_microvm_kernel /l2/micro-bzImage "$micro_rel" --file "$MICRO/bzImage=/l2/micro-bzImage"
else
	skip linux_nested_microvm_kernel "${KWHY:-no config next to $KDIR/bzImage}"
fi

# Direct on this machine's KVM (kvm_pvm emulates guest ring 0 at ~1 M instructions/s): the
# kernel cannot finish booting here (its int3 self-test stops it), but it must reach its console
# and print the command line we passed. Then we stop it with SIGTERM.
name=linux_kvm_cmdline
if [ $have_vm_run -eq 0 ]; then
	skip "$name" "capsule vm run is not built yet"
elif ! have_kvm; then
	skip "$name" "no usable /dev/kvm"
else
	marker="capsule_marker=X$$Y"
	# capsule appends what the host needs (noxsave on kvm_pvm) after our words.
	want="Kernel command line: console=ttyS0 $marker"
	t0=$(now)
	: >"$TMPD/$name.out"
	"$CAPSULE" vm run --kernel "$LINUX/vmlinux" --cpus 1 --memory 256 \
		--cmdline "console=ttyS0 $marker" >"$TMPD/$name.out" 2>&1 </dev/null &
	vpid=$!
	bound "${DIRECT_TIMEOUT:-300}"
	found=0 deadline=$BOUND
	while kill -0 $vpid 2>/dev/null; do
		if grep -qF "$want" "$TMPD/$name.out"; then found=1; break; fi
		t=$(since "$t0")
		[ "${t%.*}" -ge "$deadline" ] && break
		sleep 0.5
	done
	grep -qF "$want" "$TMPD/$name.out" && found=1
	took=$(since "$t0")
	alive=0
	kill -0 $vpid 2>/dev/null && alive=1
	kill -TERM $vpid 2>/dev/null
	for _ in $(seq 1 20); do kill -0 $vpid 2>/dev/null || break; sleep 0.25; done
	kill -KILL $vpid 2>/dev/null
	wait $vpid 2>/dev/null
	echo "  time: $name command line seen after $took s"
	if [ $found -eq 1 ]; then
		pass "$name"
	elif [ $alive -eq 1 ]; then
		fail "$name" "no '$want' after $took s$BOUND_WHY; last: $(tail -n 2 "$TMPD/$name.out" | tr '\n' ' ')"
	else
		fail "$name" "capsule exited before the kernel printed its command line: $(tail -n 3 "$TMPD/$name.out" | tr '\n' ' ')"
	fi
fi
