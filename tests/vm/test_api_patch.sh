#!/usr/bin/env bash
# The API's device settings that change (docs/api.md): Firecracker's rate_limiter objects on
# PUT /drives and PUT /network-interfaces (read back by GET /vm/config, refused field by field
# when malformed, in force once the VM boots: the throttle guest's disk reads wait for the
# limiter's timer), and PATCH /drives, PATCH /network-interfaces on the running VM: refused
# before boot and for unknown ids; new limits in force within one refill period, measured as
# the reads the blkpatch guest completes in windows of host time (bytes per window against the
# limit, with generous bounds: never a wall-clock pass/fail). Driven with curl --unix-socket as
# Firecracker's scripts are. Needs /dev/kvm, curl and jq.
source "$CAPSULE_ROOT/tests/lib.sh"

G=$(dirname "$CAPSULE")/guest
ALL_CHECKS="patch_put_drive_rl patch_put_net_rl patch_rl_faults patch_rl_faults_net patch_put_rl_enforced
patch_before_boot patch_faults patch_rl_old_limit patch_rl_within_refill patch_rl_bandwidth patch_rl_lowered
patch_rl_config patch_still_running patch_net_rl"

skip_all() {
  local c
  for c in $ALL_CHECKS; do skip "$c" "$1"; done
  exit 0
}
have_kvm || skip_all "/dev/kvm is missing or not usable by $(id -un)"
[ -x "$CAPSULE" ] || skip_all "$CAPSULE is not built (run make)"
for t in curl jq; do
  command -v $t >/dev/null || skip_all "$t is not installed (scripts/deps)"
done
for g in virtio_throttle virtio_blkpatch virtio_net; do
  [ -f "$G/$g.elf" ] || skip_all "$G/$g.elf is missing (make guests)"
done

VMPID=
cleanup() {
  [ -n "$VMPID" ] && kill "$VMPID" 2>/dev/null && wait "$VMPID" 2>/dev/null
  rm -rf "$TMPD"
}
trap cleanup EXIT

# api METHOD PATH [JSON]: one request on $SOCK; the answer in $CODE and $RESP.
api() {
  local args=(-s -o "$TMPD/resp" -w '%{http_code}' --max-time 10 --unix-socket "$SOCK" -X "$1"
    "http://localhost$2" -H 'Accept: application/json')
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' -d "$3")
  CODE=$(curl "${args[@]}" 2>/dev/null)
  RESP=$(cat "$TMPD/resp" 2>/dev/null)
}
# want CHECK CODE [JQ-FILTER]: the last answer had status CODE (a fault with a fault_message; with
# a filter, a body that satisfies it); prints the failure and returns 1 otherwise.
want() {
  local check=$1 code=$2 filter=${3-}
  if [ "$CODE" != "$code" ]; then
    fail "$check" "status $CODE, want $code: $RESP"
    return 1
  fi
  if [ "$code" -ge 400 ] && ! jq -e '.fault_message | type == "string" and length > 0' <<<"$RESP" >/dev/null 2>&1; then
    fail "$check" "no fault_message in: $RESP"
    return 1
  fi
  if [ -n "$filter" ] && ! jq -e "$filter" <<<"$RESP" >/dev/null 2>&1; then
    fail "$check" "body does not satisfy $filter: $RESP"
    return 1
  fi
}
wait_for() {
  local end=$(( $(date +%s) + $1 )); shift
  until "$@"; do
    [ "$(date +%s)" -ge "$end" ] && return 1
    sleep 0.1
  done
}
sock_up() { [ -S "$SOCK" ]; }
vm_alive() { kill -0 "$VMPID" 2>/dev/null; }

# start_vmm NAME [OPTIONS...]: a VMM waiting on its API socket ($SOCK), console in $CON.
start_vmm() {
  local name=$1; shift
  SOCK=$TMPD/$name-vmpatch-$$.sock
  CON=$TMPD/$name.console
  LOG=$TMPD/$name.log
  "$CAPSULE" vm run --api-sock "$SOCK" --console "file:$CON" "$@" >"$LOG" 2>&1 </dev/null &
  VMPID=$!
  wait_for 10 sock_up || skip_all "capsule vm run --api-sock did not make its socket: $(tail -c 300 "$LOG")"
}
stop_vmm() {
  kill "$VMPID" 2>/dev/null
  wait "$VMPID" 2>/dev/null
  VMPID=
}

