#!/usr/bin/env bash
# The fast VM suite: boots the freestanding test guests ($B/guest/*.elf, see docs/test-guests.md) with
# `capsule vm run` and checks what they report (entry state, exit status, console, SMP, ring 3, zero
# page, CPUID, boot timer, ACPI and power-off, faults, and the virtio devices driven by the guests'
# own virtio-mmio driver, hostile queues included), then feeds capsule every bad input the contract
# names and checks its exit status and its single "capsule: ..." line. Needs /dev/kvm; the TAP check
# needs root; the vsock and TAP checks need socat.
source "$CAPSULE_ROOT/tests/lib.sh"

G=$(dirname "$CAPSULE")/guest	# the guests built next to the binary under test
T=60	# seconds per VM run: the guests take milliseconds, so only a hang gets near this

# Every check of this suite, for the SKIP lines when the suite cannot run at all.
ALL_CHECKS="hello entry_state exit_status exit_status_masked exit_status_256 exit_status_outb
serial_console_none serial_console_file smp_cpus1 smp_cpus2 smp_cpus4 smp_cpus16 smp_allexit
serial_flood serial_input ring3 cmdline initrd memory_e820 cpuid_cx16_hidden cpuid_topology
boot_timer boot_timer_off acpi_tables power_i8042 power_acpi_off power_acpi_reset power_unknown_mode
fault_status4 fault_on_ap virtio_rng virtio_rng_acpi_off virtio_blk_rw virtio_blk_file virtio_blk_ro
virtio_blk_second virtio_hostile_rng virtio_hostile_blk virtio_vsock virtio_vsock_listen
virtio_net_udp virtio_balloon err_missing_kernel err_kernel_is_directory err_not_a_kernel
err_truncated_elf_header err_truncated_elf_segment err_segment_below_1mib err_segment_beyond_ram
err_segment_wraps err_corrupt_bzimage_synthetic err_corrupt_bzimage_real err_initrd_too_large
err_memory_below_minimum err_memory_above_host err_cpus_zero err_cpus_huge err_unknown_option
err_no_kernel_option err_kvm_nonexistent err_kvm_devnull"

skip_all() {
  local c
  for c in $ALL_CHECKS; do skip "$c" "$1"; done
  exit 0
}

if ! have_kvm; then
  skip_all "/dev/kvm is missing or not usable by $(id -un)"
fi
if [ ! -x "$CAPSULE" ]; then
  skip_all "$CAPSULE is not built (run make)"
fi
if "$CAPSULE" vm run --kernel /dev/null 2>&1 | grep -q 'not built yet'; then
  skip_all "capsule vm run is not built yet"
fi

# guest NAME: the path of a built guest, or a FAIL (the guests are part of `make all`).
guest() {
  if [ -f "$G/$1.elf" ]; then
    echo "$G/$1.elf"
  else
    echo "/missing-guest/$1.elf"
  fi
}
need_guest() {	# need_guest NAME CHECK...: FAIL every CHECK and return 1 when the guest is not built
  local g=$1 c; shift
  [ -f "$G/$g.elf" ] && return 0
  for c in "$@"; do fail "$c" "$G/$g.elf is missing (make guests)"; done
  return 1
}

# vm CHECK TIMEOUT ARGS...: runs capsule vm run ARGS with the timeout; $RC and $OUT as run_capture.
vm() {
  local name=$1 t=$2; shift 2
  run_capture "$name" "$t" "$CAPSULE" vm run "$@"
}

# expect_rc CHECK WANT: FAIL unless the last run exited with WANT; returns non-zero then.
expect_rc() {
  if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
    fail "$1" "timed out after ${T}s: $(tail -c 300 "$OUT")"
    return 1
  fi
  if [ "$RC" -ne "$2" ]; then
    fail "$1" "exit status $RC, want $2: $(tail -c 300 "$OUT")"
    return 1
  fi
}

# has CHECK REGEX: FAIL unless the last run's output has a line matching REGEX.
has() {
  grep -Eq -- "$2" "$OUT" && return 0
  fail "$1" "no line matching /$2/ in: $(tail -c 400 "$OUT")"
  return 1
}

# --- guests ---------------------------------------------------------------------------------------

if need_guest hello hello; then
  vm hello $T --kernel "$(guest hello)"
  expect_rc hello 0 && has hello '^hello from capsule guest$' && pass hello
fi

# The contract's entry state (selectors, GDT/IDT, CR0/3/4, EFER, RFLAGS, RSP, RSI) on both vCPUs.
if need_guest entry entry_state; then
  vm entry_state $T --kernel "$(guest entry)" --cpus 2
  expect_rc entry_state 0 && has entry_state '^entry: cpu 0 ok$' && has entry_state '^entry: cpu 1 ok$' &&
    pass entry_state
fi

