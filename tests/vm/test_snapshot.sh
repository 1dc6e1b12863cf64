#!/usr/bin/env bash
# Snapshot and restore with the ticker test guest (guest/tests/ticker.c), which prints numbered
# ticks and keeps its count in memory: `capsule vm run --snapshot ...` pauses it mid-run and
# writes a snapshot, `capsule vm restore` runs it on in a new process. What the two print
# together must be what one uncut run prints. Then diff snapshots and their merge, a paused
# restore re-snapshotted (memory identical), the memory file left unchanged by a restore
# (MAP_PRIVATE), and every kind of bad state file: one line naming what is wrong, exit 1,
# nothing run. Needs /dev/kvm; the CPUID checks need python3 (to re-checksum a crafted file).
source "$CAPSULE_ROOT/tests/lib.sh"

G=$(dirname "$CAPSULE")/guest
T=60
TICKS=400	# a few ms each: about 1.5 s or more in all, while snapshots come after at most 450 ms

ALL_CHECKS="snapshot_restore_continues snapshot_run_exit_status restore_memory_identical
restore_mem_file_unchanged restore_leaves_no_files diff_snapshot_smaller diff_merge_equals_full
diff_chain_restores err_corrupt_header err_corrupt_table err_corrupt_section_vcpu0
err_corrupt_section_last err_truncated err_truncated_header err_wrong_version err_not_a_snapshot
err_mem_wrong_size err_mem_missing err_cpuid_feature err_cpuid_vendor err_merge_size
err_snapshot_spec err_diff_without_base err_paused_without_snapshot virtio_restore_continues
virtio_disk_as_uncut virtio_diff_merge_equals_full err_disk_resized smp_restore_continues restored_full_equals_base_plus_diff snapshot_on_sigusr1
api_snapshot_load_continues"

skip_all() {
  local c
  for c in $ALL_CHECKS; do skip "$c" "$1"; done
  exit 0
}
have_kvm || skip_all "/dev/kvm is missing or not usable by $(id -un)"
[ -x "$CAPSULE" ] || skip_all "$CAPSULE is not built (run make)"
if [ ! -f "$G/ticker.elf" ]; then
  for c in $ALL_CHECKS; do fail "$c" "$G/ticker.elf is missing (make guests)"; done
  exit 0
fi

D=$TMPD/snap
mkdir -p "$D"
ticker() { echo --kernel "$G/ticker.elf" --cmdline "ticks=$TICKS"; }

# The reference: one uncut run.
timeout -k 5 $T "$CAPSULE" vm run $(ticker) --console "file:$D/full.out" </dev/null >"$D/full.log" 2>&1
full_rc=$?

# --- snapshot, then restore in a new process ---
timeout -k 5 $T "$CAPSULE" vm run $(ticker) --console "file:$D/a.out" \
  --snapshot "after=200,state=$D/a.state,mem=$D/a.mem" </dev/null >"$D/a.log" 2>&1
a_rc=$?
if [ $a_rc -eq 0 ] && [ -s "$D/a.state" ] && [ -f "$D/a.mem" ]; then
  pass snapshot_run_exit_status
else
  fail snapshot_run_exit_status "vm run --snapshot exited $a_rc: $(head -c 300 "$D/a.log")"
fi
sum_before=$(md5sum <"$D/a.mem")
timeout -k 5 $T "$CAPSULE" vm restore --state "$D/a.state" --mem "$D/a.mem" --console "file:$D/b.out" \
  </dev/null >"$D/b.log" 2>&1
b_rc=$?
if [ $full_rc -ne 0 ]; then
  fail snapshot_restore_continues "the uncut run exited $full_rc: $(head -c 300 "$D/full.log")"
elif [ $b_rc -ne 0 ]; then
  fail snapshot_restore_continues "vm restore exited $b_rc: $(head -c 300 "$D/b.log")"
