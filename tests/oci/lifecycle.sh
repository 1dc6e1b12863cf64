#!/usr/bin/env bash
# OCI lifecycle: create/start/state/kill/delete, run exit codes, exec, pause/resume, list, ps.
source "$(dirname "$0")/common.bash"
oci_require

# --- create -> created -> start -> running -> kill -> stopped -> delete
new_bundle life -- sleep 60
ct_create life "$BUNDLE"
if [ $RC -ne 0 ]; then
	fail oci-create "exit $RC: $(head -c 300 "$TMPD/life.create")"
else
	st=$(rt state life 2>&1)
	status=$(jq -r .status <<<"$st" 2>/dev/null)
	pid=$(jq -r .pid <<<"$st" 2>/dev/null)
	if [ "$status" != created ]; then
		fail oci-create "state status '$status', want created: $st"
	elif ! [[ "$pid" =~ ^[0-9]+$ ]] || [ "$pid" -le 0 ] || [ ! -d "/proc/$pid" ]; then
		fail oci-create "state pid '$pid' is not a live process"
	elif [ "$(jq -r .id <<<"$st")" != life ] || [ "$(jq -r .bundle <<<"$st")" != "$BUNDLE" ] ||
	     [ -z "$(jq -r '.ociVersion // empty' <<<"$st")" ]; then
		fail oci-create "state JSON lacks id/bundle/ociVersion: $st"
	else
		pass oci-create
	fi
	# The container process exists but must not have run its args yet: it is not sleep.
	if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! [ -r "/proc/$pid/cmdline" ]; then
		fail oci-create-not-started "state pid '$pid' is not a live process"
	elif grep -q sleep "/proc/$pid/cmdline"; then
		fail oci-create-not-started "process already runs its args before start"
	else
		pass oci-create-not-started
	fi

	if ! rt start life >"$TMPD/start.out" 2>&1; then
		fail oci-start "exit status: $(head -c 300 "$TMPD/start.out")"
	elif ! wait_status life running 20; then
		fail oci-start "status $(ct_state life), want running"
	elif [ "$(ct_pid life)" != "$pid" ] || ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q '^sleep 60'; then
		fail oci-start "pid $(ct_pid life) (was $pid) does not run 'sleep 60'"
	else
		pass oci-start
	fi

	rt kill life KILL >"$TMPD/kill.out" 2>&1
	if ! wait_status life stopped; then
		fail oci-kill "status $(ct_state life) after kill KILL, want stopped"
	elif ! gone "$pid"; then
		fail oci-kill "process $pid still alive"
	else
		pass oci-kill
	fi

	if ! rt delete life >"$TMPD/delete.out" 2>&1; then
		fail oci-delete "exit status: $(head -c 300 "$TMPD/delete.out")"
	elif rt state life >/dev/null 2>&1; then
		fail oci-delete "state still answers after delete"
	elif [ -n "$(leftovers life "$BUNDLE")" ]; then
		fail oci-delete "left behind: $(leftovers life "$BUNDLE")"
	else
		pass oci-delete
	fi
fi

# --- run: the container's exit status is run's exit status
new_bundle ex0 -- true
ct_run run0 ex0 "$BUNDLE"
[ $RC -eq 0 ] && pass oci-run-exit-0 || fail oci-run-exit-0 "exit $RC: $(said)"

new_bundle ex7 -- sh -c 'echo out; echo err >&2; exit 7'
ct_run run7 ex7 "$BUNDLE"
if [ $RC -ne 7 ]; then
	fail oci-run-exit-7 "exit $RC, want 7: $(said)"
elif ! grep -qx out "$OUT" || ! grep -qx err "$OUT"; then
	fail oci-run-exit-7 "stdout/stderr not passed through: $(said)"
elif [ -e "$ROOT/ex7" ]; then
	fail oci-run-exit-7 "run left its state dir behind"
else
	pass oci-run-exit-7
fi