if need_guest exitcode exit_status; then
  vm exit_status $T --kernel "$(guest exitcode)"
  expect_rc exit_status 42 && has exit_status '^exitcode: exiting with 42$' && pass exit_status
fi

# The status is the value written to port 0xf4, & 0xff, whether by outl or outb.
if need_guest exitcode exit_status_masked exit_status_256 exit_status_outb; then
  vm exit_status_masked $T --kernel "$(guest exitcode)" --cmdline exitcode=0x1ff
  expect_rc exit_status_masked 255 && has exit_status_masked '^exitcode: exiting with 511$' &&
    pass exit_status_masked
  vm exit_status_256 $T --kernel "$(guest exitcode)" --cmdline exitcode=256
  expect_rc exit_status_256 0 && has exit_status_256 '^exitcode: exiting with 256$' && pass exit_status_256
  vm exit_status_outb $T --kernel "$(guest exitcode)" --cmdline "exitcode=7 exitcode.outb"
  expect_rc exit_status_outb 7 && has exit_status_outb '^exitcode: exiting with 7 \(outb\)$' &&
    pass exit_status_outb
fi

if need_guest hello serial_console_none; then
  vm serial_console_none $T --kernel "$(guest hello)" --console none
  if expect_rc serial_console_none 0; then
    if grep -q 'hello from capsule guest' "$OUT"; then
      fail serial_console_none "guest output printed with --console none"
    else
      pass serial_console_none
    fi
  fi
fi

if need_guest hello serial_console_file; then
  vm serial_console_file $T --kernel "$(guest hello)" --console "file:$TMPD/console.txt"
  if expect_rc serial_console_file 0; then
    if grep -q 'hello from capsule guest' "$OUT"; then
      fail serial_console_file "guest output went to stdout, not the file"
    elif ! grep -qx 'hello from capsule guest' "$TMPD/console.txt" 2>/dev/null; then
      fail serial_console_file "console file lacks the guest's line: $(head -c 200 "$TMPD/console.txt" 2>&1)"
    else
      pass serial_console_file
    fi
  fi
fi

for n in 1 2 4 16; do	# 16: more vCPU threads than host cores
  c=smp_cpus$n
  if need_guest smp $c; then
    vm $c $T --kernel "$(guest smp)" --cpus $n
    expect_rc $c 0 && has $c "^cpus online: $n\$" && pass $c
  fi
done

# 200 lines (13 KB) through the UART: every byte must arrive once, in order, on stdout alone.
if need_guest serial serial_flood; then
  timeout -k 5 $T "$CAPSULE" vm run --kernel "$(guest serial)" --cmdline serial.lines=200 \
    >"$TMPD/serial.out" 2>"$TMPD/serial.err" </dev/null
  RC=$? OUT=$TMPD/serial.err
  if expect_rc serial_flood 0; then
    for i in $(seq 200); do
      printf 'serial %05u/%05u the quick brown fox jumps over the lazy dog\n' "$i" 200
    done >"$TMPD/serial.want"
    echo "serial: done" >>"$TMPD/serial.want"
    if cmp -s "$TMPD/serial.want" "$TMPD/serial.out"; then
      pass serial_flood
    else
      fail serial_flood "console output differs from the guest's: $(diff "$TMPD/serial.want" "$TMPD/serial.out" | head -c 300)"
    fi
  fi
fi

# The UART's receive side: a line on capsule's stdin (a pipe) reaches the guest through COM1.
if need_guest serial serial_input; then
  echo "hello serial input" | timeout -k 5 $T "$CAPSULE" vm run --kernel "$(guest serial)" \
    --cmdline serial.echo >"$TMPD/serial-in.out" 2>&1
  RC=$? OUT=$TMPD/serial-in.out
  expect_rc serial_input 0 && has serial_input '^serial: got \[hello serial input\]$' && pass serial_input
fi

# All four vCPUs write to the exit port at the same moment: one clean exit, status 0.
if need_guest smp smp_allexit; then
  vm smp_allexit $T --kernel "$(guest smp)" --cpus 4 --cmdline smp.allexit
  expect_rc smp_allexit 0 && has smp_allexit '^cpus online: 4$' &&
    has smp_allexit '^smp: every vCPU exits now$' && pass smp_allexit
fi

if need_guest ring3 ring3; then
  vm ring3 $T --kernel "$(guest ring3)"
  expect_rc ring3 0 && has ring3 '^ring3: loop of 200000000 iterations at cpl 3$' &&
    has ring3 '^ring3: back in ring 0, cpl 0 ' && has ring3 '^ring3: ok$' && pass ring3
fi

