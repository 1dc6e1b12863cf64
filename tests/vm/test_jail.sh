#!/usr/bin/env bash
# capsule vm run --jail: the VMM runs a test guest locked in (new PID, mount and IPC namespaces,
# the per-VM cgroup with its limits, a root holding only its files, an unprivileged uid with no
# capabilities and no_new_privs), checked from the host through /proc/PID; the jail and the
# cgroup are gone when the VM ends, however it ends; bad jail options and a failed setup give one
# line and leave nothing behind. Needs root and /dev/kvm.
source "$CAPSULE_ROOT/tests/lib.sh"

G=$(dirname "$CAPSULE")/guest
CHECKS="jail_hello jail_identity jail_root_view jail_namespaces jail_cgroup jail_fds jail_sigterm
jail_api_by_name jail_api_configure jail_disk_rw jail_disk_ro jail_tap_made jail_tap_users jail_vmm_killed err_jail_exists err_jail_no_id err_jail_uid0 err_jail_opt_alone
err_jail_cgroup_syntax err_jail_cgroup_unknown err_jail_console_file"
skip_all() { for c in $CHECKS; do skip "$c" "$1"; done; exit 0; }
have_kvm || skip_all "/dev/kvm is missing or not usable by $(id -un)"
[ "$(id -u)" = 0 ] || skip_all "the jail needs root (mknod, namespaces, pivot_root)"
[ -f "$G/count.elf" ] && [ -f "$G/hello.elf" ] || skip_all "test guests not built (run make)"

BASE=$TMPD/jail ID=jt$$ U=65533
# LeakSanitizer needs /proc, which the jail does not have: leaks are checked by the unjailed suites
# (the same VMM code) and not in here.
[ -n "${ASAN_OPTIONS:-}" ] && export ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0
CG=/capsule-vm/$ID
# Nothing of the jail is left: no directory under the base, no cgroup in any hierarchy.
leftovers() {
  local d out=
  [ -e "$BASE/$ID" ] && out+=" $BASE/$ID"
  for d in /sys/fs/cgroup/*"$CG" /sys/fs/cgroup/*/"$CG"; do [ -d "$d" ] && out+=" $d"; done
  echo "$out"
}
one_line() { [ "$(grep -c . "$1")" = 1 ] && grep -q '^capsule: ' "$1"; }
jrun() { timeout -k 5 60 "$CAPSULE" vm run --memory 64 --jail --id "$ID" --chroot-base "$BASE" "$@"; }

# --- a jailed guest runs and the jail is removed after it
out=$(jrun --kernel "$G/hello.elf" --console stdio 2>&1)
rc=$?
left=$(leftovers)
[ $rc -eq 0 ] && grep -q 'hello from capsule guest' <<<"$out" && [ -z "$left" ] && pass jail_hello ||
  fail jail_hello "exit $rc, output '$(head -c 200 <<<"$out")', left:$left"

# --- a running jailed VMM, seen from the host
exec 7</etc/hostname   # an inherited fd the jail must close
# (not through timeout: $! must be the supervisor, the VMM its child)
"$CAPSULE" vm run --memory 64 --jail --id "$ID" --chroot-base "$BASE" --kernel "$G/count.elf" --console none \
  --uid $U --gid $U --cgroup cpu.cfs_quota_us=50000 --cgroup pids.max=64 2>"$TMPD/count.err" &
sup=$!
exec 7<&-
vmm=
for _ in $(seq 100); do
  vmm=$(pgrep -P $sup | head -1)
  [ -n "$vmm" ] && [ -e "/proc/$vmm/fd/4" ] && break
  sleep 0.05
done
if [ -z "$vmm" ]; then
  for c in jail_identity jail_root_view jail_namespaces jail_cgroup jail_fds jail_sigterm; do
    fail $c "no jailed VMM under the supervisor $sup: $(head -c 300 "$TMPD/count.err")"
  done