# A container killed by a signal: run exits 128 + signal, as a shell reports it.
new_bundle exsig -- sleep 60
track exsig
timeout -k 5 30 "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" exsig >"$TMPD/exsig.out" 2>&1 </dev/null &
runpid=$!
if wait_status exsig running 100; then
	rt kill exsig KILL >/dev/null 2>&1
	wait $runpid
	rc=$?
	[ $rc -eq 137 ] && pass oci-run-exit-signal ||
		fail oci-run-exit-signal "exit $rc, want 137: $(head -c 300 "$TMPD/exsig.out")"
else
	kill $runpid 2>/dev/null; wait $runpid
	fail oci-run-exit-signal "container never running: $(head -c 300 "$TMPD/exsig.out")"
fi

new_bundle exmissing -- /bin/no-such-binary
track exmissing
if expect_rt_error oci-run-missing-binary 'no-such-binary' rt run --bundle "$BUNDLE" exmissing; then
	left=$(leftovers exmissing "$BUNDLE")
	if [ -n "$left" ]; then
		fail oci-run-missing-binary-clean "left behind: $left"
	elif rt state exmissing >/dev/null 2>&1; then
		fail oci-run-missing-binary-clean "state still answers for exmissing"
	else
		pass oci-run-missing-binary-clean
	fi
fi

# --- exec into a running container
new_bundle exe -- sleep 60
ct_create exe "$BUNDLE"
rt start exe >/dev/null 2>&1
if ! wait_status exe running 30; then
	fail oci-exec "container did not reach running: $(head -c 300 "$TMPD/exe.create")"