if need_guest cmdline cmdline initrd memory_e820; then
  printf 'CAPSULE-INITRD-MAGIC-0123' >"$TMPD/initrd.bin"
  vm cmdline $T --kernel "$(guest cmdline)" --memory 96 --cmdline "capsule.test=1 foo=bar" \
    --initrd "$TMPD/initrd.bin"
  if expect_rc cmdline 0; then
    # The VMM may append its own options (e.g. noxsave); what we passed must come first, intact.
    has cmdline '^cmdline: \[capsule\.test=1 foo=bar( [^]]*)?\]$' && pass cmdline
    has initrd '^initrd: 25 bytes at 0x[0-9a-f]+: \[CAPSULE-INITRD-MAGIC-0123\]$' && pass initrd
    # 96 MiB of RAM: usable RAM tops out at exactly 96 MiB and loses at most the 1 MiB below it.
    if has memory_e820 '^ram: [0-9]+ KiB usable, top [0-9]+ MiB$'; then
      read -r kib top < <(sed -n 's/^ram: \([0-9]*\) KiB usable, top \([0-9]*\) MiB$/\1 \2/p' "$OUT")
      n=$(sed -n 's/^e820: \([0-9]*\) entries$/\1/p' "$OUT")
      if [ "$top" -ne 96 ]; then
        fail memory_e820 "top of RAM is $top MiB, want 96"
      elif [ "$kib" -gt $((96 * 1024)) ] || [ "$kib" -lt $((95 * 1024)) ]; then
        fail memory_e820 "$kib KiB usable, want between 95 and 96 MiB"
      elif [ -z "$n" ] || [ "$n" -lt 2 ]; then
        fail memory_e820 "e820 has '${n:-no}' entries, want the low RAM and the RAM above 1 MiB"
      else
        pass memory_e820
      fi
    fi
  else
    fail initrd "cmdline guest failed (see cmdline)"
    fail memory_e820 "cmdline guest failed (see cmdline)"
  fi
fi

if need_guest cpuid cpuid_cx16_hidden cpuid_topology; then
  vm cpuid $T --kernel "$(guest cpuid)" --cpus 4
  if expect_rc cpuid_cx16_hidden 0; then
    has cpuid_cx16_hidden '^cpuid: cx16 0$' && pass cpuid_cx16_hidden
    # Topology for --cpus 4: four vCPUs with APIC IDs 0-3, leaf 1 counting 4 logical processors,
    # leaf 0xB reporting 1 thread per core (SMT level) and 4 logical processors at the core level.
    why=
    grep -Eq '^cpuid: leaf1 htt 1 logical 4 apic 0$' "$OUT" || why="leaf 1 is not htt 1 logical 4 apic 0"
    grep -Eq '^cpuid: apic ids 0 1 2 3$' "$OUT" || why="${why:+$why; }APIC IDs are not 0 1 2 3"
    if grep -q '^cpuid: leaf0xb absent$' "$OUT"; then
      :	# a CPU without leaf 0xB: leaf 1 is the whole topology
    else
      grep -Eq '^cpuid: leaf0xb smt 1 type 1 core 4 type 2 x2apic 0$' "$OUT" ||
        why="${why:+$why; }leaf 0xB is not 'smt 1 type 1 core 4 type 2 x2apic 0'"
      grep -Eq '^cpuid: x2apic ids 0 1 2 3$' "$OUT" || why="${why:+$why; }x2APIC IDs are not 0 1 2 3"
    fi
    if [ -n "$why" ]; then
      fail cpuid_topology "$why: $(grep '^cpuid:' "$OUT" | tr '\n' '|')"
    else
      pass cpuid_topology
    fi
  else
    fail cpuid_topology "cpuid guest failed (see cpuid_cx16_hidden)"
  fi
fi

if need_guest boottimer boot_timer boot_timer_off; then
  vm boot_timer $T --kernel "$(guest boottimer)" --boot-timer
  expect_rc boot_timer 0 && has boot_timer '^boot: [0-9.]+ ms \(VM start -> init\)$' &&
    has boot_timer '^start: [0-9.]+ CPU-ms \(process start -> first guest instruction\)$' && pass boot_timer
  vm boot_timer_off $T --kernel "$(guest boottimer)"
  if expect_rc boot_timer_off 0; then
    if grep -Eq '^(boot|start): ' "$OUT"; then
      fail boot_timer_off "boot-timer lines printed without --boot-timer"
    else
      pass boot_timer_off
    fi
  fi
fi

