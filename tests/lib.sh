# Shared helpers for shell test suites. Source it; each check prints one PASS/FAIL/SKIP line.
# CAPSULE is the binary under test; B the build directory; CAPSULE_ROOT the source tree.
: "${B:=build}"
: "${CAPSULE_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${CAPSULE:=$CAPSULE_ROOT/$B/capsule}"
TMPD=$(mktemp -d /tmp/capsule-test.XXXXXX)
trap 'rm -rf "$TMPD"' EXIT

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
skip() { echo "SKIP: $1: $2"; }

# have_kvm: /dev/kvm exists and is usable by us.
have_kvm() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }

# microvm_kernel: sets KDIR to the directory holding the micro-VM kernel of scripts/kernel/build
# (bzImage, vmlinux, config): $CAPSULE_KERNEL_DIR/out when that is set, else the machine's cached
# build for the current source (scripts/kernel/cached; `make check` builds it), else build/kernel/out
# from a plain scripts/kernel/build. Returns 1 with the reason in KWHY when there is none.
microvm_kernel() {
  KWHY=
  if [ -n "${CAPSULE_KERNEL_DIR:-}" ]; then
    KDIR=$CAPSULE_KERNEL_DIR/out
    [ -s "$KDIR/bzImage" ] && return 0
    KWHY="no micro-VM kernel at $KDIR/bzImage (CAPSULE_KERNEL_DIR=$CAPSULE_KERNEL_DIR scripts/kernel/build makes it)"
    return 1
  fi
  if KDIR=$("$CAPSULE_ROOT/scripts/kernel/cached" --lookup 2>"$TMPD/kernel-lookup.err"); then
    return 0
  fi
  KDIR=$CAPSULE_ROOT/build/kernel/out
  [ -s "$KDIR/bzImage" ] && return 0
  KWHY=$(tail -n1 "$TMPD/kernel-lookup.err")
  return 1
}

# run_capture NAME TIMEOUT CMD...: runs CMD with a timeout, output in $TMPD/NAME.out,
# exit status in $RC (124 on timeout).
run_capture() {
  local name=$1 t=$2; shift 2
  timeout -k 5 "$t" "$@" >"$TMPD/$name.out" 2>&1 </dev/null
  RC=$?
  OUT="$TMPD/$name.out"
}

# expect_error NAME WANT_RC REGEX CMD...: the command fails with exactly WANT_RC and prints
# exactly one stderr line matching REGEX (the "capsule: <thing>: <reason>" convention).
expect_error() {
  local name=$1 want=$2 re=$3; shift 3
  local out="$TMPD/$name.err"
  timeout -k 5 30 "$@" >/dev/null 2>"$out" </dev/null
  local rc=$?
  local lines; lines=$(grep -vc '^capsule: warning:' "$out")
  if [ "$rc" -ne "$want" ]; then
    fail "$name" "exit status $rc, want $want; stderr: $(head -c 300 "$out")"
  elif [ "$lines" -ne 1 ]; then
    fail "$name" "want one error line, got $lines: $(head -c 300 "$out")"
  elif ! grep -v '^capsule: warning:' "$out" | grep -Eq -- "$re"; then
    fail "$name" "error line does not match /$re/: $(cat "$out")"
  else
    pass "$name"
  fi
}