elif grep -q 'ticker: done' "$D/a.out"; then
  fail snapshot_restore_continues "the guest finished before the snapshot was taken"
elif head -n 1 "$D/b.out" | grep -q '^ticker:'; then
  fail snapshot_restore_continues "the restored guest started over: $(head -c 200 "$D/b.out")"
elif ! cat "$D/a.out" "$D/b.out" | cmp -s - "$D/full.out"; then
  fail snapshot_restore_continues "snapshot + restore output differs from an uncut run: $(tail -n 2 "$D/a.out" | tr '\n' '|') then $(head -n 2 "$D/b.out" | tr '\n' '|')"
else
  pass snapshot_restore_continues
fi
if [ "$(md5sum <"$D/a.mem")" = "$sum_before" ]; then
  pass restore_mem_file_unchanged
else
  fail restore_mem_file_unchanged "the guest ran on and its memory file changed (not MAP_PRIVATE?)"
fi

# A restore that stays paused and is snapshotted at once: the memory is what was saved.
timeout -k 5 $T "$CAPSULE" vm restore --state "$D/a.state" --mem "$D/a.mem" --console none --paused \
  --snapshot "after=0,state=$D/c.state,mem=$D/c.mem" </dev/null >"$D/c.log" 2>&1
c_rc=$?
if [ $c_rc -ne 0 ]; then
  fail restore_memory_identical "vm restore --paused --snapshot exited $c_rc: $(head -c 300 "$D/c.log")"
elif ! cmp -s "$D/a.mem" "$D/c.mem"; then
  fail restore_memory_identical "the re-snapshotted memory differs: $(cmp "$D/a.mem" "$D/c.mem" | head -c 200)"
else
  pass restore_memory_identical
fi

# --- a snapshot on SIGUSR1 (--snapshot on=usr1), once the guest has printed tick 20 ---
timeout -k 5 $T "$CAPSULE" vm run $(ticker) --console "file:$D/u.out" \
  --snapshot "on=usr1,state=$D/u.state,mem=$D/u.mem" </dev/null >"$D/u.log" 2>&1 &
upid=$!
for _ in $(seq 600); do grep -q '^tick 20$' "$D/u.out" 2>/dev/null && break; sleep 0.05; done
kill -USR1 "$(pgrep -P $upid capsule)" 2>/dev/null	# capsule itself, not timeout
wait $upid
u_rc=$?
timeout -k 5 $T "$CAPSULE" vm restore --state "$D/u.state" --mem "$D/u.mem" --console "file:$D/u2.out" \
  </dev/null >"$D/u2.log" 2>&1
u2_rc=$?
if [ $u_rc -ne 0 ] || [ $u2_rc -ne 0 ]; then
  fail snapshot_on_sigusr1 "vm run exited $u_rc, restore $u2_rc: $(cat "$D/u.log" "$D/u2.log" | head -c 300)"
elif ! grep -q '^tick 20$' "$D/u.out" || grep -q 'ticker: done' "$D/u.out"; then
  fail snapshot_on_sigusr1 "the snapshot was not taken mid-run: $(tail -n 1 "$D/u.out")"
elif ! cat "$D/u.out" "$D/u2.out" | cmp -s - "$D/full.out"; then
  fail snapshot_on_sigusr1 "snapshot + restore output differs from an uncut run"
else
  pass snapshot_on_sigusr1
fi

# --- through the HTTP API: pause, PUT /snapshot/create; a new VMM, PUT /snapshot/load resumed ---
if ! command -v curl >/dev/null; then
  skip api_snapshot_load_continues "curl is missing"
