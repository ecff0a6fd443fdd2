/* eider-host-link.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "eider-host-link"

#include "config.h"

#include <glib/gi18n.h>

#include "eider-app-enums.h"
#include "eider-client.h"
#include "eider-host-link.h"

/* How often the socket is tried while a started host comes up, and for
 * how long before giving up. */
#define POLL_INTERVAL_MS  100
#define START_TIMEOUT_US  (30 * G_USEC_PER_SEC)

/* `eiderctl daemon` exits with this status when no account is logged in
 * (EIDERCTL_EXIT_NOT_LOGGED_IN in src/cli/eiderctl.h). */
#define DAEMON_EXIT_NOT_LOGGED_IN 3

struct _EiderHostLink
{
  GObject             parent_instance;

  char               *state_directory;
  EiderHostLinkState  state;
  char               *message;

  EiderDBusEngine1   *engine;
  GDBusConnection    *connection;
  gulong              closed_id;

  GCancellable       *cancellable;   /* of the connection attempt under way */
  GSubprocess        *daemon;        /* the host this link started, until it exits */
  gint64              started_at;
  guint               poll_id;
};

G_DEFINE_FINAL_TYPE (EiderHostLink, eider_host_link, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE_DIRECTORY,
  PROP_STATE,
  PROP_ENGINE,
  PROP_MESSAGE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void try_connect (EiderHostLink *self);

/**
 * eider_host_link_default_state_directory:
 *
 * The state directory `eiderctl` uses by default: `$EIDER_DATA_DIR`, or
 * `eider` in the XDG data directory.
 *
 * Returns: (transfer full): a path
 */
char *
eider_host_link_default_state_directory (void)
{
  const char *env = g_getenv ("EIDER_DATA_DIR");

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);

  return g_build_filename (g_get_user_data_dir (), "eider", NULL);
}

/**
 * eider_host_link_new:
 * @state_directory: the state directory whose host to reach
 *
 * Creates a link; nothing happens until eider_host_link_start().
 *
 * Returns: (transfer full): a new #EiderHostLink
 */
EiderHostLink *
eider_host_link_new (const char *state_directory)
{
  g_return_val_if_fail (state_directory != NULL, NULL);

  return g_object_new (EIDER_TYPE_HOST_LINK,
                       "state-directory", state_directory,
                       NULL);
}

static void
set_state (EiderHostLink      *self,
           EiderHostLinkState  state,
           const char         *message)
{
  gboolean message_changed = g_strcmp0 (self->message, message) != 0;

  if (message_changed)
    {
      g_free (self->message);
      self->message = g_strdup (message);
    }

  /* The message first: whoever follows the state reads it then. */
  if (message_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE]);
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
}

static void
drop_engine (EiderHostLink *self)
{
  if (self->connection != NULL)
    g_clear_signal_handler (&self->closed_id, self->connection);
  g_clear_object (&self->connection);
  if (self->engine != NULL)
    {
      g_clear_object (&self->engine);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENGINE]);
    }
}

static void
fail (EiderHostLink      *self,
      EiderHostLinkState  state,
      const char         *message)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  drop_engine (self);
  set_state (self, state, message);
}

static void
connection_closed_cb (GDBusConnection *connection,
                      gboolean         remote_peer_vanished,
                      GError          *error,
                      gpointer         user_data)
{
  EiderHostLink *self = user_data;

  g_debug ("The host's connection closed%s%s", error ? ": " : "", error ? error->message : "");
  fail (self, EIDER_HOST_LINK_STATE_LOST, _("The backup service stopped."));
}

static void
proxy_new_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(EiderHostLink) self = user_data;
  g_autoptr(EiderDBusEngine1) engine = NULL;
  g_autoptr(GError) error = NULL;

  engine = eider_dbus_engine1_proxy_new_finish (result, &error);
  if (engine == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fail (self, EIDER_HOST_LINK_STATE_LOST, error->message);
      return;
    }

  /* Long calls (BackupNow answers once everything is backed up) must not
   * time out. */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (engine), G_MAXINT);
  g_clear_object (&self->cancellable);
  self->engine = g_steal_pointer (&engine);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENGINE]);
  set_state (self, EIDER_HOST_LINK_STATE_CONNECTED, NULL);
}

static void not_running (EiderHostLink *self);

