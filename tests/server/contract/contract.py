# contract.py
#
# Copyright 2026 The Eider Authors
#
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared helpers for the eider-test-server contract suite.

Everything here talks raw HTTP (http.client) to the server under test and
does its own crypto (python3-nacl, hashlib, pow()).  Nothing from Eider's
client code is used, so the suite checks the server independently.

Section numbers in comments refer to /work/shared/spec/ente-server.md
("server §x"), ente-auth.md ("auth §x") and ente-upload.md ("upload §x").
"""

import base64
import hashlib
import http.client
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

from nacl.public import PrivateKey, SealedBox
from nacl.secret import SecretBox
from nacl.utils import random as nacl_random

PACKAGE = "io.github.eiderapp.Eider"
FIXED_OTT = "123456"
GIB = 1024 * 1024 * 1024
MIB = 1024 * 1024

# ---------------------------------------------------------------- encodings


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    return base64.b64decode(text, validate=True)


def b64url(data):
    return base64.urlsafe_b64encode(data).decode("ascii")


def md5_b64(data):
    return b64(hashlib.md5(data).digest())


def now_us():
    return int(time.time() * 1000000)


def unique_email(tag="user"):
    return "%s-%s@example.org" % (tag, uuid.uuid4().hex[:12])


# ---------------------------------------------------------------- SRP (auth §4.3)

N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7"
    "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8"
    "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2"
    "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9"
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF")
N = int(N_HEX, 16)
G = 5
NLEN = 512


def H(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def pad(n):
    return n.to_bytes(NLEN, "big")


def to_int(b):
    return int.from_bytes(b, "big")


SRP_K = to_int(H(pad(N), pad(G)))


def srp_x(salt, identity, password):
    return to_int(H(salt, H(identity + b":" + password)))


def srp_verifier(salt, identity, password):
    return pow(G, srp_x(salt, identity, password), N)


class SrpClient:
    """SRP-6a client with Ente's node-srp style M1/M2 (auth §4.3)."""

    def __init__(self, identity, salt, password, a=None):
        self.identity = identity
        self.salt = salt
        self.password = password
        self.a = a if a is not None else to_int(os.urandom(32))
        self.A = pow(G, self.a, N)
        self.M1 = None
        self.K = None

    def srp_a(self):
        return pad(self.A)

    def process_b(self, b_bytes):
        B = to_int(b_bytes)
        if B % N == 0:
            raise ValueError("B mod N == 0")
        u = to_int(H(pad(self.A), pad(B)))
        x = srp_x(self.salt, self.identity, self.password)
        base = (B - SRP_K * pow(G, x, N)) % N
        S = pow(base, self.a + u * x, N)
        self.K = H(pad(S))
        self.M1 = H(pad(self.A), pad(B), pad(S))
        return self.M1

    def expected_m2(self):
        return H(pad(self.A), self.M1, self.K)


# ---------------------------------------------------------------- HTTP


class Response:
    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed = elapsed

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<HTTP %d %r>" % (self.status, self.body[:300])


