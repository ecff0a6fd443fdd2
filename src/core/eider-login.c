/* eider-login.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-login"
#include "config.h"

#include <string.h>
#include <sodium.h>

#include "eider-account-private.h"
#include "eider-login.h"
#include "eider-srp.h"

struct _EiderLogin
{
  GObject             parent_instance;

  EiderApi           *api;
  char               *email;
  EiderLoginStep      step;

  /* from GET /users/srp/attributes */
  gboolean            uses_srp;
  char               *srp_user_id;
  GBytes             *srp_salt;
  char               *kek_salt;
  guint64             ops_limit;
  guint64             mem_limit;

  /* from the authorization response */
  gint64              user_id;
  char               *two_factor_session_id;
  char               *passkey_session_id;
  char               *passkey_url;
  EiderKeyAttributes *key_attributes;
  GBytes             *encrypted_token;

  EiderSecret        *kek;
  EiderSession       *session;
};

G_DEFINE_FINAL_TYPE (EiderLogin, eider_login, G_TYPE_OBJECT)

static void
eider_login_dispose (GObject *object)
{
  EiderLogin *self = (EiderLogin *) object;

  g_clear_object (&self->api);

  G_OBJECT_CLASS (eider_login_parent_class)->dispose (object);
}

static void
eider_login_finalize (GObject *object)
{
  EiderLogin *self = (EiderLogin *) object;

  g_free (self->email);
  g_free (self->srp_user_id);
  g_clear_pointer (&self->srp_salt, g_bytes_unref);
  g_free (self->kek_salt);
  g_free (self->two_factor_session_id);
  g_free (self->passkey_session_id);
  g_free (self->passkey_url);
  g_clear_pointer (&self->key_attributes, eider_key_attributes_free);
  g_clear_pointer (&self->encrypted_token, g_bytes_unref);
  g_clear_pointer (&self->kek, eider_secret_free);
  g_clear_pointer (&self->session, eider_session_free);

  G_OBJECT_CLASS (eider_login_parent_class)->finalize (object);
}

static void
eider_login_class_init (EiderLoginClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = eider_login_dispose;
  object_class->finalize = eider_login_finalize;
}

static void
eider_login_init (EiderLogin *self)
{
  self->step = EIDER_LOGIN_STEP_START;
}

EiderLogin *
eider_login_new (const char *endpoint,
                 const char *email)
{
  EiderLogin *self;

  g_return_val_if_fail (email != NULL, NULL);

  self = g_object_new (EIDER_TYPE_LOGIN, NULL);
  self->api = eider_api_new (endpoint);
  self->email = _eider_normalize_email (email);

  return self;
}

EiderLoginStep
eider_login_get_step (EiderLogin *self)
{
  g_return_val_if_fail (EIDER_IS_LOGIN (self), EIDER_LOGIN_STEP_START);

  return self->step;
}

gboolean
eider_login_get_uses_srp (EiderLogin *self)
{
  g_return_val_if_fail (EIDER_IS_LOGIN (self), FALSE);

  return self->uses_srp;
}

const char *
eider_login_get_passkey_url (EiderLogin *self)
{
  g_return_val_if_fail (EIDER_IS_LOGIN (self), NULL);

  return self->passkey_url;
}

EiderApi *
eider_login_get_api (EiderLogin *self)
{
  g_return_val_if_fail (EIDER_IS_LOGIN (self), NULL);

  return self->api;
}

/**
 * eider_login_steal_session:
 *
 * Returns: (transfer full) (nullable): the finished session, once the step
 *   is %EIDER_LOGIN_STEP_DONE
 */
EiderSession *
eider_login_steal_session (EiderLogin *self)
{
  g_return_val_if_fail (EIDER_IS_LOGIN (self), NULL);

  return g_steal_pointer (&self->session);
}

gboolean
eider_login_step_finish (EiderLogin      *self,
                         GAsyncResult    *result,
                         EiderLoginStep  *step,
                         GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;

  if (step != NULL)
    *step = self->step;

  return TRUE;
}

static GTask *
step_task_new (EiderLogin          *self,
               gpointer             source_tag,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);

  return task;
}

