/* ets-main.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-test-server"

#include "config.h"

#include <glib-unix.h>
#include <locale.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "ets-private.h"

/* eider-test-server: a local stand-in for Ente's museum and its S3 bucket,
 * for tests and the demo. Loopback only; never a production server. */

typedef struct
{
  EtsServer         *ets;
  SoupServerMessage *msg;
  char              *path;
  GHashTable        *query;
} PendingRequest;

static void
pending_request_free (PendingRequest *pending)
{
  g_object_unref (pending->msg);
  g_free (pending->path);
  g_hash_table_unref (pending->query);
  g_free (pending);
}

static void
route (EtsServer         *ets,
       SoupServerMessage *msg,
       const char        *path,
       GHashTable        *query)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  EtsRequest req = { 0 };

  req.ets = ets;
  req.msg = msg;
  req.method = soup_server_message_get_method (msg);
  req.path = path;
  req.query = query;
  req.app = ets_app_from_package (soup_message_headers_get_one (headers, "X-Client-Package"));

  if (ets_storage_route (&req) ||
      ets_users_route (&req) ||
      ets_collections_route (&req) ||
      ets_files_route (&req))
    return;

  /* gin's default for an unknown route. */
  soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC,
                                    "404 page not found", 18);
}

/* --log-requests: one line per answered request, written before the answer
 * goes out, so a client that has its answer finds the line already there. */
static void
log_request (EtsServer         *ets,
             SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);
  g_autoptr(GHashTable) params = NULL;
  const char *part = NULL;

  if (!ets->log_requests)
    return;

  /* Multipart parts are told apart in the log (signatures are left out):
   * "request PUT /s3/1/uuid?partNumber=2 200". */
  if (g_uri_get_query (uri) != NULL)
    params = g_uri_parse_params (g_uri_get_query (uri), -1, "&", G_URI_PARAMS_NONE, NULL);
  if (params != NULL)
    part = g_hash_table_lookup (params, "partNumber");

  fprintf (stderr, "request %s %s%s%s %u\n",
           soup_server_message_get_method (msg),
           g_uri_get_path (uri),
           part != NULL ? "?partNumber=" : "",
           part != NULL ? part : "",
           soup_server_message_get_status (msg));
  fflush (stderr);
}

static gboolean
slow_reply_cb (gpointer user_data)
{
  PendingRequest *pending = user_data;

  route (pending->ets, pending->msg, pending->path, pending->query);
  log_request (pending->ets, pending->msg);
  soup_server_message_unpause (pending->msg);
  return G_SOURCE_REMOVE;
}

static gboolean
delayed_answer_cb (gpointer user_data)
{
  soup_server_message_unpause (user_data);
  return G_SOURCE_REMOVE;
}

/* --latency-ms: the answer is ready but goes out N ms later, as from a
 * distant server; other requests go on meanwhile. */
static void
delay_answer (EtsServer         *ets,
              SoupServerMessage *msg)
{
  if (ets->latency_ms == 0)
    return;
  soup_server_message_pause (msg);
  g_timeout_add_full (G_PRIORITY_DEFAULT, ets->latency_ms, delayed_answer_cb,
                      g_object_ref (msg), g_object_unref);
}

static void
reply_fault (SoupServerMessage *msg,
             EtsFaultKind       kind,
             gboolean           is_object)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  guint status = kind == ETS_FAULT_500 ? SOUP_STATUS_INTERNAL_SERVER_ERROR
               : kind == ETS_FAULT_503 ? SOUP_STATUS_SERVICE_UNAVAILABLE
               : ETS_STATUS_TOO_MANY_REQUESTS;
  const char *body;

  if (kind == ETS_FAULT_429)
    soup_message_headers_replace (headers, "Retry-After", "1");

  if (is_object)
    {
      body = kind == ETS_FAULT_500
        ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code>"
          "<Message>We encountered an internal error. Please try again.</Message></Error>"
        : "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
          "<Message>Please reduce your request rate.</Message></Error>";
      soup_server_message_set_status (msg, kind == ETS_FAULT_429 ? SOUP_STATUS_SERVICE_UNAVAILABLE : status, NULL);
      soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_STATIC, body, strlen (body));
      return;
    }

  body = kind == ETS_FAULT_429 ? "{\"error\":\"Rate limit breached, try later\"}" : "{}";
  ets_set_json_response (msg, status, body);
}

