#!/usr/bin/env bash
# Managed containers (capsule run, ps, logs, exec, stop, kill, rm, wait, inspect) on an image
# imported into a private store: the image config becomes the process (Cmd, Env, WorkingDir,
# User), run's options override it, foreground runs exit with the container's status, detached
# ones are watched by their monitor (logs, exit status), ps tells the truth after the monitor is
# killed, and nothing (record, mount, cgroup, runtime state) is left after rm, --rm or a failure.
source "$(dirname "$0")/common.bash"
engine_require umoci
OCI=$TMPD/oci
if ! make_base "$OCI" >"$TMPD/base.log" 2>&1 || ! cap image import "$OCI" localhost/base:1 >/dev/null 2>"$TMPD/imp.err"; then
	fail engine-run-setup "base image: $(tail -c 300 "$TMPD/base.log" "$TMPD/imp.err")"; exit 0
fi
# A second image (its own layout, a copy) whose config has an entrypoint, a working directory, a
# user by name (in the image's own /etc/passwd and /etc/group) and env.
APP=
w=$TMPD/app
if cp -a "$OCI" "$TMPD/oci-app" && umoci unpack --image "$TMPD/oci-app:base" "$w" >/dev/null 2>&1 &&
	echo 'svc:x:1234:4321::/keep:/bin/sh' >>"$w/rootfs/etc/passwd" &&
	printf 'svcg:x:4321:\nextra:x:777:svc\n' >>"$w/rootfs/etc/group" &&
	umoci repack --image "$TMPD/oci-app:base" "$w" >/dev/null 2>&1 &&
	umoci config --image "$TMPD/oci-app:base" --config.entrypoint /bin/sh --config.entrypoint -c \
		--config.cmd 'echo app; id -u; id -g; id -G; pwd; echo $FOO $BAR' --config.workingdir /keep \
		--config.user svc --config.env BAR=baz >/dev/null 2>&1 &&
	cap image import "$TMPD/oci-app" localhost/app:1 >/dev/null 2>&1; then
	APP=localhost/app:1
fi
rm -rf "$w"

