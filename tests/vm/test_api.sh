#!/usr/bin/env bash
# The VMM's HTTP API (docs/api.md) driven with curl --unix-socket, as Firecracker's getting-started
# scripts do: a VM started with only --api-sock is configured and booted through the API, paused
# and resumed (the ticker guest's console stops and goes on), and every kind of bad request gets
# its 4xx with a fault_message while the VM keeps running; a client that sends half a request and
# stalls holds up nobody. Needs /dev/kvm, curl, socat and jq.
source "$CAPSULE_ROOT/tests/lib.sh"

G=$(dirname "$CAPSULE")/guest
ALL_CHECKS="api_not_started api_prestart_faults api_vm_config api_machine_config_get api_expect_continue api_boot api_console_ticks
api_pause api_paused_silent api_resume api_bad_unknown_field api_bad_type api_bad_json api_bad_state_value
api_bad_oversized api_bad_header_too_large api_bad_url_too_long api_bad_malformed_http api_bad_boot_twice
api_bad_resume_running api_bad_pause_twice api_bad_after_boot api_bad_unknown_path api_bad_method
api_bad_snapshot_running api_bad_no_body api_still_running api_stalled_client api_stalled_gets_408
api_many_clients api_too_many_clients api_keepalive_pipelined api_metrics api_socket_in_use api_socket_removed api_metrics_boot_devices api_ctrl_alt_del
api_config_file api_config_file_bad api_config_file_unknown api_balloon api_balloon_faults"

skip_all() {
  local c
  for c in $ALL_CHECKS; do skip "$c" "$1"; done
  exit 0
}
have_kvm || skip_all "/dev/kvm is missing or not usable by $(id -un)"
[ -x "$CAPSULE" ] || skip_all "$CAPSULE is not built (run make)"
for t in curl socat jq; do
  command -v $t >/dev/null || skip_all "$t is not installed (scripts/deps)"
done
[ -f "$G/ticker.elf" ] || skip_all "$G/ticker.elf is missing (make guests)"

SOCK=$TMPD/vmapi-$$.sock
CON=$TMPD/console.txt
VMPID=
cleanup() {
  [ -n "$VMPID" ] && kill "$VMPID" 2>/dev/null && wait "$VMPID" 2>/dev/null
  jobs -p | xargs -r kill 2>/dev/null
  rm -rf "$TMPD"
}
trap cleanup EXIT

# api METHOD PATH [JSON]: one request the way Firecracker's docs write them; $CODE and $RESP.
api() {
  local args=(-s -o "$TMPD/resp" -w '%{http_code}' --max-time 10 --unix-socket "$SOCK" -X "$1"
    "http://localhost$2" -H 'Accept: application/json')
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' -d "$3")
  CODE=$(curl "${args[@]}" 2>/dev/null)
  RESP=$(cat "$TMPD/resp" 2>/dev/null)
}