DISK=$TMPD/disk.img
truncate -s 1M "$DISK"
drive() { # drive ID RATE_LIMITER_JSON: a PUT /drives body
  printf '{"drive_id": "%s", "path_on_host": "%s", "is_root_device": false, "is_read_only": false, "rate_limiter": %s}' \
    "$1" "$DISK" "$2"
}
iface() { # iface ID RX TX: a PUT /network-interfaces body
  printf '{"iface_id": "%s", "host_dev_name": "vmpatch%d", "rx_rate_limiter": %s, "tx_rate_limiter": %s}' "$1" $$ "$2" "$3"
}

# --- PUT with rate limiters, read back; the malformed ones
start_vmm shapes
api PUT /drives/rl1 "$(drive rl1 '{"bandwidth": {"size": 1048576, "one_time_burst": 4194304, "refill_time": 1000}, "ops": {"size": 100, "refill_time": 100}}')"
if want patch_put_drive_rl 204; then
  api GET /vm/config
  want patch_put_drive_rl 200 '.drives[0].drive_id == "rl1" and .drives[0].rate_limiter == {"bandwidth": {"size": 1048576, "one_time_burst": 4194304, "refill_time": 1000}, "ops": {"size": 100, "one_time_burst": 0, "refill_time": 100}}' &&
    pass patch_put_drive_rl
fi
api PUT /network-interfaces/n1 "$(iface n1 '{"bandwidth": {"size": 65536, "refill_time": 100}}' '{"ops": {"size": 10, "one_time_burst": 5, "refill_time": 1000}}')"
if want patch_put_net_rl 204; then
  api GET /vm/config
  want patch_put_net_rl 200 '.["network-interfaces"][0] | .iface_id == "n1" and .rx_rate_limiter == {"bandwidth": {"size": 65536, "one_time_burst": 0, "refill_time": 100}} and .tx_rate_limiter == {"ops": {"size": 10, "one_time_burst": 5, "refill_time": 1000}}' &&
    pass patch_put_net_rl
fi

# Each malformed class: WHAT|LIMITER|what the fault_message must say (the field it names).
bad_classes=(
  'unknown field|{"bandwidth": {"size": 1, "refill_time": 1}, "iops": {}}|unknown field .iops'
  'unknown bucket field|{"ops": {"size": 1, "refill_time": 1, "burst": 2}}|unknown field .burst'
  'limiter not an object|[1, 2]|must be an object'
  'bucket not an object|{"ops": 5}|ops: must be an object'
  'size a string|{"ops": {"size": "10", "refill_time": 1}}|ops.size: must be a non-negative integer'
  'size a float|{"bandwidth": {"size": 1.5, "refill_time": 1}}|bandwidth.size: must be a non-negative integer'
  'negative size|{"bandwidth": {"size": -1, "refill_time": 1}}|bandwidth.size: must be a non-negative integer'
  'refill_time a bool|{"ops": {"size": 1, "refill_time": true}}|ops.refill_time: must be a non-negative integer'
  'size missing|{"ops": {"refill_time": 100}}|ops.size: missing'
  'refill_time missing|{"ops": {"size": 100}}|ops.refill_time: missing'
  'zero refill_time|{"bandwidth": {"size": 4096, "refill_time": 0}}|bandwidth.refill_time: 0 with a size'
  'burst without a size|{"ops": {"size": 0, "one_time_burst": 5, "refill_time": 100}}|one_time_burst: needs a size'
  'size overflow|{"bandwidth": {"size": 1125899906842625, "refill_time": 1}}|bandwidth.size 1125899906842625: at most'
  'refill_time overflow|{"ops": {"size": 1, "refill_time": 3600001}}|ops.refill_time 3600001: at most'
  'burst overflow|{"ops": {"size": 1, "one_time_burst": 9223372036854775807, "refill_time": 1}}|one_time_burst 9223372036854775807: at most'
  'integer past int64|{"ops": {"size": 18446744073709551616, "refill_time": 1}}|not valid JSON'
)
ok=1
for c in "${bad_classes[@]}"; do
  IFS='|' read -r what lim re <<<"$c"
  api PUT /drives/rl1 "$(drive rl1 "$lim")"
  want patch_rl_faults 400 ".fault_message | test(\"$re\")" || { ok=0; echo "  (drive rate_limiter, $what)"; }