# ACPI as a kernel reads it (RSDP, XSDT, FADT, DSDT's \_S5, checksums), then the three ways a guest
# ends itself: i8042 reset, S5 through PM1a_CNT, the FADT reset register. Each ends capsule with 0.
if need_guest power acpi_tables power_i8042 power_acpi_off power_acpi_reset power_unknown_mode; then
  vm acpi_tables $T --kernel "$(guest power)" --cpus 2
  expect_rc acpi_tables 0 && has acpi_tables '^power: rsdp at 0x[0-9a-f]+ rev 2, xsdt with [0-9]+ tables:.* FACP' &&
    has acpi_tables '^power: pm1a_cnt 0x[0-9a-f]+, reset register space 1 at 0x[0-9a-f]+ value [0-9]+, s5 slp_typ [0-7]$' &&
    has acpi_tables '^power: acpi checksums ok$' && pass acpi_tables
  # Status 0 alone would also come from a guest that never tried (it then returns 0 itself after
  # the tables): the guest's own "about to do it" line proves it went down the path under test.
  for m in i8042:'i8042 reset' acpi-off:'entering S5' acpi-reset:'writing the reset register'; do
    c=power_${m%%:*}; c=${c//-/_}
    vm $c $T --kernel "$(guest power)" --cmdline "power=${m%%:*}"
    expect_rc $c 0 && has $c "^power: ${m#*:}\$" && if grep -q '^power: still running' "$OUT"; then
      fail $c "the guest kept running"
    else
      pass $c
    fi
  done
  # A mode the guest does not know must not look like a power-off: the guest fails it.
  vm power_unknown_mode $T --kernel "$(guest power)" --cmdline "power=bogus"
  expect_rc power_unknown_mode 11 && has power_unknown_mode '^power: unknown mode in ' && pass power_unknown_mode
fi

if need_guest fault fault_status4; then
  vm fault_status4 $T --kernel "$(guest fault)"
  expect_rc fault_status4 4 && has fault_status4 '^fault: triple-faulting now$' &&
    if grep -q '^fault: still alive' "$OUT"; then
      fail fault_status4 "ud2 with an empty IDT did not stop the vCPU"
    else
      pass fault_status4
    fi
fi

# vCPU 1 triple-faults while vCPU 0 spins in ring 3: the fault must end the whole VM.
if need_guest fault fault_on_ap; then
  vm fault_on_ap $T --kernel "$(guest fault)" --cpus 2 --cmdline fault.ap
  expect_rc fault_on_ap 4 && has fault_on_ap '^fault: vCPU 1 triple-faulting now$' && pass fault_on_ap
fi

# --- virtio devices, driven by the guests' own virtio-mmio driver -------------------------------------

# Found through the DSDT (LNRO0005) by default, through virtio_mmio.device= with acpi=off.
if need_guest virtio_rng virtio_rng virtio_rng_acpi_off; then
  vm virtio_rng $T --kernel "$(guest virtio_rng)" --rng
  expect_rc virtio_rng 0 && has virtio_rng '^rng: request 2: 64 bytes, ' && has virtio_rng '^rng: ok$' &&
    pass virtio_rng
  vm virtio_rng_acpi_off $T --kernel "$(guest virtio_rng)" --rng --cmdline acpi=off
  expect_rc virtio_rng_acpi_off 0 && has virtio_rng_acpi_off '^rng: ok$' && pass virtio_rng_acpi_off
fi

if need_guest virtio_blk virtio_blk_rw virtio_blk_file virtio_blk_second virtio_blk_ro; then
  disk=$TMPD/disk.img
  printf 'CAPSULE-DISK-SECTOR0' >"$disk"
  truncate -s 1M "$disk"
  vm virtio_blk_rw $T --kernel "$(guest virtio_blk)" --disk "$disk,id=capsuletest"
  if expect_rc virtio_blk_rw 0; then
    has virtio_blk_rw '^blk: capacity 2048 sectors, ro 0, flush 1$' &&
      has virtio_blk_rw '^blk: id: \[capsuletest\]$' &&
      has virtio_blk_rw '^blk: sector 0: \[CAPSULE-DISK-SECTOR0\]$' &&
      has virtio_blk_rw '^blk: read back sector 1 status 0, matches$' &&
      has virtio_blk_rw '^blk: read past the end status 1$' && pass virtio_blk_rw
    # What the guest wrote and flushed is in the file once capsule has exited.
    if [ "$(dd if="$disk" bs=512 skip=1 count=1 status=none | tr -d '\0')" = CAPSULE-GUEST-WROTE-SECTOR-1 ]; then
      pass virtio_blk_file
    else
      fail virtio_blk_file "sector 1 of the disk file does not hold the guest's write"
    fi
  else
    fail virtio_blk_file "virtio_blk guest failed (see virtio_blk_rw)"
  fi

  # Two disks: the second is the second virtio-blk device, with its own size and id.
  printf 'SECOND-DISK' >"$TMPD/second.img"
  truncate -s 128K "$TMPD/second.img"
  vm virtio_blk_second $T --kernel "$(guest virtio_blk)" --disk "$disk" --disk "$TMPD/second.img,id=second" \
    --cmdline blk.index=1
  expect_rc virtio_blk_second 0 && has virtio_blk_second '^blk: capacity 256 sectors, ro 0, ' &&
    has virtio_blk_second '^blk: id: \[second\]$' && has virtio_blk_second '^blk: sector 0: \[SECOND-DISK\]$' &&
    pass virtio_blk_second

  printf 'CAPSULE-DISK-SECTOR0' >"$TMPD/ro.img"
  truncate -s 64K "$TMPD/ro.img"
  sum=$(md5sum <"$TMPD/ro.img")
  vm virtio_blk_ro $T --kernel "$(guest virtio_blk)" --disk "$TMPD/ro.img,ro"
  if expect_rc virtio_blk_ro 0 && has virtio_blk_ro '^blk: capacity 128 sectors, ro 1, ' &&
    has virtio_blk_ro '^blk: write sector 1 status 1$'; then
    if [ "$(md5sum <"$TMPD/ro.img")" = "$sum" ]; then
      pass virtio_blk_ro
    else
      fail virtio_blk_ro "the read-only disk file changed"
    fi
  fi
fi

# Balloon: inflated pages must come back as zero (the host dropped them), their neighbours intact,
# a PFN outside RAM ignored, deflated pages usable again.
if need_guest balloon_pages virtio_balloon; then
  vm virtio_balloon $T --kernel "$(guest balloon_pages)" --balloon
  expect_rc virtio_balloon 0 && has virtio_balloon '^balloon: inflated pages read as zero: yes$' &&
    has virtio_balloon '^balloon: neighbouring pages intact: yes$' &&
    has virtio_balloon '^balloon: deflated pages usable: yes$' && pass virtio_balloon
fi

# vsock: the guest connects to host port 5000, which capsule bridges to the Unix socket <uds>_5000
# where socat plays the host: it sends a line, then stores what the guest sends until it shuts down.
if need_guest virtio_vsock virtio_vsock; then
  if ! command -v socat >/dev/null; then
    skip virtio_vsock "socat is not installed (scripts/deps installs it)"
  else
    uds=$TMPD/vsock.sock
    socat UNIX-LISTEN:"${uds}_5000" SYSTEM:"echo hello from host; cat >'$TMPD/vsock-from-guest'" \
      </dev/null >/dev/null 2>&1 &
    spid=$!
    for _ in $(seq 100); do [ -S "${uds}_5000" ] && break; sleep 0.05; done
    vm virtio_vsock $T --kernel "$(guest virtio_vsock)" --vsock "cid=3,uds=$uds"
    for _ in $(seq 100); do kill -0 $spid 2>/dev/null || break; sleep 0.05; done
    kill $spid 2>/dev/null
    wait $spid 2>/dev/null
    if expect_rc virtio_vsock 0 && has virtio_vsock '^vsock: guest cid 3, ' &&
      has virtio_vsock '^vsock: received: \[hello from host\]$' &&
      has virtio_vsock '^vsock: host side closed'; then
      if [ "$(cat "$TMPD/vsock-from-guest" 2>/dev/null)" = "hello from guest" ]; then
        pass virtio_vsock
      else
        fail virtio_vsock "the host side got '$(head -c 100 "$TMPD/vsock-from-guest" 2>/dev/null)', want 'hello from guest'"
      fi
    fi
  fi
fi

# vsock the other way: the guest listens on port 6000; a host process connects to <uds>, writes
# "CONNECT 6000" and its line in one go, and must read "OK <port>" and the guest's line back.
if need_guest virtio_vsock virtio_vsock_listen; then
  if ! command -v socat >/dev/null; then
    skip virtio_vsock_listen "socat is not installed (scripts/deps installs it)"
  else
    uds=$TMPD/vsock-listen.sock
    OUT=$TMPD/vsock-listen.out
    timeout -k 5 $T "$CAPSULE" vm run --kernel "$(guest virtio_vsock)" --vsock "cid=4,uds=$uds" \
      --cmdline vsock.listen=6000 >"$OUT" 2>&1 </dev/null &
    vpid=$!
    for _ in $(seq 200); do grep -qs '^vsock: guest cid 4, listening on port 6000$' "$OUT" && break; sleep 0.05; done
    printf 'CONNECT 6000\nhello from host client\n' |
      timeout -k 5 20 socat -t 5 - UNIX-CONNECT:"$uds" >"$TMPD/vsock-client.out" 2>&1
    wait $vpid
    RC=$?
    if expect_rc virtio_vsock_listen 0 && has virtio_vsock_listen '^vsock: accepted host port [0-9]+$' &&
      has virtio_vsock_listen '^vsock: received: \[hello from host client\]$'; then
      if ! head -1 "$TMPD/vsock-client.out" | grep -Eq '^OK [0-9]+$'; then
        fail virtio_vsock_listen "the host client did not get 'OK <port>': $(head -c 200 "$TMPD/vsock-client.out")"
      elif ! sed -n 2p "$TMPD/vsock-client.out" | grep -qx 'hello from the guest listener'; then
        fail virtio_vsock_listen "the host client did not get the guest's line: $(head -c 200 "$TMPD/vsock-client.out")"
      else
        pass virtio_vsock_listen
      fi
    fi
  fi
fi

# subnet_routed PREFIX [DEV]: some route (but a default one, or one on DEV) lies within PREFIX or
# covers it, in any table: a subnet already in use here, by this host or by a concurrent run.
subnet_routed() {
  { ip -4 route show table all root "$1"; ip -4 route show table all match "$1"; } |
    grep -v '^default' | grep -v " dev ${2:-/nodev/} " | grep -q .
}

# virtio-net on a TAP: the host sends UDP datagrams to the guest (its ARP reply lets the kernel
# resolve it), the guest prints the payload and answers to port 7778, where socat listens.
if need_guest virtio_net virtio_net_udp; then
  tap=capg$$
  sub=
  why=
  if [ "$(id -u)" -ne 0 ]; then why="needs root to create a TAP device"
  elif [ ! -c /dev/net/tun ]; then why="/dev/net/tun is missing"
  elif ! command -v ip >/dev/null || ! command -v socat >/dev/null || ! command -v ss >/dev/null; then
    why="needs ip, ss and socat"
  elif ! ip tuntap add dev "$tap" mode tap 2>"$TMPD/tap.err"; then why="cannot create a TAP: $(head -c 200 "$TMPD/tap.err")"
  else
    trap 'ip link del "$tap" 2>/dev/null; rm -rf "$TMPD"' EXIT
    # A 10.213.N.0/24 no route touches yet, starting from one that depends on our PID. Checked again
    # once our address is on, in case a concurrent run took the same one in between.
    for i in $(seq 0 249); do
      n=$(( ($$ + i) % 250 + 1 ))
      subnet_routed "10.213.$n.0/24" && continue
      ip addr add "10.213.$n.1/24" dev "$tap" 2>/dev/null || continue
      if subnet_routed "10.213.$n.0/24" "$tap"; then
        ip addr del "10.213.$n.1/24" dev "$tap" 2>/dev/null
        continue
      fi
      sub=10.213.$n
      break
    done
    if [ -z "$sub" ]; then
      why="every 10.213.N.0/24 is already routed on this host"
      ip link del "$tap" 2>/dev/null
      trap 'rm -rf "$TMPD"' EXIT
    fi
  fi
  if [ -n "$why" ]; then
    skip virtio_net_udp "$why"
  else
    ip link set "$tap" up
    socat -u UDP-RECV:7778,bind="$sub.1" - >"$TMPD/udp.out" 2>"$TMPD/socat.err" </dev/null &
    spid=$!
    # The guest answers once: a receiver not bound yet would lose it.
    bound=0
    for _ in $(seq 100); do
      ss -Hulnp "sport = :7778" 2>/dev/null | grep -F "$sub.1:7778" | grep -q "pid=$spid," && bound=1 && break
      sleep 0.05
    done
    OUT=$TMPD/net.out
    timeout -k 5 $T "$CAPSULE" vm run --kernel "$(guest virtio_net)" --net "tap=$tap" \
      --cmdline "net.ip=$sub.2" >"$OUT" 2>&1 </dev/null &
    vpid=$!
    for _ in $(seq 200); do grep -qs '^net: ready' "$OUT" && break; sleep 0.05; done
    # Resent until the guest is done: the first may wait on ARP or arrive before its RX buffers.
    for _ in $(seq 100); do
      kill -0 $vpid 2>/dev/null || break
      echo "hello guest over udp" 2>/dev/null >"/dev/udp/$sub.2/7777"
      sleep 0.1
    done
    wait $vpid
    RC=$?
    for _ in $(seq 40); do [ -s "$TMPD/udp.out" ] && break; sleep 0.05; done
    kill $spid 2>/dev/null
    wait $spid 2>/dev/null
    ip link del "$tap" 2>/dev/null
    trap 'rm -rf "$TMPD"' EXIT
    if [ $bound -eq 0 ]; then
      fail virtio_net_udp "socat never bound UDP $sub.1:7778: $(head -c 200 "$TMPD/socat.err")"
    elif expect_rc virtio_net_udp 0 && has virtio_net_udp "^net: arp reply to $sub\.1\$" &&
      has virtio_net_udp "^net: udp from $sub\.1:[0-9]+: \\[hello guest over udp\\]\$"; then
      if grep -qx 'hello host over udp' "$TMPD/udp.out"; then
        pass virtio_net_udp
      else
        fail virtio_net_udp "the host did not receive the guest's UDP answer: $(head -c 200 "$TMPD/udp.out")"
      fi
    fi
  fi
fi

# Malformed queues and requests from a hostile guest: every one refused (NEEDS_RESET or an error
# status), the devices usable again after a reset, the disk file untouched, capsule alive to the end.
if need_guest virtio_hostile virtio_hostile_rng virtio_hostile_blk; then
  printf 'CAPSULE-DISK-SECTOR0' >"$TMPD/hostile.img"
  truncate -s 256K "$TMPD/hostile.img"
  sum=$(md5sum <"$TMPD/hostile.img")
  vm virtio_hostile $T --kernel "$(guest virtio_hostile)" --rng --disk "$TMPD/hostile.img"
  bad=$(grep -E '^hostile(-blk)?: .*: (USED|ACCEPTED|NO REACTION|INIT FAILED)$' "$OUT" | tr '\n' '|')
  if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
    fail virtio_hostile_rng "timed out after ${T}s: $(tail -c 300 "$OUT")"
    fail virtio_hostile_blk "timed out after ${T}s"
  else
    if [ "$(grep -c '^hostile: .*: needs-reset$' "$OUT")" -ne 8 ]; then
      fail virtio_hostile_rng "not all 8 malformed queues were refused with NEEDS_RESET (status $RC): ${bad:-$(grep '^hostile' "$OUT" | tr '\n' '|')}"
    elif ! grep -q '^hostile: good request after reset: 64 bytes$' "$OUT"; then
      fail virtio_hostile_rng "virtio-rng did not work after a reset (status $RC)"
    else
      pass virtio_hostile_rng
    fi
    if [ "$(grep -cE '^hostile-blk: .*: (needs-reset|refused|unsupported)$' "$OUT")" -ne 8 ]; then
      fail virtio_hostile_blk "not all 8 malformed requests were refused (status $RC): ${bad:-$(grep '^hostile-blk' "$OUT" | tr '\n' '|')}"
    elif ! grep -q '^hostile-blk: unknown type: unsupported$' "$OUT"; then
      fail virtio_hostile_blk "an unknown request type did not get VIRTIO_BLK_S_UNSUPP"
    elif ! grep -q '^hostile-blk: good read after reset: status 0, 513 bytes$' "$OUT"; then
      fail virtio_hostile_blk "virtio-blk did not work after a reset"
    elif [ "$(md5sum <"$TMPD/hostile.img")" != "$sum" ]; then
      fail virtio_hostile_blk "the disk file changed"
    elif [ "$RC" -ne 0 ]; then
      fail virtio_hostile_blk "exit status $RC, want 0: $(tail -c 300 "$OUT")"
    else
      pass virtio_hostile_blk
    fi
  fi
fi

# --- bad input ------------------------------------------------------------------------------------

hello=$(guest hello)


expect_error err_missing_kernel 1 '^capsule: .*/nonexistent/vmlinux' "$CAPSULE" vm run --kernel /nonexistent/vmlinux
# Root reads any mode-000 file, so "unreadable" is a kernel path that cannot be read: a directory.
mkdir -p "$TMPD/kernel-dir"
expect_error err_kernel_is_directory 1 "^capsule: .*kernel-dir" "$CAPSULE" vm run --kernel "$TMPD/kernel-dir"
expect_error err_not_a_kernel 1 '^capsule: .*/etc/passwd' "$CAPSULE" vm run --kernel /etc/passwd

# put FILE OFFSET BYTES...: writes hex BYTES into FILE at OFFSET.
put() {
  local f=$1 off=$2 hex; shift 2
  hex=$(printf '\\x%s' "$@")
  printf "$hex" | dd of="$f" bs=1 seek=$((off)) conv=notrunc status=none
}
# put64 FILE OFFSET VALUE: writes VALUE as a little-endian 64-bit number into FILE at OFFSET.
put64() {
  local i bytes=()
  for i in 0 1 2 3 4 5 6 7; do bytes+=("$(printf '%02x' $(( ($3 >> (8 * i)) & 255 )))"); done
  put "$1" "$2" "${bytes[@]}"
}

# A guest whose first PT_LOAD claims another physical address (p_paddr is at 64 + 24): among the
# loader's tables below 1 MiB, past the end of RAM, and wrapping around the address space.
for c in err_segment_below_1mib:0x8000 err_segment_beyond_ram:0x7ff00000 err_segment_wraps:0xffffffffffff0000; do
  cp "$hello" "$TMPD/${c%%:*}.elf" 2>/dev/null
  put64 "$TMPD/${c%%:*}.elf" 88 $((${c#*:})) 2>/dev/null
  expect_error "${c%%:*}" 1 "^capsule: .*${c%%:*}\\.elf: segment at ${c#*:}" \
    "$CAPSULE" vm run --kernel "$TMPD/${c%%:*}.elf" --memory 64
done

# An ELF cut inside its program headers, and one whose PT_LOAD data lies past the end of the file.
head -c 100 "$hello" >"$TMPD/trunc-hdr.elf"
expect_error err_truncated_elf_header 1 '^capsule: .*trunc-hdr\.elf.*truncated' "$CAPSULE" vm run --kernel "$TMPD/trunc-hdr.elf"
head -c 4200 "$hello" >"$TMPD/trunc-seg.elf"
expect_error err_truncated_elf_segment 1 '^capsule: .*trunc-seg\.elf.*truncated' "$CAPSULE" vm run --kernel "$TMPD/trunc-seg.elf"


# A synthetic bzImage (boot protocol 2.15, one setup sector) whose payload starts like gzip but is
# not a valid deflate stream: the header is fine, so capsule must fail in the payload.
bz=$TMPD/corrupt-bzImage
head -c 4096 /dev/zero | tr '\0' '\377' >"$bz"
put "$bz" 0 00 00 00 00
put "$bz" 0x1f1 01	# setup_sects
put "$bz" 0x1fe 55 aa	# boot flag
put "$bz" 0x200 eb 66 48 64 72 53 0f 02	# jump, "HdrS", version 2.15
put "$bz" 0x211 01	# loadflags: LOADED_HIGH
put "$bz" 0x230 00 00 20 00 01	# kernel_alignment 2 MiB, relocatable
put "$bz" 0x248 10 00 00 00 00 02 00 00	# payload_offset 16, payload_length 512
put "$bz" 0x258 00 00 00 01 00 00 00 00	# pref_address 16 MiB
put "$bz" 0x260 00 00 00 01	# init_size 16 MiB
put "$bz" $((1024 + 16)) 1f 8b 08 00 00 00 00 00 00 03	# gzip member header, then 0xff garbage
expect_error err_corrupt_bzimage_synthetic 1 '^capsule: .*corrupt-bzImage.*payload' "$CAPSULE" vm run --kernel "$bz"

# The same with a real bzImage if scripts/fetch-kernel has run: payload bytes overwritten mid-stream.
real=${CAPSULE_LINUX_DIR:-$CAPSULE_ROOT/build/linux}/vmlinuz
if [ -s "$real" ]; then
  cp "$real" "$TMPD/corrupt-real-bzImage"
  setup=$(od -An -tu1 -j $((0x1f1)) -N1 "$real" | tr -d ' ')
  po=$(od -An -tu4 -j $((0x248)) -N4 "$real" | tr -d ' ')
  pl=$(od -An -tu4 -j $((0x24c)) -N4 "$real" | tr -d ' ')
  off=$(( (setup + 1) * 512 + po + pl / 2 ))
  head -c 65536 /dev/zero | dd of="$TMPD/corrupt-real-bzImage" bs=1 seek=$off conv=notrunc status=none
  expect_error err_corrupt_bzimage_real 1 '^capsule: .*corrupt-real-bzImage.*payload' \
    "$CAPSULE" vm run --kernel "$TMPD/corrupt-real-bzImage"
else
  why="scripts/fetch-kernel fetches one"
  [ -s "$(dirname "$real")/.fetch-error" ] && why="scripts/fetch-kernel failed: $(head -n1 "$(dirname "$real")/.fetch-error")"
  skip err_corrupt_bzimage_real "no real bzImage at $real ($why)"
fi

truncate -s 512M "$TMPD/big-initrd"	# sparse: costs no disk
expect_error err_initrd_too_large 1 '^capsule: .*initrd.*big-initrd' "$CAPSULE" vm run --kernel "$hello" --memory 64 --initrd "$TMPD/big-initrd"

expect_error err_memory_below_minimum 2 '^capsule: memory 1 MiB: below the minimum of 16 MiB$' "$CAPSULE" vm run --kernel "$hello" --memory 1
host_mib=$(( $(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' /proc/meminfo) / 1024 ))
expect_error err_memory_above_host 2 "^capsule: memory $((host_mib * 4 + 1024)) MiB: more than this host's [0-9]+ MiB\$" "$CAPSULE" vm run --kernel "$hello" --memory $((host_mib * 4 + 1024))
expect_error err_cpus_zero 2 '^capsule: cpus 0: a VM needs at least one vCPU$' "$CAPSULE" vm run --kernel "$hello" --cpus 0
expect_error err_cpus_huge 2 '^capsule: cpus 100000: more than the [0-9]+ vCPUs KVM allows here$' "$CAPSULE" vm run --kernel "$hello" --cpus 100000
expect_error err_unknown_option 2 '^capsule: .*--bogus' "$CAPSULE" vm run --kernel "$hello" --bogus
expect_error err_no_kernel_option 2 '^capsule: .*kernel' "$CAPSULE" vm run
expect_error err_kvm_nonexistent 1 '^capsule: .*/nonexistent/kvm' env CAPSULE_KVM=/nonexistent/kvm "$CAPSULE" vm run --kernel "$hello"
expect_error err_kvm_devnull 1 '^capsule: .*/dev/null' env CAPSULE_KVM=/dev/null "$CAPSULE" vm run --kernel "$hello"
