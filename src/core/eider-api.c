/* eider-api.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-api"
#include "config.h"

#include <string.h>
#include <libsoup/soup.h>
#include <sodium.h>

#include "eider-api.h"

typedef struct
{
  guint  status;
  char  *code;
  guint  retry_after;
} EiderApiErrorPrivate;

static void
eider_api_error_private_init (EiderApiErrorPrivate *priv)
{
}

static void
eider_api_error_private_copy (const EiderApiErrorPrivate *src,
                              EiderApiErrorPrivate       *dest)
{
  dest->status = src->status;
  dest->code = g_strdup (src->code);
  dest->retry_after = src->retry_after;
}

static void
eider_api_error_private_clear (EiderApiErrorPrivate *priv)
{
  g_clear_pointer (&priv->code, g_free);
}

G_DEFINE_EXTENDED_ERROR (EiderApiError, eider_api_error)

guint
eider_api_error_get_status (const GError *error)
{
  EiderApiErrorPrivate *priv = eider_api_error_get_private (error);

  return priv != NULL ? priv->status : 0;
}

const char *
eider_api_error_get_code (const GError *error)
{
  EiderApiErrorPrivate *priv = eider_api_error_get_private (error);

  return priv != NULL ? priv->code : NULL;
}

gboolean
eider_api_error_has_code (const GError *error,
                          const char   *code)
{
  return g_strcmp0 (eider_api_error_get_code (error), code) == 0;
}

guint
eider_api_error_get_retry_after (const GError *error)
{
  EiderApiErrorPrivate *priv = eider_api_error_get_private (error);

  return priv != NULL ? priv->retry_after : 0;
}

struct _EiderApi
{
  GObject      parent_instance;

  SoupSession *session;
  char        *endpoint;
  char        *token;
};

G_DEFINE_FINAL_TYPE (EiderApi, eider_api, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ENDPOINT,
  N_PROPS
};

enum {
  UNAUTHORIZED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
wipe_token (EiderApi *self)
{
  if (self->token != NULL)
    {
      sodium_memzero (self->token, strlen (self->token));
      g_clear_pointer (&self->token, g_free);
    }
}

static void
eider_api_finalize (GObject *object)
{
  EiderApi *self = (EiderApi *) object;

  wipe_token (self);
  g_clear_pointer (&self->endpoint, g_free);

  G_OBJECT_CLASS (eider_api_parent_class)->finalize (object);
}

static void
eider_api_dispose (GObject *object)
{
  EiderApi *self = (EiderApi *) object;

  g_clear_object (&self->session);

  G_OBJECT_CLASS (eider_api_parent_class)->dispose (object);
}

static void
eider_api_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  EiderApi *self = EIDER_API (object);

  switch (prop_id)
    {
    case PROP_ENDPOINT:
      g_value_set_string (value, self->endpoint);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_api_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  EiderApi *self = EIDER_API (object);

  switch (prop_id)
    {
    case PROP_ENDPOINT:
      {
        const char *endpoint = g_value_get_string (value);
        gsize len;

        if (endpoint == NULL || endpoint[0] == '\0')
          endpoint = EIDER_API_DEFAULT_ENDPOINT;
        len = strlen (endpoint);
        while (len > 0 && endpoint[len - 1] == '/')
          len--;
        self->endpoint = g_strndup (endpoint, len);
      }
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_api_class_init (EiderApiClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = eider_api_dispose;
  object_class->finalize = eider_api_finalize;
  object_class->get_property = eider_api_get_property;
  object_class->set_property = eider_api_set_property;

  properties[PROP_ENDPOINT] =
    g_param_spec_string ("endpoint", NULL, NULL,
                         EIDER_API_DEFAULT_ENDPOINT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * EiderApi::unauthorized:
   *
   * Emitted when an authenticated request is refused with 401: the session
   * is gone (logged out elsewhere, expired or revoked).
   */
  signals[UNAUTHORIZED] =
    g_signal_new ("unauthorized",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
eider_api_init (EiderApi *self)
{
  g_autofree char *user_agent = g_strdup_printf ("Eider/%s", PACKAGE_VERSION);

  /* One session for every request to Ente, the API's and the object
   * store's (EiderUploader sends through it too): HTTP/1.1 connections are
   * kept alive and reused, so a file costs requests, not new connections
   * (each a name lookup and, against Ente's cloud, a TLS handshake). */
  self->session = soup_session_new_with_options ("user-agent", user_agent,
                                                 "timeout", 120,
                                                 "idle-timeout", 60,
                                                 "max-conns", 2 * EIDER_API_MAX_CONNS_PER_HOST,
                                                 "max-conns-per-host", EIDER_API_MAX_CONNS_PER_HOST,
                                                 NULL);
}

EiderApi *
eider_api_new (const char *endpoint)
{
  return g_object_new (EIDER_TYPE_API, "endpoint", endpoint, NULL);
}

const char *
eider_api_get_endpoint (EiderApi *self)
{
  g_return_val_if_fail (EIDER_IS_API (self), NULL);

  return self->endpoint;
}

/**
 * eider_api_get_session:
 *
 * Returns: (transfer none): the session every request to this server goes
 *   through, so that its connections are shared and reused
 */
SoupSession *
eider_api_get_session (EiderApi *self)
{
  g_return_val_if_fail (EIDER_IS_API (self), NULL);

  return self->session;
}

gboolean
eider_api_has_token (EiderApi *self)
{
  g_return_val_if_fail (EIDER_IS_API (self), FALSE);

  return self->token != NULL;
}

void
eider_api_set_token (EiderApi   *self,
                     const char *token)
{
  g_return_if_fail (EIDER_IS_API (self));

  wipe_token (self);
  self->token = g_strdup (token);
}

char *
eider_api_build_url (EiderApi   *self,
                     const char *path)
{
  g_return_val_if_fail (EIDER_IS_API (self), NULL);
  g_return_val_if_fail (path != NULL && path[0] == '/', NULL);

  return g_strconcat (self->endpoint, path, NULL);
}

gboolean
eider_api_check_endpoint (const char  *endpoint,
                          GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme;

  if (endpoint == NULL || endpoint[0] == '\0')
    {
      g_set_error_literal (error, EIDER_API_ERROR, EIDER_API_ERROR_FAILED,
                           "No server address given");
      return FALSE;
    }

  uri = g_uri_parse (endpoint, G_URI_FLAGS_NONE, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0' ||
      (g_ascii_strcasecmp (scheme, "https") != 0 && g_ascii_strcasecmp (scheme, "http") != 0) ||
      g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    {
      g_set_error (error, EIDER_API_ERROR, EIDER_API_ERROR_FAILED,
                   "“%s” is not a server address: use the form https://host[:port][/path]",
                   endpoint);
      return FALSE;
    }

  return TRUE;
}

/* Calls */

typedef struct
{
  SoupMessage       *message;
  EiderApiCallFlags  flags;
} CallData;

static void
call_data_free (CallData *data)
{
  g_clear_object (&data->message);
  g_free (data);
}

static EiderApiError
error_for_status (guint status)
{
  switch (status)
    {
    case 400: return EIDER_API_ERROR_BAD_REQUEST;
    case 401: return EIDER_API_ERROR_UNAUTHORIZED;
    case 402: return EIDER_API_ERROR_PAYMENT_REQUIRED;
    case 403: return EIDER_API_ERROR_FORBIDDEN;
    case 404: return EIDER_API_ERROR_NOT_FOUND;
    case 409: return EIDER_API_ERROR_CONFLICT;
    case 410: return EIDER_API_ERROR_GONE;
    case 413: return EIDER_API_ERROR_TOO_LARGE;
    case 426: return EIDER_API_ERROR_STORAGE_FULL;
    case 429: return EIDER_API_ERROR_RATE_LIMITED;
    default:
      return status >= 500 && status < 600 ? EIDER_API_ERROR_SERVER : EIDER_API_ERROR_FAILED;
    }
}

static const char *
default_message (guint status)
{
  switch (status)
    {
    case 400: return "The server refused the request as malformed";
    case 401: return "Not authorized";
    case 402: return "The account has no active subscription";
    case 403: return "Not allowed";
    case 404: return "Not found";
    case 409: return "Conflict";
    case 410: return "Expired or already used";
    case 413: return "Too large";
    case 426: return "The account's storage is full";
    case 429: return "Too many attempts: wait a minute and try again";
    default:
      return status >= 500 ? "The server had an internal error" : "The request failed";
    }
}

/* Museum's error bodies: {"code","message"}, {"error"} or {}. */
static GError *
error_from_response (SoupMessage *message,
                     GBytes      *body)
{
  guint status = soup_message_get_status (message);
  g_autoptr(JsonParser) parser = json_parser_new ();
  const char *code = NULL;
  const char *text = NULL;
  const char *retry;
  EiderApiErrorPrivate *priv;
  GError *error;
  gsize len = 0;
  const char *data = body != NULL ? g_bytes_get_data (body, &len) : NULL;

  if (len > 0 && json_parser_load_from_data (parser, data, len, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      JsonObject *obj = json_node_get_object (json_parser_get_root (parser));

      code = json_object_get_string_member_with_default (obj, "code", NULL);
      text = json_object_get_string_member_with_default (obj, "message", NULL);
      if (text == NULL || text[0] == '\0')
        text = json_object_get_string_member_with_default (obj, "error", NULL);
    }

  if (text == NULL || text[0] == '\0')
    text = default_message (status);

  if (code != NULL && code[0] != '\0')
    error = g_error_new (EIDER_API_ERROR, error_for_status (status), "%s (HTTP %u, %s)",
                         text, status, code);
  else
    error = g_error_new (EIDER_API_ERROR, error_for_status (status), "%s (HTTP %u)",
                         text, status);

  priv = eider_api_error_get_private (error);
  priv->status = status;
  priv->code = g_strdup (code != NULL && code[0] != '\0' ? code : NULL);

  retry = soup_message_headers_get_one (soup_message_get_response_headers (message), "Retry-After");
  if (retry != NULL)
    priv->retry_after = (guint) MIN (g_ascii_strtoull (retry, NULL, 10), 3600);

  return error;
}

static void
eider_api_call_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  SoupSession *session = SOUP_SESSION (object);
  g_autoptr(GTask) task = user_data;
  EiderApi *self = g_task_get_source_object (task);
  CallData *data = g_task_get_task_data (task);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = NULL;
  guint status;
  const char *text;
  gsize len = 0;

  body = soup_session_send_and_read_finish (session, result, &error);
  if (body == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        {
          g_autoptr(GUri) uri = g_uri_parse (self->endpoint, G_URI_FLAGS_NONE, NULL);

          g_task_return_new_error (task, EIDER_API_ERROR, EIDER_API_ERROR_NETWORK,
                                   "Could not reach %s: %s",
                                   uri != NULL ? g_uri_get_host (uri) : self->endpoint,
                                   error->message);
        }
      return;
    }

  status = soup_message_get_status (data->message);
  if (status < 200 || status >= 300)
    {
      if (status == 401 && (data->flags & EIDER_API_CALL_AUTH) != 0)
        g_signal_emit (self, signals[UNAUTHORIZED], 0);

      g_task_return_error (task, error_from_response (data->message, body));
      return;
    }

  text = g_bytes_get_data (body, &len);
  if (len == 0)
    {
      g_task_return_pointer (task, json_node_new (JSON_NODE_NULL), (GDestroyNotify) json_node_unref);
      return;
    }

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, len, NULL))
    {
      g_task_return_new_error (task, EIDER_API_ERROR, EIDER_API_ERROR_NOT_ENTE,
                               "The server at %s did not answer like an Ente server",
                               self->endpoint);
      return;
    }

  g_task_return_pointer (task, json_node_ref (json_parser_get_root (parser)),
                         (GDestroyNotify) json_node_unref);
}

