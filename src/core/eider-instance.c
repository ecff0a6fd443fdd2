/* eider-instance.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-instance"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#include "eider-instance.h"

/* A client that connects and says nothing is dropped after this long. */
#define CLIENT_TIMEOUT_S 10
/* Nothing the protocol says is longer. */
#define MAX_LINE 256

struct _EiderInstance
{
  GObject               parent_instance;

  char                 *state_dir;
  char                 *lock_path;
  char                 *socket_path;
  int                   lock_fd;
  GSocketService       *service;
  GCancellable         *cancellable;   /* cancels the clients' reads and writes */

  EiderInstanceHandler  handler;
  gpointer              handler_data;
  GDestroyNotify        handler_destroy;
};

G_DEFINE_FINAL_TYPE (EiderInstance, eider_instance, G_TYPE_OBJECT)

G_DEFINE_QUARK (eider-instance-error-quark, eider_instance_error)

static void
eider_instance_clear_handler (EiderInstance *self)
{
  GDestroyNotify destroy = self->handler_destroy;
  gpointer data = self->handler_data;

  self->handler = NULL;
  self->handler_data = NULL;
  self->handler_destroy = NULL;
  if (destroy != NULL)
    destroy (data);
}

static void
eider_instance_dispose (GObject *object)
{
  EiderInstance *self = EIDER_INSTANCE (object);

  eider_instance_clear_handler (self);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);

  if (self->service != NULL)
    {
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
      g_clear_object (&self->service);
    }

  /* The socket goes before the lock: once the lock is free, the path may
   * belong to the next instance. */
  if (self->socket_path != NULL && self->lock_fd >= 0)
    g_unlink (self->socket_path);

  if (self->lock_fd >= 0)
    {
      if (ftruncate (self->lock_fd, 0) != 0)
        g_debug ("Could not empty %s: %s", self->lock_path, g_strerror (errno));
      close (self->lock_fd);
      self->lock_fd = -1;
    }

  G_OBJECT_CLASS (eider_instance_parent_class)->dispose (object);
}

static void
eider_instance_finalize (GObject *object)
{
  EiderInstance *self = EIDER_INSTANCE (object);

  g_free (self->state_dir);
  g_free (self->lock_path);
  g_free (self->socket_path);

  G_OBJECT_CLASS (eider_instance_parent_class)->finalize (object);
}

static void
eider_instance_class_init (EiderInstanceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = eider_instance_dispose;
  object_class->finalize = eider_instance_finalize;
}

static void
eider_instance_init (EiderInstance *self)
{
  self->lock_fd = -1;
  self->cancellable = g_cancellable_new ();
}

/* The lock */

/* The holder writes its pid right after taking the lock; give it a moment
 * when we look in between. Returns 0 when the file stays empty. */
static gint64
read_holder_pid (int fd)
{
  for (guint attempt = 0; attempt < 20; attempt++)
    {
      char buf[32] = { 0 };
      ssize_t n = pread (fd, buf, sizeof buf - 1, 0);
      gint64 pid = 0;

      if (n > 0)
        {
          g_strchomp (buf);
          if (g_ascii_string_to_signed (buf, 10, 1, G_MAXINT32, &pid, NULL))
            return pid;
        }
      g_usleep (5000);
    }

  return 0;
}

static gboolean
take_lock (EiderInstance  *self,
           GError        **error)
{
  g_autofree char *pid_text = NULL;
  int fd;

  fd = open (self->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not open %s: %s", self->lock_path, g_strerror (saved));
      return FALSE;
    }

  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int saved = errno;

      if (saved == EWOULDBLOCK)
        {
          gint64 pid = read_holder_pid (fd);

          if (pid > 0)
            g_set_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_RUNNING,
                         "Another Eider (pid %" G_GINT64_FORMAT ") is already running with this "
                         "state directory (%s)", pid, self->state_dir);
          else
            g_set_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_RUNNING,
                         "Another Eider is already running with this state directory (%s)",
                         self->state_dir);
        }
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                     "Could not lock %s: %s", self->lock_path, g_strerror (saved));
      close (fd);
      return FALSE;
    }

  pid_text = g_strdup_printf ("%d\n", (int) getpid ());
  if (ftruncate (fd, 0) != 0 ||
      pwrite (fd, pid_text, strlen (pid_text), 0) != (ssize_t) strlen (pid_text))
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not write %s: %s", self->lock_path, g_strerror (saved));
      close (fd);
      return FALSE;
    }

  self->lock_fd = fd;
  return TRUE;
}

