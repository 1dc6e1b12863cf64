#!/usr/bin/env bash
# process.terminal through --console-socket: the runtime connects to the socket and sends the
# PTY master with SCM_RIGHTS; the container's stdio is the slave. Also exec --tty.
source "$(dirname "$0")/common.bash"
oci_require

CC=${CC:-cc}
RECV=$TMPD/console-recv
if ! "$CC" -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$RECV" "$CAPSULE_ROOT/tests/oci/console-recv.c" 2>"$TMPD/cc.err"; then
	fail oci-terminal "cannot build console-recv with $CC: $(head -c 300 "$TMPD/cc.err")"
	exit 0
fi

# start_recv NAME [INPUT]: a receiver listening on $TMPD/NAME.sock, writing $TMPD/NAME.tty.
start_recv() {
	local sock=$TMPD/$1.sock i
	rm -f "$sock"
	"$RECV" "$sock" "$TMPD/$1.tty" ${2:+"$2"} 2>"$TMPD/$1.recv.err" &
	RECV_PID=$!
	for ((i = 0; i < 50; i++)); do [ -S "$sock" ] && return 0; sleep 0.1; done
	return 1
}

new_bundle tty --terminal -- sh -c 'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo stdio-is-tty;
	read line; echo "got:$line"; exit 3'
start_recv tty $'hello\n'
# create --console-socket is what podman/containerd call; create runs without one first only to
# prove it is required: a terminal container needs the socket, and the error says so.
track tty
expect_rt_error oci-terminal-needs-socket 'console-socket|console socket' rt create --bundle "$BUNDLE" tty
rt delete --force tty >/dev/null 2>&1
timeout -k 5 30 "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" --console-socket "$TMPD/tty.sock" tty \
	>"$TMPD/tty.create" 2>&1 </dev/null
RC=$?
if [ $RC -ne 0 ]; then
	fail oci-terminal "create --console-socket exit $RC: $(head -c 300 "$TMPD/tty.create")"
	kill $RECV_PID 2>/dev/null
else
	rt start tty >/dev/null 2>&1
	wait $RECV_PID
	rrc=$?
	wait_status tty stopped 50
	out=$(tr -d '\r' <"$TMPD/tty.tty" 2>/dev/null)
	if [ $rrc -ne 0 ]; then
		fail oci-terminal "receiver: $(cat "$TMPD/tty.recv.err")"
	elif ! grep -Eq '^/dev/(pts/[0-9]+|console)$' <<<"$out"; then
		fail oci-terminal "tty did not name a pty: $(tr '\n' '|' <<<"$out")"
	elif ! grep -qx stdio-is-tty <<<"$out"; then
		fail oci-terminal "stdin/stdout/stderr are not all the terminal: $(tr '\n' '|' <<<"$out")"
	elif ! grep -qx 'got:hello' <<<"$out"; then
		fail oci-terminal "input through the master did not reach the container: $(tr '\n' '|' <<<"$out")"
	else
		pass oci-terminal
	fi
fi
rt delete --force tty >/dev/null 2>&1

# consoleSize is applied to the pty.
new_bundle ttysize --terminal -- sh -c 'stty size'
cfg "$BUNDLE" '.process.consoleSize = {"height": 33, "width": 111}'
start_recv ttysize
track ttysize
timeout -k 5 30 "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" --console-socket "$TMPD/ttysize.sock" ttysize \
	>"$TMPD/ttysize.create" 2>&1 </dev/null
if [ $? -ne 0 ]; then
	fail oci-terminal-size "create exit: $(head -c 300 "$TMPD/ttysize.create")"
	kill $RECV_PID 2>/dev/null
else
	rt start ttysize >/dev/null 2>&1
	wait $RECV_PID
	got=$(tr -d '\r' <"$TMPD/ttysize.tty")
	[ "$got" = "33 111" ] && pass oci-terminal-size || fail oci-terminal-size "stty size '$got', want '33 111'"
fi
rt delete --force ttysize >/dev/null 2>&1

# exec --tty --console-socket into a running (non-terminal) container.
new_bundle exectty -- sleep 60
ct_create exectty "$BUNDLE"
rt start exectty >/dev/null 2>&1
start_recv exectty
timeout -k 5 30 "$RUNTIME" --root "$ROOT" exec --tty --console-socket "$TMPD/exectty.sock" --detach exectty \
	sh -c 'tty; [ -t 0 ] && echo exec-is-tty' >"$TMPD/exectty.out" 2>&1 </dev/null
erc=$?
if [ $erc -ne 0 ]; then
	fail oci-exec-tty "exit $erc: $(head -c 300 "$TMPD/exectty.out")"
	kill $RECV_PID 2>/dev/null
else
	wait $RECV_PID
	got=$(tr -d '\r' <"$TMPD/exectty.tty")
	grep -qx exec-is-tty <<<"$got" && grep -Eq '^/dev/pts/[0-9]+$' <<<"$got" && pass oci-exec-tty ||
		fail oci-exec-tty "got '$(tr '\n' '|' <<<"$got")'"
fi
rt delete --force exectty >/dev/null 2>&1