else
  api() { curl -s -o /dev/null -w '%{http_code}' --max-time 20 --unix-socket "$1" -X "$2" "http://localhost$3" -d "$4"; }
  wait_sock() { for _ in $(seq 200); do [ -S "$1" ] && return 0; sleep 0.05; done; return 1; }
  timeout -k 5 $T "$CAPSULE" vm run $(ticker) --console "file:$D/p.out" --api-sock "$D/p.sock" \
    </dev/null >"$D/p.log" 2>&1 &
  ppid_=$!
  codes=
  if wait_sock "$D/p.sock"; then
    for _ in $(seq 200); do grep -q '^tick 10$' "$D/p.out" 2>/dev/null && break; sleep 0.05; done
    codes="$(api "$D/p.sock" PATCH /vm '{"state": "Paused"}')"
    codes="$codes $(api "$D/p.sock" PUT /snapshot/create "{\"snapshot_path\": \"$D/p.state\", \"mem_file_path\": \"$D/p.mem\"}")"
  fi
  kill "$(pgrep -P $ppid_ capsule)" 2>/dev/null
  wait $ppid_
  timeout -k 5 $T "$CAPSULE" vm run --api-sock "$D/q.sock" --console "file:$D/q.out" </dev/null >"$D/q.log" 2>&1 &
  qpid=$!
  if wait_sock "$D/q.sock"; then
    codes="$codes $(api "$D/q.sock" PUT /snapshot/load "{\"snapshot_path\": \"$D/p.state\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$D/p.mem\"}, \"resume_vm\": true}")"
  fi
  wait $qpid
  q_rc=$?
  if [ "$codes" != "204 204 204" ]; then
    fail api_snapshot_load_continues "HTTP codes (pause, create, load): '$codes': $(cat "$D/p.log" "$D/q.log" | head -c 300)"
  elif [ $q_rc -ne 0 ]; then
    fail api_snapshot_load_continues "the loading VMM exited $q_rc: $(head -c 300 "$D/q.log")"
  elif ! cat "$D/p.out" "$D/q.out" | cmp -s - "$D/full.out"; then
    fail api_snapshot_load_continues "snapshot + load output differs from an uncut run"
  else
    pass api_snapshot_load_continues
  fi
fi

# --- diff snapshots: a base, two diffs, and a full snapshot at the moment of the last diff ---
timeout -k 5 $T "$CAPSULE" vm run $(ticker) --console "file:$D/d.out" \
  --snapshot "after=150,state=$D/base.state,mem=$D/base.mem" \
  --snapshot "after=300,state=$D/d1.state,mem=$D/d1.mem,diff" \
  --snapshot "after=450,state=$D/d2.state,mem=$D/d2.mem,diff" \
  --snapshot "after=450,state=$D/f.state,mem=$D/f.mem" </dev/null >"$D/d.log" 2>&1
d_rc=$?
blocks() { stat -c %b "$1"; }
if [ $d_rc -ne 0 ]; then
  for c in diff_snapshot_smaller diff_merge_equals_full diff_chain_restores; do
    fail $c "vm run with diff snapshots exited $d_rc: $(head -c 300 "$D/d.log")"
  done
else
  if [ "$(blocks "$D/d1.mem")" -lt "$(blocks "$D/base.mem")" ] && [ "$(blocks "$D/d2.mem")" -lt "$(blocks "$D/f.mem")" ]; then
    pass diff_snapshot_smaller
  else
    fail diff_snapshot_smaller "blocks: base $(blocks "$D/base.mem") d1 $(blocks "$D/d1.mem") d2 $(blocks "$D/d2.mem") full $(blocks "$D/f.mem")"
  fi
  cp --sparse=always "$D/base.mem" "$D/merged.mem"
  if ! "$CAPSULE" vm snapshot-merge "$D/merged.mem" "$D/d1.mem" "$D/d2.mem" >"$D/m.log" 2>&1; then
    fail diff_merge_equals_full "snapshot-merge failed: $(head -c 300 "$D/m.log")"
  elif ! cmp -s "$D/merged.mem" "$D/f.mem"; then
    fail diff_merge_equals_full "base + diffs differs from the full snapshot taken with the last diff: $(cmp "$D/merged.mem" "$D/f.mem" | head -c 200)"
  else
    pass diff_merge_equals_full
  fi
  timeout -k 5 $T "$CAPSULE" vm restore --state "$D/d2.state" --mem "$D/merged.mem" --console "file:$D/e.out" \
    </dev/null >"$D/e.log" 2>&1
  e_rc=$?
  if [ $e_rc -ne 0 ]; then
    fail diff_chain_restores "restore of the merged chain exited $e_rc: $(head -c 300 "$D/e.log")"
  elif ! cat "$D/d.out" "$D/e.out" | cmp -s - "$D/full.out"; then
    fail diff_chain_restores "chain restore output differs from an uncut run"
  else
    pass diff_chain_restores
  fi