static gboolean
check_step (EiderLogin     *self,
            GTask          *task,
            EiderLoginStep  expected)
{
  if (self->step != expected)
    {
      g_task_return_new_error (task, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_WRONG_STEP,
                               "This login is not waiting for that now");
      return FALSE;
    }

  return TRUE;
}

/* Finishing: KEK → master key → secret key → token. */

static gboolean
complete (EiderLogin  *self,
          GError     **error)
{
  g_autoptr(EiderSecret) master_key = NULL;
  g_autoptr(EiderSecret) secret_key = NULL;
  g_autoptr(EiderSecret) raw_token = NULL;
  g_autoptr(EiderSession) session = NULL;
  g_autofree char *token = NULL;
  guint8 public_key[EIDER_KEY_BYTES];

  master_key = eider_key_attributes_unlock (self->key_attributes, self->kek, error);
  if (master_key == NULL)
    {
      if (error != NULL && g_error_matches (*error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_WRONG_KEY))
        {
          g_clear_error (error);
          g_set_error_literal (error, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_WRONG_PASSWORD,
                               "Incorrect password");
        }
      return FALSE;
    }

  secret_key = eider_key_attributes_open_secret_key (self->key_attributes, master_key, error);
  if (secret_key == NULL ||
      !eider_base64_decode_exact (self->key_attributes->public_key, public_key,
                                  sizeof public_key, error))
    return FALSE;

  raw_token = eider_sealed_box_open (g_bytes_get_data (self->encrypted_token, NULL),
                                     g_bytes_get_size (self->encrypted_token),
                                     public_key, secret_key, error);
  if (raw_token == NULL)
    {
      g_prefix_error (error, "Could not open the session token: ");
      return FALSE;
    }

  token = eider_base64_url_encode (eider_secret_peek (raw_token), eider_secret_get_size (raw_token));

  session = g_new0 (EiderSession, 1);
  session->endpoint = g_strdup (eider_api_get_endpoint (self->api));
  session->email = g_strdup (self->email);
  session->user_id = self->user_id;
  session->key_attributes = eider_key_attributes_copy (self->key_attributes);
  session->master_key = g_steal_pointer (&master_key);
  session->token = eider_secret_new_from_data ((const guint8 *) token, strlen (token) + 1);
  sodium_memzero (token, strlen (token));

  eider_api_set_token (self->api, (const char *) eider_secret_peek (session->token));
  g_clear_pointer (&self->session, eider_session_free);
  self->session = g_steal_pointer (&session);
  g_clear_pointer (&self->kek, eider_secret_free);
  self->step = EIDER_LOGIN_STEP_DONE;

  return TRUE;
}

/* keyAttributes + encryptedToken, from verify-email, verify-session,
 * two-factor/verify or passkeys/get-token. */
static gboolean
take_keys (EiderLogin  *self,
           JsonObject  *obj,
           GError     **error)
{
  JsonObject *attrs = _eider_json_object_member (obj, "keyAttributes");
  const char *encrypted_token = json_object_get_string_member_with_default (obj, "encryptedToken", NULL);
  g_autoptr(GBytes) token = NULL;

  if (attrs == NULL || encrypted_token == NULL)
    {
      if (json_object_get_string_member_with_default (obj, "token", NULL) != NULL)
        g_set_error_literal (error, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_SIGNUP_INCOMPLETE,
                             "This account's sign-up was never finished: sign up again with the "
                             "same email");
      else
        g_set_error_literal (error, EIDER_API_ERROR, EIDER_API_ERROR_NOT_ENTE,
                             "The server's answer holds no keys");
      return FALSE;
    }

  g_clear_pointer (&self->key_attributes, eider_key_attributes_free);
  self->key_attributes = eider_key_attributes_from_json (attrs, error);
  if (self->key_attributes == NULL)
    return FALSE;

  token = eider_base64_decode (encrypted_token, error);
  if (token == NULL)
    return FALSE;

  g_clear_pointer (&self->encrypted_token, g_bytes_unref);
  self->encrypted_token = g_steal_pointer (&token);
  self->user_id = json_object_get_int_member_with_default (obj, "id", self->user_id);

  return TRUE;
}