# Nothing of the store's containers is left: records, mounts, runtime state, cgroups.
leftovers() {
	local out=
	[ -n "$(ls -A "$STORE/containers" 2>/dev/null)" ] && out+=" records: $(ls "$STORE/containers" | tr '\n' ' ')"
	grep -q " $STORE/" /proc/self/mountinfo && out+=" mounts: $(awk -v s="$STORE/" 'index($5, s) == 1 {print $5}' /proc/self/mountinfo | tr '\n' ' ')"
	[ -n "$(ls -A "$STORE/oci" 2>/dev/null)" ] && out+=" runtime state: $(ls "$STORE/oci" | tr '\n' ' ')"
	local d
	for d in /sys/fs/cgroup/*/capsule-engine/* /sys/fs/cgroup/capsule-engine/*; do
		[ -d "$d" ] && grep -q . "$d/cgroup.procs" 2>/dev/null && out+=" cgroup: $d"
	done
	echo "$out"
}

# --- foreground: the image's Cmd and Env, the exit status, --rm leaves nothing
out=$(cap run --rm localhost/base:1 /bin/sh -c 'echo FOO=$FOO; cat /etc/hello; ls /d; exit 3' 2>&1)
rc=$?
[ $rc -eq 3 ] && [ "$out" = "$(printf 'FOO=bar\nhello\nnew')" ] && [ -z "$(leftovers)" ] && pass engine-run-foreground ||
	fail engine-run-foreground "exit $rc, output '$out', left:$(leftovers)"
out=$(cap run --rm localhost/base:1 2>&1 </dev/null)
rc=$?
[ $rc -eq 0 ] && pass engine-run-image-cmd || fail engine-run-image-cmd "the image's Cmd (/bin/sh, stdin empty): exit $rc: $out"

# --- the image's entrypoint, working directory, user by name (with its groups), env
if [ -n "$APP" ]; then
	out=$(cap run --rm "$APP" 2>&1)
	want=$(printf 'app\n1234\n4321\n4321 777\n/keep\nbar baz')
	[ "$out" = "$want" ] && pass engine-run-image-config || fail engine-run-image-config "got '$out', want '$want'"
	out=$(cap run --rm -e BAR=override -e NEW=1 -w / -u 42:43 --entrypoint /bin/sh "$APP" -c 'echo $BAR $NEW; id -u; id -g; pwd' 2>&1)
	want=$(printf 'override 1\n42\n43\n/')
	[ "$out" = "$want" ] && pass engine-run-overrides || fail engine-run-overrides "got '$out', want '$want'"
	out=$(cap run --rm -u nosuch "$APP" 2>&1)
	rc=$?
	[ $rc -ne 0 ] && [ "$out" = "capsule: user nosuch: not in the image's /etc/passwd" ] && [ -z "$(leftovers)" ] &&
		pass engine-run-bad-user || fail engine-run-bad-user "exit $rc: $out; left:$(leftovers)"
else
	for c in engine-run-image-config engine-run-overrides engine-run-bad-user; do fail $c "the app image was not made"; done
fi

# --- --env-file: docker's format (KEY=VALUE, KEY from the caller, comments, blanks), -e wins
printf '# settings\nA=from-file\n\n  B=two words\nFROMCALLER\nUNSETVAR\nC=x=y\n' >"$TMPD/a.env"
printf 'B=second-file\nD=d\n' >"$TMPD/b.env"
out=$(FROMCALLER=caller-value; export FROMCALLER; unset UNSETVAR
	cap run --rm --env-file "$TMPD/a.env" --env-file "$TMPD/b.env" -e D=from-e localhost/base:1 \
	/bin/sh -c 'echo "$A|$B|$FROMCALLER|${UNSETVAR-unset}|$C|$D|$FOO"' 2>&1)
[ "$out" = "from-file|second-file|caller-value|unset|x=y|from-e|bar" ] && pass engine-run-env-file ||
	fail engine-run-env-file "got '$out'"
printf 'A=1\n# fine\nBAD KEY=1\n' >"$TMPD/bad.env"
out=$(cap run --rm --env-file "$TMPD/bad.env" localhost/base:1 true 2>&1)
rc=$?
[ $rc -eq 2 ] && [ "$out" = "capsule: $TMPD/bad.env:3: variable 'BAD KEY' contains a blank" ] && [ -z "$(leftovers)" ] &&
	pass engine-run-env-file-bad || fail engine-run-env-file-bad "exit $rc: '$out'; left:$(leftovers)"
out=$(cap run --rm --env-file "$TMPD/none.env" localhost/base:1 true 2>&1)
rc=$?
[ $rc -eq 2 ] && [ "$out" = "capsule: env file $TMPD/none.env: No such file or directory" ] && pass engine-run-env-file-missing ||
	fail engine-run-env-file-missing "exit $rc: '$out'"

# --- a kept container: ps -a shows it exited with its code; names are unique; rm removes it
cap run --name kept localhost/base:1 /bin/sh -c 'exit 5' >/dev/null 2>&1
line=$(cap ps -a | grep ' kept$')
[[ "$line" == *"exited (5)"* ]] && [ -z "$(cap ps -q)" ] && pass engine-ps-exited || fail engine-ps-exited "ps -a: '$line'; ps: '$(cap ps -q)'"
out=$(cap run --name kept localhost/base:1 true 2>&1)
rc=$?
[ $rc -eq 1 ] && [[ "$out" == "capsule: container name kept: already in use by "* ]] && pass engine-name-unique ||
	fail engine-name-unique "exit $rc: $out"
code=$(cap inspect kept | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["exit_code"])' 2>&1)
[ "$code" = 5 ] && pass engine-inspect || fail engine-inspect "exit_code '$code'"
cap rm kept >/dev/null 2>&1
[ -z "$(leftovers)" ] && [ -z "$(cap ps -aq)" ] && pass engine-rm || fail engine-rm "left:$(leftovers)"

# --- detached: logs keep stdout and stderr apart, exec, wait, stop (TERM honoured, then KILL)
id=$(cap run -d --name d1 localhost/base:1 /bin/sh -c 'echo out1; echo err1 >&2; trap "echo got-term; exit 0" TERM; while :; do sleep 0.1; done' 2>"$TMPD/d.err")
rc=$?
sleep 0.5
st=$(cap ps --format json | python3 -c 'import json,sys; print(" ".join(c["name"] + ":" + c["state"] for c in json.load(sys.stdin)))' 2>&1)
[ $rc -eq 0 ] && [[ "$id" =~ ^[0-9a-f]{64}$ ]] && [ "$st" = "d1:running" ] && pass engine-run-detach ||
	fail engine-run-detach "exit $rc, id '$id', ps '$st': $(cat "$TMPD/d.err")"
o=$(cap logs d1 2>/dev/null) e=$(cap logs d1 2>&1 >/dev/null)
[ "$o" = out1 ] && [ "$e" = err1 ] && pass engine-logs || fail engine-logs "stdout '$o', stderr '$e'"
grep -q '"stream":"stderr","log":"err1\\n"' "$STORE/containers/$id/ctr.log" 2>/dev/null && grep -q '"time":"20' "$STORE/containers/$id/ctr.log" &&
	pass engine-logs-json || fail engine-logs-json "$(head -c 300 "$STORE/containers/$id/ctr.log" 2>&1)"
out=$(cap exec -e X=1 d1 /bin/sh -c 'echo in-exec $X; exit 4' 2>&1)
rc=$?
[ $rc -eq 4 ] && [ "$out" = "in-exec 1" ] && pass engine-exec || fail engine-exec "exit $rc: $out"
(cap wait d1 >"$TMPD/wait.out" 2>&1) &
wp=$!
s0=$(date +%s%N)
cap stop -t 20 d1 >/dev/null 2>&1
ms=$(( ($(date +%s%N) - s0) / 1000000 ))
wait $wp
code=$(cap inspect d1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["exit_code"])' 2>&1)
[ "$code" = 0 ] && [ "$(cat "$TMPD/wait.out")" = 0 ] && [ $ms -lt 15000 ] && cap logs d1 2>/dev/null | grep -qx got-term &&
	pass engine-stop-term || fail engine-stop-term "exit code '$code', wait '$(cat "$TMPD/wait.out")', $ms ms, logs: $(cap logs d1 2>&1 | tr '\n' ' ')"
cap run -d --name d2 localhost/base:1 /bin/sh -c 'trap "" TERM; while :; do sleep 0.1; done' >/dev/null 2>&1
sleep 0.3
cap stop -t 1 d2 >/dev/null 2>&1
line=$(cap ps -a | grep ' d2$')
[[ "$line" == *"exited (137)"* ]] && pass engine-stop-kill || fail engine-stop-kill "ps: '$line'"
out=$(cap logs -f d2 2>&1; echo "rc=$?")
[ "$out" = "rc=0" ] && pass engine-logs-follow-ends || fail engine-logs-follow-ends "logs -f of an exited container: $out"

# --- rm of a running container needs -f; rm -f kills it and leaves nothing
cap run -d --name d3 localhost/base:1 /bin/busybox sleep 300 >/dev/null 2>&1
out=$(cap rm d3 2>&1)
rc=$?
[ $rc -eq 1 ] && [ "$out" = "capsule: container d3: running (stop it first, or rm -f)" ] && pass engine-rm-running-refused ||
	fail engine-rm-running-refused "exit $rc: $out"
cap rm -f d3 >/dev/null 2>&1
cap rm d1 d2 >/dev/null 2>&1
[ -z "$(leftovers)" ] && [ -z "$(cap ps -aq)" ] && pass engine-rm-force || fail engine-rm-force "left:$(leftovers); ps: $(cap ps -aq)"

# --- the monitor killed: ps still says running while the container runs, exited (unknown) after
id=$(cap run -d --name m1 localhost/base:1 /bin/busybox sleep 300 2>/dev/null)
mon=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["monitor_pid"])' "$STORE/containers/$id/instance.json" 2>/dev/null)
pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$STORE/containers/$id/instance.json" 2>/dev/null)
kill -9 "$mon" 2>/dev/null
sleep 0.2
s1=$(cap ps -a | grep ' m1$')
kill -9 "$pid" 2>/dev/null
sleep 0.5
s2=$(cap ps -a | grep ' m1$')
[[ "$s1" == *" running "* ]] && [[ "$s2" == *"exited (unknown)"* ]] && pass engine-ps-truth ||
	fail engine-ps-truth "monitor $mon killed: '$s1'; container $pid killed: '$s2'"
cap rm -f m1 >/dev/null 2>&1
[ -z "$(leftovers)" ] && pass engine-rm-orphan || fail engine-rm-orphan "left:$(leftovers)"

# --- volumes, network, limits
mkdir -p "$TMPD/vol" && echo from-host >"$TMPD/vol/f"
out=$(cap run --rm -v "$TMPD/vol:/mnt/v:ro" localhost/base:1 /bin/sh -c 'cat /mnt/v/f; { echo x >/mnt/v/g; } 2>/dev/null && echo wrote' 2>&1)
[ "$out" = from-host ] && [ ! -e "$TMPD/vol/g" ] && pass engine-volume-ro || fail engine-volume-ro "$out"
out=$(cap run --rm -v "$TMPD/vol:/mnt/v" localhost/base:1 /bin/sh -c 'echo x >/mnt/v/g' 2>&1)
[ -f "$TMPD/vol/g" ] && pass engine-volume-rw || fail engine-volume-rw "$out"
n_none=$(cap run --rm localhost/base:1 /bin/sh -c 'ls /sys/class/net | wc -l' 2>&1)
n_host=$(cap run --rm --network host localhost/base:1 /bin/sh -c 'ls /sys/class/net | wc -l' 2>&1)
[ "$n_none" = 1 ] && [ "$n_host" = "$(ls /sys/class/net | wc -l)" ] && pass engine-network ||
	fail engine-network "interfaces: none '$n_none', host '$n_host' (host has $(ls /sys/class/net | wc -l))"
id=$(cap run -d --memory 64m --pids-limit 50 localhost/base:1 /bin/busybox sleep 30 2>&1)
sleep 0.3
mem=$(cat /sys/fs/cgroup/memory/capsule-engine/$id/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/capsule-engine/$id/memory.max 2>/dev/null)
pids=$(cat /sys/fs/cgroup/pids/capsule-engine/$id/pids.max 2>/dev/null || cat /sys/fs/cgroup/capsule-engine/$id/pids.max 2>/dev/null)
[ "$mem" = 67108864 ] && [ "$pids" = 50 ] && pass engine-limits || fail engine-limits "memory '$mem', pids '$pids'"
cap rm -f "$id" >/dev/null 2>&1

# --- failures: one line, nothing left
for c in "nosuch:1 true|capsule: image 'nosuch:1': no such image" "-v /nonexistent-$$:/x localhost/base:1 true|capsule: volume /nonexistent-$$: No such file or directory" \
	"--memory lots localhost/base:1 true|capsule: memory 'lots': want a size (64m, 1g)"; do
	args=${c%%|*} want=${c#*|}
	# shellcheck disable=SC2086
	out=$(cap run $args 2>&1)
	rc=$?
	[ $rc -ne 0 ] && [ "$(grep -c . <<<"$out")" = 1 ] && [[ "$out" == "$want"* ]] && [ -z "$(leftovers)" ] &&
		pass "engine-run-error-$(cut -d' ' -f1 <<<"$args" | tr -d -)" ||
		fail "engine-run-error-$(cut -d' ' -f1 <<<"$args" | tr -d -)" "exit $rc: '$out' (want '$want...'); left:$(leftovers)"
done

# --- an image removed while a container uses it: its layer stays (prune too) until the container goes
mkdir -p "$TMPD/uniq/bin" && cp /bin/busybox "$TMPD/uniq/bin/" && echo "$$-$RANDOM" >"$TMPD/uniq/marker" &&
	tar -C "$TMPD/uniq" -cf "$TMPD/uniq.tar" . && cap image import "$TMPD/uniq.tar" uniq:1 >/dev/null 2>&1
n0=$(ls "$STORE/layers" | wc -l)
cap run --name usesuniq uniq:1 /bin/busybox true >/dev/null 2>&1
cap image rm uniq:1 >/dev/null 2>&1
cap image prune >/dev/null 2>&1
n1=$(ls "$STORE/layers" | wc -l)
cap rm usesuniq >/dev/null 2>&1
cap image prune >/dev/null 2>&1
n2=$(ls "$STORE/layers" | wc -l)
[ "$n1" = "$n0" ] && [ "$n2" = $((n0 - 1)) ] && pass engine-gc-keeps-used-layers ||
	fail engine-gc-keeps-used-layers "layers: $n0 with the image, $n1 after image rm + prune (container kept), $n2 after rm + prune"

# --- the bridge network: an address, NAT to a server in another network namespace, -p on loopback
if ! command -v nft >/dev/null || ! command -v ip >/dev/null || ! command -v socat >/dev/null || ! command -v curl >/dev/null; then
	for c in engine-net-bridge engine-net-nat engine-net-publish engine-net-cleanup; do skip $c "needs nft, ip, socat and curl"; done
else
	out=$(cap run --rm --network bridge localhost/base:1 /bin/busybox sh -c \
		'/bin/busybox ip -4 addr show eth0 | /bin/busybox grep -o "inet 10\.88\.[0-9.]*"; /bin/busybox ip route | /bin/busybox grep default; /bin/busybox ping -c1 -W5 10.88.0.1 >/dev/null && echo gw-ok' 2>&1)
	[[ "$out" == "inet 10.88."*"default via 10.88.0.1 dev eth0"*"gw-ok" ]] && pass engine-net-bridge || fail engine-net-bridge "$out"
	# A "remote" server: a network namespace of its own behind a veth; it sees the host's address
	# (masquerade), never the container's.
	ns=capsrv$$ n=$(( $$ % 200 + 20 ))
	if ip netns add $ns 2>/dev/null && ip link add csh$$ type veth peer name csn$$ && ip link set csn$$ netns $ns &&
		ip addr add 10.214.$n.1/24 dev csh$$ && ip link set csh$$ up &&
		ip -n $ns addr add 10.214.$n.2/24 dev csn$$ && ip -n $ns link set csn$$ up && ip -n $ns link set lo up &&
		ip -n $ns route add default via 10.214.$n.1; then
		ip netns exec $ns socat TCP-LISTEN:9999,reuseaddr SYSTEM:'echo "peer=$SOCAT_PEERADDR"' &
		srv=$!
		sleep 0.3
		out=$(cap run --rm --network bridge localhost/base:1 /bin/busybox sh -c "/bin/busybox nc -w 5 10.214.$n.2 9999 </dev/null" 2>&1)
		kill $srv 2>/dev/null; wait $srv 2>/dev/null
		[ "$out" = "peer=10.214.$n.1" ] && pass engine-net-nat || fail engine-net-nat "the server saw '$out', want peer=10.214.$n.1 (NAT)"
	else
		fail engine-net-nat "could not make the server's network namespace"
	fi
	ip link del csh$$ 2>/dev/null; ip netns del $ns 2>/dev/null
	mkdir -p "$TMPD/www" && echo served-by-capsule >"$TMPD/www/index.html"
	port=$(( 20000 + $$ % 20000 ))
	id=$(cap run -d -p 127.0.0.1:$port:80 -v "$TMPD/www:/www:ro" localhost/base:1 /bin/busybox httpd -f -p 80 -h /www 2>&1)
	got=
	for _ in $(seq 30); do got=$(curl -s -m 2 "http://127.0.0.1:$port/index.html") && [ -n "$got" ] && break; sleep 0.1; done
	[ "$got" = served-by-capsule ] && pass engine-net-publish || fail engine-net-publish "curl 127.0.0.1:$port: '$got' ($id)"
	cap rm -f "$id" >/dev/null 2>&1
	left=$(nft list map ip capsule ports_ip 2>/dev/null | grep -c " $port :")
	veths=$(ip -o link show | grep -c ": cap${id:0:8}")
	lease=$(grep -c "$id" "$STORE/network.json" 2>/dev/null)
	[ "$left" = 0 ] && [ "$veths" = 0 ] && [ "$lease" = 0 ] && [ -z "$(leftovers)" ] && pass engine-net-cleanup ||
		fail engine-net-cleanup "port elements $left, veths $veths, lease $lease, left:$(leftovers)"
fi