/* The control socket: the server side */

typedef struct
{
  EiderInstance     *self;         /* not a reference: only used while not cancelled */
  GCancellable      *cancellable;
  GSocketConnection *connection;
  GDataInputStream  *in;
  char              *reply;
} Client;

static void
client_free (Client *client)
{
  g_io_stream_close (G_IO_STREAM (client->connection), NULL, NULL);
  g_clear_object (&client->in);
  g_clear_object (&client->connection);
  g_clear_object (&client->cancellable);
  g_free (client->reply);
  g_free (client);
}

static gboolean
parse_command (const char            *line,
               EiderInstanceCommand  *command,
               gint64                *watch_id,
               GError               **error)
{
  /* takes_watch: 1, a watch id (≥ 1); 2, a number of seconds (≥ 0). */
  static const struct
  {
    const char           *name;
    EiderInstanceCommand  command;
    int                   takes_watch;
  } commands[] = {
    { "pause", EIDER_INSTANCE_COMMAND_PAUSE, 0 },
    { "resume", EIDER_INSTANCE_COMMAND_RESUME, 0 },
    { "pause-watch", EIDER_INSTANCE_COMMAND_PAUSE_WATCH, 1 },
    { "resume-watch", EIDER_INSTANCE_COMMAND_RESUME_WATCH, 1 },
    { "status", EIDER_INSTANCE_COMMAND_STATUS, 0 },
    { "watches-changed", EIDER_INSTANCE_COMMAND_WATCHES_CHANGED, 0 },
    { "override", EIDER_INSTANCE_COMMAND_OVERRIDE, 2 },
    { "override-cancel", EIDER_INSTANCE_COMMAND_CANCEL_OVERRIDE, 0 },
  };
  g_auto(GStrv) words = g_strsplit (line, " ", -1);
  guint n_words = g_strv_length (words);

  for (guint i = 0; n_words > 0 && i < G_N_ELEMENTS (commands); i++)
    {
      if (!g_str_equal (words[0], commands[i].name))
        continue;

      *command = commands[i].command;
      *watch_id = 0;
      if (!commands[i].takes_watch && n_words == 1)
        return TRUE;
      if (commands[i].takes_watch && n_words == 2 &&
          g_ascii_string_to_signed (words[1], 10, commands[i].takes_watch == 1 ? 1 : 0, G_MAXINT64,
                                    watch_id, NULL))
        return TRUE;

      g_set_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_FAILED,
                   commands[i].takes_watch == 1 ? "“%s” takes one watch id"
                   : commands[i].takes_watch == 2 ? "“%s” takes a number of seconds"
                   : "“%s” takes no argument",
                   commands[i].name);
      return FALSE;
    }

  g_set_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_FAILED,
               "Unknown command “%s”", n_words > 0 ? words[0] : "");
  return FALSE;
}

static char *
handle_line (EiderInstance *self,
             const char    *line)
{
  g_autoptr(JsonObject) members = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  EiderInstanceCommand command;
  gint64 watch_id;

  if (strlen (line) > MAX_LINE)
    g_set_error_literal (&error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_FAILED,
                         "The command is too long");
  else if (parse_command (line, &command, &watch_id, &error))
    {
      if (self->handler == NULL)
        g_set_error_literal (&error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_FAILED,
                             "Not ready for commands yet");
      else
        members = self->handler (command, watch_id, self->handler_data, &error);
    }

  if (members == NULL)
    {
      if (error == NULL)
        g_set_error_literal (&error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_FAILED,
                             "The command failed");
      members = json_object_new ();
      json_object_set_boolean_member (members, "ok", FALSE);
      json_object_set_string_member (members, "error", error->message);
    }
  else
    {
      json_object_set_boolean_member (members, "ok", TRUE);
      json_object_set_int_member (members, "pid", getpid ());
    }

  root = json_node_init_object (json_node_alloc (), members);

  /* Not pretty-printed: one line (newlines inside strings are escaped). */
  return json_to_string (root, FALSE);
}