static void
server_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  EtsServer *ets = user_data;
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response_headers = soup_server_message_get_response_headers (msg);
  const char *origin = soup_message_headers_get_one (request_headers, "Origin");
  const char *method = soup_server_message_get_method (msg);
  gboolean is_object = g_str_has_prefix (path, "/s3/");
  g_autoptr(GHashTable) owned_query = NULL;
  EtsFaultKind fault;

  if (query == NULL)
    query = owned_query = g_hash_table_new (g_str_hash, g_str_equal);

  /* Connections stay open for the next request (HTTP/1.1 keep-alive, as
   * museum and S3 do); ets-traffic.c closes the ones the client left. */

  if (origin != NULL)
    {
      soup_message_headers_replace (response_headers, "Access-Control-Allow-Origin", origin);
      soup_message_headers_replace (response_headers, "Access-Control-Allow-Headers", "*");
      soup_message_headers_replace (response_headers, "Access-Control-Allow-Methods",
                                    "GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS");
      soup_message_headers_replace (response_headers, "Access-Control-Expose-Headers", "ETag");
    }
  if (g_str_equal (method, "OPTIONS"))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      log_request (ets, msg);
      delay_answer (ets, msg);
      return;
    }

  fault = g_str_equal (path, "/ping") ? ETS_FAULT_NONE : ets_faults_decide (ets->faults);
  switch (fault)
    {
    case ETS_FAULT_NONE:
      route (ets, msg, path, query);
      break;

    case ETS_FAULT_500:
    case ETS_FAULT_503:
    case ETS_FAULT_429:
      reply_fault (msg, fault, is_object);
      break;

    case ETS_FAULT_CUT:
      /* No answer: nothing to log. */
      ets_faults_cut (msg, is_object);
      return;

    case ETS_FAULT_SLOW:
      {
        PendingRequest *pending = g_new0 (PendingRequest, 1);
        GHashTableIter iter;
        gpointer key, value;

        pending->ets = ets;
        pending->msg = g_object_ref (msg);
        pending->path = g_strdup (path);
        pending->query = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        g_hash_table_iter_init (&iter, query);
        while (g_hash_table_iter_next (&iter, &key, &value))
          g_hash_table_insert (pending->query, g_strdup (key), g_strdup (value));
        soup_server_message_pause (msg);
        g_timeout_add_full (G_PRIORITY_DEFAULT, ets_faults_slow_ms (ets->faults),
                            slow_reply_cb, pending, (GDestroyNotify) pending_request_free);
      }
      return;

    default:
      g_assert_not_reached ();
    }

  log_request (ets, msg);
  delay_answer (ets, msg);
}

static gboolean
quit_cb (gpointer user_data)
{
  EtsServer *ets = user_data;

  g_main_loop_quit (ets->loop);
  return G_SOURCE_CONTINUE;
}

#define LISTEN_BACKLOG 128

