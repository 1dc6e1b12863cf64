#!/usr/bin/env bash
# Rate-limited virtio-blk (--disk PATH,bw=...,iops=...; src/vmm/ratelimit.c, virtio/throttle.c):
# the guest virtio_throttle keeps one 4 KiB disk read in flight and runs virtio-rng requests while
# it waits. With a limit the disk requests over the bucket wait for the limiter's timer (the VMM's
# --debug line counts the waits and the timer-driven resumes), the other device goes on during
# every wait (rng-min-gap > 0: the I/O thread is not held), and 6 requests at 2 a second with a
# bucket of 2 cannot end in less than 2 s (a lower bound only, never an upper one). Without a
# limit there is no limiter at all. Every run has the default seccomp filters on. Then the
# option's errors.
source "$CAPSULE_ROOT/tests/lib.sh"

G=$(dirname "$CAPSULE")/guest
ALL="ratelimit_blk_iops ratelimit_blk_bw ratelimit_blk_burst ratelimit_blk_none ratelimit_net_tx
ratelimit_net_rx err_ratelimit_unit err_ratelimit_zero err_ratelimit_refill err_ratelimit_burst_alone
err_ratelimit_twice err_ratelimit_net"

if [ ! -x "$CAPSULE" ]; then
  for c in $ALL; do skip "$c" "$CAPSULE is not built (run make)"; done
  exit 0
fi

truncate -s 1M "$TMPD/disk.img"
expect_error err_ratelimit_unit 2 "^capsule: disk .*disk.img: bw '10X': want SIZE\[/TIME\]" \
  "$CAPSULE" vm run --kernel /nonexistent --disk "$TMPD/disk.img,bw=10X"
expect_error err_ratelimit_zero 2 "^capsule: disk .*disk.img: iops '0': the rate must be at least 1" \
  "$CAPSULE" vm run --kernel /nonexistent --disk "$TMPD/disk.img,iops=0"
expect_error err_ratelimit_refill 2 "^capsule: disk .*disk.img: bw '1M/0ms': the refill time must be 1ms to 3600s" \
  "$CAPSULE" vm run --kernel /nonexistent --disk "$TMPD/disk.img,bw=1M/0ms"
expect_error err_ratelimit_burst_alone 2 "^capsule: disk .*disk.img: iops-burst needs iops" \
  "$CAPSULE" vm run --kernel /nonexistent --disk "$TMPD/disk.img,iops-burst=100"
expect_error err_ratelimit_twice 2 "^capsule: disk .*disk.img: bw given twice" \
  "$CAPSULE" vm run --kernel /nonexistent --disk "$TMPD/disk.img,bw=1M,bw=2M"
expect_error err_ratelimit_net 2 "^capsule: net tap=x,tx-bw=1Q: tx-bw '1Q': want SIZE" \
  "$CAPSULE" vm run --kernel /nonexistent --net "tap=x,tx-bw=1Q"

runs="ratelimit_blk_iops ratelimit_blk_bw ratelimit_blk_burst ratelimit_blk_none ratelimit_net_tx ratelimit_net_rx"
if ! have_kvm; then
  for c in $runs; do skip "$c" "/dev/kvm is missing or not usable by $(id -un)"; done
  exit 0
fi
if [ ! -f "$G/virtio_throttle.elf" ] || [ ! -f "$G/virtio_net.elf" ]; then
  for c in $runs; do fail "$c" "$G/virtio_throttle.elf or virtio_net.elf is missing (make guests)"; done
  exit 0
fi

# throttled NAME MIN_S SKIP DISK_OPTIONS: 6 disk reads under the limit, the first SKIP of which
# pass at once (bucket and burst); MIN_S is the least time a correct limiter allows (0: no limit).
throttled() {
  local name=$1 min=$2 skip=$3 opts=$4 t0 t1
  t0=$(date +%s%N)
  timeout -k 5 120 "$CAPSULE" vm run --debug --kernel "$G/virtio_throttle.elf" --rng \
    --disk "$TMPD/disk.img$opts" --cmdline "throttle.n=6 throttle.skip=$skip" --console stdio \
    >"$TMPD/$name.out" 2>&1 </dev/null
  local rc=$?
  t1=$(date +%s%N)
  local ms=$(( (t1 - t0) / 1000000 ))
  local res; res=$(grep -o 'throttle: blk [0-9]* errors [0-9]* rng [0-9]* rng-min-gap [0-9]*' "$TMPD/$name.out")
  local lim; lim=$(grep -o 'rate limiter: [0-9]* requests waited, [0-9]* resumes by its timer' "$TMPD/$name.out")
  read -r _ _ blk _ errors _ rng _ gap <<<"$res"
  read -r _ _ waited _ _ resumes _ <<<"$lim"
  echo "  $name: ${ms} ms wall; $res; ${lim:-no limiter}"
  if [ $rc -ne 0 ] || [ "$blk" != 6 ] || [ "$errors" != 0 ]; then
    fail "$name" "exit status $rc, want 0 and 6 good disk reads: $(tail -c 300 "$TMPD/$name.out")"
  elif [ "$min" = 0 ]; then
    if [ -n "$lim" ]; then fail "$name" "no limit asked for, yet: $lim"; else pass "$name"; fi
  elif [ -z "$lim" ] || [ "$waited" -lt 1 ] || [ "$resumes" -lt 1 ] || [ "$resumes" -gt "$waited" ]; then
    fail "$name" "want requests that waited and were resumed by the limiter's timer: '${lim:-no limiter line}'"
  elif [ "$gap" -lt 1 ]; then
    fail "$name" "the rng device made no progress while a throttled disk read waited: $res"
  elif [ "$ms" -lt $((min * 1000)) ]; then
    fail "$name" "6 reads in $ms ms: faster than the limit allows (at least ${min} s)"
  else
    pass "$name"
  fi
}
throttled ratelimit_blk_iops 2 2 ",iops=2/1s"       # 2 at once, then 4 at 2 a second
throttled ratelimit_blk_bw 2 2 ",bw=8K/1s"          # 4 KiB reads: the same in bytes
throttled ratelimit_blk_burst 1 4 ",iops=2/1s,iops-burst=2"  # the burst adds 2 at once: 2 waits of 0.5 s
throttled ratelimit_blk_none 0 6 ""