done
[ $ok = 1 ] && pass patch_rl_faults
ok=1
for c in "${bad_classes[@]}"; do
  IFS='|' read -r what lim re <<<"$c"
  api PUT /network-interfaces/n1 "$(iface n1 "$lim" null)"
  want patch_rl_faults_net 400 "(.fault_message | test(\"rx_rate_limiter|not valid JSON\")) and (.fault_message | test(\"$re\"))" ||
    { ok=0; echo "  (rx_rate_limiter, $what)"; }
  api PUT /network-interfaces/n1 "$(iface n1 null "$lim")"
  want patch_rl_faults_net 400 "(.fault_message | test(\"tx_rate_limiter|not valid JSON\")) and (.fault_message | test(\"$re\"))" ||
    { ok=0; echo "  (tx_rate_limiter, $what)"; }
done
# the refused PUTs changed nothing
api GET /vm/config
want patch_rl_faults_net 200 '.drives[0].rate_limiter.ops.size == 100 and .["network-interfaces"][0].tx_rate_limiter.ops.size == 10' || ok=0
vm_alive || { ok=0; fail patch_rl_faults_net "the VMM died: $(tail -c 300 "$LOG")"; }
[ $ok = 1 ] && pass patch_rl_faults_net
stop_vmm

# --- a limit set with PUT is in force: 6 disk reads at 2 a second with a bucket of 2 wait for the
# limiter's timer and cannot end in less than 2 s (a lower bound, as test_ratelimit.sh checks)
start_vmm enforced --debug --rng
api PUT /boot-source "{\"kernel_image_path\": \"$G/virtio_throttle.elf\", \"boot_args\": \"throttle.n=6 throttle.skip=2\"}"
want patch_put_rl_enforced 204 &&
  api PUT /drives/thr "$(drive thr '{"ops": {"size": 2, "refill_time": 1000}}')" && want patch_put_rl_enforced 204 &&
  t0=$(date +%s%N) && api PUT /actions '{"action_type": "InstanceStart"}' && want patch_put_rl_enforced 204 &&
  if wait_for 60 grep -q 'throttle: blk' "$CON"; then
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    res=$(grep -o 'throttle: blk [0-9]* errors [0-9]*' "$CON")
    wait_for 10 bash -c "! kill -0 $VMPID 2>/dev/null"
    lim=$(grep -o 'rate limiter: [0-9]* requests waited, [0-9]* resumes by its timer' "$LOG")
    read -r _ _ waited _ _ resumes _ <<<"$lim"
    echo "  patch_put_rl_enforced: $res in ${ms} ms; ${lim:-no limiter line}"
    if [ "$res" != "throttle: blk 6 errors 0" ]; then
      fail patch_put_rl_enforced "want 6 good reads: $res"
    elif [ -z "$lim" ] || [ "$waited" -lt 1 ] || [ "$resumes" -lt 1 ]; then
      fail patch_put_rl_enforced "want reads that waited for the limiter's timer: '${lim:-no limiter line}'"
    elif [ "$ms" -lt 2000 ]; then
      fail patch_put_rl_enforced "6 reads in $ms ms: faster than 2 a second with a bucket of 2 allows"
    else
      pass patch_put_rl_enforced
    fi
  else
    fail patch_put_rl_enforced "the guest did not finish: $(tail -c 300 "$CON") $(tail -c 300 "$LOG")"
  fi
stop_vmm