else
  st=/proc/$vmm/status
  if grep -qP "^Uid:\t$U\t$U\t$U\t$U$" $st && grep -qP "^Gid:\t$U\t$U\t$U\t$U$" $st &&
     grep -qP '^CapEff:\t0+$' $st && grep -qP '^CapPrm:\t0+$' $st && grep -qP '^CapBnd:\t0+$' $st &&
     grep -qP '^CapAmb:\t0+$' $st && grep -qP '^NoNewPrivs:\t1$' $st && grep -qP '^Groups:\s*$' $st; then
    pass jail_identity
  else
    fail jail_identity "$(grep -E '^(Uid|Gid|Groups|Cap|NoNewPrivs)' $st | tr '\n\t' '  ')"
  fi
  # Only the jail's files, whatever the host has.
  view=$(cd /proc/$vmm/root && find . -xdev 2>/dev/null | head -50 | sort | tr '\n' ' ')
  want='. ./dev ./dev/kvm ./dev/net ./dev/urandom ./kernel ./run ./run/api.sock '
  [ "$view" = "$want" ] && [ "$(stat -c %u /proc/$vmm/root/run)" = $U ] && pass jail_root_view ||
    fail jail_root_view "the VMM sees '$view', want '$want'"
  nsok=1
  for n in pid mnt ipc; do
    [ "$(readlink /proc/$vmm/ns/$n)" != "$(readlink /proc/self/ns/$n)" ] || nsok=0
  done
  grep -qP '^NSpid:\t[0-9]+\t1$' $st || nsok=0
  [ $nsok = 1 ] && pass jail_namespaces ||
    fail jail_namespaces "$(for n in pid mnt ipc; do echo -n "$n $(readlink /proc/$vmm/ns/$n) "; done) $(grep NSpid $st)"
  cpu=$(cat /sys/fs/cgroup/cpu/$CG/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu,cpuacct/$CG/cpu.cfs_quota_us 2>/dev/null)
  pids=$(cat /sys/fs/cgroup/pids/$CG/pids.max 2>/dev/null)
  grep -q ":$CG\$" /proc/$vmm/cgroup && [ "$cpu" = 50000 ] && [ "$pids" = 64 ] && pass jail_cgroup ||
    fail jail_cgroup "cpu quota '$cpu', pids.max '$pids', cgroups: $(tr '\n' ' ' </proc/$vmm/cgroup)"
  # fds: only what the VMM opened itself (no inherited /etc/hostname, nothing outside the jail).
  fds=$(for f in /proc/$vmm/fd/*; do readlink "$f"; done | sort -u | tr '\n' ' ')
  grep -q /etc/hostname <<<"$fds" && fail jail_fds "an inherited fd is still open: $fds" || pass jail_fds
  kill -TERM $sup
  wait $sup
  rc=$?
  left=$(leftovers)
  [ $rc -eq 143 ] && [ -z "$left" ] && pass jail_sigterm ||
    fail jail_sigterm "exit $rc (want 143), left:$left: $(head -c 200 "$TMPD/count.err")"
fi

# --- the API inside the jail: CHROOT_BASE/ID/root/run/api.sock, and capsule vm ... ID through the
# API_RUN_DIR link the supervisor makes (and removes)
"$CAPSULE" vm run --memory 64 --jail --id "$ID" --chroot-base "$BASE" --kernel "$G/count.elf" --console none \
  2>"$TMPD/api.err" &
sup=$!
for _ in $(seq 100); do [ -S "$BASE/$ID/root/run/api.sock" ] && break; sleep 0.05; done
st1=$(curl -s -m 5 --unix-socket "$BASE/$ID/root/run/api.sock" http://localhost/ 2>&1)
"$CAPSULE" vm pause "$ID" >/dev/null 2>&1
st2=$("$CAPSULE" vm status "$ID" 2>&1 | grep '^state:')
"$CAPSULE" vm stop "$ID" >/dev/null 2>&1
wait $sup
[[ "$st1" == *'"state":"Running"'* ]] && [ "$st2" = "state:   Paused" ] && [ ! -e "/run/capsule/vm/$ID.sock" ] &&
  [ -z "$(leftovers)" ] && pass jail_api_by_name ||
  fail jail_api_by_name "GET / '$st1', status '$st2', link $(ls -l /run/capsule/vm/$ID.sock 2>&1), left:$(leftovers)"
# no kernel given: the user puts it into the jail and boots it through the API, as with Firecracker
"$CAPSULE" vm run --memory 64 --jail --id "$ID" --chroot-base "$BASE" --console stdio >"$TMPD/cfg.out" 2>&1 &
sup=$!
for _ in $(seq 100); do [ -S "$BASE/$ID/root/run/api.sock" ] && break; sleep 0.05; done
cp "$G/hello.elf" "$BASE/$ID/root/run/guest.elf"
c1=$(curl -s -m 5 -o /dev/null -w '%{http_code}' --unix-socket "$BASE/$ID/root/run/api.sock" -X PUT \
  -d '{"kernel_image_path": "/run/guest.elf"}' http://localhost/boot-source 2>&1)
c2=$(curl -s -m 5 -o /dev/null -w '%{http_code}' --unix-socket "$BASE/$ID/root/run/api.sock" -X PUT \
  -d '{"action_type": "InstanceStart"}' http://localhost/actions 2>&1)
for _ in $(seq 100); do grep -q 'hello from capsule guest' "$TMPD/cfg.out" && break; sleep 0.05; done
"$CAPSULE" vm stop "$ID" >/dev/null 2>&1
kill $sup 2>/dev/null
wait $sup
[ "$c1" = 204 ] && [ "$c2" = 204 ] && grep -q 'hello from capsule guest' "$TMPD/cfg.out" && [ -z "$(leftovers)" ] &&
  pass jail_api_configure || fail jail_api_configure "boot-source $c1, InstanceStart $c2: $(head -c 300 "$TMPD/cfg.out"); left:$(leftovers)"

# --- disks: bind-mounted in, written through (rw) or refused writes (ro)
if [ -f "$G/virtio_blk.elf" ]; then
  printf 'CAPSULE-DISK-SECTOR0' >"$TMPD/disk.img" && truncate -s 1M "$TMPD/disk.img" && chown $U "$TMPD/disk.img"
  out=$(jrun --kernel "$G/virtio_blk.elf" --uid $U --gid $U --disk "$TMPD/disk.img" 2>&1)
  rc=$?
  [ $rc -eq 0 ] && grep -q 'sector 0: \[CAPSULE-DISK-SECTOR0\]' <<<"$out" &&
    [ "$(dd if="$TMPD/disk.img" bs=512 skip=1 count=1 status=none | tr -d '\0')" = CAPSULE-GUEST-WROTE-SECTOR-1 ] &&
    [ -z "$(leftovers)" ] && pass jail_disk_rw || fail jail_disk_rw "exit $rc: $(tail -c 300 <<<"$out")"
  truncate -s 64K "$TMPD/ro.img"
  out=$(jrun --kernel "$G/virtio_blk.elf" --disk "$TMPD/ro.img,ro" 2>&1)
  rc=$?
  [ $rc -eq 0 ] && grep -q 'ro 1,' <<<"$out" && pass jail_disk_ro || fail jail_disk_ro "exit $rc: $(tail -c 300 <<<"$out")"
else
  skip jail_disk_rw "virtio_blk guest not built"; skip jail_disk_ro "virtio_blk guest not built"
fi

# --- TAPs: the jail makes a missing one persistent and owned by the uid (the VMM cannot create one
# without CAP_NET_ADMIN) and removes it afterwards; a TAP the user made is used and kept.
if [ -c /dev/net/tun ] && command -v ip >/dev/null; then
  tap=capj$$
  "$CAPSULE" vm run --memory 64 --jail --id "$ID" --chroot-base "$BASE" --kernel "$G/count.elf" --console none \
    --uid $U --gid $U --net tap=$tap 2>"$TMPD/tap.err" &
  sup=$!
  for _ in $(seq 100); do vmm=$(pgrep -P $sup | head -1); [ -n "$vmm" ] && [ -e "/proc/$vmm/fd/4" ] && break; sleep 0.05; done
  sleep 0.2
  owner=$(cat /sys/class/net/$tap/owner 2>/dev/null)
  attached=$(for f in /proc/$vmm/fd/*; do readlink "$f"; done | grep -c '^/dev/net/tun$')
  kill -TERM $sup; wait $sup
  [ "$owner" = $U ] && [ "$attached" = 1 ] && [ ! -e /sys/class/net/$tap ] && pass jail_tap_made ||
    fail jail_tap_made "owner '$owner', tun fds in the VMM $attached, after: $(ls -d /sys/class/net/$tap 2>&1): $(head -c 200 "$TMPD/tap.err")"
  ip link del $tap 2>/dev/null
  if ip tuntap add dev $tap mode tap user $U 2>"$TMPD/tuntap.err"; then
    out=$(jrun --kernel "$G/hello.elf" --uid $U --gid $U --net tap=$tap 2>&1)
    rc=$?
    [ $rc -eq 0 ] && [ -e /sys/class/net/$tap ] && pass jail_tap_users ||
      fail jail_tap_users "exit $rc, tap $( [ -e /sys/class/net/$tap ] && echo kept || echo removed): $(tail -c 200 <<<"$out")"
    ip link del $tap 2>/dev/null
  else
    skip jail_tap_users "ip tuntap add failed: $(head -c 200 "$TMPD/tuntap.err")"
  fi
else
  skip jail_tap_made "no /dev/net/tun or ip"; skip jail_tap_users "no /dev/net/tun or ip"
fi

# --- the VMM killed outright: the supervisor still removes the jail and says what happened
"$CAPSULE" vm run --memory 64 --jail --id "$ID" --chroot-base "$BASE" --kernel "$G/count.elf" --console none \
  2>"$TMPD/kill.err" &
sup=$!
for _ in $(seq 100); do vmm=$(pgrep -P $sup | head -1); [ -n "$vmm" ] && [ -e "/proc/$vmm/fd/4" ] && break; sleep 0.05; done
kill -KILL "$vmm" 2>/dev/null
wait $sup
rc=$?
left=$(leftovers)
[ $rc -eq 137 ] && grep -q '^capsule: vm: the jailed VMM was killed by signal Killed$' "$TMPD/kill.err" && [ -z "$left" ] &&
  pass jail_vmm_killed || fail jail_vmm_killed "exit $rc, '$(cat "$TMPD/kill.err")', left:$left"

# --- failures: one line, a non-zero status, nothing made
mkdir -p "$BASE/$ID" && echo keep >"$BASE/$ID/mine"
jrun --kernel "$G/hello.elf" >"$TMPD/e.out" 2>&1
rc=$?
[ $rc -eq 1 ] && one_line "$TMPD/e.out" && grep -q "jail $BASE/$ID: already exists" "$TMPD/e.out" &&
  [ -f "$BASE/$ID/mine" ] && pass err_jail_exists || fail err_jail_exists "exit $rc: $(cat "$TMPD/e.out")"
rm -rf "${BASE:?}/$ID"

err_case() { # name want-rc want-text args...
  local name=$1 want=$2 text=$3 rc
  shift 3
  timeout 30 "$CAPSULE" vm run --kernel "$G/hello.elf" --memory 64 "$@" >"$TMPD/e.out" 2>&1
  rc=$?
  [ $rc -eq "$want" ] && one_line "$TMPD/e.out" && grep -qF -- "$text" "$TMPD/e.out" && [ -z "$(leftovers)" ] &&
    pass "$name" || fail "$name" "exit $rc (want $want): $(cat "$TMPD/e.out"); left:$(leftovers)"
}
err_case err_jail_no_id 2 "--jail needs --id NAME" --jail --chroot-base "$BASE"
err_case err_jail_uid0 2 "jail uid 0: the jailed VMM must not run as root" --jail --id "$ID" --chroot-base "$BASE" --uid 0
err_case err_jail_opt_alone 2 "need --jail" --uid 1000
err_case err_jail_cgroup_syntax 2 "jail cgroup '../x=1': want CONTROLLER.FILE=VALUE" --jail --id "$ID" \
  --chroot-base "$BASE" --cgroup ../x=1
err_case err_jail_cgroup_unknown 1 "jail cgroup nosuch.max: no cgroup hierarchy on this host has the nosuch controller" \
  --jail --id "$ID" --chroot-base "$BASE" --cgroup nosuch.max=1
err_case err_jail_console_file 2 "console file is not available in a jail" --jail --id "$ID" --chroot-base "$BASE" \
  --console "file:$TMPD/console.log"
