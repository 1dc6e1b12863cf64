#!/usr/bin/env bash
# The VMM's per-thread seccomp filters (src/vmm/sandbox/): the printed table, every thread of a
# running VM in filter mode 2, a forbidden syscall from a vCPU, the I/O or the main thread
# killing the VMM with SIGSYS (a test-hook build, $B/tests/capsule-hooks), log mode letting it
# through with an audit record, and the option's errors. (Every other VM suite runs with the
# default filter on: that is the check that the allow-lists are complete.)
source "$CAPSULE_ROOT/tests/lib.sh"

G=$(dirname "$CAPSULE")/guest
HOOKS=$(dirname "$CAPSULE")/tests/capsule-hooks
ALL="seccomp_filters_table seccomp_filters_all_kinds err_seccomp_filters_kind err_seccomp_mode
seccomp_status_all_threads seccomp_status_none seccomp_kill_vcpu seccomp_kill_io seccomp_kill_main
seccomp_log_mode seccomp_sanitizer_rules seccomp_sanitizer_report"

if [ ! -x "$CAPSULE" ]; then
  for c in $ALL; do skip "$c" "$CAPSULE is not built (run make)"; done
  exit 0
fi

# The table: the vCPU filter allows KVM_RUN through ioctl's argument check and nothing says execve.
"$CAPSULE" vm seccomp-filters --thread vcpu >"$TMPD/vcpu.txt" 2>&1
if [ $? -ne 0 ]; then
  fail seccomp_filters_table "exit status $?: $(head -c 300 "$TMPD/vcpu.txt")"
elif ! grep -Eq '^  ioctl +arg1 in \{KVM_RUN,' "$TMPD/vcpu.txt"; then
  fail seccomp_filters_table "no ioctl rule with KVM_RUN: $(head -c 300 "$TMPD/vcpu.txt")"
elif grep -Eq '^  (execve|fork|clone|ptrace|open) ' "$TMPD/vcpu.txt"; then
  fail seccomp_filters_table "the vCPU filter allows process creation or open: $(grep -E '^  (execve|fork|clone|ptrace|open) ' "$TMPD/vcpu.txt")"
else
  pass seccomp_filters_table
fi
"$CAPSULE" vm seccomp-filters >"$TMPD/all.txt" 2>&1
kinds=$(grep -c '^thread ' "$TMPD/all.txt")
if [ "$kinds" -ge 5 ] && grep -q '^thread main:' "$TMPD/all.txt" && grep -q '^thread io:' "$TMPD/all.txt"; then
  pass seccomp_filters_all_kinds
else
  fail seccomp_filters_all_kinds "want main, vcpu, io, ... got: $(grep '^thread ' "$TMPD/all.txt" | tr '\n' ' ')"
fi
# Only a sanitizer build (make asan) adds the sanitizer runtimes' syscalls, LSan's tracer ones
# (clone, ptrace) to main's list only; build/capsule has none of them.
sanitized=0
nm "$CAPSULE" 2>/dev/null | grep -q ' __asan_init$' && sanitized=1
"$CAPSULE" vm seccomp-filters --thread main >"$TMPD/main.txt" 2>&1
if [ $sanitized -eq 0 ] && grep -q 'sanitizer build' "$TMPD/all.txt"; then
  fail seccomp_sanitizer_rules "not a sanitizer build, yet: $(grep 'sanitizer build' "$TMPD/all.txt" | head -3)"
elif [ $sanitized -eq 1 ] && ! grep -Eq '^  ptrace .*\[sanitizer build\]' "$TMPD/main.txt"; then
  fail seccomp_sanitizer_rules "a sanitizer build without LSan's rules in main's filter: $(head -c 300 "$TMPD/main.txt")"
elif [ $sanitized -eq 1 ] && grep -Eq '^  (ptrace|clone) ' "$TMPD/vcpu.txt"; then
  fail seccomp_sanitizer_rules "LSan's tracer rules reach the vCPU filter: $(grep -E '^  (ptrace|clone) ' "$TMPD/vcpu.txt")"
