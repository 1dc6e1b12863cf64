#!/usr/bin/env python3
"""A token server of the docker registry token protocol, for tests/engine/registry.sh:
tokenserver.py PORT KEY.pem CERT.pem ISSUER USER:PASSWORD LOG

GET /token?service=S&scope=repository:NAME:ACTIONS[&scope=...] with basic credentials: a wrong
user or password is a 401; the right ones get a JWT (RS256, signed with KEY by the openssl
command, the signing certificate in its x5c header, which the registry trusts through its
rootcertbundle) granting every action asked for; no credentials get a token granting nothing.
Each request is logged as "TOKEN user|- scope scope..." to LOG."""
import base64
import http.server
import json
import os
import subprocess
import sys
import time
import urllib.parse

port, key, cert, issuer, cred, log = sys.argv[1:7]
user, password = cred.split(":", 1)
der = "".join(l for l in open(cert).read().splitlines() if l and not l.startswith("-----"))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def sign(claims):
    head = b64url(json.dumps({"typ": "JWT", "alg": "RS256", "x5c": [der]}).encode())
    body = b64url(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=(head + "." + body).encode(),
                         capture_output=True, check=True).stdout
    return head + "." + body + "." + b64url(sig)


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        who = "-"
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                got = base64.b64decode(auth[6:]).decode()
            except Exception:
                got = ""
            if got != user + ":" + password:
                with open(log, "a") as f:
                    f.write("TOKEN refused %s\n" % " ".join(q.get("scope", [])))
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"details":"wrong user name or password"}')
                return
            who = user
        access = []
        for sc in q.get("scope", []):
            for one in sc.split(" "):
                parts = one.split(":")
                if len(parts) >= 3 and who != "-":
                    access.append({"type": parts[0], "name": ":".join(parts[1:-1]),
                                   "actions": parts[-1].split(",")})
        with open(log, "a") as f:
            f.write("TOKEN %s %s\n" % (who, " ".join(q.get("scope", [])) or "(none)"))
        now = int(time.time())
        tok = sign({"iss": issuer, "sub": who if who != "-" else "", "aud": q.get("service", [""])[0],
                    "exp": now + 300, "nbf": now - 10, "iat": now, "jti": b64url(os.urandom(12)),
                    "access": access})
        body = json.dumps({"token": tok, "access_token": tok, "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()
