/* eider-api.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Ente's HTTP API (museum) over libsoup 3: JSON in and out, Ente's headers
 * on every request, and museum's three error-body shapes turned into one
 * GError domain that keeps the HTTP status, museum's error code and its
 * Retry-After (spec/ente-auth.md §1).
 *
 * Thread contract: main-thread only; results arrive on the thread-default
 * main context of the caller.
 */

#define EIDER_API_DEFAULT_ENDPOINT "https://api.ente.com"
/* A Photos package name of Eider's own: museum maps anything not starting
 * with io.ente.auth or io.ente.locker to the Photos app. */
#define EIDER_API_CLIENT_PACKAGE   "io.github.eiderapp.Eider"
/* Connections the session keeps per host: enough for every request of the
 * most files in flight at once (the engine's 16, two requests each), so a
 * request never waits for a connection another file holds. */
#define EIDER_API_MAX_CONNS_PER_HOST 32

#define EIDER_API_ERROR (eider_api_error_quark ())

typedef enum
{
  EIDER_API_ERROR_NETWORK,          /* could not reach the server */
  EIDER_API_ERROR_NOT_ENTE,         /* something answered, but not an Ente server */
  EIDER_API_ERROR_BAD_REQUEST,      /* 400 */
  EIDER_API_ERROR_UNAUTHORIZED,     /* 401 */
  EIDER_API_ERROR_PAYMENT_REQUIRED, /* 402 */
  EIDER_API_ERROR_FORBIDDEN,        /* 403 */
  EIDER_API_ERROR_NOT_FOUND,        /* 404 */
  EIDER_API_ERROR_CONFLICT,         /* 409 */
  EIDER_API_ERROR_GONE,             /* 410 */
  EIDER_API_ERROR_TOO_LARGE,        /* 413 */
  EIDER_API_ERROR_STORAGE_FULL,     /* 426 */
  EIDER_API_ERROR_RATE_LIMITED,     /* 429 */
  EIDER_API_ERROR_SERVER,           /* 5xx */
  EIDER_API_ERROR_FAILED,           /* anything else */
} EiderApiError;

GQuark       eider_api_error_quark            (void);
guint        eider_api_error_get_status       (const GError *error);
const char  *eider_api_error_get_code         (const GError *error);
gboolean     eider_api_error_has_code         (const GError *error,
                                               const char   *code);
guint        eider_api_error_get_retry_after  (const GError *error);

typedef enum
{
  EIDER_API_CALL_NONE = 0,
  EIDER_API_CALL_AUTH = 1 << 0,   /* send X-Auth-Token; a 401 emits ::unauthorized */
  EIDER_API_CALL_IDEMPOTENT = 1 << 1, /* a POST that may be sent twice with the same effect
                                       * (upload URLs, POST /files): it may go on a kept-alive
                                       * connection, which libsoup only allows for idempotent
                                       * requests, as it resends one whose connection the
                                       * server closed meanwhile */
} EiderApiCallFlags;

#define EIDER_TYPE_API (eider_api_get_type ())
G_DECLARE_FINAL_TYPE (EiderApi, eider_api, EIDER, API, GObject)

EiderApi    *eider_api_new            (const char           *endpoint);
const char  *eider_api_get_endpoint   (EiderApi             *self);
SoupSession *eider_api_get_session    (EiderApi             *self);
gboolean     eider_api_has_token      (EiderApi             *self);
void         eider_api_set_token      (EiderApi             *self,
                                       const char           *token);
char        *eider_api_build_url      (EiderApi             *self,
                                       const char           *path);

void         eider_api_call_async     (EiderApi             *self,
                                       const char           *method,
                                       const char           *path,
                                       JsonNode             *body,
                                       EiderApiCallFlags     flags,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
JsonNode    *eider_api_call_finish    (EiderApi             *self,
                                       GAsyncResult         *result,
                                       GError              **error);

void         eider_api_ping_async     (EiderApi             *self,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
gboolean     eider_api_ping_finish    (EiderApi             *self,
                                       GAsyncResult         *result,
                                       GError              **error);

gboolean     eider_api_check_endpoint (const char           *endpoint,
                                       GError              **error);

G_END_DECLS