static const char *
nonempty_member (JsonObject *obj,
                 const char *member)
{
  const char *value = json_object_get_string_member_with_default (obj, member, NULL);

  return value != NULL && value[0] != '\0' ? value : NULL;
}

/* The authorization response (spec/ente-auth.md §4.4). */
static gboolean
handle_authorization (EiderLogin  *self,
                      JsonNode    *node,
                      GError     **error)
{
  JsonObject *obj;
  const char *totp;
  const char *totp_v2;
  const char *passkey;
  const char *accounts_url;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error_literal (error, EIDER_API_ERROR, EIDER_API_ERROR_NOT_ENTE,
                           "The server's answer to the login is not what Ente sends");
      return FALSE;
    }

  obj = json_node_get_object (node);
  self->user_id = json_object_get_int_member_with_default (obj, "id", 0);
  totp = nonempty_member (obj, "twoFactorSessionID");
  totp_v2 = nonempty_member (obj, "twoFactorSessionIDV2");
  passkey = nonempty_member (obj, "passkeySessionID");
  accounts_url = nonempty_member (obj, "accountsUrl");

  if (totp != NULL || totp_v2 != NULL)
    {
      /* With both a passkey and TOTP, TOTP works without a browser. */
      g_free (self->two_factor_session_id);
      self->two_factor_session_id = g_strdup (totp != NULL ? totp : totp_v2);
      self->step = EIDER_LOGIN_STEP_TOTP;
      return TRUE;
    }

  if (passkey != NULL)
    {
      g_autofree char *pkg = g_uri_escape_string (EIDER_API_CLIENT_PACKAGE, NULL, FALSE);
      g_autofree char *sid = g_uri_escape_string (passkey, NULL, FALSE);

      if (accounts_url == NULL)
        {
          g_set_error_literal (error, EIDER_API_ERROR, EIDER_API_ERROR_NOT_ENTE,
                               "The server asks for a passkey but gives no address to verify it");
          return FALSE;
        }

      g_free (self->passkey_session_id);
      self->passkey_session_id = g_strdup (passkey);
      g_free (self->passkey_url);
      self->passkey_url = g_strdup_printf ("%s/passkeys/verify?clientPackage=%s&passkeySessionID=%s"
                                           "&redirect=ente-cli%%3A%%2F%%2Fpasskey",
                                           accounts_url, pkg, sid);
      self->step = EIDER_LOGIN_STEP_PASSKEY;
      return TRUE;
    }

  if (!take_keys (self, obj, error))
    return FALSE;

  if (self->kek != NULL)
    return complete (self, error);

  self->step = EIDER_LOGIN_STEP_PASSWORD;
  return TRUE;
}

/* GETs @path_and_key followed by @value, escaped. Takes @task. */
static void
get_with_query (EiderLogin          *self,
                GTask               *task,
                const char          *path_and_key,
                const char          *value,
                GAsyncReadyCallback  callback)
{
  g_autofree char *escaped = g_uri_escape_string (value, NULL, FALSE);
  g_autofree char *path = g_strconcat (path_and_key, escaped, NULL);

  eider_api_call_async (self->api, "GET", path, NULL, EIDER_API_CALL_NONE,
                        g_task_get_cancellable (task), callback, task);
}

/* POSTs {id_member: id, code_member: code (trimmed)}: the shape of both
 * verify-email and two-factor/verify. Takes @task. */
static void
post_code (EiderLogin          *self,
           GTask               *task,
           const char          *path,
           const char          *id_member,
           const char          *id,
           const char          *code_member,
           const char          *code,
           GAsyncReadyCallback  callback)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *trimmed = g_strstrip (g_strdup (code));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, id_member);
  json_builder_add_string_value (builder, id);
  json_builder_set_member_name (builder, code_member);
  json_builder_add_string_value (builder, trimmed);
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  eider_api_call_async (self->api, "POST", path, body, EIDER_API_CALL_NONE,
                        g_task_get_cancellable (task), callback, task);
}

/* Start: GET /users/srp/attributes decides between SRP and an emailed code. */