else
  pass seccomp_sanitizer_rules
fi
expect_error err_seccomp_filters_kind 2 "seccomp thread kind 'nosuch': unknown \(kinds: main, vcpu, io" \
  "$CAPSULE" vm seccomp-filters --thread nosuch
expect_error err_seccomp_mode 2 "seccomp mode 'strict': want default, log or none" \
  "$CAPSULE" vm run --kernel /nonexistent --seccomp strict

run_needs_kvm="seccomp_status_all_threads seccomp_status_none seccomp_kill_vcpu seccomp_kill_io seccomp_kill_main seccomp_log_mode
seccomp_sanitizer_report"
if ! have_kvm; then
  for c in $run_needs_kvm; do skip "$c" "/dev/kvm is missing or not usable by $(id -un)"; done
  exit 0
fi
if [ ! -f "$G/count.elf" ] || [ ! -f "$G/hello.elf" ]; then
  for c in $run_needs_kvm; do fail "$c" "$G/count.elf or hello.elf is missing (make guests)"; done
  exit 0
fi

# thread_modes PID: "comm=mode" of each of PID's threads, once every thread has its filter
# (the main thread installs its own last, just after the vCPUs start) or after 10 s.
thread_modes() {
  local pid=$1 i t out
  for i in $(seq 100); do
    out=
    for t in /proc/"$pid"/task/*; do
      out+="$(cat "$t/comm" 2>/dev/null)=$(awk '/^Seccomp:/ {print $2}' "$t/status" 2>/dev/null) "
    done
    [[ "$out" != *"=0 "* ]] && break
    sleep 0.1
  done
  echo "$out"
}

# A two-vCPU counting guest with a disk on the worker-thread backend: main, vcpu0, vcpu1,
# capsule-io and capsule-blk all run.
truncate -s 1M "$TMPD/disk.img"
count_vm() {	# count_vm ARGS...: starts the guest in the background, PID in $VMPID
  CAPSULE_BLK_BACKEND=thread "$CAPSULE" vm run --kernel "$G/count.elf" --cpus 2 --disk "$TMPD/disk.img" \
    --console none "$@" >"$TMPD/count.out" 2>&1 </dev/null &
  VMPID=$!
  for _ in $(seq 100); do grep -q . /proc/$VMPID/task/*/comm 2>/dev/null && [ "$(ls /proc/$VMPID/task | wc -l)" -ge 5 ] && break; sleep 0.1; done
}
stop_vm() { kill -TERM "$VMPID" 2>/dev/null; wait "$VMPID" 2>/dev/null; }

count_vm
modes=$(thread_modes "$VMPID")
stop_vm
want_threads="vcpu0 vcpu1 capsule-io capsule-blk"
missing=
for w in $want_threads; do [[ " $modes" == *" $w="* ]] || missing+="$w "; done
if [ -n "$missing" ]; then
  fail seccomp_status_all_threads "threads $missing not seen: $modes"
elif [[ "$modes" == *"=0 "* ]] || [[ "$modes" == *"=1 "* ]] || [[ "$modes" == *"= "* ]]; then
  fail seccomp_status_all_threads "a thread without its filter: $modes"
else
  pass seccomp_status_all_threads
fi

