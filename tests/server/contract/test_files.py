#!/usr/bin/python3
# test_files.py
#
# Copyright 2026 The Eider Authors
#
# SPDX-License-Identifier: GPL-3.0-or-later

"""Contract checks: upload URLs, the storage stand-in, POST /files, downloads.

Covers ente-server.md §4 lines 49-57 and 59, the storage contract of
ente-server.md §2.13 / ente-upload.md §8, and the full signup → SRP login →
upload → download happy path.
"""

import gzip
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import time
import unittest
import urllib.parse
import uuid

from contract import (FIXED_OTT, GIB, MIB, PACKAGE, Server, ServerTestCase,
                      b64, collection_body, create_collection, diff, download, full_diff,
                      expect, file_body, follow, main, md5_b64, put_object,
                      raw_request, signup, srp_login, unb64, upload_file,
                      upload_object, upload_url, usage, User, unique_email,
                      set_attributes, setup_srp)

KEY_RE = r"^%d/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def xml_code(body):
    m = re.search(rb"<Code>([^<]*)</Code>", body)
    return m.group(1).decode() if m else None


def tamper_query(url, match, change):
    """Rewrite the first query parameter whose lower-case name matches."""
    parts = urllib.parse.urlsplit(url)
    q = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    for i, (k, v) in enumerate(q):
        if match(k.lower()):
            q[i] = (k, change(v))
            return urllib.parse.urlunsplit(parts._replace(
                query=urllib.parse.urlencode(q)))
    raise AssertionError("no matching query parameter in %s" % url)


def flip(v):
    c = v[-1]
    return v[:-1] + ("0" if c != "0" else "1")