# want CHECK CODE [JQ-FILTER]: the last answer had status CODE (and, for a fault, a fault_message;
# with a filter, the body satisfies it). Prints nothing on success (the caller passes).
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
# expect CHECK CODE METHOD PATH [JSON] [JQ-FILTER]
expect() {
  local check=$1 code=$2; shift 2
  local filter=${4-}
  if [ $# -ge 3 ]; then api "$1" "$2" "$3"; else api "$1" "$2"; fi
  want "$check" "$code" "$filter" && pass "$check"
}

ticks() { grep -c '^tick' "$CON" 2>/dev/null || echo 0; }
# wait_for SECONDS CMD...: until CMD succeeds (0) or the time is up (1).
wait_for() {
  local end=$(( $(date +%s) + $1 )); shift
  until "$@"; do
    [ "$(date +%s)" -ge "$end" ] && return 1
    sleep 0.1
  done
}
ticks_above() { [ "$(ticks)" -gt "$1" ]; }
sock_up() { [ -S "$SOCK" ]; }
state_is() { api GET /; [ "$(jq -r .state <<<"$RESP" 2>/dev/null)" = "$1" ]; }

"$CAPSULE" vm run --api-sock "$SOCK" --console "file:$CON" >"$TMPD/vm.log" 2>&1 </dev/null &
VMPID=$!
if ! wait_for 10 sock_up; then
  skip_all "capsule vm run --api-sock did not make its socket: $(tail -c 300 "$TMPD/vm.log")"
fi

# --- before boot
expect api_not_started 200 GET / '' '.state == "Not started" and .app_name == "capsule" and .id == "anonymous-instance"'

prestart_ok=1
api PUT /actions '{"action_type": "InstanceStart"}'; want api_prestart_faults 400 '.fault_message | test("kernel")' || prestart_ok=0
api PUT /boot-source '{"kernel_image_path": "/nonexistent/vmlinux"}'; want api_prestart_faults 400 '.fault_message | test("nonexistent")' || prestart_ok=0
api PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 8}'; want api_prestart_faults 400 '.fault_message | test("minimum")' || prestart_ok=0
api PUT /machine-config '{"vcpu_count": 0, "mem_size_mib": 64}'; want api_prestart_faults 400 || prestart_ok=0
api PUT /machine-config '{"mem_size_mib": 64}'; want api_prestart_faults 400 '.fault_message | test("vcpu_count")' || prestart_ok=0
api PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 64, "smt": true}'; want api_prestart_faults 400 || prestart_ok=0
api PUT /drives/rootfs '{"drive_id": "rootfs", "path_on_host": "/nonexistent.img", "is_root_device": true, "is_read_only": false}'
want api_prestart_faults 400 '.fault_message | test("nonexistent")' || prestart_ok=0
api PUT /drives/rootfs '{"drive_id": "other", "path_on_host": "/dev/null", "is_root_device": false, "is_read_only": true}'
want api_prestart_faults 400 '.fault_message | test("differs")' || prestart_ok=0
api PUT '/drives/bad%20id' '{"drive_id": "x", "path_on_host": "/dev/null"}'; want api_prestart_faults 400 || prestart_ok=0
api PUT /network-interfaces/eth0 '{"iface_id": "eth0", "host_dev_name": "tap0", "guest_mac": "zz:00:00:00:00:00"}'
want api_prestart_faults 400 '.fault_message | test("MAC")' || prestart_ok=0
api PUT /network-interfaces/eth0 '{"iface_id": "eth0", "host_dev_name": "tap0", "guest_mac": "01:00:00:00:00:00"}'
want api_prestart_faults 400 '.fault_message | test("multicast")' || prestart_ok=0
api PUT /vsock '{"guest_cid": 2, "uds_path": "/tmp/x.sock"}'; want api_prestart_faults 400 '.fault_message | test("3 or more")' || prestart_ok=0
api PATCH /vm '{"state": "Paused"}'; want api_prestart_faults 400 '.fault_message | test("not started yet")' || prestart_ok=0
api PUT /actions '{"action_type": "FlushMetrics"}'; want api_prestart_faults 400 '.fault_message | test("PUT /metrics")' || prestart_ok=0
api PUT /actions '{"action_type": "SendCtrlAltDel"}'; want api_prestart_faults 400 '.fault_message | test("not started yet")' || prestart_ok=0
api PUT /snapshot/create '{"snapshot_path": "/tmp/x.snap", "mem_file_path": "/tmp/x.mem"}'; want api_prestart_faults 400 || prestart_ok=0
[ $prestart_ok = 1 ] && pass api_prestart_faults

# The configuration as Firecracker's getting-started script sends it; GET /vm/config reads it back.
DISK=$TMPD/scratch.img
truncate -s 1M "$DISK"
api PUT /boot-source "{\"kernel_image_path\": \"$G/ticker.elf\", \"boot_args\": \"console=ttyS0 ticks=1000000000 spin=20000000\"}"
if want api_vm_config 204; then
  api PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 64, "smt": false, "track_dirty_pages": false}'
  want api_vm_config 204 &&
    { api PUT /drives/scratch "{\"drive_id\": \"scratch\", \"path_on_host\": \"$DISK\", \"is_root_device\": false, \"is_read_only\": true}"
      want api_vm_config 204; } &&
    { api PUT /drives/scratch "{\"drive_id\": \"scratch\", \"path_on_host\": \"$DISK\", \"is_root_device\": false, \"is_read_only\": false}"
      want api_vm_config 204; } &&
    expect api_vm_config 200 GET /vm/config '' \
      "(.\"boot-source\".kernel_image_path == \"$G/ticker.elf\") and .\"machine-config\".mem_size_mib == 64 and (.drives | length == 1) and .drives[0].drive_id == \"scratch\" and .drives[0].is_read_only == false"
