#!/usr/bin/env bash
# Real Linux boot in the nested harness (QEMU TCG L1 with kvm-amd, where /dev/kvm behaves like
# hardware): Debian's cloud kernel + a busybox initramfs that prints uname/nproc/memory, pokes the
# boot timer and powers off; 2 vCPUs, 512 MiB. One L1 boot runs, in turn:
#   capsule, bzImage decompressed on the host (default)
#   capsule, bzImage with the kernel's own decompressor in the guest (--bzimage-decompress guest)
#   capsule, the extracted ELF vmlinux
#   QEMU -M microvm (Debian's qemu-system-x86, qboot, -enable-kvm) with the same bzImage: the anchor
# and prints launch -> guest init and launch -> exit on the L1 clock, plus capsule's boot timer
# (VM start -> init), start CPU-ms and VMM memory. Everything runs under TCG, so absolute times are
# ~10-50x slower than on hardware; the ratios are what this measures. Timings are never judged.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
Q=/usr/bin/qemu-system-x86_64
echo "== Linux boot to init in the nested harness (L1 = QEMU TCG + kvm-amd; 2 vCPUs, 512 MiB)"
if [ ! -x "$Q" ] || [ ! -x "$ROOT/$B/capsule" ]; then
	echo "SKIPPED: needs $Q and $ROOT/$B/capsule"
	exit 0
fi

read -r -d '' l1cmd <<'EOS'
up() { cut -d' ' -f1 /proc/uptime; }
CMD='console=ttyS0 panic=-1 quiet'
run_capsule() {
	name=$1; shift
	t0=$(up)
	capsule vm run "$@" --initrd /l2/initrd.gz --cpus 2 --memory 512 --cmdline "$CMD" --boot-timer >/tmp/o 2>&1
	rc=$?
	t1=$(up)
	b=$(sed -n 's/^boot: \([0-9.]*\) ms.*/\1/p' /tmp/o)
	s=$(sed -n 's/^start: \([0-9.]*\) CPU-ms.*/\1/p' /tmp/o)
	m=$(sed -n 's/^vmm: \([0-9.]*\) MiB resident (\([0-9.]*\) MiB private.*/\1\/\2/p' /tmp/o)
	n=$(sed -n 's/.*guest: nproc = \([0-9]*\).*/\1/p' /tmp/o)
	echo "bench: $name|$rc|$t0|$t1|$b|$s|$m|$n"
}
run_capsule capsule-bzimage-host --kernel /l2/vmlinuz
run_capsule capsule-bzimage-guest --kernel /l2/vmlinuz --bzimage-decompress guest
run_capsule capsule-elf --kernel /l2/vmlinux
t0=$(up)
/usr/bin/qemu-system-x86_64 -M microvm,x-option-roms=off,rtc=off -enable-kvm -cpu host -m 512 -smp 2 \
	-nographic -nodefaults -serial stdio -no-reboot -kernel /l2/vmlinuz -initrd /l2/initrd.gz \
	-append "$CMD" 2>&1 | while IFS= read -r l; do echo "[$(up)] $l"; done >/tmp/q
rc=$?
t1=$(up)
ti=$(sed -n 's/^\[\([0-9.]*\)\] .*guest: uname -r.*/\1/p' /tmp/q)
n=$(sed -n 's/.*guest: nproc = \([0-9]*\).*/\1/p' /tmp/q)
echo "bench: qemu-microvm|$rc|$t0|$t1|init@$ti|||$n"
EOS

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$ROOT/tests/vm/linux/nested-run" --quiet --timeout 1500 --bin "$Q=$Q" --file /usr/share/qemu=/usr/share/qemu \
	--file /usr/share/seabios=/usr/share/seabios --sh "$l1cmd" >"$out" 2>&1
grep -q '^bench: ' "$out" || { echo "SKIPPED: the nested harness produced no result:"; tail -5 "$out"; exit 0; }

printf "%-24s %6s %14s %16s %16s %14s %6s\n" "run" "status" "launch->exit s" "VM start->init ms" "start CPU-ms" "VMM MiB rss/priv" "nproc"
sed -n 's/^bench: //p' "$out" | while IFS='|' read -r name rc t0 t1 b s m n; do
	case "$b" in init@*) b="(init at +$(awk -v i="${b#init@}" -v a="$t0" 'BEGIN{if(i=="")print "n/a"; else printf "%.1f s", i-a}'))" ;; esac
	printf "%-24s %6s %14s %16s %16s %14s %6s\n" "$name" "$rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')" \
		"${b:-n/a}" "${s:-n/a}" "${m:-n/a}" "${n:-?}"
done
echo "note: the bzImage-host vs bzImage-guest rows give what host-side decompression saves; all under TCG."
