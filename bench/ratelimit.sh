#!/usr/bin/env bash
# The virtio-blk rate limiter (--disk PATH,bw=...,iops=...): its accuracy (how long the guest's
# requests take against the span the limit allows, about 10 s of virtio_blkbench; the error is
# the rate got above (+) or below (-) the limit) and its CPU cost at
# full speed (the same unthrottled stream with no limiter and with a limit far above what the
# device reaches, interleaved and repeated; host CPU of every thread but the vCPUs, whose ring-3
# polling is the guest's). Timings are reported, never judged.
source "$(dirname "$0")/lib.bash"
source "$CAPSULE_ROOT/tests/lib.sh"
G=$(dirname "$CAPSULE")/guest/virtio_blkbench.elf
RUNS=${RUNS:-3}
if [ ! -x "$CAPSULE" ] || [ ! -f "$G" ] || ! have_kvm || ! command -v python3 >/dev/null; then
	echo "ratelimit: needs $CAPSULE, $G, /dev/kvm and python3; skipped"
	exit 0
fi
img=$TMPD/bench.img
truncate -s 256M "$img"
dd if=/dev/urandom of="$img" bs=1M count=256 conv=notrunc status=none

run() { # LABEL DISK_OPTS CMDLINE: prints "MiB/s IOPS CPU-s/GiB" of the span start..end
	python3 - "$CAPSULE" "$G" "$img$2" "$3" <<'PY'
import os, subprocess, sys, time
capsule, elf, disk, cmdline = sys.argv[1:5]
p = subprocess.Popen([capsule, 'vm', 'run', '--kernel', elf, '--memory', '128', '--disk', disk,
                      '--cmdline', cmdline], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT)
hz = os.sysconf('SC_CLK_TCK')
def cpu():
    tot = 0.0
    for tid in os.listdir('/proc/%d/task' % p.pid):
        try:
            if open('/proc/%d/task/%s/comm' % (p.pid, tid)).read().startswith('vcpu'):
                continue
            f = open('/proc/%d/task/%s/stat' % (p.pid, tid)).read().rsplit(')', 1)[1].split()
            tot += (int(f[11]) + int(f[12])) / hz
        except OSError:
            pass
    return tot
res = None
for raw in p.stdout:
    line = raw.decode(errors='replace').rstrip()
    if line.startswith('blkbench: start'):
        t0, c0 = time.monotonic(), cpu()
        bs = int(line.split(' bs ')[1].split()[0])
    elif line.startswith('blkbench: end'):
        t1, c1 = time.monotonic(), cpu()
        p.stdin.write(b'x'); p.stdin.flush()
        n = int(line.split()[3])
        dt = t1 - t0
        res = (n * bs / 2**20 / dt, n / dt, (c1 - c0) / (n * bs / 2**30), dt)
rc = p.wait()
print('failed' if res is None or rc != 0 else '%.2f %.1f %.3f %.2f' % res)
PY
}

echo "accuracy: virtio_blkbench sequential reads, about 10 s at the limit after the first (full) bucket"
echo "(which passes at once): the span the limit allows for the rest, against the span measured"
printf '%-30s %10s %12s %12s %12s %9s\n' "limit" "requests" "allowed s" "measured s" "got" "error"
acc() { # LABEL OPTS CMDLINE REQUESTS FIRST_BUCKET_REQUESTS REQUESTS_PER_S
	read -r mibs iops _ span <<<"$(run "$1" "$2" "$3")"
	local allowed; allowed=$(awk -v n="$4" -v b="$5" -v r="$6" 'BEGIN {printf "%.2f", (n - b) / r}')
	printf '%-30s %10s %12s %12s %8s/s %9s\n' "$1" "$4" "$allowed" "$span" "$iops" \
		"$(awk -v m="$span" -v a="$allowed" 'BEGIN {if (m > 0) printf "%+.1f %%", 100 * (a - m) / m; else print "n/a"}')"
}
# 1 MiB reads against bandwidth limits, 4 KiB reads against IOPS limits.
acc "bw=16M (1 s refill)" ",bw=16M" "blkbench.bs=1048576 blkbench.mib=176" 176 16 16
acc "bw=1600K/100ms" ",bw=1600K/100ms" "blkbench.bs=1048576 blkbench.mib=158" 158 1.5625 15.625
acc "iops=200 (1 s refill)" ",iops=200" "blkbench.bs=4096 blkbench.mib=9" 2304 200 200
acc "iops=20/100ms" ",iops=20/100ms" "blkbench.bs=4096 blkbench.mib=8" 2048 20 200

echo
echo "CPU cost at full speed: no limiter vs bw=1000G,iops=100000000 (never reached), $RUNS runs each, interleaved"
printf '%-34s %12s %14s %16s\n' "limiter" "MiB/s" "IOPS" "host CPU-s/GiB"
t=$TMPD/cost
for i in $(seq "$RUNS"); do
	run none "" "blkbench.bs=4096 blkbench.mib=8 blkbench.rand" >>"$t.none"
	run on ",bw=1000G,iops=100000000" "blkbench.bs=4096 blkbench.mib=8 blkbench.rand" >>"$t.on"
done
for k in none on; do
	printf '%-34s %12s %14s %16s\n' "$k (median, 4 KiB random reads)" "$(awk '{print $1}' "$t.$k" | median)" \
		"$(awk '{print $2}' "$t.$k" | median)" "$(awk '{print $3}' "$t.$k" | median)"
done
