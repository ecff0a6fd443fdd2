/* eider-account.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-account"
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "eider-account-private.h"

G_DEFINE_QUARK (eider-account-error-quark, eider_account_error)

#define GROUP "account"

void
eider_session_free (EiderSession *session)
{
  if (session == NULL)
    return;

  g_free (session->endpoint);
  g_free (session->email);
  g_clear_pointer (&session->key_attributes, eider_key_attributes_free);
  g_clear_pointer (&session->master_key, eider_secret_free);
  g_clear_pointer (&session->token, eider_secret_free);
  g_free (session);
}

/**
 * _eider_account_map_error:
 * @error: (transfer full): an error from a login or sign-up step
 *
 * If @error is an API error with HTTP @status, replaces it with @code and
 * the one line a user should read. A 429 always becomes "rate limited".
 *
 * Returns: (transfer full): the error to report
 */
GError *
_eider_account_map_error (GError            *error,
                          guint              status,
                          EiderAccountError  code,
                          const char        *message)
{
  GError *mapped;
  guint actual;

  if (error->domain != EIDER_API_ERROR)
    return error;

  actual = eider_api_error_get_status (error);
  if (actual == 429)
    mapped = g_error_new_literal (EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_RATE_LIMITED,
                                  "Too many attempts: wait a minute, then try again");
  else if (actual == status)
    mapped = g_error_new_literal (EIDER_ACCOUNT_ERROR, code, message);
  else
    return error;

  g_error_free (error);

  return mapped;
}

char *
_eider_normalize_email (const char *email)
{
  char *normalized = g_utf8_strdown (email, -1);

  return g_strstrip (normalized);
}

