/* eider-signup.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-signup"
#include "config.h"

#include <string.h>
#include <sodium.h>

#include "eider-account-private.h"
#include "eider-signup.h"
#include "eider-srp.h"

/* Ente's limits for new accounts: mem × ops = 4 GiB, mem ≥ 128 MiB. */
#define SIGNUP_MEM_LIMIT  (256 * 1024 * 1024)
#define SIGNUP_OPS_LIMIT  16
#define SIGNUP_MIN_MEM    (128 * 1024 * 1024)

struct _EiderSignup
{
  GObject       parent_instance;

  EiderApi     *api;
  char         *email;
  char         *recovery_words;
  EiderSession *session;
};

G_DEFINE_FINAL_TYPE (EiderSignup, eider_signup, G_TYPE_OBJECT)

static void
eider_signup_dispose (GObject *object)
{
  EiderSignup *self = (EiderSignup *) object;

  g_clear_object (&self->api);

  G_OBJECT_CLASS (eider_signup_parent_class)->dispose (object);
}

static void
eider_signup_finalize (GObject *object)
{
  EiderSignup *self = (EiderSignup *) object;

  g_free (self->email);
  if (self->recovery_words != NULL)
    sodium_memzero (self->recovery_words, strlen (self->recovery_words));
  g_free (self->recovery_words);
  g_clear_pointer (&self->session, eider_session_free);

  G_OBJECT_CLASS (eider_signup_parent_class)->finalize (object);
}

static void
eider_signup_class_init (EiderSignupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = eider_signup_dispose;
  object_class->finalize = eider_signup_finalize;
}

static void
eider_signup_init (EiderSignup *self)
{
}

EiderSignup *
eider_signup_new (const char *endpoint,
                  const char *email)
{
  EiderSignup *self;

  g_return_val_if_fail (email != NULL, NULL);

  self = g_object_new (EIDER_TYPE_SIGNUP, NULL);
  self->api = eider_api_new (endpoint);
  self->email = _eider_normalize_email (email);

  return self;
}

/**
 * eider_signup_get_recovery_words:
 *
 * Returns: (nullable): the recovery key's 24 words once the sign-up is
 *   complete. Show them once and tell the user to keep them.
 */
const char *
eider_signup_get_recovery_words (EiderSignup *self)
{
  g_return_val_if_fail (EIDER_IS_SIGNUP (self), NULL);

  return self->recovery_words;
}

EiderSession *
eider_signup_steal_session (EiderSignup *self)
{
  g_return_val_if_fail (EIDER_IS_SIGNUP (self), NULL);

  return g_steal_pointer (&self->session);
}

static JsonNode *
object_node (const char *first_member,
             ...) G_GNUC_NULL_TERMINATED;

/* Builds {"m1":"v1","m2":"v2",…} from string pairs. */
static JsonNode *
object_node (const char *first_member,
             ...)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *member = first_member;
  va_list args;

  va_start (args, first_member);
  json_builder_begin_object (builder);
  while (member != NULL)
    {
      json_builder_set_member_name (builder, member);
      json_builder_add_string_value (builder, va_arg (args, const char *));
      member = va_arg (args, const char *);
    }
  json_builder_end_object (builder);
  va_end (args);

  return json_builder_get_root (builder);
}

/* Requesting the code */

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
      error = _eider_account_map_error (g_steal_pointer (&error), 409,
                                        EIDER_ACCOUNT_ERROR_ALREADY_REGISTERED,
                                        "An Ente account already uses this email: log in instead");
      error = _eider_account_map_error (g_steal_pointer (&error), 403,
                                        EIDER_ACCOUNT_ERROR_FAILED,
                                        "This server does not accept new accounts");
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

