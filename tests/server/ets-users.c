/* ets-users.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-test-server"

#include "config.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "eider-srp.h"
#include "ets-private.h"

/* Accounts: OTT, verify-email, key attributes, SRP, TOTP, details, logout
 * (spec/ente-server.md §1–2.6, spec/ente-auth.md §4–5). */

#define SRP_MAX_UNVERIFIED   10
#define SRP_MAX_ATTEMPTS     5
#define TOTP_MAX_ATTEMPTS    10

/* A 1×1 PNG: museum sends a QR code image; the double sends a valid image
 * of no interest (the secret is in secretCode). */
static const char qr_placeholder_png[] =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

static gint64
user_id_for_email (EtsServer  *ets,
                   const char *email)
{
  g_autoptr(sqlite3_stmt) stmt = ets_db_prepare (ets, "SELECT id FROM users WHERE email = ?");

  sqlite3_bind_text (stmt, 1, email, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    return sqlite3_column_int64 (stmt, 0);
  return 0;
}

gboolean
ets_user_has_key_attributes (EtsServer *ets,
                             gint64     user_id)
{
  return ets_db_query_int (ets, 0, "SELECT COUNT(*) FROM key_attributes WHERE user_id = ?",
                           user_id) > 0;
}

static gboolean
user_has_totp (EtsServer *ets,
               gint64     user_id)
{
  return ets_db_query_int (ets, 0, "SELECT COUNT(*) FROM two_factor WHERE user_id = ? AND enabled = 1",
                           user_id) > 0;
}

static gboolean
add_key_attributes (EtsServer   *ets,
                    JsonBuilder *builder,
                    gint64       user_id,
                    char       **public_key_out)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  static const char *names[] = {
    "kekSalt", "encryptedKey", "keyDecryptionNonce", "publicKey",
    "encryptedSecretKey", "secretKeyDecryptionNonce",
  };
  static const char *recovery_names[] = {
    "masterKeyEncryptedWithRecoveryKey", "masterKeyDecryptionNonce",
    "recoveryKeyEncryptedWithMasterKey", "recoveryKeyDecryptionNonce",
  };

  stmt = ets_db_prepare (ets,
                         "SELECT kek_salt, encrypted_key, key_decryption_nonce, public_key,"
                         " encrypted_secret_key, secret_key_decryption_nonce, mem_limit, ops_limit,"
                         " master_key_encrypted_with_recovery_key, master_key_decryption_nonce,"
                         " recovery_key_encrypted_with_master_key, recovery_key_decryption_nonce"
                         " FROM key_attributes WHERE user_id = ?");
  sqlite3_bind_int64 (stmt, 1, user_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return FALSE;

  json_builder_set_member_name (builder, "keyAttributes");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, names[0]);
  json_builder_add_string_value (builder, ets_column_text (stmt, 0));
  json_builder_set_member_name (builder, "kekHash");
  json_builder_add_string_value (builder, "");
  for (guint i = 1; i < G_N_ELEMENTS (names); i++)
    {
      json_builder_set_member_name (builder, names[i]);
      json_builder_add_string_value (builder, ets_column_text (stmt, i));
    }
  json_builder_set_member_name (builder, "memLimit");
  json_builder_add_int_value (builder, sqlite3_column_int64 (stmt, 6));
  json_builder_set_member_name (builder, "opsLimit");
  json_builder_add_int_value (builder, sqlite3_column_int64 (stmt, 7));
  for (guint i = 0; i < G_N_ELEMENTS (recovery_names); i++)
    {
      json_builder_set_member_name (builder, recovery_names[i]);
      json_builder_add_string_value (builder, ets_column_text (stmt, 8 + i));
    }
  json_builder_end_object (builder);

  if (public_key_out != NULL)
    *public_key_out = g_strdup (ets_column_text (stmt, 3));
  return TRUE;
}

/* 32 random bytes, URL-safe base64 with padding (44 chars). */
static char *
mint_token (EtsRequest *req,
            gint64      user_id,
            guint8      raw[32])
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  char *token;
  gint64 now = g_get_real_time ();

  randombytes_buf (raw, 32);
  token = ets_b64_url_encode (raw, 32);

  stmt = ets_db_prepare (req->ets,
                         "INSERT INTO tokens (token, app, user_id, creation_time, last_used_at,"
                         " ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)");
  sqlite3_bind_text (stmt, 1, token, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, ets_app_name (req->app), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, user_id);
  sqlite3_bind_int64 (stmt, 4, now);
  sqlite3_bind_int64 (stmt, 5, now);
  sqlite3_bind_text (stmt, 6, "127.0.0.1", -1, SQLITE_STATIC);
  ets_bind_text_or_null (stmt, 7, soup_message_headers_get_one (headers, "User-Agent"));
  sqlite3_step (stmt);
  return token;
}

static char *
new_session_id (void)
{
  guint8 raw[32];

  randombytes_buf (raw, sizeof raw);
  return ets_b64_url_encode (raw, sizeof raw);
}

/* Adds id, keyAttributes and encryptedToken for a user with keys.
 * Returns FALSE (and replies 500) if the stored public key is unusable. */
static gboolean
add_sealed_login (EtsRequest  *req,
                  JsonBuilder *builder,
                  gint64       user_id)
{
  g_autofree char *public_key_b64 = NULL;
  g_autofree char *token = NULL;
  g_autofree char *sealed_b64 = NULL;
  g_autoptr(GBytes) public_key = NULL;
  guint8 raw[32];
  guint8 sealed[32 + crypto_box_SEALBYTES];

  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, user_id);
  add_key_attributes (req->ets, builder, user_id, &public_key_b64);

  public_key = ets_b64_decode (public_key_b64);
  if (public_key == NULL || g_bytes_get_size (public_key) != crypto_box_PUBLICKEYBYTES)
    {
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      return FALSE;
    }

  token = mint_token (req, user_id, raw);
  crypto_box_seal (sealed, raw, sizeof raw, g_bytes_get_data (public_key, NULL));
  sodium_memzero (raw, sizeof raw);
  sealed_b64 = ets_b64_encode (sealed, sizeof sealed);
  json_builder_set_member_name (builder, "encryptedToken");
  json_builder_add_string_value (builder, sealed_b64);
  return TRUE;
}

