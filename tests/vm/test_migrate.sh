#!/usr/bin/env bash
# Live migration with the ticker guest (it prints numbered ticks and keeps them in memory): a VM
# migrated while it runs, over a Unix socket and over TCP on loopback, goes on in the destination
# process from the next tick; the source exits 0 only after the destination runs it. A migration
# cut in the middle (the destination gone), or refused by the destination, leaves the source
# running, which finishes its ticks. Needs /dev/kvm.
source "$CAPSULE_ROOT/tests/lib.sh"
G=$(dirname "$CAPSULE")/guest
CHECKS="migrate_unix migrate_unix_source_exit migrate_tcp migrate_json migrate_dirty migrate_cut_keeps_source
migrate_refused_keeps_source err_migrate_no_to err_migrate_bad_addr err_migrate_nothing_listens"
skip_all() { for c in $CHECKS; do skip "$c" "$1"; done; exit 0; }
have_kvm || skip_all "/dev/kvm is missing or not usable by $(id -un)"
[ -f "$G/ticker.elf" ] || skip_all "the ticker guest is not built (run make)"
command -v python3 >/dev/null || skip_all "python3 missing (the fake destinations)"

ID=mig$$
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -f "/run/capsule/vm/$ID.sock"
  rm -rf "$TMPD"
}
trap cleanup EXIT
[ -n "${MIGRATE_KEEP:-}" ] && trap - EXIT

# source NAME TICKS [MEMORY CMDLINE]: a ticker VM named NAME with its console in $TMPD/NAME.log
source_vm() {
  "$CAPSULE" vm run --kernel "$G/ticker.elf" --memory "${3:-128}" --cmdline "ticks=$2 ${4:-spin=3000000}" --id "$1" \
    --console "file:$TMPD/$1.log" >"$TMPD/$1.out" 2>&1 &
  SRC=$!
  PIDS+=("$SRC")
  for _ in $(seq 100); do [ -S "/run/capsule/vm/$1.sock" ] && grep -q '^tick 3$' "$TMPD/$1.log" 2>/dev/null && break; sleep 0.05; done
}
# The two consoles, the source's then the destination's (a line the guest was writing when it
# moved is split between them), hold every tick 0..N-1 once, in order, and the guest's end.
continuous() { # SRC_LOG DST_LOG N
  { sed '/^==> .* <==$/d' "$1"; sed '/^==> .* <==$/d' "$2"; } | tr -d '\r' | python3 -c '
import re, sys
t = sys.stdin.read()
ticks = [int(x) for x in re.findall(r"^tick (\d+)$", t, re.M)]
sys.exit(0 if ticks == list(range(int(sys.argv[1]))) and "ticker: done" in t else 1)' "$3"
}
moved_at() { grep -c '^tick [0-9]*$' "$1" 2>/dev/null; }

# --- over a Unix socket
source_vm $ID 200
"$CAPSULE" vm receive --listen "unix:$TMPD/m.sock" --console "file:$TMPD/dst.log" >"$TMPD/dst.out" 2>&1 &
DST=$!
PIDS+=("$DST")
for _ in $(seq 100); do [ -S "$TMPD/m.sock" ] && break; sleep 0.02; done
out=$(timeout 60 "$CAPSULE" vm migrate $ID --to "unix:$TMPD/m.sock" 2>&1)
rc=$?
wait $SRC; src_rc=$?
wait $DST; dst_rc=$?
s=$(moved_at "$TMPD/$ID.log")
if [ $rc -eq 0 ] && [ $dst_rc -eq 0 ] && [ "$s" -gt 0 ] && continuous "$TMPD/$ID.log" "$TMPD/dst.log" 200 &&
   [[ "$out" == "migrated $ID to unix:$TMPD/m.sock: "*" downtime" ]]; then
  pass migrate_unix
else
  fail migrate_unix "migrate exit $rc ($out), destination exit $dst_rc ($(tail -c 200 "$TMPD/dst.out")), $s ticks in the source, the two consoles: $(tail -n2 "$TMPD/$ID.log" | tr '\n' '|') $(head -n3 "$TMPD/dst.log" | tr '\n' '|')"
fi
[ $src_rc -eq 0 ] && ! grep -q '^ticker: done' "$TMPD/$ID.log" && [ ! -e "/run/capsule/vm/$ID.sock" ] && pass migrate_unix_source_exit ||
  fail migrate_unix_source_exit "source exit $src_rc: $(tail -c 200 "$TMPD/$ID.out")"

# --- over TCP on loopback, with the statistics as JSON
port=$(( 30000 + $$ % 20000 ))
source_vm ${ID}t 200
"$CAPSULE" vm receive --listen "tcp:127.0.0.1:$port" --console "file:$TMPD/dst2.log" >"$TMPD/dst2.out" 2>&1 &
DST=$!
PIDS+=("$DST")
for _ in $(seq 100); do ss -ltn 2>/dev/null | grep -q ":$port " && break; sleep 0.02; done
json=$(timeout 60 "$CAPSULE" vm migrate ${ID}t --to "tcp:127.0.0.1:$port" --format json 2>&1)
rc=$?
wait $SRC
wait $DST; dst_rc=$?
[ $rc -eq 0 ] && [ $dst_rc -eq 0 ] && continuous "$TMPD/${ID}t.log" "$TMPD/dst2.log" 200 && pass migrate_tcp ||
  fail migrate_tcp "migrate exit $rc, destination exit $dst_rc: $json $(tail -c 200 "$TMPD/dst2.out")"
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["bytes"] > 0 and j["rounds"] >= 0 and 0 < j["downtime_ms"] <= j["total_ms"]' "$json" 2>/dev/null &&
  pass migrate_json || fail migrate_json "$json"