void
eider_signup_request_code_async (EiderSignup         *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(JsonNode) body = NULL;

  g_return_if_fail (EIDER_IS_SIGNUP (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, eider_signup_request_code_async);

  body = object_node ("email", self->email, "purpose", "signup", NULL);
  eider_api_call_async (self->api, "POST", "/users/ott", body, EIDER_API_CALL_NONE, cancellable,
                        request_code_cb, g_steal_pointer (&task));
}

gboolean
eider_signup_request_code_finish (EiderSignup   *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Completing: keys → verify-email → attributes → SRP → check */

typedef enum
{
  STAGE_VERIFY_EMAIL,
  STAGE_SESSION_VALIDITY,
  STAGE_PUT_ATTRIBUTES,
  STAGE_SRP_SETUP,
  STAGE_SRP_COMPLETE,
  STAGE_CHECK_ATTRIBUTES,
} Stage;

typedef struct
{
  Stage               stage;
  char               *code;
  EiderSecret        *password;

  /* generated in the worker */
  EiderKeyAttributes *attrs;
  EiderSecret        *master_key;
  EiderSecret        *recovery_key;
  char               *srp_user_id;
  char               *srp_salt;
  char               *srp_verifier;
  EiderSrpClient     *srp;

  gint64              user_id;
  EiderSecret        *token;
} SignupData;

static void
signup_data_free (SignupData *data)
{
  if (data->code != NULL)
    sodium_memzero (data->code, strlen (data->code));
  g_free (data->code);
  g_clear_pointer (&data->password, eider_secret_free);
  g_clear_pointer (&data->attrs, eider_key_attributes_free);
  g_clear_pointer (&data->master_key, eider_secret_free);
  g_clear_pointer (&data->recovery_key, eider_secret_free);
  g_free (data->srp_user_id);
  g_free (data->srp_salt);
  g_free (data->srp_verifier);
  g_clear_pointer (&data->srp, eider_srp_client_free);
  g_clear_pointer (&data->token, eider_secret_free);
  g_free (data);
}

static void
generate_worker (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  SignupData *data = task_data;
  const char *password = (const char *) eider_secret_peek (data->password);
  g_autoptr(EiderSecret) kek = NULL;
  g_autoptr(EiderSecret) login_key = NULL;
  g_autoptr(EiderSecret) salt = NULL;
  g_autoptr(GError) error = NULL;
  guint8 verifier[EIDER_SRP_BYTES];
  guint64 mem = SIGNUP_MEM_LIMIT;
  guint64 ops = SIGNUP_OPS_LIMIT;

  /* As Ente's web client: on allocation failure halve the memory and double
   * the passes, down to museum's 128 MiB floor. */
  for (;;)
    {
      g_clear_error (&error);
      data->attrs = eider_key_attributes_generate (password, ops, mem, &data->master_key,
                                                   &data->recovery_key, &kek, &error);
      if (data->attrs != NULL)
        break;

      if (!g_error_matches (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_OUT_OF_MEMORY) ||
          mem / 2 < SIGNUP_MIN_MEM)
        {
          if (g_error_matches (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_OUT_OF_MEMORY))
            g_task_return_new_error (task, EIDER_ACCOUNT_ERROR,
                                     EIDER_ACCOUNT_ERROR_INSUFFICIENT_MEMORY,
                                     "Failed to derive key (insufficient memory): Ente needs "
                                     "at least 128 MiB free to protect a new account's keys");
          else
            g_task_return_error (task, g_steal_pointer (&error));
          return;
        }

      mem /= 2;
      ops *= 2;
    }

  /* SRP registration material: a fresh UUID identity and its own salt. */
  login_key = eider_crypto_derive_login_subkey (kek);
  salt = eider_secret_new_random (16);
  data->srp_user_id = g_uuid_string_random ();
  data->srp_salt = eider_base64_encode (eider_secret_peek (salt), 16);
  eider_srp_compute_verifier (data->srp_user_id, eider_secret_peek (salt), 16,
                              eider_secret_peek (login_key), EIDER_LOGIN_SUBKEY_BYTES, verifier);
  data->srp_verifier = eider_base64_encode (verifier, sizeof verifier);
  data->srp = eider_srp_client_new (data->srp_user_id, eider_secret_peek (salt), 16,
                                    login_key, NULL, 0);

  g_task_return_boolean (task, TRUE);
}

static void signup_step_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data);

static void
call (GTask       *task,
      Stage        stage,
      const char  *method,
      const char  *path,
      JsonNode    *body,
      gboolean     auth)
{
  EiderSignup *self = g_task_get_source_object (task);
  SignupData *data = g_task_get_task_data (task);

  data->stage = stage;
  eider_api_call_async (self->api, method, path, body,
                        auth ? EIDER_API_CALL_AUTH : EIDER_API_CALL_NONE,
                        g_task_get_cancellable (task), signup_step_cb, g_object_ref (task));
}

static const char *
string_member (JsonNode   *node,
               const char *member)
{
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  return json_object_get_string_member_with_default (json_node_get_object (node), member, NULL);
}

static gboolean
same_attributes (JsonObject *remote,
                 SignupData *data)
{
  return g_strcmp0 (json_object_get_string_member_with_default (remote, "srpUserID", NULL),
                    data->srp_user_id) == 0 &&
         g_strcmp0 (json_object_get_string_member_with_default (remote, "srpSalt", NULL),
                    data->srp_salt) == 0 &&
         g_strcmp0 (json_object_get_string_member_with_default (remote, "kekSalt", NULL),
                    data->attrs->kek_salt) == 0 &&
         (guint64) json_object_get_int_member_with_default (remote, "memLimit", 0) == data->attrs->mem_limit &&
         (guint64) json_object_get_int_member_with_default (remote, "opsLimit", 0) == data->attrs->ops_limit;
}

static void
finish_signup (GTask *task)
{
  EiderSignup *self = g_task_get_source_object (task);
  SignupData *data = g_task_get_task_data (task);
  EiderSession *session = g_new0 (EiderSession, 1);

  session->endpoint = g_strdup (eider_api_get_endpoint (self->api));
  session->email = g_strdup (self->email);
  session->user_id = data->user_id;
  session->key_attributes = g_steal_pointer (&data->attrs);
  session->master_key = g_steal_pointer (&data->master_key);
  session->token = g_steal_pointer (&data->token);

  g_clear_pointer (&self->session, eider_session_free);
  self->session = session;
  g_free (self->recovery_words);
  self->recovery_words = eider_recovery_key_to_mnemonic (data->recovery_key);

  g_task_return_boolean (task, TRUE);
}

static void
signup_step_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EiderSignup *self = g_task_get_source_object (task);
  SignupData *data = g_task_get_task_data (task);
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  node = eider_api_call_finish (EIDER_API (object), result, &error);
  if (node == NULL)
    {
      if (data->stage == STAGE_VERIFY_EMAIL)
        {
          error = _eider_account_map_error (g_steal_pointer (&error), 401,
                                            EIDER_ACCOUNT_ERROR_WRONG_CODE,
                                            "Wrong code: check the email and try again");
          error = _eider_account_map_error (g_steal_pointer (&error), 410,
                                            EIDER_ACCOUNT_ERROR_CODE_EXPIRED,
                                            "The code has expired or was already used: "
                                            "ask for a new one");
        }
      else if (data->stage == STAGE_PUT_ATTRIBUTES)
        error = _eider_account_map_error (g_steal_pointer (&error), 403,
                                          EIDER_ACCOUNT_ERROR_ALREADY_REGISTERED,
                                          "An Ente account already uses this email: log in instead");
      else
        error = _eider_account_map_error (g_steal_pointer (&error), 0, 0, NULL);

      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  switch (data->stage)
    {
    case STAGE_VERIFY_EMAIL:
      {
        const char *token = string_member (node, "token");

        if (token == NULL)
          {
            if (JSON_NODE_HOLDS_OBJECT (node) &&
                json_object_has_member (json_node_get_object (node), "keyAttributes"))
              g_task_return_new_error (task, EIDER_ACCOUNT_ERROR,
                                       EIDER_ACCOUNT_ERROR_ALREADY_REGISTERED,
                                       "An Ente account already uses this email: log in instead");
            else
              g_task_return_new_error (task, EIDER_ACCOUNT_ERROR,
                                       EIDER_ACCOUNT_ERROR_ALREADY_REGISTERED,
                                       "This email's account already has a second factor: "
                                       "log in instead");
            return;
          }

        data->user_id = json_object_get_int_member_with_default (json_node_get_object (node), "id", 0);
        data->token = eider_secret_new_from_data ((const guint8 *) token, strlen (token) + 1);
        eider_api_set_token (self->api, token);
        call (task, STAGE_SESSION_VALIDITY, "GET", "/users/session-validity/v2", NULL, TRUE);
      }
      break;

    case STAGE_SESSION_VALIDITY:
      {
        g_autoptr(JsonNode) body = NULL;
        JsonObject *wrapper;

        if (JSON_NODE_HOLDS_OBJECT (node) &&
            json_object_get_boolean_member_with_default (json_node_get_object (node), "hasSetKeys", FALSE))
          {
            g_task_return_new_error (task, EIDER_ACCOUNT_ERROR,
                                     EIDER_ACCOUNT_ERROR_ALREADY_REGISTERED,
                                     "An Ente account already uses this email: log in instead");
            return;
          }

        wrapper = json_object_new ();
        json_object_set_member (wrapper, "keyAttributes", eider_key_attributes_to_json (data->attrs));
        body = json_node_init_object (json_node_alloc (), wrapper);
        json_object_unref (wrapper);
        call (task, STAGE_PUT_ATTRIBUTES, "PUT", "/users/attributes", body, TRUE);
      }
      break;

    case STAGE_PUT_ATTRIBUTES:
      {
        g_autofree char *a = eider_base64_encode (eider_srp_client_get_a (data->srp), EIDER_SRP_BYTES);
        g_autoptr(JsonNode) body = object_node ("srpUserID", data->srp_user_id,
                                                "srpSalt", data->srp_salt,
                                                "srpVerifier", data->srp_verifier,
                                                "srpA", a, NULL);

        call (task, STAGE_SRP_SETUP, "POST", "/users/srp/setup", body, TRUE);
      }
      break;

    case STAGE_SRP_SETUP:
      {
        const char *setup_id = string_member (node, "setupID");
        g_autoptr(GBytes) b = eider_base64_decode (string_member (node, "srpB"), &error);
        g_autofree char *m1 = NULL;
        g_autoptr(JsonNode) body = NULL;

        if (setup_id == NULL || b == NULL ||
            !eider_srp_client_set_b (data->srp, g_bytes_get_data (b, NULL), g_bytes_get_size (b), &error))
          {
            g_task_return_new_error (task, EIDER_API_ERROR, EIDER_API_ERROR_NOT_ENTE,
                                     "The server's SRP setup answer is not what Ente sends%s%s",
                                     error != NULL ? ": " : "", error != NULL ? error->message : "");
            return;
          }

        m1 = eider_base64_encode (eider_srp_client_get_m1 (data->srp), EIDER_SRP_PROOF_BYTES);
        body = object_node ("setupID", setup_id, "srpM1", m1, NULL);
        call (task, STAGE_SRP_COMPLETE, "POST", "/users/srp/complete", body, TRUE);
      }
      break;

    case STAGE_SRP_COMPLETE:
      {
        g_autoptr(GBytes) m2 = eider_base64_decode (string_member (node, "srpM2"), NULL);
        g_autofree char *escaped = NULL;
        g_autofree char *path = NULL;

        if (m2 == NULL ||
            !eider_srp_client_verify_m2 (data->srp, g_bytes_get_data (m2, NULL),
                                         g_bytes_get_size (m2), NULL))
          {
            g_task_return_new_error (task, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_FAILED,
                                     "The server could not prove it stored the password "
                                     "verifier: refusing it");
            return;
          }

        escaped = g_uri_escape_string (self->email, NULL, FALSE);
        path = g_strdup_printf ("/users/srp/attributes?email=%s", escaped);
        call (task, STAGE_CHECK_ATTRIBUTES, "GET", path, NULL, FALSE);
      }
      break;

    case STAGE_CHECK_ATTRIBUTES:
      {
        JsonObject *remote = NULL;

        if (JSON_NODE_HOLDS_OBJECT (node))
          remote = _eider_json_object_member (json_node_get_object (node), "attributes");
        if (remote == NULL || !same_attributes (remote, data))
          {
            g_task_return_new_error (task, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_FAILED,
                                     "The server did not keep the new account's login attributes "
                                     "as sent");
            return;
          }

        finish_signup (task);
      }
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
generate_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EiderSignup *self = EIDER_SIGNUP (object);
  SignupData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  body = object_node ("email", self->email, "ott", data->code, NULL);
  call (task, STAGE_VERIFY_EMAIL, "POST", "/users/verify-email", body, FALSE);
}

/**
 * eider_signup_complete_async:
 * @code: the emailed code
 * @password: the new account's password
 */
void
eider_signup_complete_async (EiderSignup         *self,
                             const char          *code,
                             const char          *password,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) worker = NULL;
  SignupData *data;

  g_return_if_fail (EIDER_IS_SIGNUP (self));
  g_return_if_fail (code != NULL && password != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, eider_signup_complete_async);

  if (password[0] == '\0')
    {
      g_task_return_new_error (task, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_FAILED,
                               "The password must not be empty");
      return;
    }

  data = g_new0 (SignupData, 1);
  data->code = g_strstrip (g_strdup (code));
  data->password = eider_secret_new_from_data ((const guint8 *) password, strlen (password) + 1);
  g_task_set_task_data (task, data, (GDestroyNotify) signup_data_free);

  worker = g_task_new (self, cancellable, generate_cb, g_steal_pointer (&task));
  g_task_set_source_tag (worker, generate_worker);
  g_task_set_task_data (worker, data, NULL);
  g_task_run_in_thread (worker, generate_worker);
}

gboolean
eider_signup_complete_finish (EiderSignup   *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