count_vm --seccomp none
sleep 0.5
modes=$(for t in /proc/"$VMPID"/task/*; do echo -n "$(cat "$t/comm")=$(awk '/^Seccomp:/ {print $2}' "$t/status") "; done)
stop_vm
if [[ "$modes" == *"vcpu0=0"* ]] && [[ "$modes" != *"=2"* ]]; then
  pass seccomp_status_none
else
  fail seccomp_status_none "want every thread at Seccomp 0 with --seccomp none: $modes"
fi

# audit_line PID: the kernel's seccomp audit record for PID (empty when the log is unreadable).
audit_line() { dmesg 2>/dev/null | grep "type=1326" | grep " pid=$1 " | tail -n1; }
can_read_log() { dmesg >/dev/null 2>&1; }

# hooked NAME ARGS...: runs the test-hook build (not under timeout(1), so that $! is the VMM's own
# pid, which the audit record names), killed after 60 s; $RC, $PID.
hooked() {
  local name=$1; shift
  "$HOOKS" vm run "$@" >"$TMPD/$name.out" 2>&1 </dev/null &
  PID=$!
  ( sleep 60; kill -9 $PID 2>/dev/null ) &
  local dog=$!
  { wait $PID; RC=$?; } 2>/dev/null
  kill $dog 2>/dev/null; wait $dog 2>/dev/null
}

# kill_check KIND COMM: the hook makes the first KIND thread call socket(AF_INET) (41), which no
# filter allows.
kill_check() {
  local kind=$1 comm=$2 name=seccomp_kill_$1
  if [ ! -x "$HOOKS" ]; then
    fail "$name" "$HOOKS is missing (make)"
    return
  fi
  CAPSULE_TEST_SECCOMP_VIOLATE=$kind hooked "$name" --kernel "$G/count.elf" --console none
  local rc=$RC pid=$PID
  if [ $rc -ne $((128 + 31)) ]; then
    fail "$name" "exit status $rc, want 159 (SIGSYS): $(tail -c 300 "$TMPD/$name.out")"
    return
  fi
  if can_read_log; then
    local line; line=$(audit_line $pid)
    if [[ "$line" != *"comm=\"$comm\""*"sig=31"*"syscall=41 "* ]]; then
      fail "$name" "no kernel audit record naming thread $comm and syscall 41 for pid $pid: '$line'"
      return
    fi
  fi
  pass "$name"
}
kill_check vcpu vcpu0
kill_check io capsule-io
kill_check main capsule-hooks

# Log mode: the forbidden call goes through (the guest ends normally) and the kernel logs it.
if [ -x "$HOOKS" ]; then
  CAPSULE_TEST_SECCOMP_VIOLATE=vcpu hooked log --kernel "$G/hello.elf" --seccomp log
  rc=$RC pid=$PID
  line=$(audit_line $pid)
  if [ $rc -ne 0 ] || ! grep -q 'hello from capsule guest' "$TMPD/log.out"; then
    fail seccomp_log_mode "exit status $rc, want 0 and the guest's greeting: $(tail -c 300 "$TMPD/log.out")"
  elif can_read_log && [[ "$line" != *"syscall=41 "*"code=0x7ffc0000"* ]]; then
    fail seccomp_log_mode "no kernel log record (SECCOMP_RET_LOG) of syscall 41 for pid $pid: '$line'"
  else
    pass seccomp_log_mode
  fi
else
  fail seccomp_log_mode "$HOOKS is missing (make)"
fi

# A sanitizer build: ASan's report from a filtered vCPU thread is whole (its symbolizer was started
# before the first filter), and the VMM ends with ASan's status 1, not SIGSYS half-way through it.
if [ $sanitized -eq 0 ]; then
  skip seccomp_sanitizer_report "$CAPSULE is not a sanitizer build (make asan runs it)"
elif [ ! -x "$HOOKS" ]; then
  fail seccomp_sanitizer_report "$HOOKS is missing (make)"
else
  CAPSULE_TEST_SANITIZER_FAULT=vcpu hooked asanrep --kernel "$G/hello.elf" --console none
  if [ $RC -ne 1 ] || ! grep -q 'SUMMARY: AddressSanitizer: heap-buffer-overflow' "$TMPD/asanrep.out" ||
     ! grep -q 'in test_sanitizer_fault .*seccomp.c' "$TMPD/asanrep.out"; then
    fail seccomp_sanitizer_report "exit status $RC, want 1 and a symbolized ASan report: $(tail -c 400 "$TMPD/asanrep.out")"
  else
    pass seccomp_sanitizer_report
  fi
fi
