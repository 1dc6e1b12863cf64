#!/usr/bin/env bash
# capsule login / logout and authenticated pull and push against the real docker-registry on
# 127.0.0.1: basic auth (its htpasswd backend, a bcrypt file) over plain HTTP and over HTTPS
# (a self-signed certificate made here, trusted through SSL_CERT_FILE), and bearer tokens (its
# token backend, with tests/engine/tokenserver.py signing the JWTs it verifies). Wrong
# passwords, missing credentials and a logged-out registry each fail with one line.
source "$(dirname "$0")/common.bash"
engine_require umoci skopeo docker-registry python3 jq openssl
C=("$CAPSULE" --root "$STORE")
HERE=$(cd "$(dirname "$0")" && pwd)

# bcrypt, which the registry's htpasswd backend requires: python's crypt, else apache's htpasswd
bcrypt() {
	python3 -W ignore -c 'import crypt, sys; h = crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)); sys.exit(0 if h and h.startswith("$2") else 1); ' "$1" 2>/dev/null &&
		python3 -W ignore -c 'import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))' "$1" 2>/dev/null && return 0
	command -v htpasswd >/dev/null && htpasswd -nbB x "$1" | cut -d: -f2-
}
hash=$(bcrypt s3cret)
if [ -z "$hash" ]; then
	skip engine-registry-auth "no bcrypt on this machine (python3 crypt or htpasswd from apache2-utils)"; exit 0
fi
echo "alice:$hash" >"$TMPD/htpasswd"

OCI=$TMPD/oci
if ! make_base "$OCI" >"$TMPD/base.log" 2>&1; then
	fail engine-base-image "umoci could not make the base image: $(tail -c 300 "$TMPD/base.log")"; exit 0
fi

