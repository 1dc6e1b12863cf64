#!/usr/bin/env python3
"""A TCP proxy for tests/engine/registry.sh: cutproxy.py LISTEN_PORT TARGET_PORT LOG MODE
MODE cut: the first blob response (to a GET without a Range header) longer than 64 KiB is
cut off there (the client must resume with Range); every request line and Range header goes to LOG.
MODE slow: responses trickle (8 KiB every 50 ms), so that a pull can be killed half-way.
Each blob GET logs "START time path" and, once its response is through, "END time path"."""
import socket
import sys
import threading
import time

listen_port, target_port, log, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
cut_done = threading.Event()
lock = threading.Lock()


def note(line):
    with lock, open(log, "a") as f:
        f.write(line + "\n")


def handle(client):
    server = socket.create_connection(("127.0.0.1", target_port))
    req = b""
    while b"\r\n\r\n" not in req:
        d = client.recv(65536)
        if not d:
            break
        req += d
    head = req.split(b"\r\n\r\n")[0].decode("latin-1")
    first = head.split("\r\n")[0]
    has_range = any(h.lower().startswith("range:") for h in head.split("\r\n")[1:])
    note(first + (" RANGE" if has_range else ""))
    cut = mode == "cut" and "/blobs/sha256:" in first and first.startswith("GET") and not has_range
    server.sendall(req)
    blob = "/blobs/sha256:" in first and first.startswith("GET")
    if blob:
        note("START %.3f %s" % (time.time(), first.split()[1]))

    def upstream():
        try:
            while True:
                d = client.recv(65536)
                if not d:
                    break
                server.sendall(d)
        except OSError:
            pass
    threading.Thread(target=upstream, daemon=True).start()
    sent = 0
    try:
        while True:
            d = server.recv(8192 if mode == "slow" else 65536)
            if not d:
                break
            if cut and sent + len(d) > 65536 and not cut_done.is_set():
                cut_done.set()
                client.sendall(d[:65536 - sent])
                note("CUT " + first)
                break
            client.sendall(d)
            sent += len(d)
            if mode == "slow":
                time.sleep(0.05)
    except OSError:
        pass
    if blob:
        note("END %.3f %s" % (time.time(), first.split()[1]))
    for s in (client, server):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", listen_port))
ls.listen(16)
while True:
    c, _ = ls.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