fi

# --- virtio: rng and blk requests every tick, so queues are mid-use when the snapshot comes ---
VT="ticks=150 ticker.rng ticker.blk"
truncate -s 1M "$D/vfull.img" "$D/v.img" "$D/vd.img"
timeout -k 5 $T "$CAPSULE" vm run --kernel "$G/ticker.elf" --cmdline "$VT" --rng --disk "$D/vfull.img" \
  --console "file:$D/vfull.out" </dev/null >"$D/vfull.log" 2>&1
vfull_rc=$?
timeout -k 5 $T "$CAPSULE" vm run --kernel "$G/ticker.elf" --cmdline "$VT" --rng --disk "$D/v.img" \
  --console "file:$D/va.out" --snapshot "after=250,state=$D/va.state,mem=$D/va.mem" </dev/null >"$D/va.log" 2>&1
va_rc=$?
timeout -k 5 $T "$CAPSULE" vm restore --state "$D/va.state" --mem "$D/va.mem" --console "file:$D/vb.out" \
  </dev/null >"$D/vb.log" 2>&1
vb_rc=$?
if [ $vfull_rc -ne 0 ] || [ $va_rc -ne 0 ] || [ $vb_rc -ne 0 ]; then
  why="exit status: uncut $vfull_rc, snapshot $va_rc, restore $vb_rc: $(cat "$D/vfull.log" "$D/va.log" "$D/vb.log" | head -c 300)"
  fail virtio_restore_continues "$why"
  fail virtio_disk_as_uncut "$why"
else
  if grep -q 'ticker: done' "$D/va.out"; then
    fail virtio_restore_continues "the guest finished before the snapshot was taken"
  elif ! cat "$D/va.out" "$D/vb.out" | cmp -s - "$D/vfull.out"; then
    fail virtio_restore_continues "output differs from an uncut run: $(tail -n 1 "$D/va.out") then $(head -n 2 "$D/vb.out" | tr '\n' '|')"
  else
    pass virtio_restore_continues
  fi
  if cmp -s "$D/v.img" "$D/vfull.img"; then
    pass virtio_disk_as_uncut
  else
    fail virtio_disk_as_uncut "the disk after snapshot + restore differs from the uncut run's"
  fi
fi
# Diff snapshots must carry what the VMM wrote into guest memory (used rings, read data), which
# KVM's dirty log does not see.
timeout -k 5 $T "$CAPSULE" vm run --kernel "$G/ticker.elf" --cmdline "$VT" --rng --disk "$D/vd.img" \
  --console none --snapshot "after=150,state=$D/vbase.state,mem=$D/vbase.mem" \
  --snapshot "after=300,state=$D/vd1.state,mem=$D/vd1.mem,diff" \
  --snapshot "after=300,state=$D/vf.state,mem=$D/vf.mem" </dev/null >"$D/vd.log" 2>&1
vd_rc=$?
cp --sparse=always "$D/vbase.mem" "$D/vmerged.mem" 2>/dev/null
if [ $vd_rc -ne 0 ]; then
  fail virtio_diff_merge_equals_full "vm run with diff snapshots exited $vd_rc: $(head -c 300 "$D/vd.log")"