/**
 * eider_api_call_async:
 * @path: the path and query, starting with "/"; query values must already be
 *   escaped
 * @body: (nullable): a JSON body to send
 *
 * Sends one request. Nothing is retried here: callers decide, because some
 * of Ente's calls (SRP verification) count every attempt.
 */
void
eider_api_call_async (EiderApi            *self,
                      const char          *method,
                      const char          *path,
                      JsonNode            *body,
                      EiderApiCallFlags    flags,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *url = NULL;
  SoupMessageHeaders *headers;
  CallData *data;

  g_return_if_fail (EIDER_IS_API (self));
  g_return_if_fail (method != NULL);
  g_return_if_fail (path != NULL && path[0] == '/');

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, eider_api_call_async);

  url = eider_api_build_url (self, path);
  data = g_new0 (CallData, 1);
  data->flags = flags;
  data->message = soup_message_new (method, url);
  g_task_set_task_data (task, data, (GDestroyNotify) call_data_free);

  if (data->message == NULL)
    {
      g_task_return_new_error (task, EIDER_API_ERROR, EIDER_API_ERROR_FAILED,
                               "Invalid request address “%s”", url);
      return;
    }

  if ((flags & EIDER_API_CALL_IDEMPOTENT) != 0)
    soup_message_add_flags (data->message, SOUP_MESSAGE_IDEMPOTENT);

  headers = soup_message_get_request_headers (data->message);
  soup_message_headers_replace (headers, "X-Client-Package", EIDER_API_CLIENT_PACKAGE);
  soup_message_headers_replace (headers, "X-Client-Version", PACKAGE_VERSION);
  soup_message_headers_replace (headers, "Accept", "application/json");

  if ((flags & EIDER_API_CALL_AUTH) != 0)
    {
      if (self->token == NULL)
        {
          g_task_return_new_error (task, EIDER_API_ERROR, EIDER_API_ERROR_UNAUTHORIZED,
                                   "Not logged in");
          return;
        }
      soup_message_headers_replace (headers, "X-Auth-Token", self->token);
    }

  if (body != NULL)
    {
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      g_autoptr(GBytes) bytes = NULL;
      char *text;
      gsize len;

      json_generator_set_root (generator, body);
      text = json_generator_to_data (generator, &len);
      bytes = g_bytes_new_take (text, len);
      soup_message_set_request_body_from_bytes (data->message, "application/json", bytes);
    }

  soup_session_send_and_read_async (self->session, data->message, G_PRIORITY_DEFAULT,
                                    cancellable, eider_api_call_cb, g_object_ref (task));
}

