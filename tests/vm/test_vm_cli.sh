#!/usr/bin/env bash
# capsule vm ls|pause|resume|status|stop on VMs named with --id (their API sockets in
# /run/capsule/vm): a ticker guest is listed, paused (its console stops), resumed (it goes on)
# and stopped (its process ends, its socket goes); wrong names and wrong states are one line and
# exit 1. Needs /dev/kvm and jq; names carry this run's pid so that parallel runs never meet.
source "$CAPSULE_ROOT/tests/lib.sh"

G=$(dirname "$CAPSULE")/guest
ALL_CHECKS="vmcli_ls_table vmcli_ls_json vmcli_status vmcli_pause vmcli_paused_silent vmcli_pause_twice
vmcli_resume vmcli_resume_running vmcli_snapshot_fails_resumed vmcli_snapshot_usage vmcli_snapshot vmcli_snapshot_loaded vmcli_restore_named vmcli_stop vmcli_gone_from_ls vmcli_no_such_vm vmcli_bad_name vmcli_id_in_use"
skip_all() {
  local c
  for c in $ALL_CHECKS; do skip "$c" "$1"; done
  exit 0
}
have_kvm || skip_all "/dev/kvm is missing or not usable by $(id -un)"
[ -x "$CAPSULE" ] || skip_all "$CAPSULE is not built (run make)"
command -v jq >/dev/null || skip_all "jq is not installed (scripts/deps)"
[ -f "$G/ticker.elf" ] || skip_all "$G/ticker.elf is missing (make guests)"
mkdir -p /run/capsule/vm 2>/dev/null
[ -w /run/capsule/vm ] || skip_all "/run/capsule/vm is not writable by $(id -un)"

NAME=vmapi-cli-$$
CON=$TMPD/console.txt
VMPID=
cleanup() {
  [ -n "$VMPID" ] && kill "$VMPID" 2>/dev/null && wait "$VMPID" 2>/dev/null
  rm -rf "$TMPD"
}
trap cleanup EXIT

ticks() { grep -c '^tick' "$CON" 2>/dev/null || echo 0; }
wait_for() {
  local end=$(( $(date +%s) + $1 )); shift
  until "$@"; do
    [ "$(date +%s)" -ge "$end" ] && return 1
    sleep 0.1
  done
}
ticks_above() { [ "$(ticks)" -gt "$1" ]; }
sock_up() { [ -S "/run/capsule/vm/$NAME.sock" ]; }

"$CAPSULE" vm run --id "$NAME" --kernel "$G/ticker.elf" --cmdline "console=ttyS0 ticks=1000000000 spin=20000000" --memory 64 --cpus 2 \
  --console "file:$CON" >"$TMPD/vm.log" 2>&1 </dev/null &
VMPID=$!
wait_for 10 sock_up || skip_all "capsule vm run --id made no socket: $(tail -c 300 "$TMPD/vm.log")"
wait_for 20 ticks_above 1

"$CAPSULE" vm ls >"$TMPD/ls.out" 2>&1
if grep -Eq "^$NAME +Running +2 +64MiB +[^ ]+ +$VMPID\$" "$TMPD/ls.out" && head -n1 "$TMPD/ls.out" | grep -q '^NAME *STATE *VCPUS *MEMORY *UPTIME *PID'; then
  pass vmcli_ls_table
else
  fail vmcli_ls_table "no row for $NAME (pid $VMPID): $(cat "$TMPD/ls.out")"
fi
"$CAPSULE" vm ls --format json >"$TMPD/ls.json" 2>&1
if jq -e --arg n "$NAME" --argjson p "$VMPID" \
  '[.[] | select(.id == $n)] | length == 1 and .[0].state == "Running" and .[0].vcpu_count == 2 and .[0].mem_size_mib == 64 and .[0].pid == $p and .[0].uptime_ms >= 0' \
  "$TMPD/ls.json" >/dev/null 2>&1; then
  pass vmcli_ls_json
else
  fail vmcli_ls_json "$(head -c 400 "$TMPD/ls.json")"
fi
"$CAPSULE" vm status "$NAME" >"$TMPD/status.out" 2>&1
if grep -q '^state: *Running' "$TMPD/status.out" && grep -q "^pid: *$VMPID" "$TMPD/status.out"; then
  pass vmcli_status
else
  fail vmcli_status "$(cat "$TMPD/status.out")"
fi

if "$CAPSULE" vm pause "$NAME" >"$TMPD/pause.out" 2>&1 && "$CAPSULE" vm status --format json "$NAME" | jq -e '.state == "Paused"' >/dev/null; then
  pass vmcli_pause
  n1=$(ticks); sleep 1; n2=$(ticks)
  if [ "$n1" = "$n2" ]; then pass vmcli_paused_silent; else fail vmcli_paused_silent "$((n2 - n1)) ticks while paused"; fi
else
  fail vmcli_pause "$(cat "$TMPD/pause.out")"
  fail vmcli_paused_silent "not paused"
fi
expect_error vmcli_pause_twice 1 "^capsule: vm pause $NAME: .*already paused" "$CAPSULE" vm pause "$NAME"
n=$(ticks)
if "$CAPSULE" vm resume "$NAME" >"$TMPD/resume.out" 2>&1 && wait_for 20 ticks_above "$n"; then
  pass vmcli_resume
else
  fail vmcli_resume "$(cat "$TMPD/resume.out"); ticks $n -> $(ticks)"
