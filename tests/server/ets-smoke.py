#!/usr/bin/python3
# ets-smoke.py
#
# Copyright 2026 The Eider Authors
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# End-to-end smoke run of eider-test-server: signup, SRP, login, albums,
# single and multipart uploads, POST /files, diff, download, move, trash,
# restart persistence and fault injection. Standard library + libsodium
# through ctypes only. Usage: ets-smoke.py PATH/TO/eider-test-server
# (the formal contract suite lives in tests/server/contract/).

import base64
import ctypes
import ctypes.util
import hashlib
import http.client
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import uuid

SERVER = sys.argv[1]
PKG = {"X-Client-Package": "io.github.eiderapp.test"}
sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
assert sodium.sodium_init() >= 0

N = int(
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
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF", 16)
G = 5


def H(*parts):
    return hashlib.sha256(b"".join(parts)).digest()


def pad(n):
    return n.to_bytes(512, "big")


def b64(data):
    return base64.b64encode(data).decode()


def srp_x(identity, salt, password):
    return int.from_bytes(H(salt, H(identity.encode() + b":" + password)), "big")


class SrpClient:
    def __init__(self, identity, salt, password):
        self.x = srp_x(identity, salt, password)
        self.a = int.from_bytes(secrets.token_bytes(32), "big")
        self.A = pow(G, self.a, N)

    def proofs(self, B):
        k = int.from_bytes(H(pad(N), pad(G)), "big")
        u = int.from_bytes(H(pad(self.A), pad(B)), "big")
        S = pow((B - k * pow(G, self.x, N)) % N, self.a + u * self.x, N)
        K = H(pad(S))
        m1 = H(pad(self.A), pad(B), pad(S))
        m2 = H(pad(self.A), m1, K)
        return m1, m2


class Server:
    def __init__(self, data_dir, *extra):
        self.proc = subprocess.Popen([SERVER, "--data-dir", data_dir, "--fixed-ott", "123456", *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:"), line
        self.base = line.split(" ", 2)[2]
        self.port = int(self.base.rsplit(":", 1)[1])

    def stop(self):
        self.proc.terminate()
        assert self.proc.wait(10) == 0


def request(url, method="GET", body=None, headers=None, raw=False):
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    path = parts.path + ("?" + parts.query if parts.query else "")
    conn.request(method, path, body=data, headers={**PKG, **(headers or {})})
    resp = conn.getresponse()
    payload = resp.read()
    conn.close()
    if raw:
        return resp.status, payload, resp
    return resp.status, (json.loads(payload) if payload.strip() else None), resp


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok -", what)


def main():
    data_dir = tempfile.mkdtemp(prefix="ets-smoke-")
    srv = Server(data_dir)
    api = srv.base
    try:
        st, body, _ = request(api + "/ping")
        check(st == 200 and body["message"] == "pong", "ping")

        email = "smoke@example.org"
        st, body, _ = request(api + "/users/ott", "POST", {"email": email, "purpose": "signup"})
        check(st == 200 and body is None, "signup OTT is 200 with an empty body")
        st, body, _ = request(api + "/users/verify-email", "POST", {"email": "SMOKE@example.org ", "ott": " 123456 "})
        check(st == 200 and len(body["token"]) == 44 and "keyAttributes" not in body, "verify-email gives a plain token")
        token = body["token"]
        auth = {"X-Auth-Token": token}
        st, body, _ = request(api + "/users/verify-email", "POST", {"email": email, "ott": "123456"})
        check(st == 410, "a used code is gone")

        st, body, _ = request(api + "/users/session-validity/v2", headers=auth)
        check(body == {"hasSetKeys": False}, "session validity before keys")

        pk = ctypes.create_string_buffer(32)
        sk = ctypes.create_string_buffer(32)
        sodium.crypto_box_keypair(pk, sk)
        ka = {"encryptedKey": b64(bytes(48)), "keyDecryptionNonce": b64(bytes(24)), "kekSalt": b64(bytes(16)),
              "opsLimit": 16, "memLimit": 268435456, "publicKey": b64(pk.raw),
              "encryptedSecretKey": b64(bytes(48)), "secretKeyDecryptionNonce": b64(bytes(24))}
        st, body, _ = request(api + "/users/attributes", "PUT", {"keyAttributes": {**ka, "opsLimit": 31, "memLimit": 134217728}}, auth)
        check(st == 400 and body == {"code": "BAD_REQUEST", "message": "Unexpected KDF strength"}, "KDF strength check")
        st, body, _ = request(api + "/users/attributes", "PUT", {"keyAttributes": ka}, auth)
        check(st == 200 and body is None, "set key attributes")
        st, body, _ = request(api + "/users/attributes", "PUT", {"keyAttributes": ka}, auth)
        check(st == 403 and body == {}, "second PUT /users/attributes is 403")
        st, body, _ = request(api + "/users/session-validity/v2", headers=auth)
        check(body["hasSetKeys"] and body["keyAttributes"]["kekHash"] == "" and body["keyAttributes"]["publicKey"] == ka["publicKey"],
              "session validity echoes the attributes")

        srp_user = str(uuid.uuid4())
        salt = secrets.token_bytes(16)
        login_key = secrets.token_bytes(16)
        verifier = pad(pow(G, srp_x(srp_user, salt, login_key), N))
        client = SrpClient(srp_user, salt, login_key)
        st, body, _ = request(api + "/users/srp/setup", "POST", {"srpUserID": srp_user, "srpSalt": b64(salt),
                                                                 "srpVerifier": b64(verifier), "srpA": b64(pad(client.A)[1:])}, auth)
        check(st == 400 and body["message"] == "Invalid length for srpA", "srpA length check")
        st, body, _ = request(api + "/users/srp/setup", "POST", {"srpUserID": srp_user, "srpSalt": b64(salt),
                                                                 "srpVerifier": b64(verifier), "srpA": b64(pad(client.A))}, auth)
        check(st == 200 and len(base64.b64decode(body["srpB"])) == 512, "SRP setup")
        m1, m2 = client.proofs(int.from_bytes(base64.b64decode(body["srpB"]), "big"))
        setup_id = body["setupID"]
        st, body, _ = request(api + "/users/srp/complete", "POST", {"setupID": setup_id, "srpM1": b64(bytes(32))}, auth)
        check(st == 401 and body == {}, "wrong M1 is 401")
        st, body, _ = request(api + "/users/srp/complete", "POST", {"setupID": setup_id, "srpM1": b64(m1)}, auth)
        check(st == 200 and base64.b64decode(body["srpM2"]) == m2, "SRP complete, M2 verifies")
        st, body, _ = request(api + "/users/srp/complete", "POST", {"setupID": setup_id, "srpM1": b64(m1)}, auth)
        check(st == 410 and body["code"] == "SESSION_ALREADY_VERIFIED", "replayed completion is 410")
        st, body, _ = request(api + "/users/srp/attributes?email=" + urllib.parse.quote(email))
        check(st == 200 and body["attributes"]["srpUserID"] == srp_user and body["attributes"]["memLimit"] == 268435456,
              "SRP attributes")

        client = SrpClient(srp_user, salt, login_key)
        st, body, _ = request(api + "/users/srp/create-session", "POST", {"srpUserID": srp_user, "srpA": b64(pad(client.A))})
        m1, m2 = client.proofs(int.from_bytes(base64.b64decode(body["srpB"]), "big"))
        st, body, _ = request(api + "/users/srp/verify-session", "POST",
                              {"sessionID": body["sessionID"], "srpUserID": srp_user, "srpM1": b64(m1)})
        check(st == 200 and base64.b64decode(body["srpM2"]) == m2 and body["twoFactorSessionID"] == "", "SRP login")
        sealed = base64.b64decode(body["encryptedToken"])
        opened = ctypes.create_string_buffer(32)
        check(len(sealed) == 80 and sodium.crypto_box_seal_open(opened, sealed, ctypes.c_ulonglong(80), pk, sk) == 0,
              "encryptedToken opens with the keypair")
        token2 = base64.urlsafe_b64encode(opened.raw).decode()
        auth = {"X-Auth-Token": token2}
        st, body, _ = request(api + "/users/details/v2", headers=auth)
        check(st == 200 and body["usage"] == 0 and body["subscription"]["storage"] == 10737418240, "details with the SRP token")
        st, body, _ = request(api + "/users/details/v2", headers={**auth, "X-Client-Package": "io.ente.locker"})
        check(st == 401 and body == {"error": "invalid token"}, "tokens are per app")

        coll = {"encryptedKey": b64(bytes(48)), "keyDecryptionNonce": b64(bytes(24)),
                "encryptedName": b64(b"n"), "nameDecryptionNonce": b64(bytes(24)), "type": "album"}
        st, body, _ = request(api + "/collections", "POST", {**coll, "encryptedKey": b64(bytes(47))}, auth)
        check(st == 500 and body == {}, "bad collection key is 500")
        st, body, _ = request(api + "/collections", "POST", coll, auth)
        check(st == 200 and body["collection"]["sharees"] is None and body["collection"]["app"] == "photos", "create album")
        album = body["collection"]["id"]
        st, body, _ = request(api + "/collections", "POST", {**coll, "type": "uncategorized"}, auth)
        st2, body2, _ = request(api + "/collections", "POST", {**coll, "type": "uncategorized"}, auth)
        check(st == 200 and st2 == 200 and body["collection"]["id"] == body2["collection"]["id"] and body2["collection"]["app"] == "",
              "uncategorized is unique")
        uncategorized = body["collection"]["id"]

        def upload(data):
            md5 = b64(hashlib.md5(data).digest())
            st, body, _ = request(api + "/files/upload-url", "POST", {"contentLength": len(data), "contentMD5": md5}, auth)
            assert st == 200, (st, body)
            return body["objectKey"], body["url"], md5

        blob = secrets.token_bytes(100000)
        key, url, md5 = upload(blob)
        st, body, _ = request(url, "PUT", blob, {"Content-MD5": b64(hashlib.md5(b"x").digest())}, raw=True)
        check(st == 403 and b"SignatureDoesNotMatch" in body, "a different Content-MD5 header is 403")
        st, body, _ = request(url, "PUT", blob[:-1] + b"\0", {"Content-MD5": md5}, raw=True)
        check(st == 400 and b"BadDigest" in body, "a body not matching Content-MD5 is BadDigest")
        st, body, resp = request(url, "PUT", blob, {"Content-MD5": md5}, raw=True)
        check(st == 200 and resp.getheader("ETag") == '"%s"' % hashlib.md5(blob).hexdigest(), "single PUT with ETag")
        thumb = secrets.token_bytes(2000)
        tkey, turl, tmd5 = upload(thumb)
        request(turl, "PUT", thumb, {"Content-MD5": tmd5}, raw=True)

        record = {"collectionID": album, "encryptedKey": b64(bytes(48)), "keyDecryptionNonce": b64(bytes(24)),
                  "file": {"objectKey": key, "decryptionHeader": b64(bytes(24)), "size": len(blob)},
                  "thumbnail": {"objectKey": tkey, "decryptionHeader": b64(bytes(24))},
                  "metadata": {"encryptedData": b64(b"meta"), "decryptionHeader": b64(bytes(24))}}
        st, body, _ = request(api + "/files", "POST", {**record, "file": {**record["file"], "size": 5}}, auth)
        check(st == 400, "size mismatch is 400")
        st, body, _ = request(api + "/files", "POST", record, auth)
        check(st == 200 and body["info"] == {"fileSize": len(blob), "thumbSize": len(thumb)} and body["thumbnail"]["size"] == len(thumb),
              "POST /files")
        file_id = body["id"]
        st, body, _ = request(api + "/files", "POST", record, auth)
        check(st == 200 and body["id"] == file_id, "replayed POST /files gives the same id")
        st, body, _ = request(api + "/files", "POST", {**record, "metadata": {**record["metadata"], "encryptedData": b64(b"other")}}, auth)
        check(st == 400, "same keys, other metadata is 400")
        st, body, _ = request(api + "/users/details/v2", headers=auth)
        check(body["usage"] == len(blob) + len(thumb) and body["fileCount"] == 1, "usage counted once")

        st, body, _ = request(api + "/collections/v2/diff?collectionID=%d&sinceTime=0" % album, headers=auth)
        check(st == 200 and len(body["diff"]) == 1 and "objectKey" not in body["diff"][0]["file"] and not body["hasMore"], "diff")

        st, body, resp = request(api + "/files/download/%d?token=%s" % (file_id, token2), headers={}, raw=True)
        check(st == 307, "download redirects")
        st, body, _ = request(resp.getheader("Location"), raw=True)
        check(st == 200 and body == blob, "redirect target serves the bytes")
        st, body, _ = request(resp.getheader("Location"), headers={"Range": "bytes=10-19"}, raw=True)
        check(st == 206 and body == blob[10:20], "range GET")

        parts = [secrets.token_bytes(5 * 1024 * 1024), secrets.token_bytes(1234)]
        st, body, _ = request(api + "/files/multipart-upload-url", "POST",
                              {"contentLength": sum(map(len, parts)), "partLength": len(parts[0]),
                               "partMd5s": [b64(hashlib.md5(p).digest()) for p in parts]}, auth)
        check(st == 200 and len(body["partURLs"]) == 2, "multipart URLs")
        mkey = body["objectKey"]
        etags = []
        for p, u in zip(parts, body["partURLs"]):
            st, _, resp = request(u, "PUT", p, {"Content-MD5": b64(hashlib.md5(p).digest())}, raw=True)
            etags.append(resp.getheader("ETag"))
        xml = "<CompleteMultipartUpload>\n" + "\n".join(
            "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (i + 1, e) for i, e in enumerate(etags)) + "\n</CompleteMultipartUpload>"
        st, reply, _ = request(body["completeURL"], "POST", xml.replace(etags[1], '"0000"').encode(), {"Content-Type": "text/xml"}, raw=True)
        check(st == 400 and b"InvalidPart" in reply, "a wrong part ETag is InvalidPart")
        st, reply, _ = request(body["completeURL"], "POST", xml.encode(), {"Content-Type": "text/xml"}, raw=True)
        check(st == 200 and b"CompleteMultipartUploadResult" in reply, "multipart complete")
        tkey2, turl2, tmd52 = upload(thumb)
        request(turl2, "PUT", thumb, {"Content-MD5": tmd52}, raw=True)
        st, body, _ = request(api + "/files", "POST", {**record, "file": {"objectKey": mkey, "decryptionHeader": b64(bytes(24))},
                                                     "thumbnail": {"objectKey": tkey2, "decryptionHeader": b64(bytes(24))}}, auth)
        check(st == 200 and body["info"]["fileSize"] == sum(map(len, parts)), "POST /files for the multipart object")
        file2 = body["id"]

        files = [{"id": file_id, "encryptedKey": b64(bytes(48)), "keyDecryptionNonce": b64(bytes(24))}]
        st, _, _ = request(api + "/collections/move-files", "POST",
                           {"fromCollectionID": album, "toCollectionID": uncategorized, "files": files}, auth)
        check(st == 200, "move-files")
        st, body, _ = request(api + "/collections/v2/diff?collectionID=%d&sinceTime=0" % album, headers=auth)
        moved = [e for e in body["diff"] if e["id"] == file_id][0]
        st, body2, _ = request(api + "/collections/v2?sinceTime=0", headers=auth)
        times = {c["id"]: c["updationTime"] for c in body2["collections"]}
        check(moved["isDeleted"] and times[album] == times[uncategorized] == moved["updationTime"], "move-files timestamps")

        st, body, _ = request(api + "/files/trash", "POST", {"items": [{"fileID": file2, "collectionID": album}]}, auth)
        check(st == 200, "trash")
        st, body, _ = request(api + "/trash/v2/diff?sinceTime=0", headers=auth)
        check(len(body["diff"]) == 1 and not body["diff"][0]["isDeleted"], "trash diff")
        st, body, _ = request(api + "/collections/add-files", "POST", {"collectionID": album, "files": [{**files[0], "id": file2}]}, auth)
        check(st == 409 and body["code"] == "FILE_IN_TRASH", "adding a trashed file is 409")
        st, body, _ = request(api + "/trash/delete", "POST", {"fileIDs": [file2]}, auth)
        st, body, _ = request(api + "/users/details/v2", headers=auth)
        check(body["usage"] == len(blob) + len(thumb), "usage drops after permanent deletion")

        srv.stop()
        srv = Server(data_dir)
        api = srv.base
        st, body, _ = request(api + "/collections/v2/diff?collectionID=%d&sinceTime=0" % uncategorized, headers=auth)
        check(st == 200 and body["diff"][0]["id"] == file_id, "state survives a restart")
        srv.stop()

        srv = Server(data_dir, "--fault-rate", "1", "--fault-seed", "7")
        api = srv.base
        outcomes = set()
        for _ in range(12):
            try:
                st, _, _ = request(api + "/collections", "POST", coll, auth, raw=True)
                outcomes.add(st)
            except (http.client.HTTPException, ConnectionError):
                outcomes.add("cut")
        check(outcomes - {200} and outcomes <= {200, 500, 503, 429, "cut"}, "fault injection answers %s" % sorted(map(str, outcomes)))
        srv.stop()
        srv = Server(data_dir)
        api = srv.base
        st, body, _ = request(api + "/collections/v2?sinceTime=0", headers=auth)
        created = len(body["collections"]) - 2
        slow_ok = 200 in outcomes
        check(created >= 0 and (created > 0) == slow_ok, "only slow (not failed) faulted requests created albums")
    finally:
        srv.stop()
        shutil.rmtree(data_dir)


main()