static void
start_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EiderLogin *self = g_task_get_source_object (task);
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *attrs = NULL;

  node = eider_api_call_finish (EIDER_API (object), result, &error);
  if (node == NULL)
    {
      if (g_error_matches (error, EIDER_API_ERROR, EIDER_API_ERROR_NOT_FOUND))
        {
          /* No account, or no SRP yet: the emailed code works for all. */
          self->uses_srp = FALSE;
          self->step = EIDER_LOGIN_STEP_EMAIL_CODE;
          g_task_return_boolean (task, TRUE);
          return;
        }

      g_task_return_error (task, _eider_account_map_error (g_steal_pointer (&error), 0, 0, NULL));
      return;
    }

  if (JSON_NODE_HOLDS_OBJECT (node))
    attrs = _eider_json_object_member (json_node_get_object (node), "attributes");

  if (attrs == NULL ||
      json_object_get_string_member_with_default (attrs, "srpUserID", NULL) == NULL ||
      json_object_get_string_member_with_default (attrs, "kekSalt", NULL) == NULL)
    {
      g_task_return_new_error (task, EIDER_API_ERROR, EIDER_API_ERROR_NOT_ENTE,
                               "The server's SRP attributes are not what Ente sends");
      return;
    }

  if (json_object_get_boolean_member_with_default (attrs, "isEmailMFAEnabled", FALSE))
    {
      self->uses_srp = FALSE;
      self->step = EIDER_LOGIN_STEP_EMAIL_CODE;
      g_task_return_boolean (task, TRUE);
      return;
    }

  self->srp_salt = eider_base64_decode (json_object_get_string_member_with_default (attrs, "srpSalt", NULL),
                                        &error);
  if (self->srp_salt == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  self->srp_user_id = g_strdup (json_object_get_string_member (attrs, "srpUserID"));
  self->kek_salt = g_strdup (json_object_get_string_member (attrs, "kekSalt"));
  self->ops_limit = json_object_get_int_member_with_default (attrs, "opsLimit", 0);
  self->mem_limit = json_object_get_int_member_with_default (attrs, "memLimit", 0);
  self->uses_srp = TRUE;
  self->step = EIDER_LOGIN_STEP_PASSWORD;
  g_task_return_boolean (task, TRUE);
}

void
eider_login_start_async (EiderLogin          *self,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (EIDER_IS_LOGIN (self));

  task = step_task_new (self, eider_login_start_async, cancellable, callback, user_data);
  if (!check_step (self, task, EIDER_LOGIN_STEP_START))
    return;

  get_with_query (self, g_steal_pointer (&task), "/users/srp/attributes?email=", self->email,
                  start_cb);
}

/* Emailed code */

static void
request_code_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  node = eider_api_call_finish (EIDER_API (object), result, &error);
  if (node == NULL)
    {
      if (eider_api_error_has_code (error, "USER_SIGNUP_INCOMPLETE"))
        g_task_return_new_error (task, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_SIGNUP_INCOMPLETE,
                                 "This account's sign-up was never finished: sign up again with "
                                 "the same email");
      else
        g_task_return_error (task, _eider_account_map_error (g_steal_pointer (&error), 404,
                                                             EIDER_ACCOUNT_ERROR_NOT_REGISTERED,
                                                             "No Ente account uses this email: "
                                                             "sign up first"));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

void
eider_login_request_code_async (EiderLogin          *self,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;

  g_return_if_fail (EIDER_IS_LOGIN (self));

  task = step_task_new (self, eider_login_request_code_async, cancellable, callback, user_data);
  if (!check_step (self, task, EIDER_LOGIN_STEP_EMAIL_CODE))
    return;

  /* Always purpose "login": without it, verify-email on an unknown email
   * would create an account. */
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "email");
  json_builder_add_string_value (builder, self->email);
  json_builder_set_member_name (builder, "purpose");
  json_builder_add_string_value (builder, "login");
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  eider_api_call_async (self->api, "POST", "/users/ott", body, EIDER_API_CALL_NONE, cancellable,
                        request_code_cb, g_steal_pointer (&task));
}

