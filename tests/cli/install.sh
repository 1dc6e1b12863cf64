#!/usr/bin/env bash
# make install / make uninstall with PREFIX and DESTDIR: the binary, the capsule-runtime link, the
# man pages, the bash completion and the containers.conf drop-in land under DESTDIR, work there,
# and uninstall removes every one of them (and nothing else).
source "$(dirname "$0")/../lib.sh"

D=$TMPD/dest
P=/opt/capsule-test-$$
mk() { make -s -C "$CAPSULE_ROOT" B="$B" DESTDIR="$D" PREFIX="$P" "$@" >"$TMPD/make.out" 2>&1; }
if ! mk install; then
	fail cli-install "make install: $(tail -c 400 "$TMPD/make.out")"; exit 0
fi
want=(
	"$P/bin/capsule" "$P/bin/capsule-runtime" "$P/share/man/man1/capsule.1" "$P/share/man/man1/capsule-vm.1"
	"$P/share/man/man1/capsule-oci.1" "$P/share/bash-completion/completions/capsule"
	"$P/share/bash-completion/completions/capsule-runtime" /etc/containers/containers.conf.d/50-capsule.conf
)
miss=
for f in "${want[@]}"; do [ -e "$D$f" ] || miss+=" $f"; done
[ -z "$miss" ] && pass cli-install-files || fail cli-install-files "missing under DESTDIR:$miss"
[ -e "/opt/capsule-test-$$" ] && fail cli-install-destdir "make install wrote outside DESTDIR: /opt/capsule-test-$$" ||
	pass cli-install-destdir

out=$("$D$P/bin/capsule-runtime" --version 2>&1)
[ -x "$D$P/bin/capsule" ] && [ "$(readlink "$D$P/bin/capsule-runtime")" = capsule ] && grep -q '^capsule-runtime version' <<<"$out" &&
	pass cli-install-runtime-link || fail cli-install-runtime-link "capsule-runtime --version: $out"

if command -v man >/dev/null; then
	MANPATH=$D$P/share/man MANWIDTH=80 man capsule-oci 2>"$TMPD/man.err" | grep -q 'capsule-runtime' &&
		pass cli-install-man || fail cli-install-man "man capsule-oci with MANPATH=$D$P/share/man: $(head -c 200 "$TMPD/man.err")"
else
	skip cli-install-man "man not installed (scripts/deps: man-db)"
fi
bash -c 'source "$1" && complete -p capsule-runtime' x "$D$P/share/bash-completion/completions/capsule-runtime" \
	>"$TMPD/comp.out" 2>&1 && pass cli-install-completion || fail cli-install-completion "$(head -c 200 "$TMPD/comp.out")"
grep -qx "capsule = \[\"$P/bin/capsule-runtime\"\]" "$D/etc/containers/containers.conf.d/50-capsule.conf" &&
	grep -qx '\[engine.runtimes\]' "$D/etc/containers/containers.conf.d/50-capsule.conf" && pass cli-install-podman-conf ||
	fail cli-install-podman-conf "$(cat "$D/etc/containers/containers.conf.d/50-capsule.conf" 2>&1 | head -c 300)"

# uninstall removes what install put there, and leaves a file that is not Capsule's.
echo mine >"$D$P/bin/other-tool"
if ! mk uninstall; then
	fail cli-uninstall "make uninstall: $(tail -c 400 "$TMPD/make.out")"
else
	left=$(cd "$D" && find . ! -type d ! -path "./${P#/}/bin/other-tool" | head)
	[ -z "$left" ] && [ -f "$D$P/bin/other-tool" ] && pass cli-uninstall ||
		fail cli-uninstall "left behind: $(tr '\n' ' ' <<<"$left"); other-tool $( [ -f "$D$P/bin/other-tool" ] && echo kept || echo removed)"
fi