else
	out=$(timeout 20 "$RUNTIME" --root "$ROOT" exec exe sh -c 'echo pid=$$; cat /proc/1/cmdline | tr "\0" " "; echo; hostname' 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		fail oci-exec "exit $rc: $out"
	elif ! grep -q '^sleep 60' <<<"$out" || grep -qx 'pid=1' <<<"$out"; then
		fail oci-exec "exec did not join the container's pid namespace: $out"
	elif ! grep -qx capsule <<<"$out"; then
		fail oci-exec "exec did not join the uts namespace (hostname): $out"
	else
		pass oci-exec
	fi

	timeout 20 "$RUNTIME" --root "$ROOT" exec exe sh -c 'exit 5' >/dev/null 2>&1
	rc=$?
	[ $rc -eq 5 ] && pass oci-exec-exit-code || fail oci-exec-exit-code "exit $rc, want 5"

	# exec --process FILE with env, cwd and user from the file.
	cat >"$TMPD/proc.json" <<-'EOF'
	{ "terminal": false, "user": { "uid": 1, "gid": 1 }, "cwd": "/tmp",
	  "env": [ "PATH=/bin:/usr/bin", "FOO=bar" ],
	  "args": [ "sh", "-c", "echo $FOO $(pwd) $(id -u):$(id -g)" ] }
	EOF
	out=$(timeout 20 "$RUNTIME" --root "$ROOT" exec --process "$TMPD/proc.json" exe 2>&1)
	[ "$out" = "bar /tmp 1:1" ] && pass oci-exec-process-file ||
		fail oci-exec-process-file "got '$out', want 'bar /tmp 1:1'"

	# exec --detach --pid-file: the pid file names a process inside the container.
	rm -f "$TMPD/exec.pid"
	timeout 20 "$RUNTIME" --root "$ROOT" exec --detach --pid-file "$TMPD/exec.pid" exe sleep 30 >/dev/null 2>&1
	epid=$(cat "$TMPD/exec.pid" 2>/dev/null)
	if [[ "$epid" =~ ^[0-9]+$ ]] && [ "$(ns_inode "$epid" pid)" = "$(ns_inode "$(ct_pid exe)" pid)" ]; then
		pass oci-exec-detach
	else
		fail oci-exec-detach "pid file '$epid' does not name a process in the container"
	fi

	# ps lists both the init and the exec'd process.
	ps=$(timeout 20 "$RUNTIME" --root "$ROOT" ps --format json exe 2>&1)
	if jq_true 'index($a) != null and index($b) != null' --argjson a "$(ct_pid exe)" --argjson b "${epid:-0}" \
		<<<"$ps"; then
		pass oci-ps
	else
		fail oci-ps "ps --format json gave '$ps', want pids $(ct_pid exe) and $epid"
	fi

	# list shows the container with its status.
	list=$(timeout 20 "$RUNTIME" --root "$ROOT" list --format json 2>&1)
	if jq_true 'any(.[]; .id == "exe" and .status == "running")' <<<"$list"; then
		pass oci-list
	else
		fail oci-list "list --format json: $list"
	fi

	# pause / resume: status paused and the cgroup frozen (v1 freezer.state FROZEN, v2
	# cgroup.freeze 1), then running and thawed again.
	frz=$(cg_dir freezer "$CGPREFIX/exe")/freezer.state
	[ -e "$frz" ] || frz=/sys/fs/cgroup$CGPREFIX/exe/cgroup.freeze
	frozen() { case $(cat "$frz" 2>/dev/null) in FROZEN|1) return 0 ;; *) return 1 ;; esac; }
	thawed() { case $(cat "$frz" 2>/dev/null) in THAWED|0) return 0 ;; *) return 1 ;; esac; }
	if ! thawed; then
		fail oci-pause "before pause: $frz is '$(cat "$frz" 2>&1)', want THAWED or 0"
	elif ! rt pause exe >"$TMPD/pause.out" 2>&1; then
		fail oci-pause "exit: $(head -c 300 "$TMPD/pause.out")"
	elif [ "$(ct_state exe)" != paused ]; then
		fail oci-pause "status $(ct_state exe), want paused"
	elif ! frozen; then
		fail oci-pause "paused, but $frz is '$(cat "$frz" 2>&1)', want FROZEN or 1"
	elif ! rt resume exe >"$TMPD/resume.out" 2>&1 || [ "$(ct_state exe)" != running ]; then
		fail oci-pause "resume: status $(ct_state exe): $(head -c 300 "$TMPD/resume.out")"
	elif ! thawed; then
		fail oci-pause "resumed, but $frz is '$(cat "$frz" 2>&1)', want THAWED or 0"
	else
		pass oci-pause
	fi

	# A signal by number: sleep as pid 1 ignores TERM (no handler), so kill --all 15 ends the
	# exec'd process and leaves the init running. Then KILL by name for the init.
	ipid=$(ct_pid exe)
	if ! [[ "$epid" =~ ^[0-9]+$ ]] || ! [ -r "/proc/$epid/cmdline" ]; then
		fail oci-kill-by-number "no exec'd process to signal (pid file '$epid')"
	elif ! rt kill --all exe 15 >"$TMPD/kill15.out" 2>&1; then
		fail oci-kill-by-number "kill --all exe 15: $(head -c 300 "$TMPD/kill15.out")"
	elif ! gone "$epid"; then
		fail oci-kill-by-number "the exec'd process $epid survived kill --all 15"
	elif [ "$(ct_state exe)" != running ] || ! [ -r "/proc/$ipid/cmdline" ]; then
		fail oci-kill-by-number "status $(ct_state exe), init $ipid: want the init (ignoring TERM) still running"
	else
		pass oci-kill-by-number
	fi
	rt kill exe SIGKILL >/dev/null 2>&1
	if wait_status exe stopped; then
		pass oci-kill-by-name
	else
		fail oci-kill-by-name "status $(ct_state exe) after kill SIGKILL"
	fi
	# delete --force on a running container.
	new_bundle force -- sleep 60
	ct_create force "$BUNDLE"
	rt start force >/dev/null 2>&1
	fpid=$(ct_pid force)
	if rt delete --force force >/dev/null 2>&1 && ! rt state force >/dev/null 2>&1 &&
	   [ -z "$(leftovers force "$BUNDLE")" ] && gone "$fpid"; then
		pass oci-delete-force
	else
		fail oci-delete-force "container or process $fpid survived; left: $(leftovers force "$BUNDLE")"
	fi
	rt delete exe >/dev/null 2>&1
fi