elif ! "$CAPSULE" vm snapshot-merge "$D/vmerged.mem" "$D/vd1.mem" >"$D/vm.log" 2>&1; then
  fail virtio_diff_merge_equals_full "snapshot-merge failed: $(head -c 300 "$D/vm.log")"
elif ! cmp -s "$D/vmerged.mem" "$D/vf.mem"; then
  fail virtio_diff_merge_equals_full "base + diff differs from the full snapshot: $(cmp "$D/vmerged.mem" "$D/vf.mem" | head -c 200)"
else
  pass virtio_diff_merge_equals_full
fi
if [ -f "$D/va.state" ]; then
  truncate -s 2M "$D/v.img"
  expect_error err_disk_resized 1 'device virtio-blk0: restoring its state' \
    "$CAPSULE" vm restore --state "$D/va.state" --mem "$D/va.mem" --console none
else
  fail err_disk_resized "no virtio snapshot to restore"
fi

# --- a restored VM runs on and is snapshotted again: a diff against the file it came from plus
# that file is its full snapshot (the full one of copy-on-write RAM is the file's data and the
# guest's private copies) ---
if [ -f "$D/va.state" ]; then
  truncate -s 1M "$D/v.img"
  timeout -k 5 $T "$CAPSULE" vm restore --state "$D/va.state" --mem "$D/va.mem" --console none \
    --snapshot "after=200,state=$D/rd.state,mem=$D/rd.mem,diff" \
    --snapshot "after=200,state=$D/rf.state,mem=$D/rf.mem" </dev/null >"$D/rr.log" 2>&1
  rr_rc=$?
  cp --sparse=always "$D/va.mem" "$D/rmerged.mem"
  if [ $rr_rc -ne 0 ]; then
    fail restored_full_equals_base_plus_diff "restore with snapshots exited $rr_rc: $(head -c 300 "$D/rr.log")"
  elif ! "$CAPSULE" vm snapshot-merge "$D/rmerged.mem" "$D/rd.mem" >"$D/rm.log" 2>&1; then
    fail restored_full_equals_base_plus_diff "snapshot-merge failed: $(head -c 300 "$D/rm.log")"
  elif ! cmp -s "$D/rmerged.mem" "$D/rf.mem"; then
    fail restored_full_equals_base_plus_diff "differs: $(cmp "$D/rmerged.mem" "$D/rf.mem" | head -c 200)"
  else
    pass restored_full_equals_base_plus_diff
  fi
else
  fail restored_full_equals_base_plus_diff "no virtio snapshot to restore"
fi

# --- two vCPUs counting in ring 3 (the count guest): both counts go on after a restore ---
if ! command -v python3 >/dev/null; then
  skip smp_restore_continues "python3 is needed to read the counters from the memory files"
else
  timeout -k 5 $T "$CAPSULE" vm run --kernel "$G/count.elf" --cpus 2 --console none \
    --snapshot "after=200,state=$D/c1.state,mem=$D/c1.mem" </dev/null >"$D/c1.log" 2>&1
  c1_rc=$?
  timeout -k 5 $T "$CAPSULE" vm restore --state "$D/c1.state" --mem "$D/c1.mem" --console none \
    --snapshot "after=200,state=$D/c2.state,mem=$D/c2.mem" </dev/null >"$D/c2.log" 2>&1
  c2_rc=$?
  counts=$(python3 - "$D/c1.mem" "$D/c2.mem" <<'PY' 2>&1
import struct, sys
for f in sys.argv[1:]:
    d = open(f, 'rb').read(16 << 20)
    i = d.find(struct.pack('<Q', 0x31544e4353504143))  # CAPSCNT1
    n = struct.unpack_from('<Q', d, i + 8)[0] if i >= 0 else 0
    print(' '.join(str(c) for c in struct.unpack_from('<%dQ' % n, d, i + 16)) if n == 2 else 'none')
PY
)
  read -r a0 a1 <<<"$(echo "$counts" | sed -n 1p)"
  read -r b0 b1 <<<"$(echo "$counts" | sed -n 2p)"
  if [ $c1_rc -ne 0 ] || [ $c2_rc -ne 0 ]; then
    fail smp_restore_continues "snapshot $c1_rc, restore $c2_rc: $(cat "$D/c1.log" "$D/c2.log" | head -c 300)"
  elif ! [[ "$a0$a1$b0$b1" =~ ^[0-9]+$ ]]; then
    fail smp_restore_continues "counters not found: $counts"
  elif [ "$a0" -gt 0 ] && [ "$a1" -gt 0 ] && [ "$b0" -gt "$a0" ] && [ "$b1" -gt "$a1" ]; then
    pass smp_restore_continues
  else
    fail smp_restore_continues "counts at the snapshot $a0 $a1, after the restore ran $b0 $b1"
  fi