fi
expect api_machine_config_get 200 GET /machine-config '' '.vcpu_count == 1 and .mem_size_mib == 64 and .smt == false' 

# curl sends "Expect: 100-continue" for a body over 1 KiB: the server answers it.
long=$(head -c 1500 /dev/zero | tr '\0' 'x')
api PUT /boot-source "{\"kernel_image_path\": \"$G/ticker.elf\", \"boot_args\": \"console=ttyS0 ticks=1000000000 spin=20000000 pad=$long\"}"
want api_expect_continue 204 && pass api_expect_continue

# --- boot
expect api_boot 204 PUT /actions '{"action_type": "InstanceStart"}'
if wait_for 10 state_is Running && wait_for 20 ticks_above 2; then
  pass api_console_ticks
else
  fail api_console_ticks "no ticks on the console after InstanceStart: $(tail -c 300 "$CON" 2>/dev/null) $(tail -c 300 "$TMPD/vm.log")"
fi

# --- pause and resume: the console stops, then goes on
expect api_pause 204 PATCH /vm '{"state": "Paused"}'
api GET /
if [ "$(jq -r .state <<<"$RESP")" = Paused ]; then
  n1=$(ticks); sleep 1; n2=$(ticks)
  if [ "$n1" = "$n2" ]; then pass api_paused_silent; else fail api_paused_silent "$((n2 - n1)) ticks while paused"; fi
else
  fail api_paused_silent "state is not Paused: $RESP"
fi
n=$(ticks)
api PATCH /vm '{"state": "Resumed"}'
if want api_resume 204; then
  if wait_for 20 ticks_above "$n"; then pass api_resume; else fail api_resume "no tick after the resume"; fi
fi

