/* ets-traffic.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-test-server"

#include "config.h"

#include <errno.h>
#include <sys/socket.h>

#include "ets-private.h"

/* Connections are kept alive (HTTP/1.1, as museum and S3 do), so the
 * server shows whether a client reuses them; --stats-file counts them.
 *
 * libsoup 3.2's server never notices a client closing an idle keep-alive
 * connection: the read of the next request meets the end of the stream,
 * but nothing disconnects the connection, and the socket stays in
 * CLOSE_WAIT until the process runs out of descriptors (fixed in later
 * libsoup by "server: do not leak idle connections closed by the client").
 * So between two requests every connection is watched here: when its
 * socket turns readable and a peek finds the end of the stream, the socket
 * is closed. The watch has a lower priority than libsoup's own reader, so
 * a request that arrives is always libsoup's first, and the watch is
 * dropped as soon as a request starts on the socket.
 */

#define CONN_KEY "ets-connection"

typedef struct
{
  GSource  *idle_watch;   /* armed between two requests */
  gboolean  busy;         /* a request started and is not answered yet */
} Connection;

static void
connection_free (gpointer data)
{
  Connection *conn = data;

  if (conn->idle_watch != NULL)
    {
      g_source_destroy (conn->idle_watch);
      g_source_unref (conn->idle_watch);
    }
  g_free (conn);
}

static void
connection_disarm (Connection *conn)
{
  if (conn->idle_watch == NULL)
    return;
  g_source_destroy (conn->idle_watch);
  g_clear_pointer (&conn->idle_watch, g_source_unref);
}

static gboolean
idle_readable_cb (GSocket      *socket,
                  GIOCondition  condition,
                  gpointer      user_data)
{
  Connection *conn = user_data;
  char byte;
  ssize_t n;

  /* GLib still holds the source while it dispatches it. */
  g_clear_pointer (&conn->idle_watch, g_source_unref);

  if (g_socket_is_closed (socket))
    return G_SOURCE_REMOVE;

  n = recv (g_socket_get_fd (socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)))
    return G_SOURCE_REMOVE;   /* a next request: libsoup reads it */

  /* The client closed the connection (or it broke) between requests. */
  g_socket_close (socket, NULL);
  return G_SOURCE_REMOVE;
}

static void
count_chunk_cb (SoupServerMessage *msg,
                GBytes            *chunk,
                EtsServer         *ets)
{
  ets->bytes_received += g_bytes_get_size (chunk);
}

static void
got_headers_cb (SoupServerMessage *msg,
                EtsServer         *ets)
{
  ets_storage_stream_body (ets, msg);
}

static void
request_started_cb (SoupServer        *server,
                    SoupServerMessage *msg,
                    EtsServer         *ets)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  Connection *conn;

  ets->n_requests++;
  if (socket != NULL)
    {
      conn = g_object_get_data (G_OBJECT (socket), CONN_KEY);
      if (conn == NULL)
        {
          conn = g_new0 (Connection, 1);
          g_object_set_data_full (G_OBJECT (socket), CONN_KEY, conn, connection_free);
          ets->n_connections++;
        }
      connection_disarm (conn);
      conn->busy = TRUE;
    }

  g_signal_connect (msg, "got-chunk", G_CALLBACK (count_chunk_cb), ets);
  g_signal_connect (msg, "got-headers", G_CALLBACK (got_headers_cb), ets);
}

/* Once libsoup is done with an answer it either disconnects at once (the
 * socket is closed by the time this runs) or keeps the connection for the
 * next request: watch that one. */
static gboolean
arm_idle_watch_cb (gpointer user_data)
{
  GSocket *socket = user_data;
  Connection *conn = g_object_get_data (G_OBJECT (socket), CONN_KEY);

  if (conn == NULL || conn->busy || conn->idle_watch != NULL || g_socket_is_closed (socket))
    return G_SOURCE_REMOVE;

  conn->idle_watch = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_priority (conn->idle_watch, G_PRIORITY_LOW);
  g_source_set_callback (conn->idle_watch, (GSourceFunc) (void (*) (void)) idle_readable_cb,
                         conn, NULL);
  g_source_attach (conn->idle_watch, NULL);
  return G_SOURCE_REMOVE;
}

static void
request_done_cb (SoupServer        *server,
                 SoupServerMessage *msg,
                 EtsServer         *ets)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  Connection *conn;

  if (socket == NULL || (conn = g_object_get_data (G_OBJECT (socket), CONN_KEY)) == NULL)
    return;
  conn->busy = FALSE;
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, arm_idle_watch_cb, g_object_ref (socket), g_object_unref);
}

void
ets_traffic_attach (EtsServer *ets)
{
  g_signal_connect (ets->soup, "request-started", G_CALLBACK (request_started_cb), ets);
  g_signal_connect (ets->soup, "request-finished", G_CALLBACK (request_done_cb), ets);
  g_signal_connect (ets->soup, "request-aborted", G_CALLBACK (request_done_cb), ets);
}

/* --stats-file: one JSON object, written when the server stops. */
gboolean
ets_traffic_write_stats (EtsServer   *ets,
                         const char  *path,
                         GError     **error)
{
  g_autofree char *text = g_strdup_printf ("{\"requests\": %" G_GUINT64_FORMAT
                                           ", \"connections\": %" G_GUINT64_FORMAT
                                           ", \"bytes_received\": %" G_GUINT64_FORMAT "}\n",
                                           ets->n_requests, ets->n_connections,
                                           ets->bytes_received);

  return g_file_set_contents (path, text, -1, error);
}