/* onVerificationSuccess (spec/ente-auth.md §4.4). */
static void
reply_authorization (EtsRequest *req,
                     gint64      user_id,
                     const char *srp_m2)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *two_factor_session = NULL;
  gboolean has_keys = ets_user_has_key_attributes (req->ets, user_id);

  if (has_keys && user_has_totp (req->ets, user_id))
    {
      g_autoptr(sqlite3_stmt) stmt = NULL;

      two_factor_session = new_session_id ();
      stmt = ets_db_prepare (req->ets,
                             "INSERT INTO two_factor_sessions (id, user_id, expiry) VALUES (?, ?, ?)");
      sqlite3_bind_text (stmt, 1, two_factor_session, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 2, user_id);
      sqlite3_bind_int64 (stmt, 3, g_get_real_time () + ETS_TWO_FACTOR_VALIDITY);
      sqlite3_step (stmt);
    }

  json_builder_begin_object (builder);
  if (two_factor_session != NULL)
    {
      json_builder_set_member_name (builder, "id");
      json_builder_add_int_value (builder, user_id);
    }
  else if (!has_keys)
    {
      guint8 raw[32];
      g_autofree char *token = mint_token (req, user_id, raw);

      json_builder_set_member_name (builder, "id");
      json_builder_add_int_value (builder, user_id);
      json_builder_set_member_name (builder, "token");
      json_builder_add_string_value (builder, token);
    }
  else if (!add_sealed_login (req, builder, user_id))
    return;

  json_builder_set_member_name (builder, "passkeySessionID");
  json_builder_add_string_value (builder, "");
  json_builder_set_member_name (builder, "accountsUrl");
  json_builder_add_string_value (builder, "");
  json_builder_set_member_name (builder, "twoFactorSessionID");
  json_builder_add_string_value (builder, two_factor_session != NULL ? two_factor_session : "");
  json_builder_set_member_name (builder, "twoFactorSessionIDV2");
  json_builder_add_string_value (builder, "");
  if (srp_m2 != NULL)
    {
      json_builder_set_member_name (builder, "srpM2");
      json_builder_add_string_value (builder, srp_m2);
    }
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

static void
handle_ping (EtsRequest *req)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, "pong");
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, "eider-test-server-" PACKAGE_VERSION);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

static void
handle_send_ott (EtsRequest *req)
{
  EtsServer *ets = req->ets;
  g_autoptr(JsonObject) body = ets_body_object (req);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *email = NULL;
  g_autofree char *code = NULL;
  EtsBind bind = { TRUE };
  const char *purpose;
  gint64 user_id, now;

  email = ets_normalize_email (ets_bind_string (&bind, body, "email", FALSE));
  purpose = ets_bind_string (&bind, body, "purpose", FALSE);
  ets_bind_bool (&bind, body, "mobile");
  ets_bind_string (&bind, body, "client", FALSE);
  if (body == NULL || !bind.ok || *email == '\0')
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }

  user_id = user_id_for_email (ets, email);
  if (g_str_equal (purpose, "signup"))
    {
      gboolean complete = user_id != 0 && ets_user_has_key_attributes (ets, user_id);

      if (ets->disable_registration && !complete)
        {
          ets_reply_sentinel (req, SOUP_STATUS_FORBIDDEN);
          return;
        }
      if (complete)
        {
          ets_reply_api_error (req, SOUP_STATUS_CONFLICT, "USER_ALREADY_REGISTERED",
                               "User is already registered");
          return;
        }
    }
  else if (g_str_equal (purpose, "login"))
    {
      if (user_id == 0)
        {
          ets_reply_api_error (req, SOUP_STATUS_NOT_FOUND, "USER_NOT_REGISTERED",
                               "User is not registered");
          return;
        }
      if (!ets_user_has_key_attributes (ets, user_id))
        {
          ets_reply_api_error (req, SOUP_STATUS_NOT_FOUND, "USER_SIGNUP_INCOMPLETE",
                               "User signup is incomplete");
          return;
        }
    }

  now = g_get_real_time ();
  stmt = ets_db_prepare (ets, "SELECT COUNT(*) FROM otts WHERE email = ? AND app = ? AND expiration_time > ?");
  sqlite3_bind_text (stmt, 1, email, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, ets_app_name (req->app), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, now);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_int64 (stmt, 0) >= ETS_OTT_ACTIVE_LIMIT)
    {
      ets_reply_sentinel (req, ETS_STATUS_TOO_MANY_REQUESTS);
      return;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (ets->fixed_ott != NULL)
    code = g_strdup (ets->fixed_ott);
  else
    code = g_strdup_printf ("%06u", randombytes_uniform (1000000));

  stmt = ets_db_prepare (ets,
                         "INSERT INTO otts (email, app, ott, creation_time, expiration_time)"
                         " VALUES (?, ?, ?, ?, ?) ON CONFLICT (ott, app, email)"
                         " DO UPDATE SET expiration_time = excluded.expiration_time");
  sqlite3_bind_text (stmt, 1, email, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, ets_app_name (req->app), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, code, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 4, now);
  sqlite3_bind_int64 (stmt, 5, now + ETS_OTT_VALIDITY);
  sqlite3_step (stmt);

  /* The machine-readable line tests read when there is no fixed code. */
  fprintf (stderr, "ott %s %s\n", email, code);
  fflush (stderr);
  ets_reply_empty (req, SOUP_STATUS_OK);
}