static void
connection_new_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(EiderHostLink) self = user_data;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  connection = g_dbus_connection_new_for_address_finish (result, &error);
  if (connection == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* A socket left by a host that died, or one that is not listening
       * yet. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        not_running (self);
      else
        fail (self, EIDER_HOST_LINK_STATE_LOST, error->message);
      return;
    }

  self->connection = g_steal_pointer (&connection);
  self->closed_id = g_signal_connect (self->connection, "closed",
                                      G_CALLBACK (connection_closed_cb), self);
  eider_dbus_engine1_proxy_new (self->connection, G_DBUS_PROXY_FLAGS_NONE, NULL,
                                EIDER_HOST_OBJECT_PATH, self->cancellable,
                                proxy_new_cb, g_object_ref (self));
}

static void
try_connect (EiderHostLink *self)
{
  g_autofree char *path = eider_client_socket_path (self->state_directory);
  g_autofree char *escaped = NULL;
  g_autofree char *address = NULL;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      not_running (self);
      return;
    }

  /* Registered before the first call: the host's errors come back in
   * their domain. */
  eider_host_error_quark ();
  escaped = g_dbus_address_escape_value (path);
  address = g_strdup_printf ("unix:path=%s", escaped);
  g_dbus_connection_new_for_address (address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                     NULL, self->cancellable, connection_new_cb, g_object_ref (self));
}

static gboolean
poll_cb (gpointer user_data)
{
  EiderHostLink *self = user_data;

  self->poll_id = 0;
  if (g_get_monotonic_time () - self->started_at > START_TIMEOUT_US)
    fail (self, EIDER_HOST_LINK_STATE_LOST, _("The backup service did not start in time."));
  else
    try_connect (self);

  return G_SOURCE_REMOVE;
}

static void
schedule_poll (EiderHostLink *self)
{
  g_clear_handle_id (&self->poll_id, g_source_remove);
  self->poll_id = g_timeout_add (POLL_INTERVAL_MS, poll_cb, self);
}

static void
daemon_exited_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(EiderHostLink) self = user_data;
  GSubprocess *daemon = G_SUBPROCESS (object);
  int status;

  if (!g_subprocess_wait_finish (daemon, result, NULL))
    return;
  if (self->daemon == daemon)
    g_clear_object (&self->daemon);

  /* Once connected, the closed connection tells. Before, this is the only
   * news of a host that could not start. */
  if (self->state != EIDER_HOST_LINK_STATE_STARTING)
    return;

  status = g_subprocess_get_if_exited (daemon) ? g_subprocess_get_exit_status (daemon) : -1;
  g_debug ("eiderctl daemon exited before it could be reached (status %d)", status);
  if (status == DAEMON_EXIT_NOT_LOGGED_IN)
    fail (self, EIDER_HOST_LINK_STATE_NOT_LOGGED_IN, NULL);
  else
    fail (self, EIDER_HOST_LINK_STATE_LOST, _("The backup service could not start."));
}

/* eiderctl, in this order: beside `eider` (installed: both in bindir),
 * in the build tree (src/app/eider → src/cli/eiderctl), in bindir, in
 * PATH. */
