#!/usr/bin/python3
# test_trash.py
#
# Copyright 2026 The Eider Authors
#
# SPDX-License-Identifier: GPL-3.0-or-later

"""Contract checks: trash, permanent delete, restore, usage accounting.

Covers ente-server.md §4 lines 58 and 60 and the rest of §2.11.
"""

import os
import time
import unittest

from nacl.utils import random as nacl_random

from contract import (ServerTestCase, b64, create_collection, diff, download,
                      expect, main, now_us, signup, upload_file, usage)

DAY_US = 24 * 3600 * 1000000


def item(fid, cid):
    return {"fileID": fid, "collectionID": cid}


def trash_diff(user, since=0):
    r = expect(user.get("/trash/v2/diff?sinceTime=%d" % since), 200, "GET /trash/v2/diff")
    return r.json()


class TrashTests(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = signup(cls.server, srp=False)
        cls.bob = signup(cls.server, srp=False)

    # line 58
    def test_58_usage_through_trash_and_delete(self):
        user = signup(self.server, srp=False)
        c = create_collection(user)
        self.assertEqual(usage(user), 0)
        f, _, data, thumb = upload_file(user, c["id"], os.urandom(1234), os.urandom(321))
        self.assertEqual(usage(user), 1234 + 321)
        self.assertEmptyBody(user.post("/files/trash", {"items": [item(f["id"], c["id"])]}))
        self.assertEqual(usage(user), 1234 + 321)
        self.assertEmptyBody(user.post("/trash/delete", {"fileIDs": [f["id"]]}))
        self.assertEqual(usage(user), 0)
        # deleting again is a silent no-op and does not go negative
        self.assertEmptyBody(user.post("/trash/delete", {"fileIDs": [f["id"]]}))
        self.assertEqual(usage(user), 0)

    # line 60
    def test_60a_duplicate_file_ids_is_400(self):
        c = create_collection(self.alice)
        f = upload_file(self.alice, c["id"])[0]
        r = self.alice.post("/files/trash",
                            {"items": [item(f["id"], c["id"]), item(f["id"], c["id"])]})
        self.assertEmptyJson(r, 400)

    def test_60b_foreign_collection_is_403(self):
        # alice's own file, named with bob's collection
        c = create_collection(self.alice)
        f = upload_file(self.alice, c["id"])[0]
        bc = create_collection(self.bob)
        r = self.alice.post("/files/trash", {"items": [item(f["id"], bc["id"])]})
        self.assertEmptyJson(r, 403)

    def test_60c_foreign_file_is_403(self):
        bc = create_collection(self.bob)
        f = upload_file(self.bob, bc["id"])[0]
        r = self.alice.post("/files/trash", {"items": [item(f["id"], bc["id"])]})
        self.assertEmptyJson(r, 403)

    def test_60d_unknown_file_is_400(self):
        c = create_collection(self.alice)
        r = self.alice.post("/files/trash", {"items": [item(987654321, c["id"])]})
        self.assertEmptyJson(r, 400)

    def test_60e_too_many_items_is_413(self):
        c = create_collection(self.alice)
        r = self.alice.post("/files/trash",
                            {"items": [item(i + 1, c["id"]) for i in range(1001)]})
        self.assertEmptyJson(r, 413)

    def test_60f_trash_marks_every_collection_and_lists_item(self):
        a = create_collection(self.alice)
        b = create_collection(self.alice)
        f, body, _, _ = upload_file(self.alice, a["id"])
        r = self.alice.post("/collections/add-files",
                            {"collectionID": b["id"],
                             "files": [{"id": f["id"], "encryptedKey": b64(nacl_random(48)),
                                        "keyDecryptionNonce": b64(nacl_random(24))}]})
        self.assertEmptyBody(r)
        before = now_us()
        self.assertEmptyBody(self.alice.post("/files/trash",
                                             {"items": [item(f["id"], a["id"])]}))
        da = diff(self.alice, a["id"])["diff"]
        db = diff(self.alice, b["id"])["diff"]
        self.assertEqual([e["isDeleted"] for e in da], [True])
        self.assertEqual([e["isDeleted"] for e in db], [True])
        t = da[0]["updationTime"]
        self.assertEqual(db[0]["updationTime"], t)
        td = trash_diff(self.alice)
        mine = [e for e in td["diff"] if e["file"]["id"] == f["id"]]
        self.assertEqual(len(mine), 1)
        e = mine[0]
        self.assertIs(e["isDeleted"], False)
        self.assertIs(e["isRestored"], False)
        self.assertAlmostEqual(e["deleteBy"] - before, 30 * DAY_US, delta=DAY_US // 24)
        self.assertIn("createdAt", e)
        self.assertIn("updatedAt", e)
        self.assertIs(td["hasMore"], False)
        # the owner keeps download access while the file is in trash
        self.assertEqual(download(self.alice, f["id"]).status, 307)
        # cursor: strictly greater
        td2 = trash_diff(self.alice, max(x["updatedAt"] for x in td["diff"]))
        self.assertEqual(td2, {"diff": [], "hasMore": False})

    def test_60g_permanent_delete_shows_in_trash_diff(self):
        user = signup(self.server, srp=False)
        c = create_collection(user)
        f = upload_file(user, c["id"])[0]
        self.assertEmptyBody(user.post("/files/trash", {"items": [item(f["id"], c["id"])]}))
        cursor = trash_diff(user)["diff"][0]["updatedAt"]
        self.assertEmptyBody(user.post("/trash/delete", {"fileIDs": [f["id"]]}))
        td = trash_diff(user, cursor)
        self.assertEqual(len(td["diff"]), 1)
        self.assertIs(td["diff"][0]["isDeleted"], True)
        self.assertGreater(td["diff"][0]["updatedAt"], cursor)
        # objects are gone: download → 404
        self.assertEmptyJson(download(user, f["id"]), 404)

    def test_60h_restore_files(self):
        user = signup(self.server, srp=False)
        c = create_collection(user)
        f, body, data, _ = upload_file(user, c["id"])
        self.assertEmptyBody(user.post("/files/trash", {"items": [item(f["id"], c["id"])]}))
        d = create_collection(user)
        files = [{"id": f["id"], "encryptedKey": b64(nacl_random(48)),
                  "keyDecryptionNonce": b64(nacl_random(24))}]
        r = user.post("/collections/restore-files", {"collectionID": d["id"], "files": files})
        self.assertEmptyBody(r)
        e = diff(user, d["id"])["diff"]
        self.assertEqual([x["isDeleted"] for x in e], [False])
        td = trash_diff(user)["diff"]
        self.assertIs(td[0]["isRestored"], True)
        # not in trash any more → 400
        r = user.post("/collections/restore-files", {"collectionID": d["id"], "files": files})
        self.assertEmptyJson(r, 400)
        # restored files may be added elsewhere again
        r = user.post("/collections/add-files", {"collectionID": c["id"], "files": files})
        self.assertEmptyBody(r)

    def test_60i_empty_trash(self):
        user = signup(self.server, srp=False)
        c = create_collection(user)
        f1 = upload_file(user, c["id"])[0]
        f2 = upload_file(user, c["id"])[0]
        self.assertEmptyBody(user.post("/files/trash", {"items": [item(f1["id"], c["id"])]}))
        t1 = trash_diff(user)["diff"][0]["updatedAt"]
        self.assertEmptyBody(user.post("/files/trash", {"items": [item(f2["id"], c["id"])]}))
        self.assertEmptyBody(user.post("/trash/empty", {"lastUpdatedAt": t1}))
        # the worker may run later in museum; the double may be synchronous
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            states = {e["file"]["id"]: e["isDeleted"] for e in trash_diff(user)["diff"]}
            if states.get(f1["id"]):
                break
            time.sleep(0.2)
        self.assertIs(states[f1["id"]], True)
        self.assertIs(states[f2["id"]], False)

    def test_60j_trashed_file_cannot_be_moved(self):
        # move-files of a trashed file → 409 (server §2.7.5: trash checks as add-files)
        user = signup(self.server, srp=False)
        c = create_collection(user)
        f = upload_file(user, c["id"])[0]
        self.assertEmptyBody(user.post("/files/trash", {"items": [item(f["id"], c["id"])]}))
        r = user.post("/collections/move-files",
                      {"fromCollectionID": c["id"], "toCollectionID": create_collection(user)["id"],
                       "files": [{"id": f["id"], "encryptedKey": b64(nacl_random(48)),
                                  "keyDecryptionNonce": b64(nacl_random(24))}]})
        self.assertApiError(r, 409, "FILE_IN_TRASH")

    # further §2.11 behaviour outside the numbered list

    def test_trash_pair_without_row_is_500(self):
        # server §2.11: FK on (fileID, collectionID) → 500 [inferred]
        c = create_collection(self.alice)
        f = upload_file(self.alice, c["id"])[0]
        d = create_collection(self.alice)
        r = self.alice.post("/files/trash", {"items": [item(f["id"], d["id"])]})
        self.assertEmptyJson(r, 500)

    def test_trash_delete_too_many_is_500(self):
        r = self.alice.post("/trash/delete", {"fileIDs": list(range(1, 2502))})
        self.assertEqual(r.status, 500, r)

    def test_trash_delete_skips_files_not_in_trash(self):
        user = signup(self.server, srp=False)
        c = create_collection(user)
        f, _, data, thumb = upload_file(user, c["id"])
        self.assertEmptyBody(user.post("/trash/delete", {"fileIDs": [f["id"]]}))
        self.assertEqual(usage(user), len(data) + len(thumb))
        self.assertEqual(download(user, f["id"]).status, 307)

    def test_restore_checks(self):
        user = signup(self.server, srp=False)
        c = create_collection(user)
        f = upload_file(user, c["id"])[0]
        self.assertEmptyBody(user.post("/files/trash", {"items": [item(f["id"], c["id"])]}))
        files = [{"id": f["id"], "encryptedKey": b64(nacl_random(48)),
                  "keyDecryptionNonce": b64(nacl_random(24))}]
        bc = create_collection(self.bob)
        r = user.post("/collections/restore-files", {"collectionID": bc["id"], "files": files})
        self.assertEmptyJson(r, 403)
        gone = create_collection(user)
        user.call("DELETE", "/collections/v3/%d?collectionID=%d&keepFiles=false"
                  % (gone["id"], gone["id"]))
        r = user.post("/collections/restore-files", {"collectionID": gone["id"], "files": files})
        self.assertEmptyJson(r, 404)
        bad = [{"id": 987654321, "encryptedKey": b64(nacl_random(48)),
                "keyDecryptionNonce": b64(nacl_random(24))}]
        r = user.post("/collections/restore-files", {"collectionID": c["id"], "files": bad})
        self.assertEmptyJson(r, 404)

    def test_trash_diff_file_updation_time_is_files_time(self):
        # server §2.11: file.updationTime in the trash diff is files.updation_time
        user = signup(self.server, srp=False)
        c = create_collection(user)
        f = upload_file(user, c["id"])[0]
        self.assertEmptyBody(user.post("/files/trash", {"items": [item(f["id"], c["id"])]}))
        e = trash_diff(user)["diff"][0]
        self.assertEqual(e["file"]["updationTime"], f["updationTime"])
        self.assertGreater(e["updatedAt"], f["updationTime"])

    def test_collection_delete_trashes_files(self):
        # server §2.7.6: keepFiles=false → the owner's files end up in trash
        user = signup(self.server, srp=False)
        c = create_collection(user)
        f = upload_file(user, c["id"])[0]
        r = user.call("DELETE", "/collections/v3/%d?collectionID=%d&keepFiles=false"
                      % (c["id"], c["id"]))
        self.assertEqual(r.status, 200, r)
        deadline = time.monotonic() + 5
        ids = set()
        while time.monotonic() < deadline:
            ids = {e["file"]["id"] for e in trash_diff(user)["diff"] if not e["isDeleted"]}
            if f["id"] in ids:
                break
            time.sleep(0.2)
        self.assertIn(f["id"], ids)


if __name__ == "__main__":
    main()