static gint64
create_user (EtsServer  *ets,
             const char *email,
             const char *source)
{
  g_autoptr(sqlite3_stmt) user = NULL;
  g_autoptr(sqlite3_stmt) subscription = NULL;
  gint64 now = g_get_real_time ();
  gint64 user_id;

  user = ets_db_prepare (ets, "INSERT INTO users (email, creation_time, source) VALUES (?, ?, ?)");
  sqlite3_bind_text (user, 1, email, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (user, 2, now);
  ets_bind_text_or_null (user, 3, source != NULL && *source != '\0' ? source : NULL);
  if (sqlite3_step (user) != SQLITE_DONE)
    return 0;
  user_id = sqlite3_last_insert_rowid (ets->db);

  subscription = ets_db_prepare (ets,
                                 "INSERT INTO subscriptions (user_id, storage, expiry_time)"
                                 " VALUES (?, ?, ?)");
  sqlite3_bind_int64 (subscription, 1, user_id);
  sqlite3_bind_int64 (subscription, 2, ets->quota >= 0 ? ets->quota : ETS_FREE_PLAN_STORAGE);
  /* 100 years, as museum's free plan. */
  sqlite3_bind_int64 (subscription, 3, now + G_GINT64_CONSTANT (100) * 365 * 24 * 3600 * ETS_MICROS_PER_SECOND);
  sqlite3_step (subscription);
  return user_id;
}

static void
handle_verify_email (EtsRequest *req)
{
  EtsServer *ets = req->ets;
  g_autoptr(JsonObject) body = ets_body_object (req);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *email = NULL;
  g_autofree char *ott = NULL;
  EtsBind bind = { TRUE };
  const char *source;
  gint64 now = g_get_real_time ();
  gint64 max_wrong = 0, user_id;
  gboolean any = FALSE, match = FALSE;

  email = ets_normalize_email (ets_bind_string (&bind, body, "email", FALSE));
  ott = g_strdup (ets_bind_string (&bind, body, "ott", FALSE));
  source = ets_bind_string (&bind, body, "source", FALSE);
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  g_strstrip (ott);

  stmt = ets_db_prepare (ets,
                         "SELECT ott, wrong_attempt FROM otts"
                         " WHERE email = ? AND app = ? AND expiration_time > ?");
  sqlite3_bind_text (stmt, 1, email, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, ets_app_name (req->app), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, now);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      any = TRUE;
      max_wrong = MAX (max_wrong, sqlite3_column_int64 (stmt, 1));
      if (g_str_equal (ets_column_text (stmt, 0), ott))
        match = TRUE;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (!any)
    {
      ets_reply_sentinel (req, SOUP_STATUS_GONE);
      return;
    }
  if (max_wrong >= ETS_OTT_WRONG_LIMIT)
    {
      ets_reply_sentinel (req, ETS_STATUS_TOO_MANY_REQUESTS);
      return;
    }
  if (!match)
    {
      stmt = ets_db_prepare (ets,
                             "UPDATE otts SET wrong_attempt = wrong_attempt + 1"
                             " WHERE email = ? AND app = ? AND expiration_time > ?");
      sqlite3_bind_text (stmt, 1, email, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, ets_app_name (req->app), -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 3, now);
      sqlite3_step (stmt);
      ets_reply_sentinel (req, SOUP_STATUS_UNAUTHORIZED);
      return;
    }

  user_id = user_id_for_email (ets, email);
  if (user_id == 0 && ets->disable_registration)
    {
      ets_reply_sentinel (req, SOUP_STATUS_FORBIDDEN);
      return;
    }

  stmt = ets_db_prepare (ets, "DELETE FROM otts WHERE email = ? AND app = ? AND ott = ?");
  sqlite3_bind_text (stmt, 1, email, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, ets_app_name (req->app), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, ott, -1, SQLITE_TRANSIENT);
  sqlite3_step (stmt);

  if (user_id == 0)
    user_id = create_user (ets, email, source);
  if (user_id == 0)
    {
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      return;
    }
  reply_authorization (req, user_id, NULL);
}

static void
handle_set_attributes (EtsRequest *req)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  EtsBind bind = { TRUE };
  JsonObject *ka;
  const char *kek_salt, *encrypted_key, *nonce, *public_key, *secret_key, *secret_nonce;
  const char *mk_rk, *mk_nonce, *rk_mk, *rk_nonce;
  gint64 mem_limit, ops_limit;

  if (!ets_require_auth (req))
    return;

  body = ets_body_object (req);
  ka = ets_bind_object (&bind, body, "keyAttributes");
  kek_salt = ets_bind_string (&bind, ka, "kekSalt", TRUE);
  encrypted_key = ets_bind_string (&bind, ka, "encryptedKey", TRUE);
  nonce = ets_bind_string (&bind, ka, "keyDecryptionNonce", TRUE);
  public_key = ets_bind_string (&bind, ka, "publicKey", TRUE);
  secret_key = ets_bind_string (&bind, ka, "encryptedSecretKey", TRUE);
  secret_nonce = ets_bind_string (&bind, ka, "secretKeyDecryptionNonce", TRUE);
  mem_limit = ets_bind_int (&bind, ka, "memLimit", TRUE);
  ops_limit = ets_bind_int (&bind, ka, "opsLimit", TRUE);
  mk_rk = ets_bind_string (&bind, ka, "masterKeyEncryptedWithRecoveryKey", FALSE);
  mk_nonce = ets_bind_string (&bind, ka, "masterKeyDecryptionNonce", FALSE);
  rk_mk = ets_bind_string (&bind, ka, "recoveryKeyEncryptedWithMasterKey", FALSE);
  rk_nonce = ets_bind_string (&bind, ka, "recoveryKeyDecryptionNonce", FALSE);
  ets_bind_string (&bind, ka, "kekHash", FALSE);
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }

  if (mem_limit * ops_limit != 4 * ETS_GIB)
    {
      ets_reply_api_error (req, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST", "Unexpected KDF strength");
      return;
    }
  if (mem_limit < 128 * ETS_MIB)
    {
      ets_reply_api_error (req, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST",
                           "memory limit must be at least 128MB");
      return;
    }
  if (ets_user_has_key_attributes (req->ets, req->user_id))
    {
      ets_reply_sentinel (req, SOUP_STATUS_FORBIDDEN);
      return;
    }

  stmt = ets_db_prepare (req->ets,
                         "INSERT INTO key_attributes (user_id, kek_salt, encrypted_key,"
                         " key_decryption_nonce, public_key, encrypted_secret_key,"
                         " secret_key_decryption_nonce, mem_limit, ops_limit,"
                         " master_key_encrypted_with_recovery_key, master_key_decryption_nonce,"
                         " recovery_key_encrypted_with_master_key, recovery_key_decryption_nonce)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  sqlite3_bind_int64 (stmt, 1, req->user_id);
  sqlite3_bind_text (stmt, 2, kek_salt, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, encrypted_key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, nonce, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, public_key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 6, secret_key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 7, secret_nonce, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 8, mem_limit);
  sqlite3_bind_int64 (stmt, 9, ops_limit);
  sqlite3_bind_text (stmt, 10, mk_rk, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 11, mk_nonce, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 12, rk_mk, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 13, rk_nonce, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      return;
    }
  ets_reply_empty (req, SOUP_STATUS_OK);
}

/* Accounts created without recovery fields add them once (spec/ente-server.md
 * §1.5). Museum answers a second attempt, or an account without key
 * attributes, with a plain error: 500 {}. */
static void
handle_set_recovery_key (EtsRequest *req)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  EtsBind bind = { TRUE };
  const char *mk_rk, *mk_nonce, *rk_mk, *rk_nonce;

  if (!ets_require_auth (req))
    return;

  body = ets_body_object (req);
  mk_rk = ets_bind_string (&bind, body, "masterKeyEncryptedWithRecoveryKey", TRUE);
  mk_nonce = ets_bind_string (&bind, body, "masterKeyDecryptionNonce", TRUE);
  rk_mk = ets_bind_string (&bind, body, "recoveryKeyEncryptedWithMasterKey", TRUE);
  rk_nonce = ets_bind_string (&bind, body, "recoveryKeyDecryptionNonce", TRUE);
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }

  stmt = ets_db_prepare (req->ets,
                         "UPDATE key_attributes SET"
                         " master_key_encrypted_with_recovery_key = ?,"
                         " master_key_decryption_nonce = ?,"
                         " recovery_key_encrypted_with_master_key = ?,"
                         " recovery_key_decryption_nonce = ?"
                         " WHERE user_id = ?"
                         " AND COALESCE (master_key_encrypted_with_recovery_key, '') = ''"
                         " AND COALESCE (master_key_decryption_nonce, '') = ''"
                         " AND COALESCE (recovery_key_encrypted_with_master_key, '') = ''"
                         " AND COALESCE (recovery_key_decryption_nonce, '') = ''");
  sqlite3_bind_text (stmt, 1, mk_rk, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, mk_nonce, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, rk_mk, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, rk_nonce, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 5, req->user_id);
  if (sqlite3_step (stmt) != SQLITE_DONE || sqlite3_changes (req->ets->db) != 1)
    {
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      return;
    }
  ets_reply_empty (req, SOUP_STATUS_OK);
}