static gboolean
listen_on (EtsServer   *ets,
           const char  *listen,
           GError     **error)
{
  g_autoptr(GSocketConnectable) connectable = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autofree char *host = NULL;
  GInetAddress *inet;
  GSList *uris;
  guint port;

  connectable = g_network_address_parse (listen, 0, error);
  if (connectable == NULL)
    return FALSE;
  host = g_strdup (g_network_address_get_hostname (G_NETWORK_ADDRESS (connectable)));
  port = g_network_address_get_port (G_NETWORK_ADDRESS (connectable));
  address = g_inet_socket_address_new_from_string (host, port);
  if (address == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--listen needs a numeric address and port, e.g. 127.0.0.1:8080");
      return FALSE;
    }
  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  if (!g_inet_address_get_is_loopback (inet))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "eider-test-server only listens on loopback addresses, not %s", host);
      return FALSE;
    }

  /* Our own socket, for its backlog: GSocket's default of 10 drops the
   * SYNs of a client that opens more connections at once (Eider opens up
   * to 32), which then wait a whole SYN retransmission (1 s). */
  socket = g_socket_new (g_socket_address_get_family (address), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return FALSE;
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  if (!g_socket_bind (socket, address, TRUE, error) ||
      !g_socket_listen (socket, error) ||
      !soup_server_listen_socket (ets->soup, socket, 0, error))
    return FALSE;

  uris = soup_server_get_uris (ets->soup);
  g_assert (uris != NULL);
  port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    ets->base_url = g_strdup_printf ("http://[%s]:%u", host, port);
  else
    ets->base_url = g_strdup_printf ("http://%s:%u", host, port);
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *fixed_ott = NULL;
  g_autofree char *totp_secret = NULL;
  g_autofree char *print_totp = NULL;
  g_autofree char *stats_file = NULL;
  int latency_ms = 0;
  int upload_url_limit = 0;
  gint64 quota = -1;
  double fault_rate = 0.0;
  int fault_seed = 1;
  gboolean log_requests = FALSE;
  gboolean no_subscription = FALSE;
  gboolean disable_registration = FALSE;
  EtsServer ets = { 0 };
  GOptionEntry entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen,
      "Address to listen on (default 127.0.0.1:0, a free port)", "ADDR:PORT" },
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
      "Directory for the database and the objects (default: a new temporary directory)", "DIR" },
    { "fixed-ott", 0, 0, G_OPTION_ARG_STRING, &fixed_ott,
      "Every emailed code is CODE (otherwise random, printed as 'ott EMAIL CODE' on stderr)", "CODE" },
    { "quota", 0, 0, G_OPTION_ARG_INT64, &quota,
      "Plan storage of every account, in bytes (default 10 GiB)", "BYTES" },
    { "no-subscription", 0, 0, G_OPTION_ARG_NONE, &no_subscription,
      "Every plan is expired: uploads get 402", NULL },
    { "disable-registration", 0, 0, G_OPTION_ARG_NONE, &disable_registration,
      "Refuse new accounts (museum's internal.disable-registration)", NULL },
    { "fault-rate", 0, 0, G_OPTION_ARG_DOUBLE, &fault_rate,
      "Fraction of API and object requests answered with a fault (0–1)", "F" },
    { "fault-seed", 0, 0, G_OPTION_ARG_INT, &fault_seed,
      "Seed of the fault sequence (default 1)", "N" },
    { "totp-secret", 0, 0, G_OPTION_ARG_STRING, &totp_secret,
      "Base32 secret that /users/two-factor/setup hands out (default: random)", "BASE32" },
    { "print-totp", 0, 0, G_OPTION_ARG_STRING, &print_totp,
      "Print the current TOTP code for a base32 secret and exit", "BASE32" },
    { "log-requests", 0, 0, G_OPTION_ARG_NONE, &log_requests,
      "Log every request as 'request METHOD PATH STATUS' on stderr", NULL },
    { "latency-ms", 0, 0, G_OPTION_ARG_INT, &latency_ms,
      "Delay every answer by N ms, as a distant server (other requests go on meanwhile)", "N" },
    { "upload-url-limit", 0, 0, G_OPTION_ARG_INT, &upload_url_limit,
      "Answer 429 past N upload-URL calls a minute per user, as museum does past 500 (default: no limit)",
      "N" },
    { "stats-file", 0, 0, G_OPTION_ARG_FILENAME, &stats_file,
      "On SIGTERM/SIGINT, write {\"requests\", \"connections\", \"bytes_received\"} as JSON to PATH",
      "PATH" },
    { NULL }
  };

  setlocale (LC_ALL, "");
  context = g_option_context_new ("- local stand-in for Ente's server, for tests");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "eider-test-server: %s\n", error->message);
      return EXIT_FAILURE;
    }

  if (print_totp != NULL)
    {
      g_autofree char *code = ets_totp_code (print_totp, g_get_real_time () / ETS_MICROS_PER_SECOND, &error);

      if (code == NULL)
        {
          fprintf (stderr, "eider-test-server: %s\n", error->message);
          return EXIT_FAILURE;
        }
      printf ("%s\n", code);
      return EXIT_SUCCESS;
    }

  if (sodium_init () < 0)
    {
      fprintf (stderr, "eider-test-server: libsodium failed to initialise\n");
      return EXIT_FAILURE;
    }

  if (fixed_ott != NULL && (strlen (fixed_ott) == 0 || strchr (fixed_ott, ' ') != NULL))
    {
      fprintf (stderr, "eider-test-server: --fixed-ott needs a non-empty code without spaces\n");
      return EXIT_FAILURE;
    }
  if (upload_url_limit < 0)
    {
      fprintf (stderr, "eider-test-server: --upload-url-limit needs a number of calls, 0 for no limit\n");
      return EXIT_FAILURE;
    }
  if (latency_ms < 0 || latency_ms > 60000)
    {
      fprintf (stderr, "eider-test-server: --latency-ms needs a number of milliseconds from 0 to 60000\n");
      return EXIT_FAILURE;
    }
  if (totp_secret != NULL)
    {
      g_autofree char *check = ets_totp_code (totp_secret, 0, &error);

      if (check == NULL)
        {
          fprintf (stderr, "eider-test-server: --totp-secret: %s\n", error->message);
          return EXIT_FAILURE;
        }
    }

  if (data_dir == NULL)
    {
      data_dir = g_dir_make_tmp ("eider-test-server-XXXXXX", &error);
      if (data_dir == NULL)
        {
          fprintf (stderr, "eider-test-server: %s\n", error->message);
          return EXIT_FAILURE;
        }
      fprintf (stderr, "data-dir %s\n", data_dir);
    }
  else if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      fprintf (stderr, "eider-test-server: cannot create %s: %s\n", data_dir, g_strerror (errno));
      return EXIT_FAILURE;
    }

  ets.data_dir = data_dir;
  ets.fixed_ott = fixed_ott;
  ets.totp_secret = totp_secret != NULL ? g_ascii_strup (totp_secret, -1) : NULL;
  ets.quota = quota;
  ets.no_subscription = no_subscription;
  ets.disable_registration = disable_registration;
  ets.log_requests = log_requests;
  ets.latency_ms = (guint) latency_ms;
  ets.upload_url_limit = (guint) upload_url_limit;
  if (fault_rate > 0.0)
    ets.faults = ets_faults_new (fault_rate, (guint32) fault_seed);

  if (!ets_db_open (&ets, &error))
    {
      fprintf (stderr, "eider-test-server: %s\n", error->message);
      return EXIT_FAILURE;
    }

  ets.soup = soup_server_new ("server-header", "eider-test-server/" PACKAGE_VERSION " ", NULL);
  soup_server_add_handler (ets.soup, NULL, server_cb, &ets, NULL);
  ets_traffic_attach (&ets);

  if (!listen_on (&ets, listen != NULL ? listen : "127.0.0.1:0", &error))
    {
      fprintf (stderr, "eider-test-server: %s\n", error->message);
      return EXIT_FAILURE;
    }

  ets.loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, quit_cb, &ets);
  g_unix_signal_add (SIGINT, quit_cb, &ets);

  printf ("listening on %s\n", ets.base_url);
  fflush (stdout);

  g_main_loop_run (ets.loop);

  if (stats_file != NULL && !ets_traffic_write_stats (&ets, stats_file, &error))
    {
      fprintf (stderr, "eider-test-server: --stats-file: %s\n", error->message);
      g_clear_error (&error);
    }

  soup_server_disconnect (ets.soup);
  g_clear_object (&ets.soup);
  ets_db_close (&ets);
  ets_faults_free (ets.faults);
  g_clear_pointer (&ets.upload_url_calls, g_hash_table_unref);
  g_main_loop_unref (ets.loop);
  g_free (ets.base_url);
  g_free (ets.totp_secret);
  return EXIT_SUCCESS;
}