fi

# --- bad state files: one line, exit 1, nothing left running ---
S=$D/a.state
M=$D/a.mem
restore_err() {	# restore_err CHECK REGEX STATE [MEM]
  expect_error "$1" 1 "$2" "$CAPSULE" vm restore --state "$3" --mem "${4:-$M}" --console none
}
flip() {	# flip FILE OFFSET OUT: OUT is FILE with the byte at OFFSET inverted
  cp "$1" "$3"
  local b; b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "\\$(printf %03o $((255 - b)))" | dd of="$3" bs=1 seek="$2" conv=notrunc status=none
}
u64() { od -An -tu8 -j "$2" -N8 "$1" | tr -d ' '; }
u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
nsec=$(u32 "$S" 32)
body=$((48 + nsec * 88))
# the table entry of a section by name -> its body offset and length
section_at() {
  local i
  for ((i = 0; i < nsec; i++)); do
    if [ "$(dd if="$S" bs=1 skip=$((48 + i * 88)) count=64 status=none | tr -d '\0')" = "$1" ]; then
      echo "$((body + $(u64 "$S" $((48 + i * 88 + 64))))) $(u64 "$S" $((48 + i * 88 + 72)))"
      return 0
    fi
  done
  return 1
}
last_name=$(dd if="$S" bs=1 skip=$((48 + (nsec - 1) * 88)) count=64 status=none | tr -d '\0')

flip "$S" 20 "$D/x1.state"
restore_err err_corrupt_header 'x1\.state: corrupted: the header checksum does not match' "$D/x1.state"
flip "$S" $((48 + 70)) "$D/x2.state"
restore_err err_corrupt_table "x2\.state: corrupted: the section table's checksum does not match" "$D/x2.state"
read -r off len < <(section_at vcpu0)
flip "$S" $((off + len / 2)) "$D/x3.state"
restore_err err_corrupt_section_vcpu0 'x3\.state: section vcpu0 is corrupted: its checksum does not match' "$D/x3.state"
size=$(stat -c %s "$S")
flip "$S" $((size - 2)) "$D/x4.state"
restore_err err_corrupt_section_last "x4\\.state: section $last_name is corrupted" "$D/x4.state"
head -c $((size - 100)) "$S" >"$D/x5.state"
restore_err err_truncated 'x5\.state: truncated: the header promises [0-9]+ bytes' "$D/x5.state"
head -c 30 "$S" >"$D/x6.state"
restore_err err_truncated_header 'x6\.state: truncated: 30 bytes, shorter than the 48-byte header' "$D/x6.state"
cp "$S" "$D/x7.state"
printf '\002' | dd of="$D/x7.state" bs=1 seek=8 conv=notrunc status=none
restore_err err_wrong_version 'x7\.state: format version 2, this capsule reads version 1' "$D/x7.state"
head -c 4096 /dev/urandom >"$D/x8.state"
restore_err err_not_a_snapshot 'x8\.state: not a Capsule snapshot state file' "$D/x8.state"
truncate -s 64M "$D/small.mem"
restore_err err_mem_wrong_size 'small\.mem: 67108864 bytes, the snapshot.s guest has 268435456' "$S" "$D/small.mem"
restore_err err_mem_missing 'nonexistent\.mem: No such file or directory' "$S" "$D/nonexistent.mem"