static void
client_wrote_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Client *client = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("Could not answer a control client: %s", error->message);

  client_free (client);
}

static void
client_read_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Client *client = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  GOutputStream *out;

  line = g_data_input_stream_read_line_finish_utf8 (client->in, result, NULL, &error);
  if (line == NULL || g_cancellable_is_cancelled (client->cancellable))
    {
      if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("A control client went away: %s", error->message);
      client_free (client);
      return;
    }

  g_strchomp (line);
  client->reply = handle_line (client->self, line);
  {
    char *with_newline = g_strconcat (client->reply, "\n", NULL);

    g_free (client->reply);
    client->reply = with_newline;
  }

  out = g_io_stream_get_output_stream (G_IO_STREAM (client->connection));
  g_output_stream_write_all_async (out, client->reply, strlen (client->reply), G_PRIORITY_DEFAULT,
                                   client->cancellable, client_wrote_cb, client);
}

static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source_object,
             gpointer           user_data)
{
  EiderInstance *self = user_data;
  Client *client = g_new0 (Client, 1);

  g_socket_set_timeout (g_socket_connection_get_socket (connection), CLIENT_TIMEOUT_S);

  client->self = self;
  client->cancellable = g_object_ref (self->cancellable);
  client->connection = g_object_ref (connection);
  client->in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_data_input_stream_set_newline_type (client->in, G_DATA_STREAM_NEWLINE_TYPE_LF);

  g_data_input_stream_read_line_async (client->in, G_PRIORITY_DEFAULT, client->cancellable,
                                       client_read_cb, client);

  return TRUE;
}

static char *
socket_path_for (const char  *state_dir,
                 GError     **error)
{
  g_autofree char *path = g_build_filename (state_dir, "control.sock", NULL);
  struct sockaddr_un addr;

  if (strlen (path) >= sizeof addr.sun_path)
    {
      g_set_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_FAILED,
                   "The state directory's path is too long for a control socket "
                   "(at most %" G_GSIZE_FORMAT " bytes): %s",
                   sizeof addr.sun_path - 1 - strlen ("/control.sock"), state_dir);
      return NULL;
    }

  return g_steal_pointer (&path);
}

static gboolean
start_listening (EiderInstance  *self,
        GError        **error)
{
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) local_error = NULL;

  /* The lock is ours, so a socket left here is a dead instance's. */
  if (g_unlink (self->socket_path) != 0 && errno != ENOENT)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not remove the old %s: %s", self->socket_path, g_strerror (saved));
      return FALSE;
    }

  address = g_unix_socket_address_new (self->socket_path);
  self->service = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                                      NULL, NULL, &local_error))
    {
      g_set_error (error, local_error->domain, local_error->code,
                   "Could not listen on %s: %s", self->socket_path, local_error->message);
      return FALSE;
    }

  /* Only this user may talk to the engine (the directory is 0700 too). */
  if (g_chmod (self->socket_path, 0600) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not restrict %s: %s", self->socket_path, g_strerror (saved));
      return FALSE;
    }

  g_signal_connect_object (self->service, "incoming", G_CALLBACK (incoming_cb), self, 0);
  g_socket_service_start (self->service);

  return TRUE;
}

/**
 * eider_instance_acquire:
 * @state_dir: the engine's state directory (it must exist)
 * @error: return location for an error
 *
 * Returns: (transfer full): the instance, which holds the directory until
 *   it is finalized
 */