static void
handle_session_validity (EtsRequest *req)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  gboolean has_keys;

  if (!ets_require_auth (req))
    return;

  has_keys = ets_user_has_key_attributes (req->ets, req->user_id);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "hasSetKeys");
  json_builder_add_boolean_value (builder, has_keys);
  if (has_keys)
    add_key_attributes (req->ets, builder, req->user_id, NULL);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

static void
handle_srp_attributes (EtsRequest *req)
{
  EtsServer *ets = req->ets;
  const char *email_param = ets_query_string (req, "email");
  g_autofree char *email = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  gint64 user_id;

  if (email_param == NULL || *email_param == '\0')
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  email = ets_normalize_email (email_param);
  user_id = user_id_for_email (ets, email);
  if (user_id == 0)
    {
      ets_reply_sentinel (req, SOUP_STATUS_NOT_FOUND);
      return;
    }

  stmt = ets_db_prepare (ets,
                         "SELECT s.srp_user_id, s.salt, k.mem_limit, k.ops_limit, k.kek_salt, k.user_id"
                         " FROM srp_auth s LEFT JOIN key_attributes k ON k.user_id = s.user_id"
                         " WHERE s.user_id = ?");
  sqlite3_bind_int64 (stmt, 1, user_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      ets_reply_api_error (req, SOUP_STATUS_NOT_FOUND, "NOT_FOUND", "");
      return;
    }
  if (sqlite3_column_type (stmt, 5) == SQLITE_NULL)
    {
      /* Museum's repair path for the SRP-before-attributes order. */
      g_autoptr(sqlite3_stmt) del = ets_db_prepare (ets, "DELETE FROM srp_auth WHERE user_id = ?");
      sqlite3_bind_int64 (del, 1, user_id);
      sqlite3_step (del);
      ets_reply_api_error (req, SOUP_STATUS_NOT_FOUND, "NOT_FOUND", "");
      return;
    }

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "attributes");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "srpUserID");
  json_builder_add_string_value (builder, ets_column_text (stmt, 0));
  json_builder_set_member_name (builder, "srpSalt");
  json_builder_add_string_value (builder, ets_column_text (stmt, 1));
  json_builder_set_member_name (builder, "memLimit");
  json_builder_add_int_value (builder, sqlite3_column_int64 (stmt, 2));
  json_builder_set_member_name (builder, "opsLimit");
  json_builder_add_int_value (builder, sqlite3_column_int64 (stmt, 3));
  json_builder_set_member_name (builder, "kekSalt");
  json_builder_add_string_value (builder, ets_column_text (stmt, 4));
  json_builder_set_member_name (builder, "isEmailMFAEnabled");
  json_builder_add_boolean_value (builder,
                                  ets_db_query_int (ets, 0, "SELECT email_mfa FROM users WHERE id = ?",
                                                    user_id) != 0);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

/* Decodes srpA and checks its size; replies 400 on failure. */
static GBytes *
decode_srp_a (EtsRequest *req,
              const char *srp_a)
{
  g_autoptr(GBytes) a = ets_b64_decode (srp_a);

  if (a == NULL)
    {
      ets_reply_api_error (req, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST", "invalid base64 encoding");
      return NULL;
    }
  if (g_bytes_get_size (a) != EIDER_SRP_BYTES)
    {
      ets_reply_api_error (req, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST", "Invalid length for srpA");
      return NULL;
    }
  return g_steal_pointer (&a);
}

static gboolean
too_many_unverified (EtsRequest *req,
                     const char *srp_user_id)
{
  g_autoptr(sqlite3_stmt) stmt = ets_db_prepare (req->ets,
                                                 "SELECT COUNT(*) FROM srp_sessions"
                                                 " WHERE srp_user_id = ? AND has_verified = 0"
                                                 " AND created_at > ?");

  sqlite3_bind_text (stmt, 1, srp_user_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, g_get_real_time () - 3600 * ETS_MICROS_PER_SECOND);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_int64 (stmt, 0) >= SRP_MAX_UNVERIFIED)
    {
      ets_reply_api_error (req, ETS_STATUS_TOO_MANY_REQUESTS, "TOO_MANY_UNVERIFIED_SESSIONS",
                           "Too many unverified sessions");
      return TRUE;
    }
  return FALSE;
}

/* Creates an SRP session for (verifier, A). Returns the session id and the
 * base64 of PAD(B), or NULL after replying with an error. */
static char *
create_srp_session (EtsRequest *req,
                    const char *srp_user_id,
                    GBytes     *a,
                    GBytes     *verifier,
                    char      **srp_b_out)
{
  g_autoptr(EiderSrpServer) server = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *b_secret = NULL;
  g_autofree char *a_b64 = NULL;
  g_autofree char *session_id = ets_new_uuid ();
  guint8 b[32];

  randombytes_buf (b, sizeof b);
  server = eider_srp_server_new (g_bytes_get_data (verifier, NULL), g_bytes_get_size (verifier),
                                 b, sizeof b);
  if (server == NULL)
    {
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      return NULL;
    }

  b_secret = ets_b64_encode (b, sizeof b);
  a_b64 = ets_b64_encode (g_bytes_get_data (a, NULL), g_bytes_get_size (a));
  stmt = ets_db_prepare (req->ets,
                         "INSERT INTO srp_sessions (id, srp_user_id, server_key, srp_a, created_at)"
                         " VALUES (?, ?, ?, ?, ?)");
  sqlite3_bind_text (stmt, 1, session_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, srp_user_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, b_secret, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, a_b64, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 5, g_get_real_time ());
  sqlite3_step (stmt);

  *srp_b_out = ets_b64_encode (eider_srp_server_get_b (server), EIDER_SRP_BYTES);
  sodium_memzero (b, sizeof b);
  return g_steal_pointer (&session_id);
}

typedef enum
{
  SRP_VERIFY_OK,
  SRP_VERIFY_REPLIED,
} SrpVerifyResult;

/* verifySRPSession: the 410/401 rules shared by complete and
 * verify-session. On success m2_b64 is set. */
static SrpVerifyResult
verify_srp_session (EtsRequest  *req,
                    const char  *session_id,
                    const char  *verifier_b64,
                    GBytes      *m1,
                    char       **m2_b64)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) update = NULL;
  g_autoptr(EiderSrpServer) server = NULL;
  g_autoptr(GBytes) b = NULL;
  g_autoptr(GBytes) a = NULL;
  g_autoptr(GBytes) verifier = NULL;
  guint8 m2[EIDER_SRP_PROOF_BYTES];

  stmt = ets_db_prepare (req->ets,
                         "SELECT server_key, srp_a, has_verified, attempt_count, is_fake"
                         " FROM srp_sessions WHERE id = ?");
  sqlite3_bind_text (stmt, 1, session_id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_ROW || sqlite3_column_int (stmt, 4) != 0)
    {
      ets_reply_sentinel (req, SOUP_STATUS_UNAUTHORIZED);
      return SRP_VERIFY_REPLIED;
    }
  if (sqlite3_column_int (stmt, 2) != 0)
    {
      ets_reply_api_error (req, SOUP_STATUS_GONE, "SESSION_ALREADY_VERIFIED",
                           "Session is already verified");
      return SRP_VERIFY_REPLIED;
    }
  if (sqlite3_column_int (stmt, 3) >= SRP_MAX_ATTEMPTS)
    {
      ets_reply_api_error (req, SOUP_STATUS_GONE, "TOO_MANY_WRONG_ATTEMPTS",
                           "Too many wrong attempts");
      return SRP_VERIFY_REPLIED;
    }

  b = ets_b64_decode (ets_column_text (stmt, 0));
  a = ets_b64_decode (ets_column_text (stmt, 1));
  verifier = ets_b64_decode (verifier_b64);
  if (b == NULL || a == NULL || verifier == NULL)
    {
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      return SRP_VERIFY_REPLIED;
    }

  server = eider_srp_server_new (g_bytes_get_data (verifier, NULL), g_bytes_get_size (verifier),
                                 g_bytes_get_data (b, NULL), g_bytes_get_size (b));
  if (server == NULL ||
      !eider_srp_server_set_a (server, g_bytes_get_data (a, NULL), g_bytes_get_size (a), NULL) ||
      !eider_srp_server_verify_m1 (server, g_bytes_get_data (m1, NULL), g_bytes_get_size (m1), m2))
    {
      update = ets_db_prepare (req->ets,
                               "UPDATE srp_sessions SET attempt_count = attempt_count + 1 WHERE id = ?");
      sqlite3_bind_text (update, 1, session_id, -1, SQLITE_TRANSIENT);
      sqlite3_step (update);
      ets_reply_sentinel (req, SOUP_STATUS_UNAUTHORIZED);
      return SRP_VERIFY_REPLIED;
    }

  update = ets_db_prepare (req->ets, "UPDATE srp_sessions SET has_verified = 1 WHERE id = ?");
  sqlite3_bind_text (update, 1, session_id, -1, SQLITE_TRANSIENT);
  sqlite3_step (update);
  *m2_b64 = ets_b64_encode (m2, sizeof m2);
  return SRP_VERIFY_OK;
}

