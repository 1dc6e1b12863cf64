#!/usr/bin/env bash
# `events` as runc has it: --stats prints one {"type":"stats","id","data"} object read from the
# container's cgroups; without it a stats event every --interval and an "oom" event when the
# OOM killer strikes, until the container stops. The field names are compared with runc's.
source "$(dirname "$0")/common.bash"
oci_require

# --- one stats object of a running container: real numbers
new_bundle evs -- sleep 30
track evs
rt run -d --bundle "$BUNDLE" evs >"$TMPD/evs.run" 2>&1 </dev/null
if ! rt events --stats evs >"$TMPD/evs.json" 2>"$TMPD/evs.err"; then
	fail oci-events-stats "events --stats: $(head -c 300 "$TMPD/evs.err")"
elif ! jq_true '.type == "stats" and .id == "evs" and .data.pids.current >= 1 and
		.data.memory.usage.usage > 0 and .data.cpu.usage.total > 0 and
		(.data.cpu.usage.percpu | length) >= 1 and (.data.memory.raw | length) > 0' "$TMPD/evs.json"; then
	fail oci-events-stats "unexpected stats: $(head -c 400 "$TMPD/evs.json")"
else
	pass oci-events-stats
fi

# --- the same names as runc's: every field runc prints for such a container, Capsule prints
# (runc leaves zero values out, Capsule keeps them: runc's set must be a subset).
keys='[paths | map(select(type == "string")) | join(".")] | unique'
if ! command -v runc >/dev/null; then
	skip oci-events-runc-fields "runc not installed"
else
	new_bundle evr -- sleep 30
	RROOT=$TMPD/runc-state
	runc --root "$RROOT" run -d --bundle "$BUNDLE" "evr-$$" >"$TMPD/evr.run" 2>&1 </dev/null
	runc --root "$RROOT" events --stats "evr-$$" >"$TMPD/evr.json" 2>&1
	runc --root "$RROOT" delete --force "evr-$$" >/dev/null 2>&1
	missing=$(jq -n -r --slurpfile r "$TMPD/evr.json" --slurpfile c "$TMPD/evs.json" \
		"(\$r[0] | $keys) - (\$c[0] | $keys) | join(\" \")" 2>&1)
	if ! jq_true '.type == "stats"' "$TMPD/evr.json"; then
		skip oci-events-runc-fields "runc events --stats gave no stats here: $(head -c 200 "$TMPD/evr.json")"
	elif [ -n "$missing" ]; then
		fail oci-events-runc-fields "fields runc has and Capsule lacks: $missing"
	else
		pass oci-events-runc-fields
	fi
fi
rt delete --force evs >/dev/null 2>&1

# --- a stream: a stats event per interval; it ends by itself when the container stops
new_bundle evi -- sleep 1
track evi
rt run -d --bundle "$BUNDLE" evi >"$TMPD/evi.run" 2>&1 </dev/null
timeout -k 2 15 "$RUNTIME" --root "$ROOT" events --interval 200ms evi >"$TMPD/evi.json" 2>"$TMPD/evi.err"
rc=$?
n=$(jq -s '[.[] | select(.type == "stats" and .id == "evi" and .data.pids.current >= 1)] | length' "$TMPD/evi.json" 2>/dev/null)
if [ $rc -ne 0 ]; then
	fail oci-events-interval "events exited $rc (124: did not end with the container): $(head -c 200 "$TMPD/evi.err")"
elif ! [ "${n:-0}" -ge 2 ]; then
	fail oci-events-interval "want >= 2 stats events in 1 s at 200ms, got ${n:-none}: $(head -c 200 "$TMPD/evi.json")"
else
	pass oci-events-interval
fi
rt delete --force evi >/dev/null 2>&1

# --- an OOM kill is reported as it happens
new_bundle evo -- sh -c 'sleep 1; head -c 268435456 /dev/zero | tail >/dev/null; sleep 1'
cfg "$BUNDLE" '.linux.resources.memory = {"limit": 16777216, "swap": 16777216}'
track evo
rt run -d --bundle "$BUNDLE" evo >"$TMPD/evo.run" 2>&1 </dev/null
timeout -k 2 30 "$RUNTIME" --root "$ROOT" events --interval 10s evo >"$TMPD/evo.json" 2>"$TMPD/evo.err"
rc=$?
if [ $rc -ne 0 ]; then
	fail oci-events-oom "events exited $rc: $(head -c 200 "$TMPD/evo.err") $(head -c 200 "$TMPD/evo.run")"
elif ! jq -s -e 'any(.[]; .type == "oom" and .id == "evo")' "$TMPD/evo.json" >/dev/null 2>&1; then
	fail oci-events-oom "no oom event: $(cut -c1-60 "$TMPD/evo.json" | tr '\n' '|')"
else
	pass oci-events-oom
fi
rt delete --force evo >/dev/null 2>&1

# --- errors: a stopped container, a bad interval
new_bundle evx -- true
ct_create evx "$BUNDLE"
rt start evx >/dev/null 2>&1
wait_status evx stopped 50
expect_rt_error oci-events-stopped "is not running" rt events --stats evx
rt delete --force evx >/dev/null 2>&1
out=$(rt events --interval soon evx 2>&1)
rc=$?
if [ $rc -eq 2 ] && [[ "$out" == *"invalid duration"* ]]; then
	pass oci-events-bad-interval
else
	fail oci-events-bad-interval "want exit 2 and 'invalid duration', got $rc: $out"
fi