# CPUID: a crafted copy whose vCPU 0 was promised features (or a vendor) this host lacks, with
# every checksum recomputed so that only the CPUID rule can refuse it.
craft_cpuid() {	# craft_cpuid OUT MODE
  python3 - "$S" "$1" "$2" <<'PY'
import struct, sys, zlib
src, out, mode = sys.argv[1:]
f = bytearray(open(src, 'rb').read())
n = struct.unpack_from('<I', f, 32)[0]
body = 48 + 88 * n
for i in range(n):
    e = 48 + 88 * i
    if f[e:e + 64].rstrip(b'\0') == b'vcpu0':
        off, ln = struct.unpack_from('<QQ', f, e + 64)
        s = body + off
        k = f.index(b'\x06\x05cpuid', s, s + ln) + 7
        cnt = struct.unpack_from('<I', f, k)[0] // 28
        for j in range(cnt):
            ent = k + 4 + 28 * j
            fn, idx = struct.unpack_from('<II', f, ent)
            if mode == 'feature' and fn == 7 and idx == 0:
                struct.pack_into('<I', f, ent + 16, 0xffffffff)  # ebx: every leaf-7 feature
            if mode == 'vendor' and fn == 0:
                struct.pack_into('<III', f, ent + 16, *struct.unpack('<III', b'CapsCPU!uleX'))  # ebx ecx edx
        struct.pack_into('<I', f, e + 80, zlib.crc32(bytes(f[s:s + ln])))
struct.pack_into('<I', f, 36, zlib.crc32(bytes(f[48:body])))
struct.pack_into('<I', f, 40, zlib.crc32(bytes(f[0:40])))
open(out, 'wb').write(f)
PY
}
if ! command -v python3 >/dev/null; then
  skip err_cpuid_feature "python3 is needed to craft the file"
  skip err_cpuid_vendor "python3 is needed to craft the file"
else
  craft_cpuid "$D/x9.state" feature
  restore_err err_cpuid_feature "x9\\.state: this host's CPU lacks features the snapshot's CPUID promised \\(leaf 0x7\\.0 ebx bits 0x[0-9a-f]+\\)" "$D/x9.state"
  craft_cpuid "$D/x10.state" vendor
  restore_err err_cpuid_vendor 'x10\.state: taken on a CapsuleXCPU! CPU, this host is ' "$D/x10.state"
fi

truncate -s 1M "$D/short-diff.mem"
cp --sparse=always "$M" "$D/base-copy.mem"
expect_error err_merge_size 1 'short-diff\.mem: 1048576 bytes, the base .*base-copy\.mem has 268435456' \
  "$CAPSULE" vm snapshot-merge "$D/base-copy.mem" "$D/short-diff.mem"
expect_error err_snapshot_spec 2 "snapshot 'after=x,state=a': after= wants milliseconds" \
  "$CAPSULE" vm run $(ticker) --snapshot after=x,state=a
expect_error err_diff_without_base 2 'snapshot 1: a diff needs a base' \
  "$CAPSULE" vm run $(ticker) --snapshot "after=1,state=$D/n.state,mem=$D/n.mem,diff"
expect_error err_paused_without_snapshot 2 'vm restore: --paused without --snapshot' \
  "$CAPSULE" vm restore --state "$S" --mem "$M" --paused

# Nothing half-made: no temporary snapshot files left next to the outputs, no process left.
left=$(find "$D" -name '*.tmp-*' | head -n 3)
if [ -n "$left" ]; then
  fail restore_leaves_no_files "temporary files left: $left"
elif pgrep -f "capsule vm restore --state $D" >/dev/null; then
  fail restore_leaves_no_files "a capsule vm restore process is still running"
else
  pass restore_leaves_no_files
fi