/* srpM1 must be valid base64 of 32 bytes; replies 400 otherwise. */
static GBytes *
decode_m1 (EtsRequest *req,
           const char *srp_m1)
{
  g_autoptr(GBytes) m1 = ets_b64_decode (srp_m1);
  g_autofree char *message = NULL;

  if (m1 == NULL)
    {
      ets_reply_api_error (req, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST", "invalid base64 encoding");
      return NULL;
    }
  if (g_bytes_get_size (m1) != EIDER_SRP_PROOF_BYTES)
    {
      message = g_strdup_printf ("srpM1 size is %" G_GSIZE_FORMAT ", expected 32",
                                 g_bytes_get_size (m1));
      ets_reply_api_error (req, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST", message);
      return NULL;
    }
  return g_steal_pointer (&m1);
}

static void
handle_srp_setup (EtsRequest *req)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(GBytes) a = NULL;
  g_autoptr(GBytes) verifier = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autofree char *session_id = NULL;
  g_autofree char *srp_b = NULL;
  g_autofree char *setup_id = NULL;
  EtsBind bind = { TRUE };
  const char *srp_user_id, *salt, *verifier_b64, *srp_a;

  if (!ets_require_auth (req))
    return;

  body = ets_body_object (req);
  ets_bind_uuid (&bind, body, "srpUserID", &srp_user_id);
  salt = ets_bind_string (&bind, body, "srpSalt", TRUE);
  verifier_b64 = ets_bind_string (&bind, body, "srpVerifier", TRUE);
  srp_a = ets_bind_string (&bind, body, "srpA", TRUE);
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }

  if ((a = decode_srp_a (req, srp_a)) == NULL)
    return;
  if (too_many_unverified (req, srp_user_id))
    return;
  if ((verifier = ets_b64_decode (verifier_b64)) == NULL)
    {
      ets_reply_api_error (req, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST", "invalid base64 encoding");
      return;
    }

  session_id = create_srp_session (req, srp_user_id, a, verifier, &srp_b);
  if (session_id == NULL)
    return;

  setup_id = ets_new_uuid ();
  stmt = ets_db_prepare (req->ets,
                         "INSERT INTO temp_srp_setup (id, session_id, user_id, srp_user_id, salt, verifier)"
                         " VALUES (?, ?, ?, ?, ?, ?)");
  sqlite3_bind_text (stmt, 1, setup_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, session_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, req->user_id);
  sqlite3_bind_text (stmt, 4, srp_user_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, salt, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 6, verifier_b64, -1, SQLITE_TRANSIENT);
  sqlite3_step (stmt);

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "setupID");
  json_builder_add_string_value (builder, setup_id);
  json_builder_set_member_name (builder, "srpB");
  json_builder_add_string_value (builder, srp_b);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

static void
handle_srp_complete (EtsRequest *req)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) insert = NULL;
  g_autoptr(GBytes) m1 = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autofree char *session_id = NULL;
  g_autofree char *srp_user_id = NULL;
  g_autofree char *salt = NULL;
  g_autofree char *verifier = NULL;
  g_autofree char *m2 = NULL;
  EtsBind bind = { TRUE };
  const char *setup_id, *srp_m1;

  if (!ets_require_auth (req))
    return;

  body = ets_body_object (req);
  ets_bind_uuid (&bind, body, "setupID", &setup_id);
  srp_m1 = ets_bind_string (&bind, body, "srpM1", TRUE);
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }

  stmt = ets_db_prepare (req->ets,
                         "SELECT session_id, srp_user_id, salt, verifier FROM temp_srp_setup WHERE id = ?");
  sqlite3_bind_text (stmt, 1, setup_id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      ets_reply_sentinel (req, SOUP_STATUS_NOT_FOUND);
      return;
    }
  session_id = g_strdup (ets_column_text (stmt, 0));
  srp_user_id = g_strdup (ets_column_text (stmt, 1));
  salt = g_strdup (ets_column_text (stmt, 2));
  verifier = g_strdup (ets_column_text (stmt, 3));

  if ((m1 = decode_m1 (req, srp_m1)) == NULL)
    return;
  if (verify_srp_session (req, session_id, verifier, m1, &m2) != SRP_VERIFY_OK)
    return;

  if (ets_db_query_int (req->ets, 0, "SELECT COUNT(*) FROM srp_auth WHERE user_id = ?", req->user_id) > 0)
    {
      ets_reply_api_error (req, SOUP_STATUS_BAD_REQUEST, "BAD_REQUEST", "SRP setup already complete");
      return;
    }

  insert = ets_db_prepare (req->ets,
                           "INSERT INTO srp_auth (user_id, srp_user_id, salt, verifier) VALUES (?, ?, ?, ?)");
  sqlite3_bind_int64 (insert, 1, req->user_id);
  sqlite3_bind_text (insert, 2, srp_user_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 3, salt, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 4, verifier, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (insert) != SQLITE_DONE)
    {
      ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      return;
    }

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "setupID");
  json_builder_add_string_value (builder, setup_id);
  json_builder_set_member_name (builder, "srpM2");
  json_builder_add_string_value (builder, m2);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