EiderInstance *
eider_instance_acquire (const char  *state_dir,
                        GError     **error)
{
  g_autoptr(EiderInstance) self = NULL;

  g_return_val_if_fail (state_dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (EIDER_TYPE_INSTANCE, NULL);
  self->state_dir = g_strdup (state_dir);
  self->lock_path = g_build_filename (state_dir, "eider.lock", NULL);

  if ((self->socket_path = socket_path_for (state_dir, error)) == NULL ||
      !take_lock (self, error) ||
      !start_listening (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

const char *
eider_instance_get_state_dir (EiderInstance *self)
{
  g_return_val_if_fail (EIDER_IS_INSTANCE (self), NULL);

  return self->state_dir;
}

/**
 * eider_instance_set_handler:
 * @self: an instance
 * @handler: (nullable): applies commands
 * @user_data: for @handler
 * @destroy: (nullable): frees @user_data when the handler is replaced
 *
 * Sets what applies the commands that arrive on the control socket.
 */
void
eider_instance_set_handler (EiderInstance        *self,
                            EiderInstanceHandler  handler,
                            gpointer              user_data,
                            GDestroyNotify        destroy)
{
  g_return_if_fail (EIDER_IS_INSTANCE (self));

  eider_instance_clear_handler (self);
  self->handler = handler;
  self->handler_data = user_data;
  self->handler_destroy = destroy;
}

/* The control socket: the client side */

/**
 * eider_instance_send:
 * @state_dir: the state directory of the running instance
 * @command: one command line, without its newline
 * @reply: (out) (optional) (transfer full): the instance's JSON answer
 * @error: return location for an error
 *
 * Returns: %TRUE when the instance answered ok:true
 */
gboolean
eider_instance_send (const char  *state_dir,
                     const char  *command,
                     char       **reply,
                     GError     **error)
{
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *request = NULL;
  g_autofree char *line = NULL;
  JsonNode *root;
  JsonObject *object;

  g_return_val_if_fail (state_dir != NULL, FALSE);
  g_return_val_if_fail (command != NULL && strchr (command, '\n') == NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if ((path = socket_path_for (state_dir, error)) == NULL)
    return FALSE;

  client = g_socket_client_new ();
  g_socket_client_set_timeout (client, CLIENT_TIMEOUT_S);
  address = g_unix_socket_address_new (path);
  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &local_error);
  if (connection == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
          g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
        g_set_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_NOT_RUNNING,
                     "Eider is not running with the state directory %s", state_dir);
      else
        g_set_error (error, local_error->domain, local_error->code,
                     "Could not reach the running Eider: %s", local_error->message);
      return FALSE;
    }

  request = g_strconcat (command, "\n", NULL);
  if (!g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                  request, strlen (request), NULL, NULL, &local_error))
    {
      g_set_error (error, local_error->domain, local_error->code,
                   "Could not talk to the running Eider: %s", local_error->message);
      return FALSE;
    }

  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_LF);
  line = g_data_input_stream_read_line_utf8 (in, NULL, NULL, &local_error);
  if (line == NULL)
    {
      if (local_error != NULL)
        g_set_error (error, local_error->domain, local_error->code,
                     "No answer from the running Eider: %s", local_error->message);
      else
        /* It stopped between accepting and answering. */
        g_set_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_NOT_RUNNING,
                     "Eider stopped before it answered");
      return FALSE;
    }

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, line, -1, &local_error) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_FAILED,
                   "The running Eider gave an answer that is not a JSON object: %s", line);
      return FALSE;
    }

  object = json_node_get_object (root);
  if (!json_object_get_boolean_member_with_default (object, "ok", FALSE))
    {
      g_set_error (error, EIDER_INSTANCE_ERROR, EIDER_INSTANCE_ERROR_REFUSED, "%s",
                   json_object_get_string_member_with_default (object, "error",
                                                               "The running Eider refused the command"));
      return FALSE;
    }

  if (reply != NULL)
    *reply = g_steal_pointer (&line);

  return TRUE;
}