/* json-glib 1.6 has no json_object_get_object_member_with_default(). */
JsonObject *
_eider_json_object_member (JsonObject *object,
                           const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

struct _EiderAccount
{
  GObject             parent_instance;

  char               *config_dir;
  char               *ini_path;
  EiderAccountState   state;
  char               *endpoint;
  char               *email;
  gint64              user_id;
  EiderSecretBackend  backend;
  EiderKeyAttributes *key_attributes;
  EiderSecret        *master_key;
  EiderApi           *api;
  gulong              unauthorized_id;
};

G_DEFINE_FINAL_TYPE (EiderAccount, eider_account, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE,
  PROP_EMAIL,
  PROP_ENDPOINT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
eider_account_dispose (GObject *object)
{
  EiderAccount *self = (EiderAccount *) object;

  if (self->api != NULL)
    g_clear_signal_handler (&self->unauthorized_id, self->api);
  g_clear_object (&self->api);

  G_OBJECT_CLASS (eider_account_parent_class)->dispose (object);
}

static void
eider_account_finalize (GObject *object)
{
  EiderAccount *self = (EiderAccount *) object;

  g_free (self->config_dir);
  g_free (self->ini_path);
  g_free (self->endpoint);
  g_free (self->email);
  g_clear_pointer (&self->key_attributes, eider_key_attributes_free);
  g_clear_pointer (&self->master_key, eider_secret_free);

  G_OBJECT_CLASS (eider_account_parent_class)->finalize (object);
}

static void
eider_account_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  EiderAccount *self = EIDER_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_int (value, self->state);
      break;

    case PROP_EMAIL:
      g_value_set_string (value, self->email);
      break;

    case PROP_ENDPOINT:
      g_value_set_string (value, self->endpoint);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_account_class_init (EiderAccountClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = eider_account_dispose;
  object_class->finalize = eider_account_finalize;
  object_class->get_property = eider_account_get_property;

  properties[PROP_STATE] =
    g_param_spec_int ("state", NULL, NULL,
                      EIDER_ACCOUNT_STATE_LOGGED_OUT, EIDER_ACCOUNT_STATE_NEEDS_LOGIN,
                      EIDER_ACCOUNT_STATE_LOGGED_OUT,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_EMAIL] =
    g_param_spec_string ("email", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ENDPOINT] =
    g_param_spec_string ("endpoint", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
eider_account_init (EiderAccount *self)
{
}

EiderAccount *
eider_account_new (const char *config_dir)
{
  EiderAccount *self;

  g_return_val_if_fail (config_dir != NULL, NULL);

  self = g_object_new (EIDER_TYPE_ACCOUNT, NULL);
  self->config_dir = g_strdup (config_dir);
  self->ini_path = g_build_filename (config_dir, "account.ini", NULL);

  return self;
}

static char *
secrets_file_path (EiderAccount *self)
{
  return g_build_filename (self->config_dir, "secrets.json", NULL);
}

static EiderSecretStore *
make_store (EiderAccount       *self,
            EiderSecretBackend  backend)
{
  g_autofree char *path = secrets_file_path (self);

  return eider_secret_store_new (backend, path);
}

static void
set_state (EiderAccount      *self,
           EiderAccountState  state)
{
  if (self->state == state)
    return;

  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static gboolean
write_ini (EiderAccount  *self,
           GError       **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *attrs_json = NULL;

  if (g_mkdir_with_parents (self->config_dir, 0700) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv),
                   "Could not create %s: %s", self->config_dir, g_strerror (errsv));
      return FALSE;
    }

  g_key_file_set_string (kf, GROUP, "endpoint", self->endpoint);
  g_key_file_set_string (kf, GROUP, "email", self->email);
  g_key_file_set_int64 (kf, GROUP, "user-id", self->user_id);
  g_key_file_set_string (kf, GROUP, "state",
                         self->state == EIDER_ACCOUNT_STATE_NEEDS_LOGIN ? "needs-login" : "logged-in");
  g_key_file_set_string (kf, GROUP, "secret-storage",
                         self->backend == EIDER_SECRET_BACKEND_FILE ? "file" : "keyring");
  if (self->key_attributes != NULL)
    {
      g_autoptr(JsonNode) node = eider_key_attributes_to_json (self->key_attributes);

      /* Key attributes hold only encrypted keys and public values: the
       * server hands them to anyone who proves the password. */
      attrs_json = json_to_string (node, FALSE);
      g_key_file_set_string (kf, GROUP, "key-attributes", attrs_json);
    }

  {
    g_autofree char *text = g_key_file_to_data (kf, NULL, NULL);

    /* No secrets in here, but the email is nobody else's business. */
    return g_file_set_contents_full (self->ini_path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                     0600, error);
  }
}

static void
unauthorized_cb (EiderAccount *self,
                 EiderApi     *api)
{
  g_autoptr(GError) error = NULL;

  if (self->state != EIDER_ACCOUNT_STATE_LOGGED_IN)
    return;

  g_message ("The server ended this session: logging in again is needed");
  set_state (self, EIDER_ACCOUNT_STATE_NEEDS_LOGIN);
  if (!write_ini (self, &error))
    g_warning ("Could not record the account state: %s", error->message);
}

static void
set_api (EiderAccount *self,
         const char   *token)
{
  if (self->api != NULL)
    g_clear_signal_handler (&self->unauthorized_id, self->api);
  g_clear_object (&self->api);

  if (self->endpoint == NULL)
    return;

  self->api = eider_api_new (self->endpoint);
  eider_api_set_token (self->api, token);
  self->unauthorized_id = g_signal_connect_swapped (self->api, "unauthorized",
                                                    G_CALLBACK (unauthorized_cb), self);
}

static void
clear_fields (EiderAccount *self)
{
  g_clear_pointer (&self->endpoint, g_free);
  g_clear_pointer (&self->email, g_free);
  g_clear_pointer (&self->key_attributes, eider_key_attributes_free);
  g_clear_pointer (&self->master_key, eider_secret_free);
  self->user_id = 0;
  self->backend = EIDER_SECRET_BACKEND_KEYRING;
  set_api (self, NULL);
}

/**
 * eider_account_load:
 *
 * Reads account.ini and, for a logged-in account, its secrets. An account
 * whose secrets are gone from the store is reported as needing login.
 * A missing account.ini is not an error: the account is logged out.
 */
gboolean
eider_account_load (EiderAccount  *self,
                    GError       **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  g_autoptr(EiderSecretStore) store = NULL;
  g_autoptr(EiderSecret) master_key = NULL;
  g_autoptr(EiderSecret) token = NULL;
  g_autofree char *state = NULL;
  g_autofree char *storage = NULL;
  g_autofree char *attrs_json = NULL;

  g_return_val_if_fail (EIDER_IS_ACCOUNT (self), FALSE);

  clear_fields (self);

  if (!g_key_file_load_from_file (kf, self->ini_path, G_KEY_FILE_NONE, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          set_state (self, EIDER_ACCOUNT_STATE_LOGGED_OUT);
          return TRUE;
        }

      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "Could not read %s: ", self->ini_path);
      return FALSE;
    }

  self->endpoint = g_key_file_get_string (kf, GROUP, "endpoint", NULL);
  self->email = g_key_file_get_string (kf, GROUP, "email", NULL);
  self->user_id = g_key_file_get_int64 (kf, GROUP, "user-id", NULL);
  state = g_key_file_get_string (kf, GROUP, "state", NULL);
  storage = g_key_file_get_string (kf, GROUP, "secret-storage", NULL);
  attrs_json = g_key_file_get_string (kf, GROUP, "key-attributes", NULL);
  self->backend = g_strcmp0 (storage, "file") == 0 ? EIDER_SECRET_BACKEND_FILE
                                                   : EIDER_SECRET_BACKEND_KEYRING;

  if (self->endpoint == NULL || self->email == NULL || attrs_json == NULL)
    {
      g_set_error (error, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_FAILED,
                   "%s is incomplete: log in again", self->ini_path);
      clear_fields (self);
      set_state (self, EIDER_ACCOUNT_STATE_LOGGED_OUT);
      return FALSE;
    }

  {
    g_autoptr(JsonNode) node = json_from_string (attrs_json, NULL);

    if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
      self->key_attributes = eider_key_attributes_from_json (json_node_get_object (node), NULL);
  }

  store = make_store (self, self->backend);
  if (!eider_secret_store_load (store, self->endpoint, self->email, &master_key, &token,
                                &local_error))
    {
      if (!g_error_matches (local_error, EIDER_SECRET_STORE_ERROR,
                            EIDER_SECRET_STORE_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          set_api (self, NULL);
          set_state (self, EIDER_ACCOUNT_STATE_NEEDS_LOGIN);
          return FALSE;
        }

      set_api (self, NULL);
      set_state (self, EIDER_ACCOUNT_STATE_NEEDS_LOGIN);
      return TRUE;
    }

  self->master_key = g_steal_pointer (&master_key);
  set_api (self, (const char *) eider_secret_peek (token));
  set_state (self, g_strcmp0 (state, "needs-login") == 0 ? EIDER_ACCOUNT_STATE_NEEDS_LOGIN
                                                          : EIDER_ACCOUNT_STATE_LOGGED_IN);

  return TRUE;
}

const char *
eider_account_get_config_dir (EiderAccount *self)
{
  g_return_val_if_fail (EIDER_IS_ACCOUNT (self), NULL);

  return self->config_dir;
}

EiderAccountState
eider_account_get_state (EiderAccount *self)
{
  g_return_val_if_fail (EIDER_IS_ACCOUNT (self), EIDER_ACCOUNT_STATE_LOGGED_OUT);

  return self->state;
}

const char *
eider_account_get_state_name (EiderAccount *self)
{
  g_return_val_if_fail (EIDER_IS_ACCOUNT (self), NULL);

  switch (self->state)
    {
    case EIDER_ACCOUNT_STATE_LOGGED_IN:
      return "logged-in";
    case EIDER_ACCOUNT_STATE_NEEDS_LOGIN:
      return "needs-login";
    case EIDER_ACCOUNT_STATE_LOGGED_OUT:
    default:
      return "logged-out";
    }
}

const char *
eider_account_get_endpoint (EiderAccount *self)
{
  g_return_val_if_fail (EIDER_IS_ACCOUNT (self), NULL);

  return self->endpoint;
}

const char *
eider_account_get_email (EiderAccount *self)
{
  g_return_val_if_fail (EIDER_IS_ACCOUNT (self), NULL);

  return self->email;
}

gint64
eider_account_get_user_id (EiderAccount *self)
{
  g_return_val_if_fail (EIDER_IS_ACCOUNT (self), 0);

  return self->user_id;
}

EiderSecretBackend
eider_account_get_secret_backend (EiderAccount *self)
{
  g_return_val_if_fail (EIDER_IS_ACCOUNT (self), EIDER_SECRET_BACKEND_KEYRING);

  return self->backend;
}

const EiderKeyAttributes *
eider_account_get_key_attributes (EiderAccount *self)
{
  g_return_val_if_fail (EIDER_IS_ACCOUNT (self), NULL);

  return self->key_attributes;
}

const EiderSecret *
eider_account_get_master_key (EiderAccount *self)
{
  g_return_val_if_fail (EIDER_IS_ACCOUNT (self), NULL);

  return self->state == EIDER_ACCOUNT_STATE_LOGGED_IN ? self->master_key : NULL;
}

/**
 * eider_account_get_api:
 *
 * Returns: (transfer none) (nullable): the API bound to this account's
 *   server and session
 */
EiderApi *
eider_account_get_api (EiderAccount *self)
{
  g_return_val_if_fail (EIDER_IS_ACCOUNT (self), NULL);

  return self->api;
}

/**
 * eider_account_set_session:
 *
 * Keeps a finished login or sign-up: the secrets go to the chosen store
 * first, and only then is account.ini written, so a failure leaves the
 * previous state as it was.
 */
gboolean
eider_account_set_session (EiderAccount        *self,
                           EiderSession        *session,
                           EiderSecretBackend   backend,
                           GError             **error)
{
  g_autoptr(EiderSecretStore) store = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (EIDER_IS_ACCOUNT (self), FALSE);
  g_return_val_if_fail (session != NULL, FALSE);

  store = make_store (self, backend);
  if (!eider_secret_store_save (store, session->endpoint, session->email,
                                session->master_key, session->token, error))
    return FALSE;

  /* A different account on this computer: forget the old one's secrets. */
  if (self->endpoint != NULL && self->email != NULL &&
      (g_strcmp0 (self->endpoint, session->endpoint) != 0 ||
       g_strcmp0 (self->email, session->email) != 0 || self->backend != backend))
    {
      g_autoptr(EiderSecretStore) old = make_store (self, self->backend);

      if (!eider_secret_store_clear (old, self->endpoint, self->email, &local_error))
        g_warning ("Could not remove the previous account's keys: %s", local_error->message);
    }

  clear_fields (self);
  self->endpoint = g_strdup (session->endpoint);
  self->email = g_strdup (session->email);
  self->user_id = session->user_id;
  self->backend = backend;
  self->key_attributes = eider_key_attributes_copy (session->key_attributes);
  self->master_key = eider_secret_copy (session->master_key);
  set_api (self, (const char *) eider_secret_peek (session->token));
  self->state = EIDER_ACCOUNT_STATE_LOGGED_IN;

  if (!write_ini (self, error))
    return FALSE;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EMAIL]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENDPOINT]);

  return TRUE;
}