# --- PATCH on a running VM. reads_at: $READS, the blkpatch guest's completed reads now (its
# last "blkpatch: reads N" line; every=1), and $NOW_NS, the host time.
reads_at() {
  NOW_NS=$(date +%s%N)
  local t l
  t=$(tail -c 1024 "$CON"; echo x)
  t=${t%x}
  [ "${t: -1}" = $'\n' ] || t=${t%$'\n'*} # the line being written is not complete yet
  l=$(grep -a '^blkpatch: reads [0-9]*$' <<<"$t" | tail -n1)
  READS=${l##* }
  READS=${READS:-0}
}
# window SECONDS: $WIN_READS in a window of about SECONDS from now, $WIN_MS its measured length.
window() {
  local r0 t0
  reads_at; r0=$READS; t0=$NOW_NS
  sleep "$1"
  reads_at
  WIN_READS=$(( READS - r0 ))
  WIN_MS=$(( (NOW_NS - t0) / 1000000 ))
}
# within CHECK MIN_PER_S MAX_PER_S BUCKET: the last window's reads between MIN_PER_S and
# MAX_PER_S times its length (plus the bucket and the read in flight at its start).
within() {
  local check=$1 lo=$2 hi=$3 bucket=$4
  local min=$(( lo * WIN_MS / 1000 )) max=$(( hi * WIN_MS / 1000 + bucket + 1 ))
  echo "  $check: $WIN_READS reads of 4 KiB in $WIN_MS ms (want $min to $max)"
  if [ "$WIN_READS" -lt "$min" ] || [ "$WIN_READS" -gt "$max" ]; then
    fail "$check" "$WIN_READS reads in $WIN_MS ms, want $min to $max"
    return 1
  fi
}

start_vmm running
api PATCH /drives/d1 '{"drive_id": "d1", "rate_limiter": {"ops": {"size": 1, "refill_time": 1000}}}'
want patch_before_boot 400 '.fault_message | test("before the VM has started")' &&
  api PATCH /network-interfaces/n1 '{"iface_id": "n1", "tx_rate_limiter": {"ops": {"size": 1, "refill_time": 1000}}}' &&
  want patch_before_boot 400 '.fault_message | test("before the VM has started")' && pass patch_before_boot
api PUT /boot-source "{\"kernel_image_path\": \"$G/virtio_blkpatch.elf\", \"boot_args\": \"blkpatch.every=1\"}"
want patch_rl_old_limit 204
# one read per 5 s: after the first, every read waits for the limiter's timer
api PUT /drives/d1 "$(drive d1 '{"ops": {"size": 1, "refill_time": 5000}}')"
want patch_rl_old_limit 204
api PUT /actions '{"action_type": "InstanceStart"}'
want patch_rl_old_limit 204
if ! wait_for 30 grep -q '^blkpatch: reads 1$' "$CON"; then
  for c in patch_faults patch_rl_old_limit patch_rl_within_refill patch_rl_bandwidth patch_rl_lowered patch_rl_config patch_still_running; do
    fail $c "the blkpatch guest did not start reading: $(tail -c 300 "$CON") $(tail -c 300 "$LOG")"
  done
else
  ok=1
  api PATCH /drives/nope '{"drive_id": "nope", "rate_limiter": {"ops": {"size": 1, "refill_time": 1}}}'
  want patch_faults 400 '.fault_message | test("no such drive")' || ok=0
  api PATCH /drives/d1 '{"drive_id": "d2", "rate_limiter": {"ops": {"size": 1, "refill_time": 1}}}'
  want patch_faults 400 '.fault_message | test("differs")' || ok=0
  api PATCH /drives/d1 '{"drive_id": "d1"}'
  want patch_faults 400 '.fault_message | test("nothing to change")' || ok=0
  api PATCH /drives/d1 '{"drive_id": "d1", "is_read_only": true}'
  want patch_faults 400 '.fault_message | test("unknown field .is_read_only")' || ok=0
  api PATCH /drives/d1 '{"drive_id": "d1", "rate_limiter": {"ops": {"size": 10, "refill_time": 0}}}'
  want patch_faults 400 '.fault_message | test("refill_time: 0 with a size")' || ok=0
  api PATCH /drives/d1 '{"drive_id": "d1", "rate_limiter": {"ops": {"size": "10", "refill_time": 10}}}'
  want patch_faults 400 '.fault_message | test("must be a non-negative integer")' || ok=0
  api PATCH /drives/d1 '{"drive_id": 7}'
  want patch_faults 400 '.fault_message | test("drive_id: must be a string")' || ok=0
  api PATCH /drives/d1
  want patch_faults 400 '.fault_message | test("needs a JSON body")' || ok=0
  api PATCH /network-interfaces/eth0 '{"iface_id": "eth0", "rx_rate_limiter": {"ops": {"size": 1, "refill_time": 1}}}'
  want patch_faults 400 '.fault_message | test("no such network interface")' || ok=0
  api PATCH /network-interfaces/eth0 '{"iface_id": "eth0", "host_dev_name": "tap0"}'
  want patch_faults 400 '.fault_message | test("unknown field .host_dev_name")' || ok=0
  api PUT /drives/d1 "$(drive d1 null)"
  want patch_faults 400 '.fault_message | test("after the VM has started")' || ok=0
  [ $ok = 1 ] && pass patch_faults

  # the old limit holds: at most 1 read per 5 s (+1 for the bucket)
  window 2
  within patch_rl_old_limit 0 1 1 && pass patch_rl_old_limit
  # 100 reads a second (10 per 100 ms) while a read waits for the old limit's timer (seconds
  # away): from one refill period (100 ms) after the answer, the new rate is reached
  api PATCH /drives/d1 '{"drive_id": "d1", "rate_limiter": {"ops": {"size": 10, "refill_time": 100}}}'
  if want patch_rl_within_refill 204; then
    sleep 0.1
    window 1
    within patch_rl_within_refill 50 110 10 && pass patch_rl_within_refill
  fi
  # the bandwidth bucket instead (400 KiB/s = 100 reads of 4 KiB), ops removed ("size": 0)
  api PATCH /drives/d1 '{"drive_id": "d1", "rate_limiter": {"bandwidth": {"size": 40960, "refill_time": 100}, "ops": {"size": 0, "refill_time": 0}}}'
  if want patch_rl_bandwidth 204; then
    sleep 0.1
    window 1
    within patch_rl_bandwidth 50 110 10 && pass patch_rl_bandwidth
  fi
  # and down again: 5 reads a second, the bucket emptied by the faster rate first
  api PATCH /drives/d1 '{"drive_id": "d1", "rate_limiter": {"bandwidth": {"size": 4096, "refill_time": 200}}}'
  if want patch_rl_lowered 204; then
    sleep 0.2
    window 2
    within patch_rl_lowered 2 6 1 && pass patch_rl_lowered
  fi
  api GET /vm/config
  want patch_rl_config 200 '.drives[0].rate_limiter == {"bandwidth": {"size": 4096, "one_time_burst": 0, "refill_time": 200}}' &&
    pass patch_rl_config
  api GET /
  if want patch_still_running 200 '.state == "Running"' && vm_alive; then
    pass patch_still_running
  else
    fail patch_still_running "the VM is not running: $RESP $(tail -c 300 "$LOG")"
  fi
fi
stop_vmm

# --- PATCH /network-interfaces on a running VM: the virtio_net guest answers every UDP datagram
# the host sends (10 a second); with tx_rate_limiter 1 frame a second at most 1 answer a second
# (+ the bucket and the frame in flight) reaches the host, after a PATCH to 100 a second, from one
# refill period after the answer, nearly every datagram is answered.
why=
tap=capvp$$
if [ "$(id -u)" -ne 0 ]; then why="needs root to create a TAP device"
elif [ ! -c /dev/net/tun ]; then why="/dev/net/tun is missing"
elif ! command -v ip >/dev/null || ! command -v socat >/dev/null; then why="needs ip and socat"
elif ! ip tuntap add dev "$tap" mode tap 2>"$TMPD/tap.err"; then why="cannot create a TAP: $(head -c 200 "$TMPD/tap.err")"
else
  trap 'ip link del "$tap" 2>/dev/null; cleanup' EXIT
  sub=
  routed() {
    { ip -4 route show table all root "$1"; ip -4 route show table all match "$1"; } |
      grep -v '^default' | grep -v " dev ${2:-/nodev/} " | grep -q .
  }
  for i in $(seq 0 249); do
    n=$(( ($$ + 31 + i) % 250 + 1 ))
    routed "10.214.$n.0/24" && continue
    ip addr add "10.214.$n.1/24" dev "$tap" 2>/dev/null || continue
    if routed "10.214.$n.0/24" "$tap"; then ip addr del "10.214.$n.1/24" dev "$tap" 2>/dev/null; continue; fi
    sub=10.214.$n
    break
  done
  [ -z "$sub" ] && why="every 10.214.N.0/24 is already routed on this host"
  ip link set "$tap" up
fi
answers() { grep -c 'hello host over udp' "$TMPD/net.udp" 2>/dev/null || true; }
if [ -n "$why" ]; then
  skip patch_net_rl "$why"
else
  start_vmm net
  socat -u UDP-RECV:7778,bind="$sub.1" - >"$TMPD/net.udp" 2>/dev/null </dev/null &
  spid=$!
  api PUT /boot-source "{\"kernel_image_path\": \"$G/virtio_net.elf\", \"boot_args\": \"net.ip=$sub.2 net.replies=100000\"}"
  want patch_net_rl 204 &&
    api PUT /network-interfaces/n1 "{\"iface_id\": \"n1\", \"host_dev_name\": \"$tap\", \"tx_rate_limiter\": {\"ops\": {\"size\": 1, \"refill_time\": 1000}}}" &&
    want patch_net_rl 204 && api PUT /actions '{"action_type": "InstanceStart"}' && want patch_net_rl 204 &&
    {
      ( while kill -0 "$VMPID" 2>/dev/null; do echo "hello guest over udp" 2>/dev/null >"/dev/udp/$sub.2/7777"; sleep 0.1; done ) &
      spam=$!
      if ! wait_for 30 bash -c "[ \$(grep -c 'hello host over udp' '$TMPD/net.udp') -ge 1 ]"; then
        fail patch_net_rl "no answer reached the host: $(tail -c 300 "$CON") $(tail -c 300 "$LOG")"
      else
        a0=$(answers); t0=$(date +%s%N); sleep 3; a1=$(answers); t1=$(date +%s%N)
        slow=$((a1 - a0)) slow_ms=$(( (t1 - t0) / 1000000 ))
        api PATCH /network-interfaces/n1 '{"iface_id": "n1", "tx_rate_limiter": {"ops": {"size": 100, "refill_time": 100}}}'
        if want patch_net_rl 204; then
          sleep 0.1
          b0=$(answers); t0=$(date +%s%N); sleep 2; b1=$(answers); t1=$(date +%s%N)
          fast=$((b1 - b0)) fast_ms=$(( (t1 - t0) / 1000000 ))
          max_slow=$(( slow_ms / 1000 + 2 ))
          echo "  patch_net_rl: $slow answers in $slow_ms ms at 1 frame/s (want at most $max_slow), $fast in $fast_ms ms after the PATCH to 100/s (want at least 10)"
          api GET /vm/config
          if [ "$slow" -gt "$max_slow" ]; then
            fail patch_net_rl "$slow answers in $slow_ms ms: more than 1 frame a second passed"
          elif [ "$fast" -lt 10 ]; then
            fail patch_net_rl "$fast answers in $fast_ms ms after the PATCH: the new limit is not in force"
          elif want patch_net_rl 200 '.["network-interfaces"][0].tx_rate_limiter.ops == {"size": 100, "one_time_burst": 0, "refill_time": 100}'; then
            pass patch_net_rl
          fi
        fi
      fi
      kill $spam 2>/dev/null; wait $spam 2>/dev/null || true
    }
  stop_vmm
  kill $spid 2>/dev/null; wait $spid 2>/dev/null || true
fi