static void
handle_srp_create_session (EtsRequest *req)
{
  g_autoptr(JsonObject) body = ets_body_object (req);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GBytes) a = NULL;
  g_autoptr(GBytes) verifier = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autofree char *session_id = NULL;
  g_autofree char *srp_b = NULL;
  EtsBind bind = { TRUE };
  const char *srp_user_id, *srp_a;
  gint64 user_id;

  ets_bind_uuid (&bind, body, "srpUserID", &srp_user_id);
  srp_a = ets_bind_string (&bind, body, "srpA", TRUE);
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  if ((a = decode_srp_a (req, srp_a)) == NULL)
    return;

  stmt = ets_db_prepare (req->ets, "SELECT user_id, verifier FROM srp_auth WHERE srp_user_id = ?");
  sqlite3_bind_text (stmt, 1, srp_user_id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      /* fCreateSession: a random B and a fake session, after a short delay,
       * so unknown and known users look alike. */
      g_autoptr(sqlite3_stmt) fake = NULL;
      guint8 random_b[EIDER_SRP_BYTES];

      g_usleep ((30 + randombytes_uniform (50)) * 1000);
      randombytes_buf (random_b, sizeof random_b);
      srp_b = ets_b64_encode (random_b, sizeof random_b);
      session_id = ets_new_uuid ();
      fake = ets_db_prepare (req->ets,
                             "INSERT INTO srp_sessions (id, srp_user_id, server_key, srp_a, is_fake, created_at)"
                             " VALUES (?, ?, '', ?, 1, ?)");
      sqlite3_bind_text (fake, 1, session_id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (fake, 2, srp_user_id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (fake, 3, srp_a, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (fake, 4, g_get_real_time ());
      sqlite3_step (fake);
    }
  else
    {
      user_id = sqlite3_column_int64 (stmt, 0);
      verifier = ets_b64_decode (ets_column_text (stmt, 1));
      if (ets_db_query_int (req->ets, 0, "SELECT email_mfa FROM users WHERE id = ?", user_id) != 0)
        {
          ets_reply_api_error (req, SOUP_STATUS_CONFLICT, "EMAIL_MFA_ENABLED", "Email MFA is enabled");
          return;
        }
      if (too_many_unverified (req, srp_user_id))
        return;
      if (verifier == NULL)
        {
          ets_reply_sentinel (req, SOUP_STATUS_INTERNAL_SERVER_ERROR);
          return;
        }
      session_id = create_srp_session (req, srp_user_id, a, verifier, &srp_b);
      if (session_id == NULL)
        return;
    }

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "sessionID");
  json_builder_add_string_value (builder, session_id);
  json_builder_set_member_name (builder, "srpB");
  json_builder_add_string_value (builder, srp_b);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

static void
handle_srp_verify_session (EtsRequest *req)
{
  g_autoptr(JsonObject) body = ets_body_object (req);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GBytes) m1 = NULL;
  g_autofree char *verifier = NULL;
  g_autofree char *m2 = NULL;
  g_autofree char *session_user = NULL;
  EtsBind bind = { TRUE };
  const char *session_id, *srp_user_id, *srp_m1;
  gint64 user_id;

  ets_bind_uuid (&bind, body, "sessionID", &session_id);
  ets_bind_uuid (&bind, body, "srpUserID", &srp_user_id);
  srp_m1 = ets_bind_string (&bind, body, "srpM1", FALSE);
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  if ((m1 = decode_m1 (req, srp_m1)) == NULL)
    return;

  stmt = ets_db_prepare (req->ets, "SELECT user_id, verifier FROM srp_auth WHERE srp_user_id = ?");
  sqlite3_bind_text (stmt, 1, srp_user_id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      ets_reply_sentinel (req, SOUP_STATUS_UNAUTHORIZED);
      return;
    }
  user_id = sqlite3_column_int64 (stmt, 0);
  verifier = g_strdup (ets_column_text (stmt, 1));
  g_clear_pointer (&stmt, sqlite3_finalize);

  /* The session must have been opened for this srpUserID. */
  stmt = ets_db_prepare (req->ets, "SELECT srp_user_id FROM srp_sessions WHERE id = ?");
  sqlite3_bind_text (stmt, 1, session_id, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    session_user = g_strdup (ets_column_text (stmt, 0));
  if (session_user == NULL || g_ascii_strcasecmp (session_user, srp_user_id) != 0)
    {
      ets_reply_sentinel (req, SOUP_STATUS_UNAUTHORIZED);
      return;
    }

  if (verify_srp_session (req, session_id, verifier, m1, &m2) != SRP_VERIFY_OK)
    return;
  reply_authorization (req, user_id, m2);
}

/* TOTP (RFC 6238: SHA-1, 30 s, 6 digits) over a base32 secret. */

static GBytes *
base32_decode (const char *text)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  g_autoptr(GByteArray) out = g_byte_array_new ();
  guint32 buffer = 0;
  int bits = 0;

  for (const char *p = text; *p != '\0'; p++)
    {
      const char *hit;
      char c = g_ascii_toupper (*p);

      if (c == '=' || c == ' ')
        continue;
      hit = strchr (alphabet, c);
      if (hit == NULL || c == '\0')
        return NULL;
      buffer = (buffer << 5) | (guint32) (hit - alphabet);
      bits += 5;
      if (bits >= 8)
        {
          guint8 byte = (buffer >> (bits - 8)) & 0xff;
          g_byte_array_append (out, &byte, 1);
          bits -= 8;
        }
    }
  if (out->len == 0)
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static char *
base32_encode (const guint8 *data,
               gsize         len)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  GString *out = g_string_new (NULL);
  guint32 buffer = 0;
  int bits = 0;

  for (gsize i = 0; i < len; i++)
    {
      buffer = (buffer << 8) | data[i];
      bits += 8;
      while (bits >= 5)
        {
          g_string_append_c (out, alphabet[(buffer >> (bits - 5)) & 31]);
          bits -= 5;
        }
    }
  if (bits > 0)
    g_string_append_c (out, alphabet[(buffer << (5 - bits)) & 31]);
  return g_string_free (out, FALSE);
}

char *
ets_totp_code (const char  *base32_secret,
               gint64       unix_seconds,
               GError     **error)
{
  g_autoptr(GBytes) key = base32_decode (base32_secret);
  g_autoptr(GHmac) hmac = NULL;
  guint8 counter[8];
  guint8 digest[20];
  gsize digest_len = sizeof digest;
  guint64 step;
  guint32 value;
  int offset;

  if (key == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Not a base32 secret: %s", base32_secret);
      return NULL;
    }

  step = (guint64) unix_seconds / 30;
  for (int i = 7; i >= 0; i--)
    {
      counter[i] = step & 0xff;
      step >>= 8;
    }
  hmac = g_hmac_new (G_CHECKSUM_SHA1, g_bytes_get_data (key, NULL), g_bytes_get_size (key));
  g_hmac_update (hmac, counter, sizeof counter);
  g_hmac_get_digest (hmac, digest, &digest_len);

  offset = digest[19] & 0x0f;
  value = ((guint32) (digest[offset] & 0x7f) << 24) |
          ((guint32) digest[offset + 1] << 16) |
          ((guint32) digest[offset + 2] << 8) |
          (guint32) digest[offset + 3];
  return g_strdup_printf ("%06u", value % 1000000);
}

/* ±1 step, as pquerna/otp's default skew. */
static gboolean
totp_matches (const char *secret,
              const char *code)
{
  gint64 now = g_get_real_time () / ETS_MICROS_PER_SECOND;

  for (int skew = -1; skew <= 1; skew++)
    {
      g_autofree char *expected = ets_totp_code (secret, now + skew * 30, NULL);

      if (expected != NULL && code != NULL && g_str_equal (expected, code))
        return TRUE;
    }
  return FALSE;
}

static void
handle_two_factor_setup (EtsRequest *req)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autofree char *secret = NULL;

  if (!ets_require_auth (req))
    return;
  if (!ets_user_has_key_attributes (req->ets, req->user_id))
    {
      ets_reply_sentinel (req, SOUP_STATUS_NOT_FOUND);
      return;
    }

  if (req->ets->totp_secret != NULL)
    secret = g_strdup (req->ets->totp_secret);
  else
    {
      guint8 raw[20];

      randombytes_buf (raw, sizeof raw);
      secret = base32_encode (raw, sizeof raw);
    }

  stmt = ets_db_prepare (req->ets, "INSERT INTO temp_two_factor (user_id, secret, expiry) VALUES (?, ?, ?)");
  sqlite3_bind_int64 (stmt, 1, req->user_id);
  sqlite3_bind_text (stmt, 2, secret, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, g_get_real_time () + ETS_TWO_FACTOR_VALIDITY);
  sqlite3_step (stmt);

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "secretCode");
  json_builder_add_string_value (builder, secret);
  json_builder_set_member_name (builder, "qrCode");
  json_builder_add_string_value (builder, qr_placeholder_png);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

