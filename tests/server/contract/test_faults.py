#!/usr/bin/python3
# test_faults.py
#
# Copyright 2026 The Eider Authors
#
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fault injection: a workload against `--fault-rate 0.3 --fault-seed N`.

A retrying client signs up, creates albums, uploads single and multipart
objects, registers files and trashes some.  It records every fault kind it
meets (500, 503, 429 with Retry-After, a connection cut, a slow reply).  The
same data directory is then served again without faults and checked for
consistency: every listed file has both objects with exactly the bytes
that were uploaded (no half objects), every acknowledged file is listed,
half-sent objects are invisible, and usage matches the listed files.
"""

import hashlib
import http.client
import os
import re
import shutil
import socket
import time
import unittest
import urllib.parse

from nacl.utils import random as nacl_random

from contract import (FIXED_OTT, MIB, PACKAGE, Server, User, b64,
                      collection_body, file_body, md5_b64, raw_request,
                      unique_email)

FAULT_SEED = int(os.environ.get("CONTRACT_FAULT_SEED", "4242"))
N_FILES = 40
N_MULTIPART = 3
SLOW_SECONDS = 0.4
CUT_ERRORS = (http.client.IncompleteRead, http.client.RemoteDisconnected,
              http.client.BadStatusLine, ConnectionResetError, BrokenPipeError,
              ConnectionAbortedError, socket.timeout)


class Observer:
    def __init__(self):
        self.kinds = {"500": 0, "503": 0, "429": 0, "429-no-retry-after": 0,
                      "cut": 0, "cut-mid-body": 0, "slow": 0}
        self.requests = 0

    def request(self, method, url, body=None, headers=None):
        """One attempt; returns a Response or None after a cut."""
        self.requests += 1
        start = time.monotonic()
        try:
            r = raw_request(method, url, body, headers, timeout=30)
        except CUT_ERRORS as e:
            self.kinds["cut"] += 1
            if isinstance(e, http.client.IncompleteRead):
                self.kinds["cut-mid-body"] += 1
            return None
        if time.monotonic() - start > SLOW_SECONDS:
            self.kinds["slow"] += 1
        if r.status == 500:
            self.kinds["500"] += 1
        elif r.status == 503:
            self.kinds["503"] += 1
        elif r.status == 429:
            ra = r.header("Retry-After")
            if ra is None:
                self.kinds["429-no-retry-after"] += 1
            else:
                self.kinds["429"] += 1
                time.sleep(min(float(ra), 2.0))
        return r

    def retry(self, method, url, body=None, headers=None, done=None, attempts=40):
        """Retry until done(resp) is true (default: a 2xx/3xx reply)."""
        done = done or (lambda r: 200 <= r.status < 400)
        last = None
        for _ in range(attempts):
            r = self.request(method, url, body, headers)
            if r is not None:
                last = r
                if done(r):
                    return r
                if r.status not in (429, 500, 503) and r.status < 500:
                    return r
        raise AssertionError("gave up on %s %s, last=%r" % (method, url, last))


def api(server, path):
    return server.base + path


def jhdrs(token=None):
    h = {"X-Client-Package": PACKAGE, "Content-Type": "application/json"}
    if token:
        h["X-Auth-Token"] = token
    return h


def jbody(obj):
    import json
    return json.dumps(obj).encode()


class FaultTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.obs = Observer()
        cls.payloads = {}       # md5 hex → bytes, every complete payload
        cls.acked = {}          # file id → (data, thumb)
        cls.trashed = set()
        cls.half_keys = []
        cls.error = None
        cls.server = Server(fault_rate=0.3, fault_seed=FAULT_SEED).start()
        cls.data_dir = cls.server.data_dir
        cls.addClassCleanup(shutil.rmtree, cls.data_dir, ignore_errors=True)
        try:
            cls.workload()
        except Exception as e:  # reported by test_workload_completed
            cls.error = e
        finally:
            cls.server.stop(remove=False)
        print("fault seed %d: %d requests, observed %r"
              % (FAULT_SEED, cls.obs.requests, cls.obs.kinds), flush=True)
        cls.clean = Server(data_dir=cls.data_dir).start()
        cls.addClassCleanup(cls.clean.stop)

    # ------------------------------------------------------------ workload

    @classmethod
    def call(cls, method, path, obj=None, token=None, **kw):
        body = jbody(obj) if obj is not None else None
        return cls.obs.retry(method, api(cls.server, path), body, jhdrs(token), **kw)

    @classmethod
    def workload(cls):
        s = cls.server
        user = User(s, unique_email("fault"))
        cls.user = user
        for attempt in range(20):
            cls.call("POST", "/users/ott", {"email": user.email, "purpose": "signup"})
            r = cls.call("POST", "/users/verify-email", {"email": user.email, "ott": FIXED_OTT})
            if r.status == 200:
                break
            assert r.status == 410, r
        else:
            raise AssertionError("verify-email never succeeded")
        user.id = r.json()["id"]
        user.token = r.json()["token"]
        user.key_attributes = user.make_key_attributes()
        r = cls.call("PUT", "/users/attributes", {"keyAttributes": user.key_attributes},
                     user.token)
        assert r.status in (200, 403), r
        albums = []
        for i in range(3):
            r = cls.call("POST", "/collections", collection_body(user), user.token)
            assert r.status == 200, r
            albums.append(r.json()["collection"]["id"])
        cls.albums = albums

        for i in range(N_FILES):
            data = os.urandom(2000 + 997 * i)
            thumb = os.urandom(300 + i)
            fk = cls.put_single(user, data)
            tk = cls.put_single(user, thumb)
            cls.register(user, albums[i % 3], fk, tk, data, thumb)

        for i in range(N_MULTIPART):
            data = os.urandom(5 * MIB + 4000 + i)
            thumb = os.urandom(500 + i)
            fk = cls.put_multipart(user, data, 5 * MIB)
            tk = cls.put_single(user, thumb)
            r = cls.register(user, albums[i % 3], fk, tk, data, thumb)

        # objects whose body was cut short by the client
        for i in range(3):
            data = os.urandom(40000)
            r = cls.call("POST", "/files/upload-url",
                         {"contentLength": len(data), "contentMD5": md5_b64(data)}, user.token)
            assert r.status == 200, r
            u = r.json()
            half_put(u["url"], data)
            cls.half_keys.append(u["objectKey"])

        # trash a few
        for fid in list(cls.acked)[:5]:
            r = cls.call("POST", "/files/trash",
                         {"items": [{"fileID": fid, "collectionID": cls.collection_of[fid]}]},
                         user.token)
            assert r.status == 200, r
            cls.trashed.add(fid)

        # reads, which meet faults too
        for fid in list(cls.acked)[5:15]:
            cls.fetch_checked(s, user, fid)

    collection_of = {}

    @classmethod
    def put_single(cls, user, data):
        cls.payloads[hashlib.md5(data).hexdigest()] = data
        r = cls.call("POST", "/files/upload-url",
                     {"contentLength": len(data), "contentMD5": md5_b64(data)}, user.token)
        assert r.status == 200, r
        u = r.json()
        r = cls.obs.retry("PUT", u["url"], data,
                          {"Content-Length": str(len(data)), "Content-MD5": md5_b64(data)})
        assert r.status == 200, r
        return u["objectKey"]

    @classmethod
    def put_multipart(cls, user, data, part_len):
        cls.payloads[hashlib.md5(data).hexdigest()] = data
        parts = [data[i:i + part_len] for i in range(0, len(data), part_len)]
        r = cls.call("POST", "/files/multipart-upload-url",
                     {"contentLength": len(data), "partLength": part_len,
                      "partMd5s": [md5_b64(p) for p in parts]}, user.token)
        assert r.status == 200, r
        j = r.json()
        etags = []
        for url, p in zip(j["partURLs"], parts):
            r = cls.obs.retry("PUT", url, p,
                              {"Content-Length": str(len(p)), "Content-MD5": md5_b64(p)})
            assert r.status == 200, r
            etags.append(r.header("ETag"))
        xml = ("<CompleteMultipartUpload>\n" + "\n".join(
            "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (n + 1, e)
            for n, e in enumerate(etags)) + "\n</CompleteMultipartUpload>").encode()

        def done(r):
            if r.status == 200 and b"<Error>" not in r.body:
                return True
            # a retry after a lost success may find the upload gone
            return b"NoSuchUpload" in r.body
        r = cls.obs.retry("POST", j["completeURL"], xml, {"Content-Type": "text/xml"},
                          done=done)
        assert done(r), r
        return j["objectKey"]

    @classmethod
    def register(cls, user, cid, fk, tk, data, thumb):
        body = file_body(cid, fk, tk, fsize=len(data), tsize=len(thumb))
        r = cls.call("POST", "/files", body, user.token)
        assert r.status == 200, r
        fid = r.json()["id"]
        cls.acked[fid] = (data, thumb)
        cls.collection_of[fid] = cid
        return r

    @classmethod
    def fetch_checked(cls, server, user, fid):
        path = "/files/download/%d?token=%s" % (fid, urllib.parse.quote(user.token))
        r = cls.obs.retry("GET", api(server, path), None, {"X-Client-Package": PACKAGE},
                          done=lambda r: r.status == 307)
        assert r.status == 307, r
        r = cls.obs.retry("GET", r.header("Location"))
        assert r.status == 200, r
        return r.body

    # ------------------------------------------------------------ checks: faults seen

    def test_workload_completed(self):
        if self.error is not None:
            raise self.error
        self.assertEqual(len(self.acked), N_FILES + N_MULTIPART)

    def test_fault_500_seen(self):
        self.assertGreater(self.obs.kinds["500"], 0, self.obs.kinds)

    def test_fault_503_seen(self):
        self.assertGreater(self.obs.kinds["503"], 0, self.obs.kinds)

    def test_fault_429_with_retry_after_seen(self):
        self.assertGreater(self.obs.kinds["429"], 0, self.obs.kinds)
        self.assertEqual(self.obs.kinds["429-no-retry-after"], 0, self.obs.kinds)

    def test_fault_cut_seen(self):
        self.assertGreater(self.obs.kinds["cut"], 0, self.obs.kinds)

    def test_fault_cut_mid_body_seen(self):
        self.assertGreater(self.obs.kinds["cut-mid-body"], 0, self.obs.kinds)

    def test_fault_slow_seen(self):
        self.assertGreater(self.obs.kinds["slow"], 0, self.obs.kinds)

    def test_fault_rate_plausible(self):
        faults = sum(v for k, v in self.obs.kinds.items()
                     if k not in ("cut-mid-body", "slow"))
        rate = faults / self.obs.requests
        self.assertGreater(rate, 0.1, (self.obs.kinds, self.obs.requests))
        self.assertLess(rate, 0.5, (self.obs.kinds, self.obs.requests))

    # ------------------------------------------------------------ checks: consistency

    def clean_get(self, path):
        return raw_request("GET", api(self.clean, path), None,
                           {"X-Client-Package": PACKAGE, "X-Auth-Token": self.user.token})

    def listed_files(self):
        r = self.clean_get("/collections/v2?sinceTime=0")
        self.assertEqual(r.status, 200, r)
        live = {}
        deleted = set()
        for c in r.json()["collections"]:
            if c.get("isDeleted"):
                continue
            since = 0
            while True:
                d = self.clean_get("/collections/v2/diff?collectionID=%d&sinceTime=%d"
                                   % (c["id"], since))
                self.assertEqual(d.status, 200, d)
                j = d.json()
                for e in j["diff"]:
                    if e["isDeleted"]:
                        deleted.add(e["id"])
                    else:
                        live[e["id"]] = e
                if not j["hasMore"]:
                    break
                since = max(e["updationTime"] for e in j["diff"])
        return live, deleted

    def fetch(self, fid, kind):
        r = self.clean_get("/files/%s/%d" % (kind, fid))
        self.assertEqual(r.status, 307, (fid, kind, r))
        g = raw_request("GET", r.header("Location"))
        self.assertEqual(g.status, 200, (fid, kind, g))
        return g.body

    def test_restart_keeps_session(self):
        r = self.clean_get("/users/details/v2")
        self.assertEqual(r.status, 200, r)

    def test_no_file_record_without_objects(self):
        live, _ = self.listed_files()
        self.assertGreater(len(live), 0)
        for fid, e in live.items():
            data = self.fetch(fid, "download")
            thumb = self.fetch(fid, "preview")
            self.assertEqual(len(data), e["info"]["fileSize"], fid)
            self.assertEqual(len(thumb), e["info"]["thumbSize"], fid)

    def test_no_half_objects_visible(self):
        live, _ = self.listed_files()
        for fid in live:
            for kind in ("download", "preview"):
                body = self.fetch(fid, kind)
                self.assertIn(hashlib.md5(body).hexdigest(), self.payloads,
                              "file %d %s is not a complete uploaded payload" % (fid, kind))

    def test_acknowledged_files_present_with_their_bytes(self):
        live, deleted = self.listed_files()
        for fid, (data, thumb) in self.acked.items():
            if fid in self.trashed:
                self.assertNotIn(fid, live)
                continue
            self.assertIn(fid, live)
            self.assertEqual(self.fetch(fid, "download"), data, fid)
            self.assertEqual(self.fetch(fid, "preview"), thumb, fid)

    def test_trashed_files_in_trash_diff(self):
        r = self.clean_get("/trash/v2/diff?sinceTime=0")
        self.assertEqual(r.status, 200, r)
        ids = {e["file"]["id"] for e in r.json()["diff"] if not e["isDeleted"]}
        self.assertTrue(self.trashed <= ids, (self.trashed, ids))

    def test_half_sent_objects_invisible(self):
        self.assertEqual(len(self.half_keys), 3)
        thumb = os.urandom(64)
        r = raw_request("POST", api(self.clean, "/files/upload-url"),
                        jbody({"contentLength": len(thumb), "contentMD5": md5_b64(thumb)}),
                        jhdrs(self.user.token))
        self.assertEqual(r.status, 200, r)
        u = r.json()
        r = raw_request("PUT", u["url"], thumb,
                        {"Content-Length": str(len(thumb)), "Content-MD5": md5_b64(thumb)})
        self.assertEqual(r.status, 200, r)
        for key in self.half_keys:
            body = file_body(self.albums[0], key, u["objectKey"])
            r = raw_request("POST", api(self.clean, "/files"), jbody(body),
                            jhdrs(self.user.token))
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.json(), {"code": "OBJECT_SIZE_FETCH_FAILED", "message": ""})

    def test_usage_matches_listed_files(self):
        live, _ = self.listed_files()
        r = self.clean_get("/trash/v2/diff?sinceTime=0")
        trash = {e["file"]["id"]: e["file"] for e in r.json()["diff"] if not e["isDeleted"]}
        total = sum(e["info"]["fileSize"] + e["info"]["thumbSize"] for e in live.values())
        total += sum(f["info"]["fileSize"] + f["info"]["thumbSize"]
                     for fid, f in trash.items() if fid not in live)
        r = self.clean_get("/users/details/v2")
        self.assertEqual(r.json()["usage"], total)


def half_put(url, data):
    parts = urllib.parse.urlsplit(url)
    s = socket.create_connection((parts.hostname, parts.port), timeout=10)
    req = ("PUT %s?%s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d\r\n"
           "Content-MD5: %s\r\n\r\n" % (parts.path, parts.query, parts.hostname,
                                        parts.port, len(data), md5_b64(data))).encode()
    try:
        s.sendall(req + data[:len(data) // 2])
        s.shutdown(socket.SHUT_WR)
        s.recv(4096)
    except OSError:
        pass
    s.close()


if __name__ == "__main__":
    from contract import main
    main()