static void
submit_code_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EiderLogin *self = g_task_get_source_object (task);
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  node = eider_api_call_finish (EIDER_API (object), result, &error);
  if (node == NULL)
    {
      error = _eider_account_map_error (g_steal_pointer (&error), 401,
                                        EIDER_ACCOUNT_ERROR_WRONG_CODE,
                                        "Wrong code: check the email and try again");
      error = _eider_account_map_error (g_steal_pointer (&error), 410,
                                        EIDER_ACCOUNT_ERROR_CODE_EXPIRED,
                                        "The code has expired or was already used: "
                                        "ask for a new one");
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (!handle_authorization (self, node, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

void
eider_login_submit_code_async (EiderLogin          *self,
                               const char          *code,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (EIDER_IS_LOGIN (self));
  g_return_if_fail (code != NULL);

  task = step_task_new (self, eider_login_submit_code_async, cancellable, callback, user_data);
  if (!check_step (self, task, EIDER_LOGIN_STEP_EMAIL_CODE))
    return;

  post_code (self, g_steal_pointer (&task), "/users/verify-email", "email", self->email, "ott",
             code, submit_code_cb);
}

/* Password */

typedef struct
{
  EiderSecret *password;
  guint8       salt[EIDER_SALT_BYTES];
  guint64      ops_limit;
  guint64      mem_limit;
} DeriveData;

static void
derive_data_free (DeriveData *data)
{
  g_clear_pointer (&data->password, eider_secret_free);
  g_free (data);
}

static void
derive_worker (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  DeriveData *data = task_data;
  GError *error = NULL;
  EiderSecret *kek;

  kek = eider_crypto_derive_kek ((const char *) eider_secret_peek (data->password), data->salt,
                                 data->ops_limit, data->mem_limit, &error);
  if (kek == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, kek, (GDestroyNotify) eider_secret_free);
}

static void srp_create_session_cb (GObject      *object,
                                   GAsyncResult *result,
                                   gpointer      user_data);

static void
srp_verify_session_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EiderLogin *self = g_task_get_source_object (task);
  EiderSrpClient *client = g_task_get_task_data (task);
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) m2 = NULL;
  const char *m2_b64 = NULL;

  node = eider_api_call_finish (EIDER_API (object), result, &error);
  if (node == NULL)
    {
      g_clear_pointer (&self->kek, eider_secret_free);
      /* 401 is a wrong password (or, by design, no such account). */
      g_task_return_error (task, _eider_account_map_error (g_steal_pointer (&error), 401,
                                                           EIDER_ACCOUNT_ERROR_WRONG_PASSWORD,
                                                           "Incorrect password"));
      return;
    }

  if (JSON_NODE_HOLDS_OBJECT (node))
    m2_b64 = json_object_get_string_member_with_default (json_node_get_object (node), "srpM2", NULL);
  m2 = m2_b64 != NULL ? eider_base64_decode (m2_b64, NULL) : NULL;

  if (m2 == NULL ||
      !eider_srp_client_verify_m2 (client, g_bytes_get_data (m2, NULL), g_bytes_get_size (m2), &error))
    {
      g_clear_pointer (&self->kek, eider_secret_free);
      g_task_return_new_error (task, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_FAILED,
                               "The server could not prove it knows this account: refusing it");
      return;
    }

  if (!handle_authorization (self, node, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
srp_create_session_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EiderLogin *self = g_task_get_source_object (task);
  EiderSrpClient *client = g_task_get_task_data (task);
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) b = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *m1 = NULL;
  JsonObject *obj;

  node = eider_api_call_finish (EIDER_API (object), result, &error);
  if (node == NULL)
    {
      if (eider_api_error_has_code (error, "EMAIL_MFA_ENABLED"))
        {
          /* The account wants the emailed code after all; keep the KEK. */
          self->uses_srp = FALSE;
          self->step = EIDER_LOGIN_STEP_EMAIL_CODE;
          g_task_return_boolean (task, TRUE);
          return;
        }

      g_clear_pointer (&self->kek, eider_secret_free);
      g_task_return_error (task, _eider_account_map_error (g_steal_pointer (&error), 0, 0, NULL));
      return;
    }

  obj = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  b = obj != NULL ? eider_base64_decode (json_object_get_string_member_with_default (obj, "srpB", NULL),
                                         &error)
                  : NULL;
  if (b == NULL ||
      json_object_get_string_member_with_default (obj, "sessionID", NULL) == NULL ||
      !eider_srp_client_set_b (client, g_bytes_get_data (b, NULL), g_bytes_get_size (b), &error))
    {
      g_clear_pointer (&self->kek, eider_secret_free);
      if (error == NULL)
        g_set_error_literal (&error, EIDER_API_ERROR, EIDER_API_ERROR_NOT_ENTE,
                             "The server's SRP session is not what Ente sends");
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  m1 = eider_base64_encode (eider_srp_client_get_m1 (client), EIDER_SRP_PROOF_BYTES);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "sessionID");
  json_builder_add_string_value (builder, json_object_get_string_member (obj, "sessionID"));
  json_builder_set_member_name (builder, "srpUserID");
  json_builder_add_string_value (builder, self->srp_user_id);
  json_builder_set_member_name (builder, "srpM1");
  json_builder_add_string_value (builder, m1);
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  eider_api_call_async (self->api, "POST", "/users/srp/verify-session", body, EIDER_API_CALL_NONE,
                        g_task_get_cancellable (task), srp_verify_session_cb, g_object_ref (task));
}

static void
derive_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EiderLogin *self = EIDER_LOGIN (object);
  g_autoptr(GError) error = NULL;
  EiderSecret *kek;

  kek = g_task_propagate_pointer (G_TASK (result), &error);
  if (kek == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_clear_pointer (&self->kek, eider_secret_free);
  self->kek = kek;

  if (self->key_attributes != NULL)
    {
      /* Email-code path: the keys are here, the password opens them. */
      if (!complete (self, &error))
        {
          g_clear_pointer (&self->kek, eider_secret_free);
          g_task_return_error (task, g_steal_pointer (&error));
        }
      else
        g_task_return_boolean (task, TRUE);
      return;
    }

  /* SRP path: a fresh session per attempt, as museum counts attempts. */
  {
    g_autoptr(EiderSecret) login_key = eider_crypto_derive_login_subkey (self->kek);
    g_autoptr(JsonBuilder) builder = json_builder_new ();
    g_autoptr(JsonNode) body = NULL;
    g_autofree char *a = NULL;
    EiderSrpClient *client;

    client = eider_srp_client_new (self->srp_user_id,
                                   g_bytes_get_data (self->srp_salt, NULL),
                                   g_bytes_get_size (self->srp_salt),
                                   login_key, NULL, 0);
    g_task_set_task_data (task, client, (GDestroyNotify) eider_srp_client_free);

    a = eider_base64_encode (eider_srp_client_get_a (client), EIDER_SRP_BYTES);
    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "srpUserID");
    json_builder_add_string_value (builder, self->srp_user_id);
    json_builder_set_member_name (builder, "srpA");
    json_builder_add_string_value (builder, a);
    json_builder_end_object (builder);
    body = json_builder_get_root (builder);

    eider_api_call_async (self->api, "POST", "/users/srp/create-session", body,
                          EIDER_API_CALL_NONE, g_task_get_cancellable (task),
                          srp_create_session_cb, g_object_ref (task));
  }
}

void
eider_login_submit_password_async (EiderLogin          *self,
                                   const char          *password,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) derive = NULL;
  g_autoptr(GError) error = NULL;
  DeriveData *data;
  const char *kek_salt;

  g_return_if_fail (EIDER_IS_LOGIN (self));
  g_return_if_fail (password != NULL);

  task = step_task_new (self, eider_login_submit_password_async, cancellable, callback, user_data);
  if (!check_step (self, task, EIDER_LOGIN_STEP_PASSWORD))
    return;

  data = g_new0 (DeriveData, 1);
  data->password = eider_secret_new_from_data ((const guint8 *) password, strlen (password) + 1);
  if (self->key_attributes != NULL)
    {
      kek_salt = self->key_attributes->kek_salt;
      data->ops_limit = self->key_attributes->ops_limit;
      data->mem_limit = self->key_attributes->mem_limit;
    }
  else
    {
      kek_salt = self->kek_salt;
      data->ops_limit = self->ops_limit;
      data->mem_limit = self->mem_limit;
    }

  if (!eider_base64_decode_exact (kek_salt, data->salt, sizeof data->salt, &error))
    {
      derive_data_free (data);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* Argon2id with up to 1 GiB: off the main thread. */
  derive = g_task_new (self, cancellable, derive_cb, g_steal_pointer (&task));
  g_task_set_source_tag (derive, derive_worker);
  g_task_set_task_data (derive, data, (GDestroyNotify) derive_data_free);
  g_task_run_in_thread (derive, derive_worker);
}

/* After a second factor: the keys arrive; the password (known already on
 * the SRP path) opens them. */
static void
second_factor_done (EiderLogin *self,
                    GTask      *task,
                    JsonNode   *node,
                    const char *what)
{
  g_autoptr(GError) error = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (node) || !take_keys (self, json_node_get_object (node), &error))
    {
      if (error == NULL)
        g_set_error (&error, EIDER_API_ERROR, EIDER_API_ERROR_NOT_ENTE,
                     "The server's answer to the %s is not what Ente sends", what);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (self->kek == NULL)
    self->step = EIDER_LOGIN_STEP_PASSWORD;
  else if (!complete (self, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

/* TOTP */

static void
submit_totp_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EiderLogin *self = g_task_get_source_object (task);
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  node = eider_api_call_finish (EIDER_API (object), result, &error);
  if (node == NULL)
    {
      error = _eider_account_map_error (g_steal_pointer (&error), 401,
                                        EIDER_ACCOUNT_ERROR_WRONG_CODE,
                                        "Wrong two-factor code: use the current one from your "
                                        "authenticator app");
      error = _eider_account_map_error (g_steal_pointer (&error), 404,
                                        EIDER_ACCOUNT_ERROR_SESSION_EXPIRED,
                                        "The two-factor step timed out: log in again");
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  second_factor_done (self, task, node, "two-factor code");
}

void
eider_login_submit_totp_async (EiderLogin          *self,
                               const char          *code,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (EIDER_IS_LOGIN (self));
  g_return_if_fail (code != NULL);

  task = step_task_new (self, eider_login_submit_totp_async, cancellable, callback, user_data);
  if (!check_step (self, task, EIDER_LOGIN_STEP_TOTP))
    return;

  post_code (self, g_steal_pointer (&task), "/users/two-factor/verify", "sessionID",
             self->two_factor_session_id, "code", code, submit_totp_cb);
}

/* Passkey: the browser does the ceremony; we poll for the token. */

static void
check_passkey_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EiderLogin *self = g_task_get_source_object (task);
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  node = eider_api_call_finish (EIDER_API (object), result, &error);
  if (node == NULL)
    {
      if (eider_api_error_has_code (error, "SESSION_NOT_VERIFIED"))
        {
          g_task_return_boolean (task, TRUE);   /* still waiting */
          return;
        }

      error = _eider_account_map_error (g_steal_pointer (&error), 410,
                                        EIDER_ACCOUNT_ERROR_SESSION_EXPIRED,
                                        "The passkey step expired: log in again");
      error = _eider_account_map_error (g_steal_pointer (&error), 404,
                                        EIDER_ACCOUNT_ERROR_SESSION_EXPIRED,
                                        "The passkey step expired: log in again");
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  second_factor_done (self, task, node, "passkey");
}

/**
 * eider_login_check_passkey_async:
 *
 * Asks once whether the passkey was verified in the browser (at the URL of
 * eider_login_get_passkey_url()). The step stays %EIDER_LOGIN_STEP_PASSKEY
 * while it is pending; museum allows 10 such calls a minute, so poll no
 * faster than every 6 seconds.
 */
void
eider_login_check_passkey_async (EiderLogin          *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (EIDER_IS_LOGIN (self));

  task = step_task_new (self, eider_login_check_passkey_async, cancellable, callback, user_data);
  if (!check_step (self, task, EIDER_LOGIN_STEP_PASSKEY))
    return;

  get_with_query (self, g_steal_pointer (&task), "/users/two-factor/passkeys/get-token?sessionID=",
                  self->passkey_session_id, check_passkey_cb);
}
