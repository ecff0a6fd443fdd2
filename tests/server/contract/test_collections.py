#!/usr/bin/python3
# test_collections.py
#
# Copyright 2026 The Eider Authors
#
# SPDX-License-Identifier: GPL-3.0-or-later

"""Contract checks: collections, diffs, add/move files, collection delete.

Covers ente-server.md §4 lines 35-48 (§2.7 and §3).
"""

import os
import unittest

from nacl.utils import random as nacl_random

from contract import (ServerTestCase, b64, collection_body, create_collection,
                      diff, expect, file_body, full_diff, main, signup,
                      upload_file, upload_object)


def file_item(fid):
    return {"id": fid, "encryptedKey": b64(nacl_random(48)),
            "keyDecryptionNonce": b64(nacl_random(24))}


class CollectionTests(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = signup(cls.server, srp=False)
        cls.bob = signup(cls.server, srp=False)

    def delete_collection(self, user, cid, keep="false"):
        return user.call("DELETE", "/collections/v3/%d?collectionID=%d&keepFiles=%s"
                         % (cid, cid, keep))

    def get_collection(self, user, cid):
        r = user.get("/collections/%d" % cid)
        self.assertEqual(r.status, 200, r)
        return r.json()["collection"]

    # line 35
    def test_35_create_before_key_attributes_is_404(self):
        user = signup(self.server, attributes=False, srp=False)
        r = user.post("/collections", collection_body(user))
        self.assertEmptyJson(r, 404)

    # line 36
    def test_36_encrypted_key_47_bytes_is_500(self):
        body = collection_body(self.alice)
        body["encryptedKey"] = b64(os.urandom(47))
        self.assertEmptyJson(self.alice.post("/collections", body), 500)

    def test_36b_nonce_23_bytes_is_500(self):
        body = collection_body(self.alice)
        body["keyDecryptionNonce"] = b64(os.urandom(23))
        self.assertEmptyJson(self.alice.post("/collections", body), 500)

    # line 37
    def test_37a_missing_type_is_400(self):
        body = collection_body(self.alice)
        del body["type"]
        self.assertEmptyJson(self.alice.post("/collections", body), 400)

    def test_37b_unknown_type_is_500(self):
        body = collection_body(self.alice, ctype="foo")
        self.assertEmptyJson(self.alice.post("/collections", body), 500)

    def test_37c_dart_style_album_type_rewritten(self):
        c = create_collection(self.alice, ctype="CollectionType.album")
        self.assertEqual(c["type"], "album")
        self.assertEqual(self.get_collection(self.alice, c["id"])["type"], "album")

    # line 38
    def test_38_create_album_shape(self):
        body = collection_body(self.alice)
        r = self.alice.post("/collections", body)
        self.assertEqual(r.status, 200, r)
        j = r.json()
        self.assertEqual(list(j.keys()), ["collection"])
        c = j["collection"]
        self.assertEqual(c["owner"], {"id": self.alice.id, "email": "", "name": "", "role": ""})
        self.assertEqual(c["app"], "photos")
        self.assertIsNone(c["sharees"])
        self.assertIsNone(c["publicURLs"])
        self.assertNotIn("isDeleted", c)
        self.assertEqual(c["attributes"], {"version": 0})
        for k in ("encryptedKey", "keyDecryptionNonce", "encryptedName",
                  "nameDecryptionNonce", "type"):
            self.assertEqual(c[k], body[k], k)
        self.assertGreater(c["updationTime"], 10 ** 15)  # microseconds

    def test_38b_plain_albums_not_deduplicated(self):
        a = create_collection(self.alice)
        b = create_collection(self.alice)
        self.assertNotEqual(a["id"], b["id"])

    # line 39
    def test_39_uncategorized_is_unique(self):
        user = signup(self.server, srp=False)
        a = create_collection(user, "uncategorized")
        b = create_collection(user, "uncategorized")
        self.assertEqual(a["id"], b["id"])
        self.assertEqual(b["type"], "uncategorized")

    def test_39b_favorites_is_unique(self):
        user = signup(self.server, srp=False)
        a = create_collection(user, "favorites")
        b = create_collection(user, "favorites")
        self.assertEqual(a["id"], b["id"])

    # line 40
    def test_40_collections_v2_lists_deleted_and_cursor(self):
        user = signup(self.server, srp=False)
        r = user.get("/collections/v2?sinceTime=0")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"collections": []})
        keep = create_collection(user)
        gone = create_collection(user)
        r = self.delete_collection(user, gone["id"])
        self.assertEqual(r.status, 200, r)
        r = user.get("/collections/v2?sinceTime=0")
        self.assertEqual(r.status, 200, r)
        cols = {c["id"]: c for c in r.json()["collections"]}
        self.assertEqual(set(cols), {keep["id"], gone["id"]})
        self.assertIs(cols[gone["id"]]["isDeleted"], True)
        self.assertIs(cols[keep["id"]].get("isDeleted", False), False)
        self.assertEqual(cols[keep["id"]]["sharees"], [])
        self.assertEqual(cols[keep["id"]]["publicURLs"], [])
        cursor = max(c["updationTime"] for c in cols.values())
        r = user.get("/collections/v2?sinceTime=%d" % cursor)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"collections": []})
        # strict comparison: one below the max re-lists that collection
        r = user.get("/collections/v2?sinceTime=%d" % (cursor - 1))
        self.assertEqual(len(r.json()["collections"]), 1)

    def test_40b_collections_scoped_per_app(self):
        user = signup(self.server, srp=False)
        create_collection(user)
        r = user.get("/collections/v2?sinceTime=0", package="io.ente.locker")
        self.assertEqual(r.status, 401, r)  # the token is per app as well
        r = user.get("/collections/v2?sinceTime=0")
        self.assertEqual(len(r.json()["collections"]), 1)

    def test_40c_get_collection_by_id(self):
        c = create_collection(self.alice)
        self.assertEqual(self.get_collection(self.alice, c["id"])["id"], c["id"])
        self.assertEmptyJson(self.alice.get("/collections/abc"), 400)
        self.assertEmptyJson(self.bob.get("/collections/%d" % c["id"]), 404)

    # line 41
    def test_41a_diff_unknown_collection_is_404(self):
        r = self.alice.get("/collections/v2/diff?collectionID=99999999&sinceTime=0")
        self.assertEmptyJson(r, 404)

    def test_41b_diff_other_users_collection_is_404(self):
        c = create_collection(self.bob)
        r = self.alice.get("/collections/v2/diff?collectionID=%d&sinceTime=0" % c["id"])
        self.assertEmptyJson(r, 404)

    def test_41c_diff_deleted_collection_is_404(self):
        c = create_collection(self.alice)
        self.assertEqual(self.delete_collection(self.alice, c["id"]).status, 200)
        r = self.alice.get("/collections/v2/diff?collectionID=%d&sinceTime=0" % c["id"])
        self.assertEmptyJson(r, 404)

    def test_41d_empty_diff(self):
        c = create_collection(self.alice)
        self.assertEqual(diff(self.alice, c["id"]), {"diff": [], "hasMore": False})

    # line 42
    def test_42_diff_entries_shape_and_order(self):
        c = create_collection(self.alice)
        sent = []
        for i in range(3):
            f, body, data, thumb = upload_file(self.alice, c["id"],
                                               os.urandom(500 + i), os.urandom(50 + i))
            sent.append((f, body, data, thumb))
        d = diff(self.alice, c["id"])
        self.assertIs(d["hasMore"], False)
        entries = d["diff"]
        self.assertEqual([e["id"] for e in entries], [s[0]["id"] for s in sent])
        times = [e["updationTime"] for e in entries]
        self.assertEqual(times, sorted(times))
        for e, (f, body, data, thumb) in zip(entries, sent):
            self.assertNotIn("objectKey", e["file"])
            self.assertNotIn("objectKey", e["thumbnail"])
            self.assertEqual(e["file"]["size"], 0)
            self.assertEqual(e["thumbnail"]["size"], 0)
            self.assertEqual(e["info"], {"fileSize": len(data), "thumbSize": len(thumb)})
            self.assertEqual(e["ownerID"], self.alice.id)
            self.assertEqual(e["collectionID"], c["id"])
            self.assertEqual(e["encryptedKey"], body["encryptedKey"])
            self.assertEqual(e["file"]["decryptionHeader"], body["file"]["decryptionHeader"])
            self.assertEqual(e["metadata"]["encryptedData"], body["metadata"]["encryptedData"])
            self.assertIs(e["isDeleted"], False)
            self.assertEqual(e["updationTime"], f["updationTime"])
            self.assertEqual(e["collectionOwnerID"], self.alice.id)
            self.assertIsInstance(e["collectionAddedAt"], int)
        # cursor semantics: strict >
        d = diff(self.alice, c["id"], times[1])
        self.assertEqual([e["id"] for e in d["diff"]], [sent[2][0]["id"]])
        # collection.updationTime >= every entry (server §3)
        self.assertGreaterEqual(self.get_collection(self.alice, c["id"])["updationTime"],
                                times[-1])

    # line 43
    def test_43_diff_paging_keeps_timestamp_groups(self):
        user = signup(self.server, srp=False)
        src = create_collection(user)
        dst = create_collection(user)
        ids = []
        for i in range(2501):
            fk = upload_object(user, b"f%d" % i)
            tk = upload_object(user, b"t%d" % i)
            r = expect(user.post("/files", file_body(src["id"], fk, tk)), 200, "POST /files")
            ids.append(r.json()["id"])
        # three batches → three timestamps: 1000 + 1000 + 501 rows
        for chunk in (ids[:1000], ids[1000:2000], ids[2000:]):
            r = user.post("/collections/add-files",
                          {"collectionID": dst["id"], "files": [file_item(i) for i in chunk]})
            self.assertEmptyBody(r)
        p1 = diff(user, dst["id"])
        self.assertIs(p1["hasMore"], True)
        self.assertLessEqual(len(p1["diff"]), 2499)
        self.assertEqual(len(p1["diff"]), 2000)
        self.assertEqual(len({e["updationTime"] for e in p1["diff"]}), 2)
        cursor = max(e["updationTime"] for e in p1["diff"])
        p2 = diff(user, dst["id"], cursor)
        self.assertIs(p2["hasMore"], False)
        self.assertEqual(len(p2["diff"]), 501)
        self.assertEqual(sorted(e["id"] for e in p1["diff"] + p2["diff"]), sorted(ids))
        # the source collection (one timestamp per file) pages at 2500
        s1 = diff(user, src["id"])
        self.assertIs(s1["hasMore"], True)
        self.assertEqual(len(s1["diff"]), 2500)
        self.assertEqual(len(full_diff(user, src["id"])), 2501)

    # line 44
    def test_44a_add_files_too_many_is_413(self):
        c = create_collection(self.alice)
        r = self.alice.post("/collections/add-files",
                            {"collectionID": c["id"],
                             "files": [file_item(i + 1) for i in range(1001)]})
        self.assertEmptyJson(r, 413)

    def test_44b_add_files_duplicate_ids_is_400(self):
        c = create_collection(self.alice)
        f = upload_file(self.alice, c["id"])[0]
        d = create_collection(self.alice)
        r = self.alice.post("/collections/add-files",
                            {"collectionID": d["id"],
                             "files": [file_item(f["id"]), file_item(f["id"])]})
        self.assertEmptyJson(r, 400)

    def test_44c_add_files_unknown_id_is_400(self):
        c = create_collection(self.alice)
        r = self.alice.post("/collections/add-files",
                            {"collectionID": c["id"], "files": [file_item(987654321)]})
        self.assertEmptyJson(r, 400)

    def test_44d_add_files_other_users_file_is_403(self):
        bc = create_collection(self.bob)
        f = upload_file(self.bob, bc["id"])[0]
        c = create_collection(self.alice)
        r = self.alice.post("/collections/add-files",
                            {"collectionID": c["id"], "files": [file_item(f["id"])]})
        self.assertEmptyJson(r, 403)

    def test_44e_add_files_trashed_file_is_409(self):
        c = create_collection(self.alice)
        f = upload_file(self.alice, c["id"])[0]
        r = self.alice.post("/files/trash",
                            {"items": [{"fileID": f["id"], "collectionID": c["id"]}]})
        self.assertEmptyBody(r)
        d = create_collection(self.alice)
        r = self.alice.post("/collections/add-files",
                            {"collectionID": d["id"], "files": [file_item(f["id"])]})
        self.assertApiError(r, 409, "FILE_IN_TRASH")

    def test_44f_add_files_to_unknown_collection_is_404(self):
        c = create_collection(self.alice)
        f = upload_file(self.alice, c["id"])[0]
        r = self.alice.post("/collections/add-files",
                            {"collectionID": 987654321, "files": [file_item(f["id"])]})
        self.assertEmptyJson(r, 404)

    # line 45
    def test_45_re_add_keeps_old_key(self):
        c = create_collection(self.alice)
        f, body, _, _ = upload_file(self.alice, c["id"])
        before = diff(self.alice, c["id"])["diff"][0]
        item = file_item(f["id"])
        r = self.alice.post("/collections/add-files",
                            {"collectionID": c["id"], "files": [item]})
        self.assertEmptyBody(r)
        d = diff(self.alice, c["id"], before["updationTime"])["diff"]
        self.assertEqual(len(d), 1)
        self.assertGreater(d[0]["updationTime"], before["updationTime"])
        self.assertEqual(d[0]["encryptedKey"], body["encryptedKey"])
        self.assertEqual(d[0]["keyDecryptionNonce"], body["keyDecryptionNonce"])
        self.assertNotEqual(d[0]["encryptedKey"], item["encryptedKey"])

    def test_45b_add_files_stores_given_key_and_bumps_collection(self):
        c = create_collection(self.alice)
        f = upload_file(self.alice, c["id"])[0]
        d = create_collection(self.alice)
        items = [file_item(f["id"])]
        self.assertEmptyBody(self.alice.post("/collections/add-files",
                                             {"collectionID": d["id"], "files": items}))
        e = diff(self.alice, d["id"])["diff"]
        self.assertEqual(len(e), 1)
        self.assertEqual(e[0]["encryptedKey"], items[0]["encryptedKey"])
        self.assertEqual(e[0]["collectionID"], d["id"])
        self.assertEqual(self.get_collection(self.alice, d["id"])["updationTime"],
                         e[0]["updationTime"])

    # line 46
    def move(self, user, frm, to, fids):
        return user.post("/collections/move-files",
                         {"fromCollectionID": frm, "toCollectionID": to,
                          "files": [file_item(i) for i in fids]})

    def test_46a_move_same_collection_is_400(self):
        c = create_collection(self.alice)
        f = upload_file(self.alice, c["id"])[0]
        self.assertEmptyJson(self.move(self.alice, c["id"], c["id"], [f["id"]]), 400)

    def test_46b_move_to_foreign_collection_is_403(self):
        c = create_collection(self.alice)
        f = upload_file(self.alice, c["id"])[0]
        bc = create_collection(self.bob)
        self.assertEmptyJson(self.move(self.alice, c["id"], bc["id"], [f["id"]]), 403)

    def test_46c_move_to_deleted_collection_is_404(self):
        c = create_collection(self.alice)
        f = upload_file(self.alice, c["id"])[0]
        d = create_collection(self.alice)
        self.assertEqual(self.delete_collection(self.alice, d["id"]).status, 200)
        self.assertEmptyJson(self.move(self.alice, c["id"], d["id"], [f["id"]]), 404)

    # line 47
    def test_47_move_files_timestamps(self):
        a = create_collection(self.alice)
        f, body, _, _ = upload_file(self.alice, a["id"])
        b = create_collection(self.alice)
        self.assertEmptyBody(self.move(self.alice, a["id"], b["id"], [f["id"]]))
        da = diff(self.alice, a["id"])["diff"]
        db = diff(self.alice, b["id"])["diff"]
        self.assertEqual(len(da), 1)
        self.assertEqual(len(db), 1)
        self.assertIs(da[0]["isDeleted"], True)
        self.assertIs(db[0]["isDeleted"], False)
        t = db[0]["updationTime"]
        self.assertEqual(da[0]["updationTime"], t)
        self.assertEqual(self.get_collection(self.alice, a["id"])["updationTime"], t)
        self.assertEqual(self.get_collection(self.alice, b["id"])["updationTime"], t)
        # deleted entries keep their fields (server §3)
        self.assertEqual(da[0]["encryptedKey"], body["encryptedKey"])

    def test_47b_remove_own_file_from_own_album_is_400(self):
        c = create_collection(self.alice)
        f = upload_file(self.alice, c["id"])[0]
        r = self.alice.post("/collections/v3/remove-files",
                            {"collectionID": c["id"], "fileIDs": [f["id"]]})
        self.assertApiError(r, 400, "BAD_REQUEST",
                            "can not remove files owned collection owner, "
                            "admins can perform remove suggestion")

    # line 48
    def test_48a_delete_uncategorized_is_400(self):
        user = signup(self.server, srp=False)
        u = create_collection(user, "uncategorized")
        r = self.delete_collection(user, u["id"], keep="true")
        self.assertEmptyJson(r, 400)

    def test_48b_delete_album_with_files_keep_is_409(self):
        c = create_collection(self.alice)
        upload_file(self.alice, c["id"])
        r = self.delete_collection(self.alice, c["id"], keep="true")
        self.assertApiError(r, 409, "COLLECTION_NOT_EMPTY")

    def test_48c_delete_needs_keep_files(self):
        c = create_collection(self.alice)
        r = self.alice.call("DELETE", "/collections/v3/%d?collectionID=%d"
                            % (c["id"], c["id"]))
        self.assertEqual(r.status, 400, r)

    def test_48d_delete_foreign_collection_is_403(self):
        c = create_collection(self.bob)
        self.assertEqual(self.delete_collection(self.alice, c["id"]).status, 403)

    def test_48e_delete_album_trashes_its_files(self):
        c = create_collection(self.alice)
        f = upload_file(self.alice, c["id"])[0]
        r = self.delete_collection(self.alice, c["id"], keep="false")
        self.assertEqual(r.status, 200, r)
        # already deleted → 200 no-op
        self.assertEqual(self.delete_collection(self.alice, c["id"]).status, 200)
        # the double may run the worker synchronously (server §2.7.6); the
        # collection itself is deleted at once
        self.assertIs(self.get_collection(self.alice, c["id"])["isDeleted"], True)

    # further §2.7 behaviour outside the numbered list

    def test_collections_alias(self):
        user = signup(self.server, srp=False)
        c = create_collection(user)
        r = user.get("/collections?sinceTime=0")
        self.assertEqual(r.status, 200, r)
        self.assertEqual([x["id"] for x in r.json()["collections"]], [c["id"]])

    def test_delete_favorites_is_400(self):
        # server §2.7.6: neither special type can be deleted
        user = signup(self.server, srp=False)
        fav = create_collection(user, "favorites")
        self.assertEmptyJson(self.delete_collection(user, fav["id"]), 400)

    def test_move_files_does_not_require_membership(self):
        # server §2.7.5: museum does not check the files are in `from`
        a = create_collection(self.alice)
        f = upload_file(self.alice, a["id"])[0]
        b = create_collection(self.alice)
        c = create_collection(self.alice)
        self.assertEmptyBody(self.move(self.alice, b["id"], c["id"], [f["id"]]))
        self.assertEqual([e["id"] for e in diff(self.alice, c["id"])["diff"]], [f["id"]])
        self.assertEqual([e["isDeleted"] for e in diff(self.alice, a["id"])["diff"]], [False])

    def test_move_files_too_many_is_413(self):
        a = create_collection(self.alice)
        b = create_collection(self.alice)
        self.assertEmptyJson(self.move(self.alice, a["id"], b["id"],
                                       list(range(1, 1002))), 413)

    def test_add_files_needs_all_fields(self):
        c = create_collection(self.alice)
        f = upload_file(self.alice, c["id"])[0]
        d = create_collection(self.alice)
        r = self.alice.post("/collections/add-files",
                            {"collectionID": d["id"], "files": [{"id": f["id"]}]})
        self.assertEmptyJson(r, 400)

    def test_special_types_thin_row_on_second_create(self):
        # server §2.7.1: the existing row comes back with "app":""
        user = signup(self.server, srp=False)
        create_collection(user, "uncategorized")
        again = create_collection(user, "uncategorized")
        self.assertEqual(again["app"], "")
        self.assertIsNone(again["sharees"])
        self.assertIsNone(again["publicURLs"])


if __name__ == "__main__":
    main()