static char *
find_eiderctl (void)
{
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = self_exe != NULL ? g_path_get_dirname (self_exe) : NULL;
  g_autofree char *installed = g_build_filename (BINDIR, "eiderctl", NULL);

  if (dir != NULL)
    {
      g_autofree char *beside = g_build_filename (dir, "eiderctl", NULL);
      g_autofree char *build_tree = g_build_filename (dir, "..", "cli", "eiderctl", NULL);

      if (g_file_test (beside, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer (&beside);
      if (g_file_test (build_tree, G_FILE_TEST_IS_EXECUTABLE))
        return g_canonicalize_filename (build_tree, NULL);
    }
  if (g_file_test (installed, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&installed);

  return g_find_program_in_path ("eiderctl");
}

static void
not_running (EiderHostLink *self)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *eiderctl = NULL;

  /* Started already: wait for its socket. */
  if (self->state == EIDER_HOST_LINK_STATE_STARTING)
    {
      schedule_poll (self);
      return;
    }

  if ((eiderctl = find_eiderctl ()) == NULL)
    {
      fail (self, EIDER_HOST_LINK_STATE_LOST, _("The backup service, eiderctl, is not installed."));
      return;
    }

  /* The host outlives the window and keeps backing up; its progress
   * lines are for terminals, its errors go where the window's go. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_setenv (launcher, "EIDER_DATA_DIR", self->state_directory, TRUE);
  g_clear_object (&self->daemon);
  self->daemon = g_subprocess_launcher_spawn (launcher, &error, eiderctl, "daemon", NULL);
  if (self->daemon == NULL)
    {
      fail (self, EIDER_HOST_LINK_STATE_LOST, error->message);
      return;
    }

  g_debug ("Started %s daemon, pid %s", eiderctl, g_subprocess_get_identifier (self->daemon));
  g_subprocess_wait_async (self->daemon, NULL, daemon_exited_cb, g_object_ref (self));
  self->started_at = g_get_monotonic_time ();
  set_state (self, EIDER_HOST_LINK_STATE_STARTING, NULL);
  schedule_poll (self);
}

/**
 * eider_host_link_start:
 * @self: a #EiderHostLink
 *
 * Connects to the host of the state directory, starting one when none
 * runs. Does nothing while connecting or connected.
 */
void
eider_host_link_start (EiderHostLink *self)
{
  g_return_if_fail (EIDER_IS_HOST_LINK (self));

  if (self->state == EIDER_HOST_LINK_STATE_CONNECTED ||
      ((self->state == EIDER_HOST_LINK_STATE_CONNECTING ||
        self->state == EIDER_HOST_LINK_STATE_STARTING) && self->cancellable != NULL))
    return;

  drop_engine (self);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  set_state (self, EIDER_HOST_LINK_STATE_CONNECTING, NULL);
  try_connect (self);
}

EiderHostLinkState
eider_host_link_get_state (EiderHostLink *self)
{
  g_return_val_if_fail (EIDER_IS_HOST_LINK (self), EIDER_HOST_LINK_STATE_LOST);

  return self->state;
}

/**
 * eider_host_link_get_engine:
 * @self: a #EiderHostLink
 *
 * Returns: (transfer none) (nullable): the host's interface while connected
 */
EiderDBusEngine1 *
eider_host_link_get_engine (EiderHostLink *self)
{
  g_return_val_if_fail (EIDER_IS_HOST_LINK (self), NULL);

  return self->engine;
}

/**
 * eider_host_link_get_message:
 * @self: a #EiderHostLink
 *
 * Returns: (nullable): why the link is lost, for people
 */
const char *
eider_host_link_get_message (EiderHostLink *self)
{
  g_return_val_if_fail (EIDER_IS_HOST_LINK (self), NULL);

  return self->message;
}

const char *
eider_host_link_get_state_directory (EiderHostLink *self)
{
  g_return_val_if_fail (EIDER_IS_HOST_LINK (self), NULL);

  return self->state_directory;
}

static void
eider_host_link_dispose (GObject *object)
{
  EiderHostLink *self = EIDER_HOST_LINK (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  drop_engine (self);
  /* A host this link started keeps running: it is the backup. */
  g_clear_object (&self->daemon);

  G_OBJECT_CLASS (eider_host_link_parent_class)->dispose (object);
}

static void
eider_host_link_finalize (GObject *object)
{
  EiderHostLink *self = EIDER_HOST_LINK (object);

  g_free (self->state_directory);
  g_free (self->message);

  G_OBJECT_CLASS (eider_host_link_parent_class)->finalize (object);
}

static void
eider_host_link_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  EiderHostLink *self = EIDER_HOST_LINK (object);

  switch (prop_id)
    {
    case PROP_STATE_DIRECTORY:
      g_value_set_string (value, self->state_directory);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_ENGINE:
      g_value_set_object (value, self->engine);
      break;
    case PROP_MESSAGE:
      g_value_set_string (value, self->message);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_host_link_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  EiderHostLink *self = EIDER_HOST_LINK (object);

  switch (prop_id)
    {
    case PROP_STATE_DIRECTORY:
      self->state_directory = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_host_link_class_init (EiderHostLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = eider_host_link_dispose;
  object_class->finalize = eider_host_link_finalize;
  object_class->get_property = eider_host_link_get_property;
  object_class->set_property = eider_host_link_set_property;

  properties[PROP_STATE_DIRECTORY] =
    g_param_spec_string ("state-directory", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       EIDER_TYPE_HOST_LINK_STATE, EIDER_HOST_LINK_STATE_CONNECTING,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ENGINE] =
    g_param_spec_object ("engine", NULL, NULL, EIDER_DBUS_TYPE_ENGINE1,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MESSAGE] =
    g_param_spec_string ("message", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
eider_host_link_init (EiderHostLink *self)
{
  self->state = EIDER_HOST_LINK_STATE_CONNECTING;
}
