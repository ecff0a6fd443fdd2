#!/usr/bin/python3
# test_auth.py
#
# Copyright 2026 The Eider Authors
#
# SPDX-License-Identifier: GPL-3.0-or-later

"""Contract checks: signup, OTT, verify-email, token handling.

Covers ente-server.md §4 lines 1-14 and 32-34, plus the auth-app rule of
§2.0 and the details/v2 shape of §2.6.
"""

import base64
import re
import subprocess
import unittest
import urllib.parse

from contract import (FIXED_OTT, PACKAGE, Server, ServerTestCase, User,
                      expect, main, now_us, server_binary, set_attributes, signup,
                      unique_email)

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}=$")


class OttFixedTests(ServerTestCase):
    """Server started with --fixed-ott 123456."""

    def ott(self, email, purpose="signup", package=PACKAGE):
        body = {"email": email}
        if purpose is not None:
            body["purpose"] = purpose
        return self.server.post("/users/ott", body, package=package)

    def verify(self, email, ott=FIXED_OTT, package=PACKAGE):
        return self.server.post("/users/verify-email",
                                {"email": email, "ott": ott}, package=package)

    # line 1
    def test_01_ott_without_email_is_400(self):
        r = self.server.post("/users/ott", {"purpose": "signup"})
        self.assertEmptyJson(r, 400)

    def test_01b_ott_blank_email_is_400(self):
        # server §1.2 rule 1: normalised-to-empty email → 400 {}
        r = self.ott("   ")
        self.assertEmptyJson(r, 400)

    # line 3
    def test_03_signup_ott_for_complete_account_is_409(self):
        user = signup(self.server, srp=False)
        r = self.ott(user.email)
        self.assertApiError(r, 409, "USER_ALREADY_REGISTERED",
                            "User is already registered")

    # line 4
    def test_04a_login_ott_unknown_email_is_404(self):
        r = self.ott(unique_email(), purpose="login")
        self.assertApiError(r, 404, "USER_NOT_REGISTERED")

    def test_04b_login_ott_incomplete_account_is_404(self):
        user = signup(self.server, attributes=False, srp=False)
        r = self.ott(user.email, purpose="login")
        self.assertApiError(r, 404, "USER_SIGNUP_INCOMPLETE")

    def test_04c_signup_ott_for_incomplete_account_is_allowed(self):
        # server §1.2 rule 4: an incomplete account may sign up again
        user = signup(self.server, attributes=False, srp=False)
        self.assertEmptyBody(self.ott(user.email))

    # line 5
    def test_05_ott_without_purpose_unknown_email_is_200(self):
        self.assertEmptyBody(self.ott(unique_email(), purpose=None))

    # line 6
    def test_06_disable_registration(self):
        help_text = subprocess.run([server_binary(), "--help"],
                                   capture_output=True, text=True, timeout=10)
        if "--disable-registration" not in help_text.stdout + help_text.stderr:
            self.skipTest("server has no --disable-registration option")
        srv = Server(extra=["--disable-registration"]).start()
        try:
            r = srv.post("/users/ott", {"email": unique_email(), "purpose": "signup"})
            self.assertEmptyJson(r, 403)
        finally:
            srv.stop()

    # line 8
    def test_08_verify_before_any_ott_is_410(self):
        r = self.verify(unique_email())
        self.assertEmptyJson(r, 410)

    def test_08b_verify_without_email_is_410(self):
        # server §2.3: no binding; a missing email finds no code → 410
        r = self.server.post("/users/verify-email", {"ott": FIXED_OTT})
        self.assertEmptyJson(r, 410)

    # line 9
    def test_09a_verify_wrong_code_is_401(self):
        email = unique_email()
        self.assertEmptyBody(self.ott(email))
        r = self.verify(email, "000000")
        self.assertEmptyJson(r, 401)
        # the code survives a wrong attempt
        self.assertEqual(self.verify(email).status, 200)

    def test_09b_twenty_wrong_attempts_then_429(self):
        email = unique_email()
        self.assertEmptyBody(self.ott(email))
        for i in range(20):
            r = self.verify(email, "000000")
            self.assertEmptyJson(r, 401)
        r = self.verify(email)
        self.assertEqual(r.status, 429, r)

    # line 10
    def test_10_code_with_spaces_then_replay_410(self):
        email = unique_email()
        self.assertEmptyBody(self.ott(email))
        r = self.verify(email, " %s " % FIXED_OTT)
        self.assertEqual(r.status, 200, r)
        r = self.verify(email, FIXED_OTT)
        self.assertEmptyJson(r, 410)

    # line 11
    def test_11_email_normalised_on_verify(self):
        local = unique_email("foo")
        self.assertEmptyBody(self.ott(local))
        r = self.verify(local.upper().replace("EXAMPLE", "Example") + " ")
        self.assertEqual(r.status, 200, r)
        self.assertIn("token", r.json())

    def test_11b_email_normalised_on_ott(self):
        email = unique_email("bar")
        self.assertEmptyBody(self.ott("  " + email.upper() + " "))
        r = self.verify(email)
        self.assertEqual(r.status, 200, r)

    # line 12
    def test_12_otts_are_scoped_per_app(self):
        email = unique_email()
        self.assertEmptyBody(self.ott(email, package="io.ente.photos"))
        r = self.verify(email, package="io.ente.auth.x")
        self.assertEmptyJson(r, 410)
        # the photos code is untouched
        r = self.verify(email, package="io.ente.photos")
        self.assertEqual(r.status, 200, r)

    # line 13
    def test_13a_verify_new_email_response_shape(self):
        email = unique_email()
        self.assertEmptyBody(self.ott(email))
        r = self.verify(email)
        self.assertEqual(r.status, 200, r)
        j = r.json()
        self.assertIsInstance(j["id"], int)
        self.assertRegex(j["token"], TOKEN_RE)
        self.assertEqual(len(base64.urlsafe_b64decode(j["token"])), 32)
        self.assertNotIn("keyAttributes", j)
        self.assertNotIn("encryptedToken", j)
        for k in ("passkeySessionID", "accountsUrl", "twoFactorSessionID",
                  "twoFactorSessionIDV2"):
            self.assertEqual(j[k], "", k)

    def test_13b_new_user_details(self):
        user = signup(self.server, attributes=False, srp=False)
        r = user.get("/users/details/v2")
        self.assertEqual(r.status, 200, r)
        j = r.json()
        self.assertEqual(j["usage"], 0)
        self.assertEqual(j["email"], user.email)
        self.assertEqual(j["subscription"]["productID"], "free")
        self.assertEqual(j["subscription"]["storage"], 10737418240)
        self.assertEqual(j["bonusData"]["storageBonuses"], [])
        # the rest of the server §2.6 shape for a new account
        sub = j["subscription"]
        self.assertEqual(sub["userID"], user.id)
        self.assertEqual(sub["originalTransactionID"], "none")
        self.assertEqual(sub["paymentProvider"], "")
        self.assertEqual(sub["attributes"], {})
        self.assertEqual(sub["price"], "")
        self.assertEqual(sub["period"], "year")
        hundred_years = 100 * 365 * 24 * 3600 * 1000000
        self.assertGreater(sub["expiryTime"], now_us() + hundred_years - 40 * 24 * 3600 * 1000000)
        self.assertEqual(j["fileCount"], 0)
        self.assertEqual(j["sharedCollectionsCount"], 0)
        self.assertEqual(j["storageBonus"], 0)
        self.assertEqual(j["profileData"], {"canDisableEmailMFA": False,
                                            "isEmailMFAEnabled": False,
                                            "isTwoFactorEnabled": False,
                                            "passkeyCount": 0})

    def test_13c_session_validity_before_keys(self):
        user = signup(self.server, attributes=False, srp=False)
        r = user.get("/users/session-validity/v2")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"hasSetKeys": False})

    def test_13d_existing_user_verify_returns_sealed_token(self):
        # server §2.3: existing user → keyAttributes + encryptedToken
        user = signup(self.server, srp=False)
        self.assertEmptyBody(self.ott(user.email, purpose="login"))
        r = self.verify(user.email)
        self.assertEqual(r.status, 200, r)
        j = r.json()
        self.assertEqual(j["id"], user.id)
        self.assertNotIn("token", j)
        self.assertEqual(j["keyAttributes"]["publicKey"],
                         user.key_attributes["publicKey"])
        token = user.open_token(j["encryptedToken"])
        r = self.server.get("/users/session-validity/v2", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["hasSetKeys"])
        # the signup token stays valid (server §1.4)
        self.assertEqual(user.get("/users/session-validity/v2").status, 200)

    # line 14
    def test_14_fixed_ott_needs_fresh_ott_each_time(self):
        email = unique_email()
        self.assertEmptyBody(self.ott(email))
        self.assertEqual(self.verify(email).status, 200)
        self.assertEmptyJson(self.verify(email), 410)
        self.assertEmptyBody(self.ott(email, purpose=None))
        self.assertEqual(self.verify(email).status, 200)

    # line 32
    def test_32a_missing_token_is_401(self):
        r = self.server.get("/users/details/v2")
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json(), {"error": "missing token"})

    def test_32b_garbage_token_is_401(self):
        r = self.server.get("/users/details/v2", token="garbage")
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json(), {"error": "invalid token"})

    def test_32c_token_in_query_works(self):
        user = signup(self.server, attributes=False, srp=False)
        r = self.server.get("/users/details/v2?token="
                            + urllib.parse.quote(user.token, safe=""))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["email"], user.email)

    # line 33
    def test_33_token_is_scoped_to_app(self):
        user = signup(self.server, attributes=False, srp=False)
        r = self.server.get("/users/details/v2", token=user.token,
                            package="io.ente.locker")
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json(), {"error": "invalid token"})

    def test_33b_no_package_header_means_photos(self):
        # auth §1.2: a missing X-Client-Package means the photos app
        user = signup(self.server, attributes=False, srp=False)
        r = self.server.get("/users/details/v2", token=user.token, package=None)
        self.assertEqual(r.status, 200, r)

    def test_33c_auth_app_rejected_on_storage_routes(self):
        # server §2.0: RejectAuthApp on /collections*, /files*, /trash*
        user = signup(self.server, srp=False, package="io.ente.auth")
        r = user.get("/collections/v2?sinceTime=0")
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json(), {"error": "invalid app for endpoint"})

    # line 34
    def test_34_logout_revokes_token(self):
        user = signup(self.server, attributes=False, srp=False)
        r = user.post("/users/logout")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {})
        r = user.get("/users/details/v2")
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json(), {"error": "invalid token"})
        # logging out again is refused by the middleware (server §2.6)
        self.assertEqual(user.post("/users/logout").status, 401)


