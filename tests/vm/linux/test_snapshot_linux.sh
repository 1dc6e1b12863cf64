#!/usr/bin/env bash
# A real Linux guest snapshotted and restored in a new process (slow suite, in the nested harness
# tests/vm/linux/nested-run, on L1's hardware-like KVM): the guest's init counts (tests/vm/linux/
# snapshot-l2-part, a line every 0.2 s); L1 waits for "count: 10" on the console, sends capsule
# SIGUSR1 (--snapshot on=usr1), which writes the snapshot and ends the run, then restores it with
# `capsule vm restore`:
#   linux_snapshot_taken     the run ended 0 with a state file and a memory file
#   linux_restore_continues  the restored guest printed the counts it had not printed yet, none
#                            twice, none missing (0..49 over the two consoles, in order), with no
#                            second boot, and powered off (restore exited 0)
# The micro-VM kernel when it is built (scripts/kernel/build), else Debian's cloud kernel.
NAMES="linux_snapshot_taken linux_restore_continues"
source "$CAPSULE_ROOT/tests/vm/linux/common.bash"
nested_require
nested_l2_initrd "$HERE/snapshot-l2-part" /l2/snap-initrd.gz

d=$TMPD
cat >"$d/l1.sh" <<L1
/bin/capsule vm run --kernel $kernel --initrd /l2/snap-initrd.gz --memory 256 --cmdline "$cmdline" \\
	--console file:/tmp/a.out --snapshot on=usr1,state=/tmp/s.state,mem=/tmp/s.mem &
pid=\$!
i=0
while ! grep -q '^count: 10' /tmp/a.out 2>/dev/null && [ \$i -lt 1500 ]; do sleep 0.1; i=\$((i + 1)); done
kill -USR1 \$pid
wait \$pid
echo "l1: snapshot rc \$? state \$(wc -c </tmp/s.state 2>/dev/null) mem \$(du -k /tmp/s.mem 2>/dev/null | cut -f1) KiB"
/bin/capsule vm restore --state /tmp/s.state --mem /tmp/s.mem --console file:/tmp/b.out
echo "l1: restore rc \$?"
sed 's/^/a: /' /tmp/a.out
echo
sed 's/^/b: /' /tmp/b.out
L1
nested_run 400 '^l1: restore rc'
if grep -qE '^l1: snapshot rc 0 state [1-9][0-9]* mem [0-9]+ KiB$' "$d/o"; then
	pass linux_snapshot_taken
else
	fail linux_snapshot_taken "$(grep '^l1: snapshot' "$d/o")"
fi
seq_ok=$(counts_in_order 50)
before=$(sed -n 's/^a: //p' "$d/o" | grep -c '^count: ')
if ! grep -q '^l1: restore rc 0$' "$d/o"; then
	fail linux_restore_continues "$(grep '^l1: restore' "$d/o"): $(sed -n 's/^b: //p' "$d/o" | tail -n 3 | tr '\n' ' ')"
elif sed -n 's/^b: //p' "$d/o" | grep -qE 'Linux version|^guest: uname'; then
	fail linux_restore_continues "the restored guest booted again"
elif [ "$seq_ok" != yes ]; then
	fail linux_restore_continues "counts over the two consoles are not 0..49 in order ($seq_ok; $before before the snapshot)"
elif ! sed -n 's/^b: //p' "$d/o" | grep -q 'capsule-init: done'; then
	fail linux_restore_continues "the restored guest did not reach the end of its init"
else
	pass linux_restore_continues
fi