fi
expect_error vmcli_resume_running 1 "^capsule: vm resume $NAME: .*not paused" "$CAPSULE" vm resume "$NAME"
# A snapshot that cannot be written (no such directory; or no snapshots in this VMM) is one line,
# and the VM it paused for it runs again.
expect_error vmcli_snapshot_fails_resumed 1 "^capsule: vm snapshot $NAME: " "$CAPSULE" vm snapshot --state /nonexistent-dir/s.state --mem /nonexistent-dir/s.mem "$NAME"
n=$(ticks)
if ! "$CAPSULE" vm status --format json "$NAME" | jq -e '.state == "Running"' >/dev/null || ! wait_for 20 ticks_above "$n"; then
  echo "FAIL: vmcli_snapshot_fails_resumed: the VM was not resumed after the failed snapshot"
fi
expect_error vmcli_snapshot_usage 2 "--state FILE and --mem FILE are required" "$CAPSULE" vm snapshot "$NAME"
# A snapshot through the CLI: the VM runs on; a fresh VMM (--id, no kernel) loads it through the
# API and the guest's ticks go on from where they were.
if "$CAPSULE" vm snapshot --state "$TMPD/s.state" --mem "$TMPD/s.mem" "$NAME" >"$TMPD/snap.out" 2>&1 &&
  [ -s "$TMPD/s.state" ] && [ -e "$TMPD/s.mem" ]; then
  at=$(ticks)
  if "$CAPSULE" vm status --format json "$NAME" | jq -e '.state == "Running"' >/dev/null && wait_for 20 ticks_above "$at"; then
    pass vmcli_snapshot
  else
    fail vmcli_snapshot "the VM does not run on after its snapshot"
  fi
  N2=vmapi-cli2-$$
  CON2=$TMPD/console2.txt
  "$CAPSULE" vm run --id "$N2" --console "file:$CON2" >"$TMPD/vm2.log" 2>&1 </dev/null &
  VM2=$!
  s2() { [ -S "/run/capsule/vm/$N2.sock" ]; }
  if wait_for 10 s2; then
    code=$(curl -s -o "$TMPD/load.resp" -w '%{http_code}' --max-time 30 --unix-socket "/run/capsule/vm/$N2.sock" -X PUT \
      http://localhost/snapshot/load -H 'Content-Type: application/json' \
      -d "{\"snapshot_path\": \"$TMPD/s.state\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$TMPD/s.mem\"}, \"resume_vm\": true}")
    first() { grep -m1 -o '^tick [0-9]*' "$CON2" 2>/dev/null | cut -d' ' -f2; }
    has_tick() { [ -n "$(first)" ]; }
    if [ "$code" = 204 ] && wait_for 20 has_tick && [ "$(first)" -gt 0 ] && "$CAPSULE" vm status --format json "$N2" | jq -e '.state == "Running"' >/dev/null; then
      pass vmcli_snapshot_loaded
    else
      fail vmcli_snapshot_loaded "load: $code $(cat "$TMPD/load.resp"); first tick '$(first)'; $(tail -c 200 "$TMPD/vm2.log")"
    fi
  else
    fail vmcli_snapshot_loaded "the second VMM made no socket: $(tail -c 300 "$TMPD/vm2.log")"
  fi
  kill "$VM2" 2>/dev/null; wait "$VM2" 2>/dev/null
  # vm restore --id NAME --paused: a named, paused VM from the snapshot, resumed by name
  N3=vmapi-cli3-$$
  CON3=$TMPD/console3.txt
  "$CAPSULE" vm restore --id "$N3" --paused --state "$TMPD/s.state" --mem "$TMPD/s.mem" --console "file:$CON3" \
    >"$TMPD/vm3.log" 2>&1 </dev/null &
  VM3=$!
  s3() { [ -S "/run/capsule/vm/$N3.sock" ] && "$CAPSULE" vm status --format json "$N3" 2>/dev/null | jq -e '.state == "Paused"' >/dev/null; }
  t3() { grep -q '^tick' "$CON3" 2>/dev/null; }
  if wait_for 20 s3 && ! t3 && "$CAPSULE" vm resume "$N3" && wait_for 20 t3 &&
    "$CAPSULE" vm ls --format json | jq -e --arg n "$N3" '[.[] | select(.id == $n and .state == "Running")] | length == 1' >/dev/null &&
    "$CAPSULE" vm stop "$N3"; then
    pass vmcli_restore_named
  else
    fail vmcli_restore_named "$(tail -c 300 "$TMPD/vm3.log") console: $(tail -c 100 "$CON3" 2>/dev/null)"
  fi
  kill "$VM3" 2>/dev/null; wait "$VM3" 2>/dev/null
else
  fail vmcli_snapshot "$(cat "$TMPD/snap.out")"
  fail vmcli_snapshot_loaded "no snapshot to load"
fi
expect_error vmcli_id_in_use 2 "another VMM is serving it" "$CAPSULE" vm run --id "$NAME" --kernel "$G/ticker.elf"

if timeout 20 "$CAPSULE" vm stop "$NAME" >"$TMPD/stop.out" 2>&1 && ! kill -0 "$VMPID" 2>/dev/null && [ ! -e "/run/capsule/vm/$NAME.sock" ]; then
  pass vmcli_stop
  wait "$VMPID" 2>/dev/null
  VMPID=
else
  fail vmcli_stop "$(cat "$TMPD/stop.out"); process $(kill -0 "$VMPID" 2>/dev/null && echo alive || echo gone)"
fi
if "$CAPSULE" vm ls --format json | jq -e --arg n "$NAME" '[.[] | select(.id == $n)] | length == 0' >/dev/null; then
  pass vmcli_gone_from_ls
else
  fail vmcli_gone_from_ls "$NAME is still listed"
fi
expect_error vmcli_no_such_vm 1 "^capsule: vm pause $NAME: no such VM" "$CAPSULE" vm pause "$NAME"
expect_error vmcli_bad_name 2 "not a VM name" "$CAPSULE" vm status '..bad'