# --- a guest that keeps rewriting 64 MiB (ticker dirty=64) while it moves: the first round
# alone carries those 64 MiB, the pages it dirties meanwhile follow, and it goes on from the next tick
source_vm ${ID}d 1500 256 "spin=200000 dirty=64"
"$CAPSULE" vm receive --listen "unix:$TMPD/d.sock" --console "file:$TMPD/dst3.log" >"$TMPD/dst3.out" 2>&1 &
DST=$!
PIDS+=("$DST")
for _ in $(seq 100); do [ -S "$TMPD/d.sock" ] && break; sleep 0.02; done
json=$(timeout 60 "$CAPSULE" vm migrate ${ID}d --to "unix:$TMPD/d.sock" --format json 2>&1)
rc=$?
wait $SRC
wait $DST; dst_rc=$?
if [ $rc -eq 0 ] && [ $dst_rc -eq 0 ] && continuous "$TMPD/${ID}d.log" "$TMPD/dst3.log" 1500 &&
   grep -q '^ticker: 1500 ticks, dirtying 64 MiB' "$TMPD/${ID}d.log" &&
   python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["bytes"] >= 64 << 20 and j["rounds"] >= 1' "$json" 2>/dev/null; then
  pass migrate_dirty
else
  fail migrate_dirty "migrate exit $rc ($json), destination exit $dst_rc ($(tail -c 200 "$TMPD/dst3.out")), source log: $(head -n1 "$TMPD/${ID}d.log") ... $(tail -n1 "$TMPD/${ID}d.log")"
fi

# --- a destination that takes some of the stream and goes: the source goes on
cat >"$TMPD/cut.py" <<'EOF'
import socket, sys, os
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1] + ".tmp"); s.listen(1); os.rename(sys.argv[1] + ".tmp", sys.argv[1])  # there only once it listens
c, _ = s.accept(); got = 0
while got < 200000:
    b = c.recv(65536)
    if not b: break
    got += len(b)
os._exit(0)
EOF
source_vm ${ID}c 600
python3 "$TMPD/cut.py" "$TMPD/cut.sock" &
PIDS+=("$!")
for _ in $(seq 100); do [ -S "$TMPD/cut.sock" ] && break; sleep 0.02; done
out=$(timeout 60 "$CAPSULE" vm migrate ${ID}c --to "unix:$TMPD/cut.sock" 2>&1)
rc=$?
wait $SRC; src_rc=$?
[ $rc -ne 0 ] && [ "$(grep -c . <<<"$out")" = 1 ] && [[ "$out" == "capsule: "*migrate* ]] && [ $src_rc -eq 0 ] &&
  grep -q '^ticker: done' "$TMPD/${ID}c.log" && pass migrate_cut_keeps_source ||
  fail migrate_cut_keeps_source "migrate exit $rc ($out); source exit $src_rc, its log ends: $(tail -n1 "$TMPD/${ID}c.log")"

# --- a destination that reads the whole stream and refuses it
cat >"$TMPD/refuse.py" <<'EOF'
import os, socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1] + ".tmp"); s.listen(1); os.rename(sys.argv[1] + ".tmp", sys.argv[1])  # there only once it listens
c, _ = s.accept()
def take(n):
    b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x: sys.exit(1)
        b += x
    return b
take(24)
while True:
    t, z, off, ln = struct.unpack("<IIQQ", take(24))
    if ln: take(ln)
    if t == 3: break
c.sendall(b"Erefused by the test")
c.close()
EOF
source_vm ${ID}r 600
python3 "$TMPD/refuse.py" "$TMPD/refuse.sock" &
PIDS+=("$!")
for _ in $(seq 100); do [ -S "$TMPD/refuse.sock" ] && break; sleep 0.02; done
out=$(timeout 60 "$CAPSULE" vm migrate ${ID}r --to "unix:$TMPD/refuse.sock" 2>&1)
rc=$?
wait $SRC; src_rc=$?
[ $rc -ne 0 ] && [[ "$out" == *"the destination refused: refused by the test"* ]] && [ $src_rc -eq 0 ] &&
  grep -q '^ticker: done' "$TMPD/${ID}r.log" && pass migrate_refused_keeps_source ||
  fail migrate_refused_keeps_source "migrate exit $rc ($out); source exit $src_rc, log ends: $(tail -n1 "$TMPD/${ID}r.log")"

# --- bad command lines and addresses: one line, the VM untouched
source_vm ${ID}e 400
out=$("$CAPSULE" vm migrate ${ID}e 2>&1); rc=$?
[ $rc -eq 2 ] && [ "$out" = "capsule: vm migrate: --to unix:PATH|tcp:HOST:PORT is required" ] && pass err_migrate_no_to ||
  fail err_migrate_no_to "exit $rc: $out"
out=$("$CAPSULE" vm migrate ${ID}e --to pigeon:coop 2>&1); rc=$?
[ $rc -ne 0 ] && [[ "$out" == *"want unix:PATH or tcp:HOST:PORT"* ]] && pass err_migrate_bad_addr || fail err_migrate_bad_addr "exit $rc: $out"
out=$("$CAPSULE" vm migrate ${ID}e --to "unix:$TMPD/nobody.sock" 2>&1); rc=$?
wait $SRC; src_rc=$?
[ $rc -ne 0 ] && [[ "$out" == *"connecting to unix:$TMPD/nobody.sock"* ]] && [ $src_rc -eq 0 ] && grep -q '^ticker: done' "$TMPD/${ID}e.log" &&
  pass err_migrate_nothing_listens || fail err_migrate_nothing_listens "exit $rc: $out; source exit $src_rc"
