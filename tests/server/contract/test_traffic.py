#!/usr/bin/python3
# test_traffic.py
#
# Copyright 2026 The Eider Authors
#
# SPDX-License-Identifier: GPL-3.0-or-later

"""How the server carries requests: HTTP/1.1 keep-alive (as museum and S3
do), connections a client leaves are closed, `--latency-ms N` delays every
answer, `--stats-file PATH` counts requests, connections and bytes, and
object bodies are streamed to disk (nothing is left behind by a refused
PUT).
"""

import http.client
import json
import os
import tempfile
import time
import unittest
import urllib.parse

from contract import (Server, create_collection, expect, md5_b64, put_object,
                      raw_request, signup, upload_url)


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def settled_fds(pid):
    """The server's open descriptors once they stop changing (the server
    closes a connection its client closed a moment later, and later still
    under a sanitizer)."""
    count = open_fds(pid)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = open_fds(pid)
        if now == count:
            break
        count = now
    return count


class TrafficTest(unittest.TestCase):
    def start(self, *extra):
        fd, self.stats_path = tempfile.mkstemp(prefix="eider-stats-")
        os.close(fd)
        os.unlink(self.stats_path)
        self.server = Server(extra=["--stats-file", self.stats_path] + list(extra)).start()
        self.addCleanup(self.server.stop)
        parts = urllib.parse.urlsplit(self.server.base)
        self.host, self.port = parts.hostname, parts.port

    def stop_and_read_stats(self):
        self.server.proc.terminate()
        self.assertEqual(self.server.proc.wait(10), 0)
        with open(self.stats_path) as f:
            stats = json.load(f)
        os.unlink(self.stats_path)
        return stats

    def test_two_requests_on_one_connection(self):
        self.start()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        conn.request("GET", "/ping")
        first = conn.getresponse()
        self.assertEqual(first.status, 200)
        first.read()
        self.assertNotEqual((first.getheader("Connection") or "").lower(), "close")
        sock = conn.sock
        self.assertIsNotNone(sock, "the server closed the connection after one answer")
        conn.request("GET", "/ping")
        second = conn.getresponse()
        self.assertEqual(second.status, 200)
        self.assertEqual(json.loads(second.read())["message"], "pong")
        self.assertIs(conn.sock, sock, "the second request needed a new connection")
        conn.close()

        stats = self.stop_and_read_stats()
        self.assertEqual(stats["requests"], 2)
        self.assertEqual(stats["connections"], 1)

    def test_stats_count_connections_and_body_bytes(self):
        self.start()
        user = signup(self.server)
        data = os.urandom(300000)
        u = upload_url(user, data)
        expect(put_object(u["url"], data), 200, "presigned PUT")
        # signup and upload-url on fresh connections (raw_request), then
        # three requests on one kept-alive connection
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        for _ in range(3):
            conn.request("GET", "/ping")
            conn.getresponse().read()
        conn.close()

        stats = self.stop_and_read_stats()
        self.assertGreaterEqual(stats["bytes_received"], len(data))
        self.assertGreater(stats["requests"], stats["connections"])
        self.assertEqual(stats["requests"] - stats["connections"], 2)

    def test_connections_left_by_clients_are_closed(self):
        self.start()
        pid = self.server.proc.pid
        # one warm-up connection, so that whatever the server opens once is open
        raw_request("GET", self.server.url("/ping"))
        baseline = settled_fds(pid)
        conns = []
        for _ in range(40):
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            conn.request("GET", "/ping")
            conn.getresponse().read()
            conns.append(conn)
        self.assertGreaterEqual(open_fds(pid), baseline + 40,
                                "the connections were not kept open")
        for conn in conns:
            conn.close()
        deadline = time.monotonic() + 20
        while open_fds(pid) > baseline and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertLessEqual(open_fds(pid), baseline,
                             "connections closed by the client stay open in the server")
        # and it still answers, on a new connection and on a kept one
        self.assertEqual(raw_request("GET", self.server.url("/ping")).status, 200)

    def test_latency_delays_every_answer(self):
        self.start("--latency-ms", "300")
        r = raw_request("GET", self.server.url("/ping"))
        self.assertEqual(r.status, 200)
        self.assertGreaterEqual(r.elapsed, 0.3)
        r = raw_request("GET", self.server.url("/no-such-route"))
        self.assertEqual(r.status, 404)
        self.assertGreaterEqual(r.elapsed, 0.3)

    def test_refused_and_accepted_puts_leave_no_temporary_files(self):
        self.start()
        user = signup(self.server)
        create_collection(user)
        data = os.urandom(3 * 1024 * 1024 + 17)
        u = upload_url(user, data)
        # the signed Content-MD5 with a body that does not match it
        tampered = bytes([data[0] ^ 1]) + data[1:]
        r = put_object(u["url"], tampered, md5=md5_b64(data))
        self.assertEqual(r.status, 400)
        self.assertIn(b"BadDigest", r.body)
        expect(put_object(u["url"], data), 200, "presigned PUT")
        key = u["objectKey"].split("/")
        with open(os.path.join(self.server.data_dir, "objects", key[0], key[1]), "rb") as f:
            self.assertEqual(f.read(), data)
        incoming = os.path.join(self.server.data_dir, "incoming")
        self.assertEqual(os.listdir(incoming) if os.path.isdir(incoming) else [], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
