#!/usr/bin/env python3
"""Hand-made layer tars for the extractor's tests (tests/engine/layers.sh), one per kind:
  mktar.py OUT KIND [ARG]
KIND: dotdot ARG (a file at ../ARG), abs-symlink DIR (symlink "esc" -> DIR, then esc/pwned),
rel-symlink DIR (symlink "esc" -> ../../..DIR, then esc/pwned), hardlink TARGET (a hard link
"pw" to TARGET), xattr (a directory carrying forged overlay xattrs and a user one)."""
import io
import sys
import tarfile

out, kind = sys.argv[1], sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else ""
t = tarfile.open(out, "w", format=tarfile.PAX_FORMAT)


def add_file(name, data=b"pwned\n", pax=None):
    i = tarfile.TarInfo(name)
    i.size = len(data)
    i.mode = 0o644
    if pax:
        i.pax_headers = pax
    t.addfile(i, io.BytesIO(data))


def add(name, type_, linkname="", pax=None, mode=0o755):
    i = tarfile.TarInfo(name)
    i.type = type_
    i.linkname = linkname
    i.mode = mode
    if pax:
        i.pax_headers = pax
    t.addfile(i)


if kind == "dotdot":
    add_file("ok")
    add_file("../" * 8 + arg.lstrip("/"))
elif kind == "abs-symlink":
    add("esc", tarfile.SYMTYPE, arg)
    add_file("esc/pwned")
elif kind == "rel-symlink":
    add("esc", tarfile.SYMTYPE, "../" * 12 + arg.lstrip("/"))
    add_file("esc/pwned")
elif kind == "hardlink":
    add("pw", tarfile.LNKTYPE, arg)
elif kind == "xattr":
    add("d", tarfile.DIRTYPE, pax={
        "SCHILY.xattr.trusted.overlay.opaque": "y",
        "SCHILY.xattr.trusted.overlay.redirect": "/etc",
        "SCHILY.xattr.user.overlay.opaque": "y",
        "SCHILY.xattr.user.capsule-test": "kept",
    })
    add_file("d/f", b"f\n", pax={"SCHILY.xattr.trusted.overlay.metacopy": ""})
else:
    sys.exit("unknown kind " + kind)
t.close()