static void
handle_two_factor_enable (EtsRequest *req)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) insert = NULL;
  g_autofree char *secret = NULL;
  EtsBind bind = { TRUE };
  const char *code, *encrypted, *nonce;

  if (!ets_require_auth (req))
    return;

  body = ets_body_object (req);
  code = ets_bind_string (&bind, body, "code", TRUE);
  encrypted = ets_bind_string (&bind, body, "encryptedTwoFactorSecret", TRUE);
  nonce = ets_bind_string (&bind, body, "twoFactorSecretDecryptionNonce", TRUE);
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }

  stmt = ets_db_prepare (req->ets, "SELECT secret FROM temp_two_factor WHERE user_id = ? AND expiry > ?");
  sqlite3_bind_int64 (stmt, 1, req->user_id);
  sqlite3_bind_int64 (stmt, 2, g_get_real_time ());
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      if (totp_matches (ets_column_text (stmt, 0), code))
        {
          secret = g_strdup (ets_column_text (stmt, 0));
          break;
        }
    }
  if (secret == NULL)
    {
      ets_reply_sentinel (req, SOUP_STATUS_UNAUTHORIZED);
      return;
    }

  insert = ets_db_prepare (req->ets,
                           "INSERT OR REPLACE INTO two_factor (user_id, secret, encrypted_secret,"
                           " secret_nonce, enabled) VALUES (?, ?, ?, ?, 1)");
  sqlite3_bind_int64 (insert, 1, req->user_id);
  sqlite3_bind_text (insert, 2, secret, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 3, encrypted, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 4, nonce, -1, SQLITE_TRANSIENT);
  sqlite3_step (insert);
  ets_reply_empty (req, SOUP_STATUS_OK);
}

static void
handle_two_factor_status (EtsRequest *req)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  if (!ets_require_auth (req))
    return;
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "status");
  json_builder_add_boolean_value (builder, user_has_totp (req->ets, req->user_id));
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