# virtio-net: the guest virtio_net answers UDP datagrams (tests/vm/test_guests.sh drives it the
# same way); with tx-ops=2/1s its ARP reply and 4 answers cannot all leave at once, with
# rx-ops=2/1s the ARP request and the datagrams cannot all come in at once: frames wait for the
# limiter's timer, and every answer still reaches the host.
subnet_routed() {
  { ip -4 route show table all root "$1"; ip -4 route show table all match "$1"; } |
    grep -v '^default' | grep -v " dev ${2:-/nodev/} " | grep -q .
}
why=
tap=caprl$$
if [ "$(id -u)" -ne 0 ]; then why="needs root to create a TAP device"
elif [ ! -c /dev/net/tun ]; then why="/dev/net/tun is missing"
elif ! command -v ip >/dev/null || ! command -v socat >/dev/null; then why="needs ip and socat"
elif ! ip tuntap add dev "$tap" mode tap 2>"$TMPD/tap.err"; then why="cannot create a TAP: $(head -c 200 "$TMPD/tap.err")"
else
  trap 'ip link del "$tap" 2>/dev/null; rm -rf "$TMPD"' EXIT
  sub=
  for i in $(seq 0 249); do
    n=$(( ($$ + 97 + i) % 250 + 1 ))
    subnet_routed "10.213.$n.0/24" && continue
    ip addr add "10.213.$n.1/24" dev "$tap" 2>/dev/null || continue
    if subnet_routed "10.213.$n.0/24" "$tap"; then ip addr del "10.213.$n.1/24" dev "$tap" 2>/dev/null; continue; fi
    sub=10.213.$n
    break
  done
  [ -z "$sub" ] && why="every 10.213.N.0/24 is already routed on this host"
  ip link set "$tap" up
fi

# net_limited NAME DIR OPTS: 4 answers through a limited NIC; DIR (rx or tx) must have waited.
net_limited() {
  local name=$1 dir=$2 opts=$3
  socat -u UDP-RECV:7778,bind="$sub.1" - >"$TMPD/$name.udp" 2>/dev/null </dev/null &
  local spid=$!
  sleep 0.2
  timeout -k 5 120 "$CAPSULE" vm run --debug --kernel "$G/virtio_net.elf" --net "tap=$tap$opts" \
    --cmdline "net.ip=$sub.2 net.replies=4" --console stdio >"$TMPD/$name.out" 2>&1 </dev/null &
  local vpid=$!
  for _ in $(seq 600); do
    kill -0 $vpid 2>/dev/null || break
    echo "hello guest over udp" 2>/dev/null >"/dev/udp/$sub.2/7777"
    sleep 0.1
  done
  wait $vpid
  local rc=$?
  sleep 0.2
  kill $spid 2>/dev/null; wait $spid 2>/dev/null
  local lim; lim=$(grep -o 'rate limiters: rx [0-9]* frames waited, [0-9]* timer resumes; tx [0-9]* frames waited, [0-9]* timer resumes' "$TMPD/$name.out")
  local rxw rxr txw txr
  read -r _ _ _ rxw _ _ rxr _ _ _ txw _ _ txr _ _ <<<"$lim"
  echo "  $name: ${lim:-no limiter line}; answers at the host: $(grep -c 'hello host over udp' "$TMPD/$name.udp")"
  local w=$txw r=$txr
  [ "$dir" = rx ] && w=$rxw r=$rxr
  if [ $rc -ne 0 ]; then
    fail "$name" "exit status $rc: $(tail -c 300 "$TMPD/$name.out")"
  elif ! grep -q 'hello host over udp' "$TMPD/$name.udp"; then
    fail "$name" "no answer reached the host"
  elif [ -z "$lim" ] || [ "${w:-0}" -lt 1 ] || [ "${r:-0}" -lt 1 ]; then
    fail "$name" "want $dir frames that waited and were resumed by the limiter's timer: '${lim:-no limiter line}'"
  else
    pass "$name"
  fi
}
if [ -n "$why" ]; then
  skip ratelimit_net_tx "$why"
  skip ratelimit_net_rx "$why"
else
  net_limited ratelimit_net_tx tx ",tx-ops=2/1s"
  net_limited ratelimit_net_rx rx ",rx-ops=2/1s"
fi