def raw_request(method, url, body=None, headers=None, timeout=60):
    """One request on a fresh connection; never follows redirects."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80,
                                      timeout=timeout)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    hdrs = dict(headers or {})
    if body is not None and not any(k.lower() == "content-length" for k in hdrs):
        hdrs["Content-Length"] = str(len(body))
    start = time.monotonic()
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders()
        if body:
            conn.send(body)
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, resp.getheaders(), data,
                        time.monotonic() - start)
    finally:
        conn.close()


# ---------------------------------------------------------------- server process


def server_binary():
    path = os.environ.get("EIDER_TEST_SERVER")
    if not path:
        raise RuntimeError("EIDER_TEST_SERVER is not set (run through meson test)")
    return path


class Server:
    """One eider-test-server process on a private data directory."""

    def __init__(self, fixed_ott=FIXED_OTT, quota=None, fault_rate=None,
                 fault_seed=None, data_dir=None, extra=None, env=None,
                 listen="127.0.0.1:0"):
        binary = server_binary()
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="eider-contract-")
        self.args = [binary, "--listen", listen,
                     "--data-dir", self.data_dir]
        if fixed_ott is not None:
            self.args += ["--fixed-ott", fixed_ott]
        if quota is not None:
            self.args += ["--quota", str(quota)]
        if fault_rate is not None:
            self.args += ["--fault-rate", str(fault_rate),
                          "--fault-seed", str(fault_seed)]
        self.args += list(extra or [])
        self.env = None
        if env:
            self.env = dict(os.environ)
            self.env.update(env)
        self.proc = None
        self.base = None
        self.stderr_path = None

    def start(self):
        fd, self.stderr_path = tempfile.mkstemp(prefix="eider-server-stderr-")
        self.stderr_file = os.fdopen(fd, "wb")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE,
                                     stderr=self.stderr_file, env=self.env)
        deadline = time.monotonic() + 30
        buf = b""
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
                for line in buf.split(b"\n"):
                    line = line.strip()
                    if line.startswith(b"listening on http://"):
                        self.base = line[len(b"listening on "):].decode()
                        return self
            if self.proc.poll() is not None:
                break
        self.stop()
        raise RuntimeError("server did not start: stdout=%r stderr=%r"
                           % (buf, self.stderr_text()[-2000:]))

    def stderr_text(self):
        if not self.stderr_path:
            return ""
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def ott_codes(self, email):
        """Codes logged as `ott <email> <code>` (server started without --fixed-ott)."""
        codes = []
        for line in self.stderr_text().splitlines():
            fields = line.strip().split()
            if len(fields) >= 3 and fields[-3] == "ott" and fields[-2] == email:
                codes.append(fields[-1])
        return codes

    def stop(self, remove=True):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.proc.stdout.close()
            self.stderr_file.close()
        if self.stderr_path and os.environ.get("CONTRACT_KEEP_LOGS") is None:
            try:
                os.unlink(self.stderr_path)
            except OSError:
                pass
            self.stderr_path = None
        if remove and self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # -- API helpers

    def url(self, path):
        return self.base + path

    def call(self, method, path, body=None, token=None, package=PACKAGE,
             headers=None, raw=None):
        hdrs = {}
        if package is not None:
            hdrs["X-Client-Package"] = package
        if token is not None:
            hdrs["X-Auth-Token"] = token
        data = None
        if raw is not None:
            data = raw
        elif body is not None:
            data = json.dumps(body).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        return raw_request(method, self.url(path), data, hdrs)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


# ---------------------------------------------------------------- accounts


class User:
    """A signed-up account and everything the test knows about it."""

    def __init__(self, server, email, package=PACKAGE):
        self.server = server
        self.email = email
        self.package = package
        self.id = None
        self.token = None
        self.master_key = nacl_random(32)
        self.recovery_key = nacl_random(32)
        self.kek = nacl_random(32)
        self.keypair = PrivateKey.generate()
        self.key_attributes = None
        self.srp_user_id = None
        self.srp_salt = None
        self.login_sub_key = None

    def call(self, method, path, body=None, **kw):
        kw.setdefault("token", self.token)
        kw.setdefault("package", self.package)
        return self.server.call(method, path, body, **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def make_key_attributes(self, mem=268435456, ops=16):
        box = SecretBox(self.kek)
        n1, n2, n3, n4 = (nacl_random(24) for _ in range(4))
        rbox = SecretBox(self.recovery_key)
        mbox = SecretBox(self.master_key)
        return {
            "encryptedKey": b64(box.encrypt(self.master_key, n1).ciphertext),
            "keyDecryptionNonce": b64(n1),
            "kekSalt": b64(nacl_random(16)),
            "opsLimit": ops,
            "memLimit": mem,
            "publicKey": b64(bytes(self.keypair.public_key)),
            "encryptedSecretKey": b64(mbox.encrypt(bytes(self.keypair), n2).ciphertext),
            "secretKeyDecryptionNonce": b64(n2),
            "masterKeyEncryptedWithRecoveryKey": b64(rbox.encrypt(self.master_key, n3).ciphertext),
            "masterKeyDecryptionNonce": b64(n3),
            "recoveryKeyEncryptedWithMasterKey": b64(mbox.encrypt(self.recovery_key, n4).ciphertext),
            "recoveryKeyDecryptionNonce": b64(n4),
        }

    def open_token(self, encrypted_token):
        raw = SealedBox(self.keypair).decrypt(unb64(encrypted_token))
        return b64url(raw)


def expect(resp, status, what):
    if resp.status != status:
        raise AssertionError("%s: expected HTTP %d, got %r" % (what, status, resp))
    return resp


def signup(server, email=None, attributes=True, srp=True, package=PACKAGE):
    """Signup per server §1.1: ott → verify-email → PUT attributes → SRP."""
    user = User(server, email or unique_email(), package)
    expect(server.post("/users/ott", {"email": user.email, "purpose": "signup"},
                       package=package), 200, "POST /users/ott")
    r = expect(server.post("/users/verify-email",
                           {"email": user.email, "ott": FIXED_OTT},
                           package=package), 200, "POST /users/verify-email")
    j = r.json()
    user.id = j["id"]
    user.token = j["token"]
    if attributes:
        set_attributes(user)
    if srp:
        setup_srp(user)
    return user


def set_attributes(user):
    user.key_attributes = user.make_key_attributes()
    expect(user.put("/users/attributes", {"keyAttributes": user.key_attributes}),
           200, "PUT /users/attributes")


def srp_setup_call(user, srp_user_id=None, salt=None, password=None):
    """POST /users/srp/setup; returns (client, response)."""
    srp_user_id = srp_user_id or str(uuid.uuid4())
    salt = salt or os.urandom(16)
    password = password or os.urandom(16)
    verifier = srp_verifier(salt, srp_user_id.encode(), password)
    client = SrpClient(srp_user_id.encode(), salt, password)
    r = user.post("/users/srp/setup", {
        "srpUserID": srp_user_id, "srpSalt": b64(salt),
        "srpVerifier": b64(pad(verifier)), "srpA": b64(client.srp_a())})
    client.srp_user_id = srp_user_id
    return client, r


def setup_srp(user):
    client, r = srp_setup_call(user)
    expect(r, 200, "POST /users/srp/setup")
    j = r.json()
    m1 = client.process_b(unb64(j["srpB"]))
    r = expect(user.post("/users/srp/complete",
                         {"setupID": j["setupID"], "srpM1": b64(m1)}),
               200, "POST /users/srp/complete")
    if unb64(r.json()["srpM2"]) != client.expected_m2():
        raise AssertionError("srpM2 from /users/srp/complete does not verify")
    user.srp_user_id = client.srp_user_id
    user.srp_salt = client.salt
    user.login_sub_key = client.password
    return r


def srp_login(user):
    """SRP login (auth §4.3); returns the verify-session JSON and sets token."""
    s = user.server
    r = expect(s.get("/users/srp/attributes?email=" + urllib.parse.quote(user.email),
                     package=user.package), 200, "GET /users/srp/attributes")
    attrs = r.json()["attributes"]
    client = SrpClient(attrs["srpUserID"].encode(), unb64(attrs["srpSalt"]),
                       user.login_sub_key)
    r = expect(s.post("/users/srp/create-session",
                      {"srpUserID": attrs["srpUserID"], "srpA": b64(client.srp_a())},
                      package=user.package), 200, "POST /users/srp/create-session")
    j = r.json()
    m1 = client.process_b(unb64(j["srpB"]))
    r = expect(s.post("/users/srp/verify-session",
                      {"sessionID": j["sessionID"], "srpUserID": attrs["srpUserID"],
                       "srpM1": b64(m1)}, package=user.package),
               200, "POST /users/srp/verify-session")
    j = r.json()
    if unb64(j["srpM2"]) != client.expected_m2():
        raise AssertionError("srpM2 from verify-session does not verify")
    user.token = user.open_token(j["encryptedToken"])
    return j


# ---------------------------------------------------------------- collections and files


def collection_body(user, ctype="album", name=b"album"):
    ckey = nacl_random(32)
    nonce = nacl_random(24)
    nn = nacl_random(24)
    return {
        "encryptedKey": b64(SecretBox(user.master_key).encrypt(ckey, nonce).ciphertext),
        "keyDecryptionNonce": b64(nonce),
        "encryptedName": b64(SecretBox(ckey).encrypt(name, nn).ciphertext),
        "nameDecryptionNonce": b64(nn),
        "type": ctype,
    }


def create_collection(user, ctype="album"):
    r = expect(user.post("/collections", collection_body(user, ctype)),
               200, "POST /collections")
    return r.json()["collection"]


def upload_url(user, data):
    r = expect(user.post("/files/upload-url",
                         {"contentLength": len(data), "contentMD5": md5_b64(data)}),
               200, "POST /files/upload-url")
    return r.json()


def put_object(url, data, md5=None, length=None, extra=None):
    hdrs = {"Content-Length": str(len(data) if length is None else length),
            "Content-MD5": md5 if md5 is not None else md5_b64(data)}
    hdrs.update(extra or {})
    return raw_request("PUT", url, data, hdrs)


def upload_object(user, data):
    u = upload_url(user, data)
    expect(put_object(u["url"], data), 200, "presigned PUT")
    return u["objectKey"]


def file_body(collection_id, file_key, thumb_key, meta=None, fsize=None, tsize=None):
    body = {
        "collectionID": collection_id,
        "encryptedKey": b64(nacl_random(48)),
        "keyDecryptionNonce": b64(nacl_random(24)),
        "file": {"objectKey": file_key, "decryptionHeader": b64(nacl_random(24))},
        "thumbnail": {"objectKey": thumb_key, "decryptionHeader": b64(nacl_random(24))},
        "metadata": {"encryptedData": meta or b64(nacl_random(40)),
                     "decryptionHeader": b64(nacl_random(24))},
    }
    if fsize is not None:
        body["file"]["size"] = fsize
    if tsize is not None:
        body["thumbnail"]["size"] = tsize
    return body


def upload_file(user, collection_id, data=None, thumb=None):
    """Full upload of one file; returns (file JSON, body sent, data, thumb)."""
    data = data if data is not None else os.urandom(1000)
    thumb = thumb if thumb is not None else os.urandom(100)
    fk = upload_object(user, data)
    tk = upload_object(user, thumb)
    body = file_body(collection_id, fk, tk, fsize=len(data), tsize=len(thumb))
    r = expect(user.post("/files", body), 200, "POST /files")
    return r.json(), body, data, thumb


def diff(user, collection_id, since=0):
    r = expect(user.get("/collections/v2/diff?collectionID=%d&sinceTime=%d"
                        % (collection_id, since)), 200, "GET /collections/v2/diff")
    return r.json()


def full_diff(user, collection_id, since=0):
    entries = []
    while True:
        j = diff(user, collection_id, since)
        entries += j["diff"]
        if not j["hasMore"]:
            return entries
        since = max(e["updationTime"] for e in j["diff"])


def usage(user):
    r = expect(user.get("/users/details/v2"), 200, "GET /users/details/v2")
    return r.json()["usage"]


def download(user, file_id, kind="download"):
    r = user.server.get("/files/%s/%d?token=%s" % (
        kind, file_id, urllib.parse.quote(user.token)), package=user.package)
    return r


def follow(resp):
    loc = resp.header("Location")
    if loc is None:
        raise AssertionError("redirect without Location: %r" % resp)
    return raw_request("GET", loc)


# ---------------------------------------------------------------- test base


class ServerTestCase(unittest.TestCase):
    """Starts one server per test class."""

    server_kwargs = {}

    @classmethod
    def setUpClass(cls):
        cls.server = Server(**cls.server_kwargs).start()
        # runs even when a subclass's setUpClass fails after this point
        cls.addClassCleanup(cls.server.stop)

    def assertEmptyJson(self, resp, status):
        """Status plus an exact `{}` body (server §4: `{}` bodies are exact)."""
        self.assertEqual(resp.status, status, resp)
        self.assertEqual(resp.json(), {}, resp)

    def assertEmptyBody(self, resp, status=200):
        self.assertEqual(resp.status, status, resp)
        self.assertEqual(resp.body, b"", resp)

    def assertApiError(self, resp, status, code, message=None):
        self.assertEqual(resp.status, status, resp)
        j = resp.json()
        self.assertEqual(j.get("code"), code, resp)
        if message is not None:
            self.assertEqual(j.get("message"), message, resp)


def main():
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2)
    prog = unittest.main(module="__main__", testRunner=runner, exit=False)
    res = prog.result
    print("SUMMARY: ran=%d failures=%d errors=%d skipped=%d"
          % (res.testsRun, len(res.failures), len(res.errors), len(res.skipped)))
    sys.exit(0 if res.wasSuccessful() else 1)