/**
 * eider_api_call_finish:
 *
 * Returns: (transfer full): the parsed JSON body, or a %JSON_NODE_NULL node
 *   for an empty one
 */
JsonNode *
eider_api_call_finish (EiderApi      *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (EIDER_IS_API (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
eider_api_ping_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  EiderApi *self = EIDER_API (object);
  g_autoptr(GTask) task = user_data;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  node = eider_api_call_finish (self, result, &error);
  if (node == NULL)
    {
      if (g_error_matches (error, EIDER_API_ERROR, EIDER_API_ERROR_NETWORK) ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_new_error (task, EIDER_API_ERROR, EIDER_API_ERROR_NOT_ENTE,
                                 "%s is not an Ente server (its /ping failed: %s)",
                                 self->endpoint, error->message);
      return;
    }

  if (!JSON_NODE_HOLDS_OBJECT (node) ||
      g_strcmp0 (json_object_get_string_member_with_default (json_node_get_object (node),
                                                              "message", NULL), "pong") != 0)
    {
      g_task_return_new_error (task, EIDER_API_ERROR, EIDER_API_ERROR_NOT_ENTE,
                               "%s is not an Ente server (it did not answer /ping with pong)",
                               self->endpoint);
      return;
    }

  g_task_return_boolean (task, TRUE);
}

/* GET /ping must answer {"message":"pong"}: the official clients' check of a
 * custom server. */
void
eider_api_ping_async (EiderApi            *self,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (EIDER_IS_API (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, eider_api_ping_async);
  eider_api_call_async (self, "GET", "/ping", NULL, EIDER_API_CALL_NONE, cancellable,
                        eider_api_ping_cb, task);
}

gboolean
eider_api_ping_finish (EiderApi      *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