static void
handle_two_factor_verify (EtsRequest *req)
{
  EtsServer *ets = req->ets;
  g_autoptr(JsonObject) body = ets_body_object (req);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) update = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autofree char *secret = NULL;
  EtsBind bind = { TRUE };
  const char *session_id, *code;
  gint64 user_id, now = g_get_real_time ();
  gboolean replay;

  session_id = ets_bind_string (&bind, body, "sessionID", TRUE);
  code = ets_bind_string (&bind, body, "code", TRUE);
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }

  stmt = ets_db_prepare (ets, "SELECT user_id, wrong_attempt FROM two_factor_sessions"
                              " WHERE id = ? AND expiry > ?");
  sqlite3_bind_text (stmt, 1, session_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, now);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      ets_reply_sentinel (req, SOUP_STATUS_NOT_FOUND);
      return;
    }
  user_id = sqlite3_column_int64 (stmt, 0);
  if (sqlite3_column_int64 (stmt, 1) >= TOTP_MAX_ATTEMPTS)
    {
      ets_reply_sentinel (req, ETS_STATUS_TOO_MANY_REQUESTS);
      return;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  stmt = ets_db_prepare (ets, "SELECT secret FROM two_factor WHERE user_id = ? AND enabled = 1");
  sqlite3_bind_int64 (stmt, 1, user_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  secret = g_strdup (ets_column_text (stmt, 0));
  g_clear_pointer (&stmt, sqlite3_finalize);

  stmt = ets_db_prepare (ets, "SELECT COUNT(*) FROM used_totp WHERE user_id = ? AND code = ? AND expiry > ?");
  sqlite3_bind_int64 (stmt, 1, user_id);
  sqlite3_bind_text (stmt, 2, code, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, now);
  replay = sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_int64 (stmt, 0) > 0;
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (replay || !totp_matches (secret, code))
    {
      update = ets_db_prepare (ets, "UPDATE two_factor_sessions SET wrong_attempt = wrong_attempt + 1 WHERE id = ?");
      sqlite3_bind_text (update, 1, session_id, -1, SQLITE_TRANSIENT);
      sqlite3_step (update);
      ets_reply_sentinel (req, SOUP_STATUS_UNAUTHORIZED);
      return;
    }

  update = ets_db_prepare (ets, "INSERT OR REPLACE INTO used_totp (user_id, code, expiry) VALUES (?, ?, ?)");
  sqlite3_bind_int64 (update, 1, user_id);
  sqlite3_bind_text (update, 2, code, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (update, 3, now + 120 * ETS_MICROS_PER_SECOND);
  sqlite3_step (update);

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  if (!add_sealed_login (req, builder, user_id))
    return;
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

static void
handle_email_mfa (EtsRequest *req)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  EtsBind bind = { TRUE };
  gboolean enabled;

  if (!ets_require_auth (req))
    return;
  body = ets_body_object (req);
  enabled = ets_bind_bool (&bind, body, "isEnabled");
  if (body == NULL || !bind.ok)
    {
      ets_reply_sentinel (req, SOUP_STATUS_BAD_REQUEST);
      return;
    }
  stmt = ets_db_prepare (req->ets, "UPDATE users SET email_mfa = ? WHERE id = ?");
  sqlite3_bind_int (stmt, 1, enabled ? 1 : 0);
  sqlite3_bind_int64 (stmt, 2, req->user_id);
  sqlite3_step (stmt);
  ets_reply_empty (req, SOUP_STATUS_OK);
}

static void
handle_details (EtsRequest *req)
{
  EtsServer *ets = req->ets;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *memory_count = ets_query_string (req, "memoryCount");
  gboolean with_counts = memory_count == NULL || !g_str_equal (memory_count, "false");

  if (!ets_require_auth (req))
    return;

  stmt = ets_db_prepare (ets,
                         "SELECT u.email, u.usage, s.id, s.storage, s.expiry_time"
                         " FROM users u JOIN subscriptions s ON s.user_id = u.id WHERE u.id = ?");
  sqlite3_bind_int64 (stmt, 1, req->user_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      ets_reply_sentinel (req, SOUP_STATUS_NOT_FOUND);
      return;
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "email");
  json_builder_add_string_value (builder, ets_column_text (stmt, 0));
  json_builder_set_member_name (builder, "usage");
  json_builder_add_int_value (builder, sqlite3_column_int64 (stmt, 1));
  json_builder_set_member_name (builder, "subscription");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, sqlite3_column_int64 (stmt, 2));
  json_builder_set_member_name (builder, "userID");
  json_builder_add_int_value (builder, req->user_id);
  json_builder_set_member_name (builder, "productID");
  json_builder_add_string_value (builder, "free");
  json_builder_set_member_name (builder, "storage");
  json_builder_add_int_value (builder, sqlite3_column_int64 (stmt, 3));
  json_builder_set_member_name (builder, "originalTransactionID");
  json_builder_add_string_value (builder, "none");
  json_builder_set_member_name (builder, "expiryTime");
  json_builder_add_int_value (builder, ets->no_subscription
                                        ? g_get_real_time () - 24 * 3600 * ETS_MICROS_PER_SECOND
                                        : sqlite3_column_int64 (stmt, 4));
  json_builder_set_member_name (builder, "paymentProvider");
  json_builder_add_string_value (builder, "");
  json_builder_set_member_name (builder, "attributes");
  json_builder_begin_object (builder);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "price");
  json_builder_add_string_value (builder, "");
  json_builder_set_member_name (builder, "period");
  json_builder_add_string_value (builder, "year");
  json_builder_end_object (builder);

  if (with_counts)
    {
      json_builder_set_member_name (builder, "fileCount");
      json_builder_add_int_value (builder,
                                  ets_db_query_int (ets, 0,
                                                    "SELECT COUNT(DISTINCT f.id) FROM files f"
                                                    " LEFT JOIN trash t ON t.file_id = f.id"
                                                    " WHERE f.owner_id = ?"
                                                    " AND (t.file_id IS NULL OR t.is_restored = 1)",
                                                    req->user_id));
      json_builder_set_member_name (builder, "sharedCollectionsCount");
      json_builder_add_int_value (builder, 0);
    }
  json_builder_set_member_name (builder, "storageBonus");
  json_builder_add_int_value (builder, 0);

  json_builder_set_member_name (builder, "profileData");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "canDisableEmailMFA");
  json_builder_add_boolean_value (builder,
                                  ets_db_query_int (ets, 0, "SELECT COUNT(*) FROM srp_auth WHERE user_id = ?",
                                                    req->user_id) > 0);
  json_builder_set_member_name (builder, "isEmailMFAEnabled");
  json_builder_add_boolean_value (builder,
                                  ets_db_query_int (ets, 0, "SELECT email_mfa FROM users WHERE id = ?",
                                                    req->user_id) != 0);
  json_builder_set_member_name (builder, "isTwoFactorEnabled");
  json_builder_add_boolean_value (builder, user_has_totp (ets, req->user_id));
  json_builder_set_member_name (builder, "passkeyCount");
  json_builder_add_int_value (builder, 0);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "bonusData");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "storageBonuses");
  json_builder_begin_array (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  ets_reply_builder (req, builder);
}

static void
handle_logout (EtsRequest *req)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (!ets_require_auth (req))
    return;
  stmt = ets_db_prepare (req->ets, "UPDATE tokens SET is_deleted = 1 WHERE token = ? AND user_id = ?");
  sqlite3_bind_text (stmt, 1, req->token, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, req->user_id);
  sqlite3_step (stmt);
  ets_reply_sentinel (req, SOUP_STATUS_OK);
}

gboolean
ets_users_route (EtsRequest *req)
{
  const char *m = req->method;
  const char *p = req->path;
  gboolean get = g_str_equal (m, "GET");
  gboolean post = g_str_equal (m, "POST");
  gboolean put = g_str_equal (m, "PUT");

  if (get && g_str_equal (p, "/ping"))
    handle_ping (req);
  else if (post && g_str_equal (p, "/users/ott"))
    handle_send_ott (req);
  else if (post && g_str_equal (p, "/users/verify-email"))
    handle_verify_email (req);
  else if (put && g_str_equal (p, "/users/attributes"))
    handle_set_attributes (req);
  else if (put && g_str_equal (p, "/users/recovery-key"))
    handle_set_recovery_key (req);
  else if (get && g_str_equal (p, "/users/session-validity/v2"))
    handle_session_validity (req);
  else if (get && g_str_equal (p, "/users/srp/attributes"))
    handle_srp_attributes (req);
  else if (post && g_str_equal (p, "/users/srp/setup"))
    handle_srp_setup (req);
  else if (post && g_str_equal (p, "/users/srp/complete"))
    handle_srp_complete (req);
  else if (post && g_str_equal (p, "/users/srp/create-session"))
    handle_srp_create_session (req);
  else if (post && g_str_equal (p, "/users/srp/verify-session"))
    handle_srp_verify_session (req);
  else if (post && g_str_equal (p, "/users/two-factor/setup"))
    handle_two_factor_setup (req);
  else if (post && g_str_equal (p, "/users/two-factor/enable"))
    handle_two_factor_enable (req);
  else if (get && g_str_equal (p, "/users/two-factor/status"))
    handle_two_factor_status (req);
  else if (post && g_str_equal (p, "/users/two-factor/verify"))
    handle_two_factor_verify (req);
  else if (put && g_str_equal (p, "/users/email-mfa"))
    handle_email_mfa (req);
  else if (get && g_str_equal (p, "/users/details/v2"))
    handle_details (req);
  else if (post && g_str_equal (p, "/users/logout"))
    handle_logout (req);
  else
    return FALSE;
  return TRUE;
}