static gboolean
forget_locally (EiderAccount  *self,
                GError       **error)
{
  g_autoptr(EiderSecretStore) store = NULL;

  if (self->endpoint != NULL && self->email != NULL)
    {
      store = make_store (self, self->backend);
      if (!eider_secret_store_clear (store, self->endpoint, self->email, error))
        return FALSE;
    }

  if (g_unlink (self->ini_path) != 0 && errno != ENOENT)
    {
      int errsv = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv),
                   "Could not remove %s: %s", self->ini_path, g_strerror (errsv));
      return FALSE;
    }

  clear_fields (self);
  set_state (self, EIDER_ACCOUNT_STATE_LOGGED_OUT);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EMAIL]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENDPOINT]);

  return TRUE;
}

static void
logout_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  EiderAccount *self = g_task_get_source_object (task);
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) server_error = NULL;
  g_autoptr(GError) local_error = NULL;

  node = eider_api_call_finish (EIDER_API (object), result, &server_error);

  /* The keys are removed whatever the server said: a 401 means the session
   * was already over, and an unreachable server must not keep the user
   * logged in on this computer. */
  if (!forget_locally (self, &local_error))
    {
      g_task_return_error (task, g_steal_pointer (&local_error));
      return;
    }

  if (node == NULL && !g_error_matches (server_error, EIDER_API_ERROR, EIDER_API_ERROR_UNAUTHORIZED))
    {
      g_task_return_new_error (task, EIDER_ACCOUNT_ERROR, EIDER_ACCOUNT_ERROR_FAILED,
                               "Logged out on this computer, but the server could not be told "
                               "to end the session: %s", server_error->message);
      return;
    }

  g_task_return_boolean (task, TRUE);
}

void
eider_account_logout_async (EiderAccount        *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (EIDER_IS_ACCOUNT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, eider_account_logout_async);

  if (self->api == NULL || !eider_api_has_token (self->api))
    {
      if (!forget_locally (self, &error))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_boolean (task, TRUE);
      return;
    }

  eider_api_call_async (self->api, "POST", "/users/logout", NULL, EIDER_API_CALL_AUTH,
                        cancellable, logout_cb, g_steal_pointer (&task));
}

gboolean
eider_account_logout_finish (EiderAccount  *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