freeport() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
waitport() { for ((i = 0; i < 100; i++)); do python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
pids=
trap 'kill $pids 2>/dev/null; wait 2>/dev/null; rm -rf "$TMPD"' EXIT
# registry NAME PORT AUTH-YAML [TLS-YAML]
registry() {
	cat >"$TMPD/$1.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $TMPD/$1-data
http:
  addr: 127.0.0.1:$2
$4
auth:
$3
YML
	docker-registry serve "$TMPD/$1.yml" >"$TMPD/$1.log" 2>&1 &
	pids="$pids $!"
	waitport "$2"
}

# ---------- basic auth, plain HTTP
bp=$(freeport)
RB=127.0.0.1:$bp
registry basic "$bp" "  htpasswd:
    realm: capsule-test
    path: $TMPD/htpasswd"
if ! skopeo copy -q --dest-tls-verify=false --dest-creds alice:s3cret "oci:$OCI:base" "docker://$RB/test/base:1" 2>"$TMPD/err"; then
	fail engine-registry-auth-fill "skopeo copy to the htpasswd registry: $(tail -c 300 "$TMPD/err") $(tail -c 300 "$TMPD/basic.log")"
	exit 0
fi
want=$(skopeo inspect --tls-verify=false --creds alice:s3cret --format '{{.Digest}}' "docker://$RB/test/base:1")
AUTH=$STORE/auth.json

expect_error engine-pull-basic-no-login 1 "$RB/test/base:1: $RB wants a login \(HTTP 401\): capsule login $RB" \
	"${C[@]}" pull "$RB/test/base:1"
echo wrong >"$TMPD/wrong"
expect_error engine-login-basic-wrong-password 1 "login $RB: $RB refused the login of 'alice' \(HTTP 401\)$" \
	sh -c '"$@" <"'"$TMPD/wrong"'"' _ "${C[@]}" login -u alice --password-stdin "$RB"
[ ! -s "$AUTH" ] || [ "$(jq -r ".auths[\"$RB\"] // empty" "$AUTH")" = "" ] && pass engine-login-wrong-stores-nothing ||
	fail engine-login-wrong-stores-nothing "$(cat "$AUTH")"
expect_error engine-login-no-password 2 "login $RB: no password: give --password-stdin" "${C[@]}" login -u alice "$RB"

out=$(echo s3cret | "${C[@]}" login -u alice --password-stdin "$RB" 2>&1)
if [ "$out" != "Login Succeeded!" ]; then
	fail engine-login-basic "$out"
elif [ "$(stat -c %a "$AUTH")" != 600 ]; then
	fail engine-login-basic "auth file mode $(stat -c %a "$AUTH")"
elif [ "$(jq -r ".auths[\"$RB\"].auth" "$AUTH" | base64 -d)" != alice:s3cret ]; then
	fail engine-login-basic "auth file: $(cat "$AUTH")"
else
	pass engine-login-basic
fi
# the file is podman's and skopeo's format: skopeo logs in with it
if skopeo inspect --tls-verify=false --authfile "$AUTH" --format '{{.Digest}}' "docker://$RB/test/base:1" 2>"$TMPD/err" | grep -qx "$want"; then
	pass engine-login-authfile-skopeo
else
	fail engine-login-authfile-skopeo "skopeo --authfile: $(tail -c 300 "$TMPD/err")"
fi

id=$("${C[@]}" pull "$RB/test/base:1" 2>"$TMPD/err")
[ "$id" = "$want" ] && pass engine-pull-basic || fail engine-pull-basic "id '$id', skopeo says $want: $(cat "$TMPD/err")"
pid=$("${C[@]}" push "$RB/test/base:1" "$RB/test/pushed:2" 2>"$TMPD/err")
if [ "$pid" = "$want" ] &&
	[ "$(skopeo inspect --tls-verify=false --creds alice:s3cret --format '{{.Digest}}' "docker://$RB/test/pushed:2" 2>&1)" = "$want" ]; then
	pass engine-push-basic
else
	fail engine-push-basic "'$pid': $(cat "$TMPD/err")"
fi
# a password changed on the registry's side: the stored one is refused, with one line
echo "alice:$(bcrypt other)" >"$TMPD/htpasswd"
sleep 1   # the htpasswd backend rereads the file when its modification time changes
expect_error engine-pull-basic-refused 1 "$RB/test/base:1: $RB refused the login of 'alice' \(HTTP 401\): capsule login $RB" \
	"$CAPSULE" --root "$TMPD/store-refused" pull --authfile "$AUTH" "$RB/test/base:1"
echo "alice:$hash" >"$TMPD/htpasswd"

out=$("${C[@]}" logout "$RB" 2>&1)
[ "$out" = "Removed login credentials for $RB" ] && [ "$(jq -r ".auths | length" "$AUTH")" = 0 ] &&
	pass engine-logout || fail engine-logout "$out: $(cat "$AUTH")"
expect_error engine-pull-logged-out 1 "$RB wants a login \(HTTP 401\): capsule login $RB" "$CAPSULE" --root "$TMPD/store2" pull --authfile "$AUTH" "$RB/test/base:1"
expect_error engine-logout-again 1 "logout $RB: not logged in \(no credentials for it in $AUTH\)" "${C[@]}" logout "$RB"
# $REGISTRY_AUTH_FILE, as podman's
echo s3cret | REGISTRY_AUTH_FILE=$TMPD/env-auth.json "${C[@]}" login -u alice --password-stdin "$RB" >/dev/null 2>&1
[ "$(jq -r ".auths[\"$RB\"].auth" "$TMPD/env-auth.json" 2>/dev/null | base64 -d 2>/dev/null)" = alice:s3cret ] &&
	pass engine-login-env-authfile || fail engine-login-env-authfile "$(cat "$TMPD/env-auth.json" 2>&1)"

# ---------- basic auth over HTTPS: a certificate for 127.0.0.1, trusted through SSL_CERT_FILE
sp=$(freeport)
RS=127.0.0.1:$sp
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMPD/tls.key" -out "$TMPD/tls.crt" -days 2 \
	-subj /CN=capsule-test -addext subjectAltName=IP:127.0.0.1 2>/dev/null
registry tls "$sp" "  htpasswd:
    realm: capsule-test
    path: $TMPD/htpasswd" "  tls:
    certificate: $TMPD/tls.crt
    key: $TMPD/tls.key"
if SSL_CERT_FILE=$TMPD/tls.crt skopeo copy -q --dest-creds alice:s3cret --dest-cert-dir "$TMPD/nocerts" "oci:$OCI:base" "docker://$RS/test/base:1" 2>"$TMPD/err" ||
	skopeo copy -q --dest-tls-verify=false --dest-creds alice:s3cret "oci:$OCI:base" "docker://$RS/test/base:1" 2>"$TMPD/err"; then
	expect_error engine-login-tls-untrusted 1 "login $RS: 127.0.0.1: TLS: the certificate is not trusted: self-signed certificate" \
		sh -c 'echo s3cret | "$@"' _ "${C[@]}" login --tls-verify=true -u alice --password-stdin "$RS"
	out=$(echo s3cret | SSL_CERT_FILE=$TMPD/tls.crt "${C[@]}" login --tls-verify=true -u alice --password-stdin "$RS" 2>&1)
	[ "$out" = "Login Succeeded!" ] && pass engine-login-tls || fail engine-login-tls "$out"
	id=$(SSL_CERT_FILE=$TMPD/tls.crt "$CAPSULE" --root "$TMPD/store-tls" pull --authfile "$AUTH" --tls-verify=true "$RS/test/base:1" 2>"$TMPD/err")
	[ "$id" = "$want" ] && pass engine-pull-tls || fail engine-pull-tls "'$id': $(cat "$TMPD/err")"
	# plain HTTP to a TLS port is no answer
	expect_error engine-pull-tls-plain 1 "$RS" "$CAPSULE" --root "$TMPD/store-tls2" pull --authfile "$AUTH" "$RS/test/base:1"
else
	fail engine-registry-tls-fill "skopeo copy to the HTTPS registry: $(tail -c 300 "$TMPD/err") $(tail -c 300 "$TMPD/tls.log")"
fi

# ---------- bearer tokens: the registry's token backend, tokenserver.py signing them
tp=$(freeport)
kp=$(freeport)
RT=127.0.0.1:$tp
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMPD/tok.key" -out "$TMPD/tok.crt" -days 2 -subj /CN=capsule-test-token 2>/dev/null
python3 "$HERE/tokenserver.py" "$kp" "$TMPD/tok.key" "$TMPD/tok.crt" capsule-test-issuer alice:s3cret "$TMPD/tokens.log" 2>"$TMPD/ts.err" &
pids="$pids $!"
waitport "$kp"
registry token "$tp" "  token:
    realm: http://127.0.0.1:$kp/token
    service: capsule-test-registry
    issuer: capsule-test-issuer
    rootcertbundle: $TMPD/tok.crt"
if ! skopeo copy -q --dest-tls-verify=false --dest-creds alice:s3cret "oci:$OCI:base" "docker://$RT/test/base:1" 2>"$TMPD/err"; then
	fail engine-registry-token-fill "skopeo copy to the token registry: $(tail -c 300 "$TMPD/err") $(tail -c 300 "$TMPD/token.log")"
	exit 0
fi
TS=$TMPD/store-token
T=("$CAPSULE" --root "$TS")
expect_error engine-pull-bearer-no-login 1 "$RT/test/base:1: $RT wants a login \(HTTP 401, insufficient_scope for repository:test/base:pull\): capsule login $RT" \
	"${T[@]}" pull "$RT/test/base:1"
expect_error engine-login-bearer-wrong-password 1 "login $RT: $RT refused the login of 'alice' \(the token service 127.0.0.1:$kp: HTTP 401\)$" \
	sh -c '"$@" <"'"$TMPD/wrong"'"' _ "${T[@]}" login -u alice --password-stdin "$RT"
out=$(echo s3cret | "${T[@]}" login -u alice --password-stdin "$RT" 2>&1)
[ "$out" = "Login Succeeded!" ] && pass engine-login-bearer || fail engine-login-bearer "$out"
: >"$TMPD/tokens.log"
id=$("${T[@]}" pull "$RT/test/base:1" 2>"$TMPD/err")
[ "$id" = "$want" ] && grep -q '^TOKEN alice repository:test/base:pull$' "$TMPD/tokens.log" &&
	pass engine-pull-bearer || fail engine-pull-bearer "'$id': $(cat "$TMPD/err"); tokens: $(cat "$TMPD/tokens.log")"
# a push needs push access: a second token, for the new scope
: >"$TMPD/tokens.log"
pid=$("${T[@]}" push "$RT/test/base:1" "$RT/test/pushed:3" 2>"$TMPD/err")
if [ "$pid" != "$want" ] ||
	[ "$(skopeo inspect --tls-verify=false --creds alice:s3cret --format '{{.Digest}}' "docker://$RT/test/pushed:3" 2>&1)" != "$want" ]; then
	fail engine-push-bearer "'$pid': $(cat "$TMPD/err")"
elif ! grep -q '^TOKEN alice repository:test/pushed:pull,push$' "$TMPD/tokens.log"; then
	fail engine-push-bearer "no token for the push scope: $(cat "$TMPD/tokens.log")"
else
	pass engine-push-bearer
fi
"${T[@]}" logout "$RT" >/dev/null
expect_error engine-pull-bearer-logged-out 1 "$RT wants a login" "$CAPSULE" --root "$TMPD/store-token2" pull --authfile "$TS/auth.json" "$RT/test/base:1"