class OttRandomTests(ServerTestCase):
    """Server started without --fixed-ott: codes are read from its stderr."""

    server_kwargs = {"fixed_ott": None}

    # line 2
    def test_02_signup_ott_stores_one_live_code(self):
        email = unique_email()
        r = self.server.post("/users/ott", {"email": email, "purpose": "signup"})
        self.assertEmptyBody(r)
        codes = self.server.ott_codes(email)
        self.assertEqual(len(codes), 1, self.server.stderr_text()[-1000:])
        self.assertRegex(codes[0], r"^[0-9]{6}$")
        r = self.server.post("/users/verify-email", {"email": email, "ott": codes[0]})
        self.assertEqual(r.status, 200, r)
        self.assertIn("token", r.json())

    # line 7
    def test_07_eleventh_live_code_is_429(self):
        email = unique_email()
        for i in range(10):
            r = self.server.post("/users/ott", {"email": email, "purpose": "signup"})
            self.assertEmptyBody(r)
        self.assertEqual(len(set(self.server.ott_codes(email))), 10)
        r = self.server.post("/users/ott", {"email": email, "purpose": "signup"})
        self.assertEmptyJson(r, 429)

    def test_07b_limit_is_per_app(self):
        email = unique_email()
        for i in range(10):
            self.assertEmptyBody(self.server.post(
                "/users/ott", {"email": email}, package="io.ente.photos"))
        r = self.server.post("/users/ott", {"email": email}, package="io.ente.locker")
        self.assertEmptyBody(r)

    def test_09c_any_live_code_verifies(self):
        email = unique_email()
        for i in range(2):
            self.assertEmptyBody(self.server.post("/users/ott", {"email": email}))
        codes = self.server.ott_codes(email)
        self.assertEqual(len(codes), 2)
        r = self.server.post("/users/verify-email", {"email": email, "ott": codes[0]})
        self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    main()