def half_put(url, data, md5):
    """Send headers for the full body, half the bytes, then close."""
    parts = urllib.parse.urlsplit(url)
    s = socket.create_connection((parts.hostname, parts.port), timeout=10)
    req = ("PUT %s?%s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d\r\n"
           "Content-MD5: %s\r\n\r\n" % (parts.path, parts.query, parts.hostname,
                                        parts.port, len(data), md5)).encode()
    s.sendall(req + data[:len(data) // 2])
    s.shutdown(socket.SHUT_WR)
    try:
        s.recv(4096)
    except OSError:
        pass
    s.close()


class UploadUrlTests(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = signup(cls.server, srp=False)
        cls.bob = signup(cls.server, srp=False)

    def uurl(self, length, md5):
        return self.alice.post("/files/upload-url",
                               {"contentLength": length, "contentMD5": md5})

    # line 49
    def test_49a_zero_length_is_400(self):
        self.assertEmptyJson(self.uurl(0, md5_b64(b"")), 400)

    def test_49b_too_large_is_400(self):
        self.assertEmptyJson(self.uurl(10 * GIB + 1, md5_b64(b"x")), 400)

    def test_49c_hex_md5_is_400(self):
        self.assertEmptyJson(self.uurl(1, hashlib.md5(b"x").hexdigest()), 400)

    def test_49d_valid_request(self):
        r = self.uurl(1, md5_b64(b"x"))
        self.assertEqual(r.status, 200, r)
        j = r.json()
        self.assertEqual(set(j), {"objectKey", "url"})
        self.assertRegex(j["objectKey"], KEY_RE % self.alice.id)
        self.assertTrue(j["url"].startswith("http://"), j["url"])

    def test_49e_max_size_is_accepted(self):
        r = self.uurl(10 * GIB, md5_b64(b"x"))
        self.assertEqual(r.status, 200, r)

    def test_49f_missing_md5_is_400(self):
        r = self.alice.post("/files/upload-url", {"contentLength": 5})
        self.assertEmptyJson(r, 400)

    def test_49g_needs_auth(self):
        r = self.server.post("/files/upload-url",
                             {"contentLength": 1, "contentMD5": md5_b64(b"x")})
        self.assertEqual(r.status, 401, r)

    # line 51
    def test_51a_small_part_length_is_400(self):
        r = self.alice.post("/files/multipart-upload-url",
                            {"contentLength": 20 * MIB, "partLength": 4 * MIB,
                             "partMd5s": [md5_b64(b"%d" % i) for i in range(5)]})
        self.assertEmptyJson(r, 400)

    def test_51b_part_count_mismatch_is_400(self):
        r = self.alice.post("/files/multipart-upload-url",
                            {"contentLength": 20 * MIB, "partLength": 5 * MIB,
                             "partMd5s": [md5_b64(b"%d" % i) for i in range(3)]})
        self.assertEmptyJson(r, 400)

    def test_51c_valid_multipart_request(self):
        r = self.alice.post("/files/multipart-upload-url",
                            {"contentLength": 12 * MIB, "partLength": 5 * MIB,
                             "partMd5s": [md5_b64(b"%d" % i) for i in range(3)]})
        self.assertEqual(r.status, 200, r)
        j = r.json()
        self.assertEqual(set(j), {"objectKey", "partURLs", "completeURL"})
        self.assertEqual(len(j["partURLs"]), 3)
        self.assertEqual(len(set(j["partURLs"])), 3)
        self.assertRegex(j["objectKey"], KEY_RE % self.alice.id)

    def test_51d_single_small_part_allowed(self):
        # partLength < 5 MiB is fine when there is only one part
        r = self.alice.post("/files/multipart-upload-url",
                            {"contentLength": 100, "partLength": 100,
                             "partMd5s": [md5_b64(b"a")]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json()["partURLs"]), 1)

    def test_51e_empty_part_md5s_is_400(self):
        r = self.alice.post("/files/multipart-upload-url",
                            {"contentLength": 100, "partLength": 100, "partMd5s": []})
        self.assertEmptyJson(r, 400)


class QuotaTests(ServerTestCase):
    # --quota sets the plan storage; museum adds 50 MiB of slack (server §2.8)
    server_kwargs = {"quota": 1000000}

    # line 50
    def test_50a_over_quota_upload_url_is_426(self):
        user = signup(self.server, srp=False)
        r = user.post("/files/upload-url",
                      {"contentLength": 1000000 + 50 * MIB + 1, "contentMD5": md5_b64(b"x")})
        self.assertEmptyJson(r, 426)

    def test_50b_at_limit_is_allowed(self):
        user = signup(self.server, srp=False)
        r = user.post("/files/upload-url",
                      {"contentLength": 1000000 + 50 * MIB, "contentMD5": md5_b64(b"x")})
        self.assertEqual(r.status, 200, r)

    def test_50c_usage_counts_toward_quota(self):
        user = signup(self.server, srp=False)
        c = create_collection(user)
        upload_file(user, c["id"], os.urandom(3000), os.urandom(1000))
        r = user.post("/files/upload-url",
                      {"contentLength": 1000000 + 50 * MIB - 3999, "contentMD5": md5_b64(b"x")})
        self.assertEmptyJson(r, 426)
        r = user.post("/files/upload-url",
                      {"contentLength": 1000000 + 50 * MIB - 4000, "contentMD5": md5_b64(b"x")})
        self.assertEqual(r.status, 200, r)

    def test_50d_details_show_plan(self):
        user = signup(self.server, srp=False)
        r = user.get("/users/details/v2")
        self.assertEqual(r.json()["subscription"]["storage"], 1000000)


class StorageTests(ServerTestCase):
    """The presigned-URL storage stand-in (server §2.13, upload §8)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = signup(cls.server, srp=False)
        cls.album = create_collection(cls.alice)

    def register(self, fkey, tkey):
        return self.alice.post("/files", file_body(self.album["id"], fkey, tkey))

    def test_put_returns_quoted_md5_etag(self):
        data = os.urandom(777)
        u = upload_url(self.alice, data)
        r = put_object(u["url"], data, extra={"X-Client-Package": PACKAGE,
                                               "X-Client-Version": "1.0"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("ETag"), '"%s"' % hashlib.md5(data).hexdigest())

    def test_put_wrong_md5_is_bad_digest(self):
        # Content-MD5 is the signed value, but the body does not hash to it
        data = os.urandom(100)
        u = upload_url(self.alice, data)
        other = os.urandom(100)
        r = put_object(u["url"], other, md5=md5_b64(data))
        self.assertEqual(r.status, 400, r)
        self.assertEqual(xml_code(r.body), "BadDigest", r)
        # nothing was stored
        tk = upload_object(self.alice, b"thumb")
        self.assertApiError(self.register(u["objectKey"], tk), 503,
                            "OBJECT_SIZE_FETCH_FAILED", "")

    def test_put_md5_header_differs_from_signed_is_403(self):
        # Content-MD5 is a signed header (server §2.13): changing it breaks
        # the signature even when it matches the body
        data = os.urandom(100)
        u = upload_url(self.alice, data)
        other = os.urandom(100)
        r = put_object(u["url"], other)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(xml_code(r.body), "SignatureDoesNotMatch", r)

    def test_put_missing_md5_is_rejected(self):
        data = os.urandom(100)
        u = upload_url(self.alice, data)
        r = raw_request("PUT", u["url"], data, {"Content-Length": str(len(data))})
        self.assertIn(r.status, (400, 403), r)
        self.assertIsNotNone(xml_code(r.body), r)

    def test_put_wrong_length_is_rejected(self):
        # server §2.13 item 1: a length other than the signed one is a
        # signature mismatch, 403 SignatureDoesNotMatch
        data = os.urandom(100)
        u = upload_url(self.alice, data)
        shorter = data[:99]
        r = put_object(u["url"], shorter, md5=md5_b64(shorter))
        self.assertEqual(r.status, 403, r)
        self.assertEqual(xml_code(r.body), "SignatureDoesNotMatch", r)
        tk = upload_object(self.alice, b"thumb")
        self.assertEqual(self.register(u["objectKey"], tk).status, 503)

    def test_put_tampered_signature_is_403(self):
        data = os.urandom(100)
        u = upload_url(self.alice, data)
        bad = tamper_query(u["url"], lambda k: "signature" in k or k == "sig", flip)
        r = put_object(bad, data)
        self.assertEqual(r.status, 403, r)

    def test_put_expired_url_is_403(self):
        data = os.urandom(100)
        u = upload_url(self.alice, data)

        def backdate(v):
            if re.fullmatch(r"\d{8}T\d{6}Z", v):  # SigV4 X-Amz-Date
                return time.strftime("%Y%m%dT%H%M%SZ",
                                     time.gmtime(time.time() - 8 * 86400))
            return str(int(v) - 8 * 86400 * (1000000 if int(v) > 10 ** 14 else 1))
        bad = tamper_query(u["url"], lambda k: k in ("x-amz-date", "exp", "expires"),
                           backdate)
        r = put_object(bad, data)
        self.assertEqual(r.status, 403, r)

    def test_put_path_tampered_is_403(self):
        # a URL for one key cannot write another key
        data = os.urandom(100)
        u = upload_url(self.alice, data)
        parts = urllib.parse.urlsplit(u["url"])
        other = parts._replace(path=parts.path[:-4] + "0000" if not parts.path.endswith("0000")
                               else parts.path[:-4] + "1111")
        r = put_object(urllib.parse.urlunsplit(other), data)
        self.assertEqual(r.status, 403, r)

    def test_put_retry_same_url(self):
        # retries reuse the same URL (upload §8.6)
        data = os.urandom(300)
        u = upload_url(self.alice, data)
        self.assertEqual(put_object(u["url"], data).status, 200)
        self.assertEqual(put_object(u["url"], data).status, 200)

    def test_half_put_leaves_no_object(self):
        data = os.urandom(50000)
        u = upload_url(self.alice, data)
        half_put(u["url"], data, md5_b64(data))
        time.sleep(0.2)
        tk = upload_object(self.alice, b"thumb")
        self.assertApiError(self.register(u["objectKey"], tk), 503,
                            "OBJECT_SIZE_FETCH_FAILED", "")

    def multipart(self, data, part_len):
        parts = [data[i:i + part_len] for i in range(0, len(data), part_len)]
        r = self.alice.post("/files/multipart-upload-url",
                            {"contentLength": len(data), "partLength": part_len,
                             "partMd5s": [md5_b64(p) for p in parts]})
        self.assertEqual(r.status, 200, r)
        return parts, r.json()

    def complete_xml(self, etags, numbers=None):
        numbers = numbers or list(range(1, len(etags) + 1))
        body = "<CompleteMultipartUpload>\n" + "\n".join(
            "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (n, e)
            for n, e in zip(numbers, etags)) + "\n</CompleteMultipartUpload>"
        return body.encode()

    def post_complete(self, url, body):
        return raw_request("POST", url, body, {"Content-Type": "text/xml"})

    def test_multipart_full_flow(self):
        data = os.urandom(5 * MIB + 1234)
        parts, j = self.multipart(data, 5 * MIB)
        quoted = ['"%s"' % hashlib.md5(p).hexdigest() for p in parts]
        r = put_object(j["partURLs"][0], parts[0])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("ETag"), quoted[0])
        # part 2 was never uploaded → S3 error (InvalidPart), nothing assembled
        r = self.post_complete(j["completeURL"], self.complete_xml(quoted))
        self.assertTrue(r.status >= 400 or b"<Error>" in r.body, r)
        self.assertEqual(xml_code(r.body), "InvalidPart", r)
        tk = upload_object(self.alice, b"thumb")
        self.assertApiError(self.register(j["objectKey"], tk), 503,
                            "OBJECT_SIZE_FETCH_FAILED", "")
        r = put_object(j["partURLs"][1], parts[1])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("ETag"), quoted[1])
        # a wrong ETag → S3 error (InvalidPart)
        r = self.post_complete(j["completeURL"],
                               self.complete_xml([quoted[0], '"%s"' % ("0" * 32)]))
        self.assertTrue(r.status >= 400 or b"<Error>" in r.body, r)
        self.assertEqual(xml_code(r.body), "InvalidPart", r)
        self.assertEqual(self.register(j["objectKey"], tk).status, 503)
        # mobile strips the quotes, web keeps them; both are accepted
        r = self.post_complete(j["completeURL"],
                               self.complete_xml([quoted[0], quoted[1].strip('"')]))
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(b"<Error>", r.body)
        self.assertIn(b"<CompleteMultipartUploadResult", r.body)
        combined = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
        m = re.search(rb"<ETag>([^<]*)</ETag>", r.body)
        self.assertIsNotNone(m, r)
        self.assertEqual(m.group(1).decode().replace("&quot;", '"'),
                         '"%s-%d"' % (combined, len(parts)))
        # register and read back
        r = self.register(j["objectKey"], tk)
        self.assertEqual(r.status, 200, r)
        f = r.json()
        self.assertEqual(f["file"]["size"], len(data))
        self.assertEqual(f["info"]["fileSize"], len(data))
        d = download(self.alice, f["id"])
        self.assertEqual(d.status, 307, d)
        loc = d.header("Location")
        h = raw_request("HEAD", loc)
        self.assertEqual(h.status, 200, h)
        self.assertEqual(int(h.header("Content-Length")), len(data))
        g = raw_request("GET", loc)
        self.assertEqual(g.status, 200, g)
        self.assertEqual(g.body, data)

    def test_multipart_part_retry_same_url(self):
        data = os.urandom(300)
        parts, j = self.multipart(data, 300)
        self.assertEqual(put_object(j["partURLs"][0], parts[0]).status, 200)
        r = put_object(j["partURLs"][0], parts[0])
        self.assertEqual(r.status, 200, r)
        r = self.post_complete(j["completeURL"], self.complete_xml([r.header("ETag")]))
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(b"<Error>", r.body)

    def test_multipart_part_wrong_md5_is_bad_digest(self):
        data = os.urandom(1000)
        parts, j = self.multipart(data, 1000)
        r = put_object(j["partURLs"][0], os.urandom(1000), md5=md5_b64(parts[0]))
        self.assertEqual(r.status, 400, r)
        self.assertEqual(xml_code(r.body), "BadDigest")

    def test_multipart_complete_tampered_is_403(self):
        data = os.urandom(300)
        parts, j = self.multipart(data, 300)
        r = put_object(j["partURLs"][0], parts[0])
        bad = tamper_query(j["completeURL"], lambda k: "signature" in k or k == "sig", flip)
        r = self.post_complete(bad, self.complete_xml([r.header("ETag")]))
        self.assertEqual(r.status, 403, r)

    def test_get_range_and_head(self):
        data = os.urandom(4096)
        f = upload_file(self.alice, self.album["id"], data)[0]
        d = download(self.alice, f["id"])
        self.assertEqual(d.status, 307, d)
        loc = d.header("Location")
        r = raw_request("GET", loc, headers={"Range": "bytes=100-199"})
        # server §2.13 item 4: Range support is optional, but a 206 must be right
        if r.status == 206:
            self.assertEqual(r.body, data[100:200])
            self.assertEqual(r.header("Content-Range"), "bytes 100-199/4096")
        else:
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.body, data)
        r = raw_request("HEAD", loc)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(int(r.header("Content-Length")), 4096)
        self.assertEqual(r.body, b"")

    def test_get_tampered_is_403(self):
        f = upload_file(self.alice, self.album["id"])[0]
        loc = download(self.alice, f["id"]).header("Location")
        bad = tamper_query(loc, lambda k: "signature" in k or k == "sig", flip)
        self.assertEqual(raw_request("GET", bad).status, 403)


class FileTests(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = signup(cls.server, srp=False)
        cls.bob = signup(cls.server, srp=False)
        cls.album = create_collection(cls.alice)

    def objects(self, user=None, fdata=None, tdata=None):
        user = user or self.alice
        fdata = fdata if fdata is not None else os.urandom(1000)
        tdata = tdata if tdata is not None else os.urandom(100)
        return upload_object(user, fdata), upload_object(user, tdata), fdata, tdata

    # line 52
    def test_52_foreign_key_prefix_is_400(self):
        fk, tk, _, _ = self.objects(self.bob)
        fk2, tk2, _, _ = self.objects()
        r = self.alice.post("/files", file_body(self.album["id"], fk, tk2))
        self.assertEmptyJson(r, 400)

    # line 53
    def test_53a_same_key_twice_is_400(self):
        fk, tk, _, _ = self.objects()
        self.assertEqual(self.alice.post("/files", file_body(self.album["id"], fk, fk)).status, 400)

    def test_53b_missing_encrypted_key_is_400(self):
        fk, tk, _, _ = self.objects()
        body = file_body(self.album["id"], fk, tk)
        del body["encryptedKey"]
        self.assertEqual(self.alice.post("/files", body).status, 400)

    def test_53c_missing_thumbnail_header_is_400(self):
        fk, tk, _, _ = self.objects()
        body = file_body(self.album["id"], fk, tk)
        del body["thumbnail"]["decryptionHeader"]
        self.assertEmptyJson(self.alice.post("/files", body), 400)

    def test_53d_missing_thumbnail_object_is_400(self):
        fk, tk, _, _ = self.objects()
        body = file_body(self.album["id"], fk, tk)
        del body["thumbnail"]
        self.assertEmptyJson(self.alice.post("/files", body), 400)

    def test_53e_bad_magic_metadata_is_400(self):
        fk, tk, _, _ = self.objects()
        body = file_body(self.album["id"], fk, tk)
        body["pubMagicMetadata"] = {"version": 0, "count": 1, "data": "x", "header": "y"}
        self.assertEmptyJson(self.alice.post("/files", body), 400)

    # line 54
    def test_54a_foreign_collection_is_403(self):
        bc = create_collection(self.bob)
        fk, tk, _, _ = self.objects()
        self.assertEmptyJson(self.alice.post("/files", file_body(bc["id"], fk, tk)), 403)

    def test_54b_unknown_collection_is_404(self):
        fk, tk, _, _ = self.objects()
        self.assertEmptyJson(self.alice.post("/files", file_body(987654321, fk, tk)), 404)

    def test_54c_deleted_collection_is_404(self):
        c = create_collection(self.alice)
        r = self.alice.call("DELETE", "/collections/v3/%d?collectionID=%d&keepFiles=false"
                            % (c["id"], c["id"]))
        self.assertEqual(r.status, 200, r)
        fk, tk, _, _ = self.objects()
        r = self.alice.post("/files", file_body(c["id"], fk, tk))
        self.assertApiError(r, 404, "COLLECTION_DELETED", "")

    # line 55
    def test_55_object_not_uploaded_is_503(self):
        u = upload_url(self.alice, b"never sent")
        tk = upload_object(self.alice, b"thumb")
        r = self.alice.post("/files", file_body(self.album["id"], u["objectKey"], tk))
        self.assertApiError(r, 503, "OBJECT_SIZE_FETCH_FAILED", "")

    # line 56
    def test_56a_size_mismatch_is_400(self):
        fk, tk, fdata, tdata = self.objects()
        body = file_body(self.album["id"], fk, tk, fsize=len(fdata) + 1)
        self.assertEmptyJson(self.alice.post("/files", body), 400)

    def test_56b_thumb_size_mismatch_is_400(self):
        fk, tk, fdata, tdata = self.objects()
        body = file_body(self.album["id"], fk, tk, tsize=len(tdata) - 1)
        self.assertEmptyJson(self.alice.post("/files", body), 400)

    def test_56c_size_omitted_uses_stored_size(self):
        fk, tk, fdata, tdata = self.objects()
        body = file_body(self.album["id"], fk, tk)
        r = self.alice.post("/files", body)
        self.assertEqual(r.status, 200, r)
        f = r.json()
        self.assertEqual(f["file"]["size"], len(fdata))
        self.assertEqual(f["thumbnail"]["size"], len(tdata))
        self.assertEqual(f["info"], {"fileSize": len(fdata), "thumbSize": len(tdata)})
        self.assertEqual(f["ownerID"], self.alice.id)
        self.assertEqual(f["collectionID"], self.album["id"])
        self.assertIsNone(f["collectionOwnerID"])
        self.assertIs(f["isDeleted"], False)
        self.assertEqual(f["file"]["objectKey"], fk)
        self.assertEqual(f["thumbnail"]["objectKey"], tk)
        self.assertEqual(f["encryptedKey"], body["encryptedKey"])
        self.assertEqual(f["metadata"]["encryptedData"], body["metadata"]["encryptedData"])

    def test_56d_magic_metadata_stored(self):
        fk, tk, _, _ = self.objects()
        body = file_body(self.album["id"], fk, tk)
        mm = {"version": 1, "count": 2, "data": b64(b"d" * 20), "header": b64(b"h" * 24)}
        body["pubMagicMetadata"] = mm
        body["magicMetadata"] = dict(mm)
        r = self.alice.post("/files", body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["pubMagicMetadata"], mm)
        self.assertEqual(r.json()["magicMetadata"], mm)

    # line 57
    def test_57a_identical_replay_returns_same_id(self):
        fk, tk, fdata, tdata = self.objects()
        body = file_body(self.album["id"], fk, tk)
        before = usage(self.alice)
        r1 = self.alice.post("/files", body)
        self.assertEqual(r1.status, 200, r1)
        r2 = self.alice.post("/files", body)
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(r2.json()["id"], r1.json()["id"])
        self.assertEqual(usage(self.alice), before + len(fdata) + len(tdata))

    def test_57b_replay_with_other_metadata_is_400(self):
        fk, tk, _, _ = self.objects()
        body = file_body(self.album["id"], fk, tk)
        self.assertEqual(self.alice.post("/files", body).status, 200)
        body["metadata"]["encryptedData"] = b64(os.urandom(40))
        self.assertEmptyJson(self.alice.post("/files", body), 400)

    def test_57c_replay_into_other_collection_adds_no_row(self):
        fk, tk, _, _ = self.objects()
        body = file_body(self.album["id"], fk, tk)
        r1 = self.alice.post("/files", body)
        other = create_collection(self.alice)
        body["collectionID"] = other["id"]
        r2 = self.alice.post("/files", body)
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(r2.json()["id"], r1.json()["id"])
        self.assertEqual(r2.json()["collectionID"], other["id"])
        self.assertEqual(diff(self.alice, other["id"])["diff"], [])

    # line 59
    def test_59a_download_own_file(self):
        f, body, data, thumb = upload_file(self.alice, self.album["id"])
        r = download(self.alice, f["id"])
        self.assertEqual(r.status, 307, r)
        self.assertNotEqual(r.header("Cache-Control"), "no-store")
        self.assertEqual(follow(r).body, data)
        r = download(self.alice, f["id"], "preview")
        self.assertEqual(r.status, 307, r)
        self.assertEqual(follow(r).body, thumb)

    def test_59b_download_with_header_token(self):
        f, body, data, thumb = upload_file(self.alice, self.album["id"])
        r = self.alice.get("/files/download/%d" % f["id"])
        self.assertEqual(r.status, 307, r)
        self.assertEqual(follow(r).body, data)

    def test_59c_download_foreign_file_is_403(self):
        bc = create_collection(self.bob)
        f = upload_file(self.bob, bc["id"])[0]
        self.assertEmptyJson(download(self.alice, f["id"]), 403)
        self.assertEmptyJson(download(self.alice, f["id"], "preview"), 403)

    def test_59d_download_unknown_file_is_404(self):
        self.assertEmptyJson(download(self.alice, 987654321), 404)

    def test_59e_cache_control_on_gets(self):
        r = self.alice.get("/collections/v2?sinceTime=0")
        self.assertEqual(r.header("Cache-Control"), "no-store")


class FileExtrasTests(ServerTestCase):
    """Further §2.8-§2.10 behaviour outside the numbered list."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = signup(cls.server, srp=False)
        cls.album = create_collection(cls.alice)

    def test_public_magic_metadata_versions(self):
        # upload §9.2: owner only; version must match the stored one (when
        # there is one) and count may not drop by more than 2, else 409;
        # the server stores version + 1 and the diff shows it
        f, _, _, _ = upload_file(self.alice, self.album["id"])
        def mm(version, count):
            return {"metadataList": [{"id": f["id"], "magicMetadata": {
                "version": version, "count": count, "data": "ZGF0YQ==", "header": "aGVhZGVy"}}]}
        self.assertEqual(self.alice.put("/files/public-magic-metadata", mm(1, 4)).status, 200)
        entry = [e for e in full_diff(self.alice, self.album["id"]) if e["id"] == f["id"]][0]
        self.assertEqual(entry["pubMagicMetadata"]["version"], 2)
        self.assertEqual(entry["pubMagicMetadata"]["count"], 4)
        self.assertEqual(self.alice.put("/files/public-magic-metadata", mm(1, 4)).status, 409)
        self.assertEqual(self.alice.put("/files/public-magic-metadata", mm(2, 1)).status, 409)
        self.assertEqual(self.alice.put("/files/public-magic-metadata", mm(2, 2)).status, 200)
        self.assertEqual(self.alice.put("/files/public-magic-metadata", mm(0, 2)).status, 400)
        bob = signup(self.server, srp=False)
        self.assertEqual(bob.put("/files/public-magic-metadata", mm(3, 2)).status, 403)

    def test_legacy_upload_urls(self):
        # server §2.8: {"urls":[{objectKey,url}…]}, at most 50; count ≤ 0 → []
        r = self.alice.get("/files/upload-urls?count=3")
        self.assertEqual(r.status, 200, r)
        urls = r.json()["urls"]
        self.assertEqual(len(urls), 3)
        for u in urls:
            self.assertRegex(u["objectKey"], KEY_RE % self.alice.id)
        r = self.alice.get("/files/upload-urls?count=80")
        self.assertEqual(len(r.json()["urls"]), 50)
        r = self.alice.get("/files/upload-urls?count=0")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["urls"], [])

    def test_legacy_upload_url_put_without_md5(self):
        # upload §8.4: legacy URLs sign only host; PUT without Content-MD5
        data = os.urandom(321)
        u = self.alice.get("/files/upload-urls?count=1").json()["urls"][0]
        r = raw_request("PUT", u["url"], data, {"Content-Length": str(len(data))})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("ETag"), '"%s"' % hashlib.md5(data).hexdigest())
        tk = upload_object(self.alice, b"thumb")
        r = self.alice.post("/files", file_body(self.album["id"], u["objectKey"], tk))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["file"]["size"], len(data))

    def test_legacy_multipart_upload_urls(self):
        r = self.alice.get("/files/multipart-upload-urls?count=2")
        self.assertEqual(r.status, 200, r)
        u = r.json()["urls"]
        self.assertEqual(len(u["partURLs"]), 2)
        self.assertIn("completeURL", u)
        self.assertRegex(u["objectKey"], KEY_RE % self.alice.id)
        self.assertEqual(self.alice.get("/files/multipart-upload-urls?count=0").status, 400)
        self.assertEqual(self.alice.get("/files/multipart-upload-urls?count=10001").status, 400)

    def test_upload_eligibility(self):
        self.assertEmptyBody(self.alice.get("/files/upload-eligibility"))

    def test_post_files_with_id_is_update(self):
        # server §2.9: a non-zero id turns POST /files into an update
        f, body, _, _ = upload_file(self.alice, self.album["id"])
        data = os.urandom(2222)
        fk = upload_object(self.alice, data)
        tk = upload_object(self.alice, os.urandom(99))
        upd = file_body(self.album["id"], fk, tk)
        upd["id"] = f["id"]
        r = self.alice.post("/files", upd)
        self.assertEqual(r.status, 200, r)
        j = r.json()
        self.assertEqual(set(j), {"id", "updationTime"})
        self.assertEqual(j["id"], f["id"])
        self.assertGreater(j["updationTime"], f["updationTime"])
        self.assertEqual(follow(download(self.alice, f["id"])).body, data)

    def test_details_memory_count_false(self):
        r = self.alice.get("/users/details/v2?memoryCount=false")
        self.assertEqual(r.status, 200, r)
        j = r.json()
        self.assertNotIn("fileCount", j)
        self.assertNotIn("sharedCollectionsCount", j)
        r = self.alice.get("/users/details/v2")
        self.assertIn("fileCount", r.json())

    def test_collection_file_lookup(self):
        # server §2.7.3: GET /collections/file → {"file"}; absent → 404 FILE_NOT_FOUND_IN_ALBUM
        f = upload_file(self.alice, self.album["id"])[0]
        r = self.alice.get("/collections/file?collectionID=%d&fileID=%d"
                           % (self.album["id"], f["id"]))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["file"]["id"], f["id"])
        other = create_collection(self.alice)
        r = self.alice.get("/collections/file?collectionID=%d&fileID=%d"
                           % (other["id"], f["id"]))
        self.assertApiError(r, 404, "FILE_NOT_FOUND_IN_ALBUM")

    def test_non_numeric_ids_are_404(self):
        # server §2.0: ids parse to 0 on error → typically 404
        r = self.alice.get("/collections/v2/diff?collectionID=abc&sinceTime=0")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(download(self.alice, 0).status, 404)

    def test_gzip_when_accepted(self):
        # auth §1.3 / server §2.0: responses are gzipped when the request
        # sends Accept-Encoding: gzip
        r = self.alice.get("/collections/v2?sinceTime=0",
                           headers={"Accept-Encoding": "gzip"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Encoding"), "gzip", r.headers)
        self.assertIn("collections", json.loads(gzip.decompress(r.body)))

    def test_unknown_route_is_404(self):
        r = self.alice.get("/no/such/route")
        self.assertEqual(r.status, 404, r)

    def test_cors_options(self):
        r = raw_request("OPTIONS", self.server.url("/collections/v2"), None,
                        {"Origin": "http://example.test",
                         "Access-Control-Request-Method": "GET"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Access-Control-Allow-Origin"), "http://example.test")


class NoSubscriptionTests(ServerTestCase):
    server_kwargs = {"extra": ["--no-subscription"]}

    def test_expired_plan_is_402(self):
        # server §2.8: expired plan and no bonus → 402 {}
        user = signup(self.server, srp=False)
        r = user.post("/files/upload-url", {"contentLength": 10, "contentMD5": md5_b64(b"x")})
        self.assertEmptyJson(r, 402)
        self.assertEmptyJson(user.get("/files/upload-eligibility"), 402)


class ExpiryTests(unittest.TestCase):
    """Presigned URLs live 7 days (server §2.13 item 5).

    A URL is minted by a server running under libfaketime in the past, then
    used against the same data directory served in the present."""

    LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

    def mint_in_past(self, days):
        if not os.path.exists(self.LIBFAKETIME):
            self.skipTest("libfaketime (Debian package faketime) is not installed")
        data_dir = tempfile.mkdtemp(prefix="eider-contract-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        # preloaded directly, so the server is our child and SIGTERM reaches it
        past = Server(data_dir=data_dir,
                      env={"LD_PRELOAD": self.LIBFAKETIME, "FAKETIME": "-%dd" % days,
                           "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                           # an ASan build must accept the preload coming first
                           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") +
                                           ":verify_asan_link_order=0"}).start()
        try:
            user = signup(past, srp=False)
            data = os.urandom(500)
            u = upload_url(user, data)
        finally:
            past.stop()
        # the present-day server takes over the same address, so the URL
        # is used exactly as minted
        now = Server(data_dir=data_dir,
                     listen=urllib.parse.urlsplit(past.base).netloc).start()
        self.addCleanup(now.stop)
        return u, data

    def test_url_older_than_7_days_is_403(self):
        u, data = self.mint_in_past(8)
        r = put_object(u["url"], data)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(xml_code(r.body), "AccessDenied", r)

    def test_url_younger_than_7_days_works(self):
        u, data = self.mint_in_past(6)
        r = put_object(u["url"], data)
        self.assertEqual(r.status, 200, r)


class HappyPathTests(unittest.TestCase):
    """signup → SRP login → album → upload → list → download (raw HTTP)."""

    def test_full_happy_path(self):
        srv = Server().start()
        try:
            email = unique_email("happy")
            user = User(srv, email)
            r = srv.post("/users/ott", {"email": email, "purpose": "signup"})
            self.assertEqual((r.status, r.body), (200, b""))
            r = srv.post("/users/verify-email", {"email": email, "ott": FIXED_OTT})
            self.assertEqual(r.status, 200, r)
            user.id, user.token = r.json()["id"], r.json()["token"]
            r = user.get("/users/session-validity/v2")
            self.assertEqual(r.json(), {"hasSetKeys": False})
            set_attributes(user)
            setup_srp(user)
            signup_token = user.token
            user.token = None
            srp_login(user)
            self.assertNotEqual(user.token, signup_token)
            # a fresh account has no collections
            r = user.get("/collections/v2?sinceTime=0")
            self.assertEqual(r.json(), {"collections": []})
            album = create_collection(user)
            data = os.urandom(100000)
            thumb = os.urandom(2000)
            fk = upload_object(user, data)
            tk = upload_object(user, thumb)
            body = file_body(album["id"], fk, tk, fsize=len(data), tsize=len(thumb))
            r = user.post("/files", body)
            self.assertEqual(r.status, 200, r)
            f = r.json()
            r = user.get("/collections/v2?sinceTime=0")
            cols = r.json()["collections"]
            self.assertEqual([c["id"] for c in cols], [album["id"]])
            self.assertGreaterEqual(cols[0]["updationTime"], f["updationTime"])
            entries = diff(user, album["id"])["diff"]
            self.assertEqual([e["id"] for e in entries], [f["id"]])
            self.assertEqual(entries[0]["encryptedKey"], body["encryptedKey"])
            r = download(user, f["id"])
            self.assertEqual(r.status, 307, r)
            self.assertEqual(follow(r).body, data)
            r = download(user, f["id"], "preview")
            self.assertEqual(follow(r).body, thumb)
            self.assertEqual(usage(user), len(data) + len(thumb))
            r = user.get("/users/details/v2")
            self.assertEqual(r.json()["fileCount"], 1)
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
