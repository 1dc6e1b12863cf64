#!/usr/bin/env bash
# The interactive console on a real terminal (tmux gives capsule a pty): input reaches the guest's
# UART, Ctrl-A x quits, and the terminal's settings are restored on every exit path.
source "$CAPSULE_ROOT/tests/lib.sh"
G=$CAPSULE_ROOT/$B/guest
S=capsule-con-$$
# Targets use "=NAME" (exact match): tmux otherwise matches session names by prefix, and a
# concurrent run whose PID starts with ours would be killed.

TTY_TESTS="console_tty_input console_tty_restored console_tty_raw console_ctrl_a_x console_ctrl_a_x_restored"
if ! have_kvm; then
  for t in $TTY_TESTS signal_term_status console_stdin_regular_file; do
    skip "$t" "/dev/kvm is not usable"
  done
  exit 0
fi
have_tmux=1
command -v tmux >/dev/null || have_tmux=0
trap 'tmux kill-session -t "=$S" 2>/dev/null; rm -rf "$TMPD"' EXIT

# start_on_tty NAME CAPSULE-ARGS...: runs capsule in a fresh tmux pane, recording the terminal
# settings before and after it and its exit status.
start_on_tty() {
  local name=$1; shift
  tmux kill-session -t "=$S" 2>/dev/null
  tmux new-session -d -s "$S" -x 120 -y 40 \
    "stty -g >'$TMPD/$name.before'; '$CAPSULE' $*; echo \$? >'$TMPD/$name.rc'; stty -g >'$TMPD/$name.after'; sleep 30"
}

wait_file() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }
wait_pane() { for _ in $(seq 100); do tmux capture-pane -p -t "=$S:" | grep -q "$1" && return 0; sleep 0.1; done; return 1; }

if [ $have_tmux = 1 ]; then
# 1. A line typed on the terminal reaches the guest, which prints it back and exits 0.
start_on_tty input vm run --kernel "$G/serial.elf" --memory 64 --cmdline serial.echo
if wait_pane "serial: waiting for a line"; then
  tmux send-keys -t "=$S:" "hello tty" Enter
fi
if wait_file "$TMPD/input.rc" && [ "$(cat "$TMPD/input.rc")" = 0 ] &&
   tmux capture-pane -p -t "=$S:" | grep -q 'serial: got \[hello tty\]'; then
  pass console_tty_input
else
  fail console_tty_input "rc=$(cat "$TMPD/input.rc" 2>/dev/null); pane: $(tmux capture-pane -p -t "=$S:" | tr '\n' '|' | head -c 400)"
fi
if wait_file "$TMPD/input.after" && cmp -s "$TMPD/input.before" "$TMPD/input.after"; then
  pass console_tty_restored
else
  fail console_tty_restored "stty before '$(cat "$TMPD/input.before" 2>/dev/null)' after '$(cat "$TMPD/input.after" 2>/dev/null)'"
fi

# 2. Ctrl-A x ends the VM while the guest is still waiting: its own status (5, not a power-off's
# 0) and one line saying so; terminal restored.
start_on_tty ctrlax vm run --kernel "$G/serial.elf" --memory 64 --cmdline serial.echo
wait_pane "serial: waiting for a line"
# While capsule runs, its terminal is raw: no line editing, no echo, no signals from keys.
tty=$(tmux display -p -t "=$S:" '#{pane_tty}')
modes=$(stty -F "$tty" -a 2>/dev/null)
if grep -q -- '-icanon' <<<"$modes" && grep -q -- '-echo ' <<<"$modes" && grep -q -- '-isig' <<<"$modes"; then
  pass console_tty_raw
else
  fail console_tty_raw "terminal $tty not in raw mode: $(tr '\n' ' ' <<<"$modes" | head -c 300)"
fi
tmux send-keys -t "=$S:" C-a x
if wait_file "$TMPD/ctrlax.rc" && [ "$(cat "$TMPD/ctrlax.rc")" = 5 ] &&
   [ "$(tmux capture-pane -p -t "=$S:" | grep -c '^capsule: ')" = 1 ] &&
   tmux capture-pane -p -t "=$S:" | grep -qx 'capsule: vm: quit from the console (Ctrl-A x)' &&
   ! tmux capture-pane -p -t "=$S:" | grep -q 'serial: input ended'; then
  pass console_ctrl_a_x
else
  fail console_ctrl_a_x "rc=$(cat "$TMPD/ctrlax.rc" 2>/dev/null); pane: $(tmux capture-pane -p -t "=$S:" | tr '\n' '|' | head -c 400)"
fi
if wait_file "$TMPD/ctrlax.after" && cmp -s "$TMPD/ctrlax.before" "$TMPD/ctrlax.after"; then
  pass console_ctrl_a_x_restored
else
  fail console_ctrl_a_x_restored "stty settings differ after Ctrl-A x"
fi
else
  for t in $TTY_TESTS; do skip "$t" "tmux is not installed"; done
fi

# 3. SIGTERM stops the VM: status 128+15 and one line naming the signal.
tmux kill-session -t "=$S" 2>/dev/null
# stdin is a FIFO this shell holds open, so the guest waits for input until the signal.
mkfifo "$TMPD/term.in"
"$CAPSULE" vm run --kernel "$G/serial.elf" --memory 64 --cmdline serial.echo <"$TMPD/term.in" \
  >"$TMPD/term.out" 2>"$TMPD/term.err" &
pid=$!
exec 3>"$TMPD/term.in"
for _ in $(seq 100); do grep -q "serial: waiting" "$TMPD/term.out" && break; sleep 0.1; done
kill -TERM "$pid"
# A capsule that ignored SIGTERM must fail this test, not hang the suite.
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
wait "$pid"
rc=$?
exec 3>&-
if [ "$rc" = 143 ] && [ "$(wc -l <"$TMPD/term.err")" = 1 ] && grep -q '^capsule: vm: stopped by signal Terminated$' "$TMPD/term.err"; then
  pass signal_term_status
else
  fail signal_term_status "rc=$rc stderr: $(cat "$TMPD/term.err")"
fi

# 4. Standard input from a regular file (epoll cannot watch one) still reaches the guest.
echo "hello from a file" >"$TMPD/in.txt"
timeout -k 5 30 "$CAPSULE" vm run --kernel "$G/serial.elf" --memory 64 --cmdline serial.echo \
  <"$TMPD/in.txt" >"$TMPD/file.out" 2>&1
rc=$?
if [ "$rc" = 0 ] && grep -q '^serial: got \[hello from a file\]' "$TMPD/file.out"; then
  pass console_stdin_regular_file
else
  fail console_stdin_regular_file "rc=$rc: $(head -c 300 "$TMPD/file.out")"
fi