# --- every kind of bad request: a 4xx with a fault_message, and the VM keeps running
expect api_bad_unknown_field 400 PATCH /vm '{"state": "Paused", "bogus": 1}' '.fault_message | test("bogus")'
expect api_bad_type 400 PATCH /vm '{"state": 1}' '.fault_message | test("string")'
expect api_bad_json 400 PATCH /vm '{"state": ' '.fault_message | test("JSON")'
expect api_bad_state_value 400 PATCH /vm '{"state": "Sleeping"}'
big=$(head -c 60000 /dev/zero | tr '\0' 'y')
expect api_bad_oversized 413 PUT /actions "{\"action_type\": \"$big\"}"
CODE=$(curl -s -o "$TMPD/resp" -w '%{http_code}' --max-time 10 --unix-socket "$SOCK" -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' z)" http://localhost/)
RESP=$(cat "$TMPD/resp"); want api_bad_header_too_large 431 && pass api_bad_header_too_large
expect api_bad_url_too_long 414 GET "/$(head -c 2000 /dev/zero | tr '\0' u)"
printf 'THIS IS NOT HTTP\r\n\r\n' | timeout 10 socat -t 5 - "UNIX-CONNECT:$SOCK" >"$TMPD/raw.out" 2>&1
if grep -q '^HTTP/1.1 400' "$TMPD/raw.out" && grep -q fault_message "$TMPD/raw.out"; then
  pass api_bad_malformed_http
else
  fail api_bad_malformed_http "no 400 for a non-HTTP request: $(head -c 300 "$TMPD/raw.out")"
fi
expect api_bad_boot_twice 400 PUT /actions '{"action_type": "InstanceStart"}' '.fault_message | test("already")'
expect api_bad_resume_running 400 PATCH /vm '{"state": "Resumed"}'
api PATCH /vm '{"state": "Paused"}'
expect api_bad_pause_twice 400 PATCH /vm '{"state": "Paused"}' '.fault_message | test("already paused")'
api PATCH /vm '{"state": "Resumed"}'
ok=1
for p in /boot-source /machine-config /drives/x /network-interfaces/eth0 /vsock; do
  api PUT "$p" '{}'
  want api_bad_after_boot 400 '.fault_message | test("after the VM has started")' || ok=0
done
[ $ok = 1 ] && pass api_bad_after_boot
expect api_bad_unknown_path 404 GET /no-such-thing
api DELETE /vm; want api_bad_method 405 && pass api_bad_method
api PUT /snapshot/create '{"snapshot_type": "Full", "snapshot_path": "/tmp/x.snap", "mem_file_path": "/tmp/x.mem"}'
if [ "$CODE" -ge 400 ] && jq -e .fault_message <<<"$RESP" >/dev/null 2>&1; then
  pass api_bad_snapshot_running
else
  fail api_bad_snapshot_running "status $CODE: $RESP"
fi
CODE=$(curl -s -o "$TMPD/resp" -w '%{http_code}' --max-time 10 --unix-socket "$SOCK" -X PUT http://localhost/actions)
RESP=$(cat "$TMPD/resp"); want api_bad_no_body 400 && pass api_bad_no_body

n=$(ticks)
if state_is Running && wait_for 20 ticks_above "$n" && kill -0 "$VMPID" 2>/dev/null; then
  pass api_still_running
else
  fail api_still_running "after the bad requests: state $(jq -r .state <<<"$RESP"), $(tail -c 300 "$TMPD/vm.log")"
fi

# --- a client that sends half a request and stalls blocks nobody, and is answered 408 in the end
{ printf 'PUT /actions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{"action'; sleep 15; } |
  timeout 20 socat -t 20 - "UNIX-CONNECT:$SOCK" >"$TMPD/stalled.out" 2>&1 &
stalled=$!
sleep 0.5
t0=$(date +%s%N)
api GET /
t1=$(date +%s%N)
if want api_stalled_client 200 '.state == "Running"'; then
  pass api_stalled_client
  echo "# GET / beside a stalled client: $(( (t1 - t0) / 1000000 )) ms"
fi
if wait_for 12 grep -q '^HTTP/1.1 408' "$TMPD/stalled.out"; then
  pass api_stalled_gets_408
else
  fail api_stalled_gets_408 "the stalled client got: $(head -c 300 "$TMPD/stalled.out")"
fi
kill "$stalled" 2>/dev/null; wait "$stalled" 2>/dev/null

# --- many clients at once
pids=()
for i in $(seq 1 24); do
  curl -s -o "$TMPD/many.$i" -w '%{http_code}' --max-time 20 --unix-socket "$SOCK" http://localhost/ >"$TMPD/many.$i.code" &
  pids+=($!)
done
wait "${pids[@]}"
ok=0
for i in $(seq 1 24); do
  [ "$(cat "$TMPD/many.$i.code")" = 200 ] && jq -e '.state == "Running"' "$TMPD/many.$i" >/dev/null 2>&1 && ok=$((ok + 1))
done
if [ $ok = 24 ]; then pass api_many_clients; else fail api_many_clients "$ok of 24 parallel GET / answered"; fi

# --- more than 64 connections at once: the next one is told 503 and closed; the others go on
idle=()
mkfifo "$TMPD/idle.fifo"
exec 9<>"$TMPD/idle.fifo"	# held open: the clients' stdin never ends, and they send nothing
for i in $(seq 1 64); do
  timeout 40 socat -u - "UNIX-CONNECT:$SOCK" <"$TMPD/idle.fifo" >/dev/null 2>&1 &
  idle+=($!)
done
sleep 1
api GET /
if want api_too_many_clients 503 '.fault_message | test("too many")'; then
  kill "${idle[@]}" 2>/dev/null; wait "${idle[@]}" 2>/dev/null; exec 9>&-
  if wait_for 10 state_is Running; then pass api_too_many_clients; else fail api_too_many_clients "no answer once the idle clients left: $CODE $RESP"; fi
else
  kill "${idle[@]}" 2>/dev/null; wait "${idle[@]}" 2>/dev/null; exec 9>&-
fi

# --- keep-alive: two requests pipelined on one connection get two answers, in order (socat
# half-closes after sending: the answers still come)
printf 'GET /machine-config HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
  timeout 10 socat -t 5 - "UNIX-CONNECT:$SOCK" >"$TMPD/pipe.out" 2>&1
if [ "$(grep -o 'HTTP/1.1 200' "$TMPD/pipe.out" | wc -l)" = 2 ] && grep -q vcpu_count "$TMPD/pipe.out" && grep -q '"state"' "$TMPD/pipe.out"; then
  pass api_keepalive_pipelined
else
  fail api_keepalive_pipelined "$(head -c 400 "$TMPD/pipe.out")"
fi

# --- metrics: GET /metrics, and FlushMetrics into the PUT /metrics file
touch "$TMPD/metrics.json"	# as in Firecracker, the file (or FIFO) must exist
api PUT /metrics "{\"metrics_path\": \"$TMPD/metrics.json\"}"
if want api_metrics 204; then
  api PUT /actions '{"action_type": "FlushMetrics"}'
  if want api_metrics 204 && jq -e '.vcpu.exits.io > 0 and .api_server.requests > 10' "$TMPD/metrics.json" >/dev/null 2>&1; then
    expect api_metrics 200 GET /metrics '' '.vmm.state == "Running" and .vcpu.exits.io > 0'
  else
    fail api_metrics "metrics file: $(head -c 300 "$TMPD/metrics.json")"
  fi
fi

# --- the socket: a second VMM cannot take it; it goes away with the VM
expect_error api_socket_in_use 2 'another VMM is serving it' "$CAPSULE" vm run --api-sock "$SOCK"
kill -TERM "$VMPID"
wait "$VMPID"
VMPID=
if [ ! -e "$SOCK" ]; then pass api_socket_removed; else fail api_socket_removed "$SOCK is still there"; fi

# --- SendCtrlAltDel: the kbd guest reads Ctrl, Alt and Delete's make codes from the i8042
if [ -f "$G/kbd.elf" ]; then
  SOCK=$TMPD/vmapi-kbd-$$.sock
  CON=$TMPD/kbd.txt
  "$CAPSULE" vm run --api-sock "$SOCK" --kernel "$G/kbd.elf" --console "file:$CON" >"$TMPD/kbd.log" 2>&1 </dev/null &
  VMPID=$!
  if wait_for 10 sock_up && wait_for 20 grep -q 'kbd: waiting' "$CON"; then
    # metrics: the guest's boot time (its boot-timer write) and its devices' exits
    expect api_metrics_boot_devices 200 GET /metrics '' '.vmm.boot_ms > 0 and .devices.i8042.pio > 0 and .devices."boot-timer".mmio == 1'
    api PUT /actions '{"action_type": "SendCtrlAltDel"}'
    if want api_ctrl_alt_del 204; then
      wait "$VMPID"; rc=$?; VMPID=
      if [ $rc = 0 ] && grep -q '^kbd: 1d 38 e0 53' "$CON"; then
        pass api_ctrl_alt_del
      else
        fail api_ctrl_alt_del "exit $rc: $(tail -c 200 "$CON") $(tail -c 200 "$TMPD/kbd.log")"
      fi
    fi
  else
    fail api_ctrl_alt_del "the kbd guest did not start: $(tail -c 300 "$TMPD/kbd.log")"
  fi
else
  fail api_ctrl_alt_del "$G/kbd.elf is missing (make guests)"
fi

# --- --config-file: Firecracker's config-file shape, through the same routes
if [ -f "$G/exitcode.elf" ]; then
  cat >"$TMPD/vm.json" <<JSON
{"boot-source": {"kernel_image_path": "$G/exitcode.elf", "boot_args": "console=ttyS0 exitcode=7"},
 "machine-config": {"vcpu_count": 2, "mem_size_mib": 64, "smt": false},
 "drives": [{"drive_id": "scratch", "path_on_host": "$DISK", "is_root_device": false, "is_read_only": true}],
 "network-interfaces": [], "logger": null, "metrics": null}
JSON
  timeout 60 "$CAPSULE" vm run --config-file "$TMPD/vm.json" --console "file:$TMPD/cf.txt" >"$TMPD/cf.log" 2>&1 </dev/null
  rc=$?
  if [ $rc = 7 ]; then pass api_config_file; else fail api_config_file "exit $rc, want 7: $(tail -c 300 "$TMPD/cf.log")"; fi
else
  fail api_config_file "$G/exitcode.elf is missing (make guests)"
fi
printf '{"boot-source": {"kernel_image_path": "%s"}, "machine-config": {"vcpu_count": 1, "mem_size_mib": 8}}' "$G/exitcode.elf" >"$TMPD/bad.json"
expect_error api_config_file_bad 2 "bad.json: machine-config: memory 8 MiB: below the minimum" "$CAPSULE" vm run --config-file "$TMPD/bad.json"
echo '{"boot-source": {"kernel_image_path": "/x"}, "bogus": {}}' >"$TMPD/unknown.json"
expect_error api_config_file_unknown 2 "unknown.json: (boot-source: kernel_image_path /x|unknown section 'bogus')" "$CAPSULE" vm run --config-file "$TMPD/unknown.json"

# --- the balloon: PUT before boot sets the first target, PATCH moves it; the guest follows it
if [ -f "$G/balloon_target.elf" ]; then
  SOCK=$TMPD/vmapi-balloon-$$.sock
  CON=$TMPD/balloon.txt
  "$CAPSULE" vm run --api-sock "$SOCK" --console "file:$CON" >"$TMPD/balloon.log" 2>&1 </dev/null &
  VMPID=$!
  ok=1
  wait_for 10 sock_up || ok=0
  api PUT /boot-source "{\"kernel_image_path\": \"$G/balloon_target.elf\"}"; want api_balloon 204 || ok=0
  api PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 64}'; want api_balloon 204 || ok=0
  api PUT /balloon '{"amount_mib": 8, "deflate_on_oom": true}'; want api_balloon_faults 400 '.fault_message | test("deflate_on_oom")' || ok=2
  api PUT /balloon '{"amount_mib": 100, "deflate_on_oom": false}'; want api_balloon_faults 400 '.fault_message | test("64 MiB")' || ok=2
  api PATCH /balloon '{"amount_mib": 8}'; want api_balloon_faults 400 '.fault_message | test("no balloon")' || ok=2
  api PUT /balloon '{"amount_mib": 8, "deflate_on_oom": false, "stats_polling_interval_s": 1}'; want api_balloon 204 || ok=0
  api PUT /actions '{"action_type": "InstanceStart"}'; want api_balloon 204 || ok=0
  if [ $ok != 0 ] && wait_for 20 grep -q 'balloon: target 2048 pages' "$CON"; then
    api PATCH /balloon '{"amount_mib": 16}'
    if want api_balloon 204 && wait_for 20 grep -q 'balloon: target 4096 pages' "$CON"; then
      api GET /balloon/statistics
      if want api_balloon 200 '.target_pages == 4096 and .actual_pages == 4096 and .actual_mib == 16'; then
        expect api_balloon 200 GET /balloon '' '.amount_mib == 16 and .deflate_on_oom == false'
      fi
    else
      fail api_balloon "the guest did not see the new target: $(tail -c 200 "$CON")"
    fi
  elif [ $ok != 0 ]; then
    fail api_balloon "the guest did not see the first target: $(tail -c 300 "$CON") $(tail -c 300 "$TMPD/balloon.log")"
  fi
  bad=1
  api PATCH /balloon '{"amount_mib": 65}'; want api_balloon_faults 400 || bad=0
  api PUT /balloon '{"amount_mib": 8, "deflate_on_oom": false}'; want api_balloon_faults 400 '.fault_message | test("after the VM has started")' || bad=0
  [ $ok != 2 ] && [ $bad = 1 ] && pass api_balloon_faults
  kill "$VMPID" 2>/dev/null; wait "$VMPID" 2>/dev/null; VMPID=
else
  fail api_balloon "$G/balloon_target.elf is missing (make guests)"
fi
