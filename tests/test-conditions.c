/* test-conditions.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * eiderctl daemon against a real eider-test-server, on a private system
 * bus where this test plays NetworkManager, power-profiles-daemon, UPower
 * and logind. GIO's own monitors in the daemon read the fakes, so each
 * flip goes the whole way: D-Bus → GNetworkMonitor / GPowerProfileMonitor
 * / UPower → EiderPolicy → the engine's gate, which the host's interface
 * shows (State "waiting" or "offline", and StateReason). Each gate holds
 * uploads within 5 s and lifts by itself; settings changed with eiderctl config
 * reach the running daemon; "back up anyway" lasts until the condition
 * changes, or until its time, across a restart; the suspend inhibitor is
 * taken during the first backup and released on pause and when done; a
 * 20 MiB upload capped at 2 MiB/s takes about 10 s.
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>
#include <gio/gunixfdlist.h>

#include "eider-crypto.h"
#include "eider-instance.h"
#include "eider-store.h"
#include "eider-test-daemon.h"
#include "eider-test-fixture.h"

#define MiB TEST_MiB

/* The fake system services */

static const char introspection_xml[] =
  "<node>"
  "  <interface name='org.freedesktop.NetworkManager'>"
  "    <property name='State' type='u' access='read'/>"
  "    <property name='Connectivity' type='u' access='read'/>"
  "    <property name='Metered' type='u' access='read'/>"
  "  </interface>"
  "  <interface name='net.hadess.PowerProfiles'>"
  "    <property name='ActiveProfile' type='s' access='readwrite'/>"
  "  </interface>"
  "  <interface name='org.freedesktop.UPower'>"
  "    <property name='OnBattery' type='b' access='read'/>"
  "  </interface>"
  "  <interface name='org.freedesktop.UPower.Device'>"
  "    <property name='Percentage' type='d' access='read'/>"
  "    <property name='IsPresent' type='b' access='read'/>"
  "  </interface>"
  "  <interface name='org.freedesktop.login1.Manager'>"
  "    <method name='Inhibit'>"
  "      <arg name='what' type='s' direction='in'/>"
  "      <arg name='who' type='s' direction='in'/>"
  "      <arg name='why' type='s' direction='in'/>"
  "      <arg name='mode' type='s' direction='in'/>"
  "      <arg name='fd' type='h' direction='out'/>"
  "    </method>"
  "  </interface>"
  "</node>";

typedef struct
{
  GSubprocess     *bus_daemon;
  char            *address;
  GDBusConnection *bus;
  GDBusNodeInfo   *info;
  GArray          *registrations;
  guint            names[4];

  /* The state the fakes show */
  guint32          nm_state;
  guint32          nm_connectivity;
  guint32          nm_metered;
  char            *profile;
  gboolean         on_battery;
  double           percentage;

  /* logind */
  guint            inhibit_calls;
  guint            inhibitors_held;
  char            *inhibit_what;
  char            *inhibit_mode;
} FakeSystem;

static FakeSystem sys;

static GVariant *
fake_get_property (GDBusConnection *connection,
                   const char      *sender,
                   const char      *path,
                   const char      *interface,
                   const char      *property,
                   GError         **error,
                   gpointer         user_data)
{
  if (g_str_equal (property, "State"))
    return g_variant_new_uint32 (sys.nm_state);
  if (g_str_equal (property, "Connectivity"))
    return g_variant_new_uint32 (sys.nm_connectivity);
  if (g_str_equal (property, "Metered"))
    return g_variant_new_uint32 (sys.nm_metered);
  if (g_str_equal (property, "ActiveProfile"))
    return g_variant_new_string (sys.profile);
  if (g_str_equal (property, "OnBattery"))
    return g_variant_new_boolean (sys.on_battery);
  if (g_str_equal (property, "Percentage"))
    return g_variant_new_double (sys.percentage);
  if (g_str_equal (property, "IsPresent"))
    return g_variant_new_boolean (TRUE);

  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "No %s", property);
  return NULL;
}

static gboolean
inhibitor_closed_cb (int          fd,
                     GIOCondition condition,
                     gpointer     user_data)
{
  char buf[16];

  if ((condition & G_IO_IN) && read (fd, buf, sizeof buf) > 0)
    return G_SOURCE_CONTINUE;

  /* The holder closed its end: released. */
  sys.inhibitors_held--;
  close (fd);
  return G_SOURCE_REMOVE;
}

static void
fake_method_call (GDBusConnection       *connection,
                  const char            *sender,
                  const char            *path,
                  const char            *interface,
                  const char            *method,
                  GVariant              *parameters,
                  GDBusMethodInvocation *invocation,
                  gpointer               user_data)
{
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  const char *what, *who, *why, *mode;
  int pipe_fds[2];

  g_assert_cmpstr (method, ==, "Inhibit");
  g_variant_get (parameters, "(&s&s&s&s)", &what, &who, &why, &mode);
  g_free (sys.inhibit_what);
  g_free (sys.inhibit_mode);
  sys.inhibit_what = g_strdup (what);
  sys.inhibit_mode = g_strdup (mode);
  sys.inhibit_calls++;

  /* As logind does: the caller gets one end; it holds the inhibitor until
   * it closes it. */
  g_assert_true (g_unix_open_pipe (pipe_fds, FD_CLOEXEC, NULL));
  g_assert_cmpint (g_unix_fd_list_append (fds, pipe_fds[1], NULL), ==, 0);
  close (pipe_fds[1]);
  sys.inhibitors_held++;
  g_unix_fd_add (pipe_fds[0], G_IO_IN | G_IO_HUP | G_IO_ERR, inhibitor_closed_cb, NULL);
  g_dbus_method_invocation_return_value_with_unix_fd_list (invocation, g_variant_new ("(h)", 0), fds);
}

static const GDBusInterfaceVTable fake_vtable = { fake_method_call, fake_get_property, NULL };

static void
emit_changed (const char *path,
              const char *interface,
              const char *property)
{
  g_autoptr(GError) error = NULL;
  GVariantBuilder changed;

  g_variant_builder_init (&changed, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&changed, "{sv}", property,
                         fake_get_property (NULL, NULL, path, interface, property, NULL, NULL));
  g_dbus_connection_emit_signal (sys.bus, NULL, path, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                 g_variant_new ("(sa{sv}as)", interface, &changed, NULL), &error);
  g_assert_no_error (error);
  g_dbus_connection_flush_sync (sys.bus, NULL, NULL);
}

static void
set_network (guint32 state,
             guint32 connectivity,
             guint32 metered)
{
  sys.nm_state = state;
  sys.nm_connectivity = connectivity;
  sys.nm_metered = metered;
  {
    g_autoptr(GError) error = NULL;
    GVariantBuilder changed;

    g_variant_builder_init (&changed, G_VARIANT_TYPE ("a{sv}"));
    g_variant_builder_add (&changed, "{sv}", "State", g_variant_new_uint32 (state));
    g_variant_builder_add (&changed, "{sv}", "Connectivity", g_variant_new_uint32 (connectivity));
    g_variant_builder_add (&changed, "{sv}", "Metered", g_variant_new_uint32 (metered));
    g_dbus_connection_emit_signal (sys.bus, NULL, "/org/freedesktop/NetworkManager",
                                   "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                   g_variant_new ("(sa{sv}as)", "org.freedesktop.NetworkManager", &changed, NULL),
                                   &error);
    g_assert_no_error (error);
    g_dbus_connection_flush_sync (sys.bus, NULL, NULL);
  }
}

#define NM_ONLINE       70, 4
#define NM_OFFLINE      20, 1
#define METERED_YES     1
#define METERED_NO      2

static void
set_profile (const char *profile)
{
  g_free (sys.profile);
  sys.profile = g_strdup (profile);
  emit_changed ("/net/hadess/PowerProfiles", "net.hadess.PowerProfiles", "ActiveProfile");
}

static void
set_battery (gboolean on_battery,
             double   percentage)
{
  sys.on_battery = on_battery;
  sys.percentage = percentage;
  emit_changed ("/org/freedesktop/UPower", "org.freedesktop.UPower", "OnBattery");
  emit_changed ("/org/freedesktop/UPower/devices/DisplayDevice", "org.freedesktop.UPower.Device", "Percentage");
}

static void
register_object (const char *path,
                 const char *interface)
{
  g_autoptr(GError) error = NULL;
  guint id = g_dbus_connection_register_object (sys.bus, path,
                                                g_dbus_node_info_lookup_interface (sys.info, interface),
                                                &fake_vtable, NULL, NULL, &error);

  g_assert_no_error (error);
  g_array_append_val (sys.registrations, id);
}

static void
fake_system_start (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  const char *names[] = { "org.freedesktop.NetworkManager", "net.hadess.PowerProfiles",
                          "org.freedesktop.UPower", "org.freedesktop.login1" };

  /* A second bus, standing in for the system bus; it goes with the test,
   * also when that fails. */
  {
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);

    g_subprocess_launcher_set_child_setup (launcher, test_die_with_parent, NULL, NULL);
    sys.bus_daemon = g_subprocess_launcher_spawn (launcher, &error, "dbus-daemon", "--session", "--nofork",
                                                  "--print-address=1", NULL);
  }
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (sys.bus_daemon));
  sys.address = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (sys.address);
  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", sys.address, TRUE);

  sys.bus = g_dbus_connection_new_for_address_sync (sys.address,
                                                    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                    NULL, NULL, &error);
  g_assert_no_error (error);
  sys.info = g_dbus_node_info_new_for_xml (introspection_xml, &error);
  g_assert_no_error (error);
  sys.registrations = g_array_new (FALSE, FALSE, sizeof (guint));

  sys.nm_state = 70;
  sys.nm_connectivity = 4;
  sys.nm_metered = METERED_NO;
  sys.profile = g_strdup ("balanced");
  sys.percentage = 100;

  register_object ("/org/freedesktop/NetworkManager", "org.freedesktop.NetworkManager");
  register_object ("/net/hadess/PowerProfiles", "net.hadess.PowerProfiles");
  register_object ("/org/freedesktop/UPower", "org.freedesktop.UPower");
  register_object ("/org/freedesktop/UPower/devices/DisplayDevice", "org.freedesktop.UPower.Device");
  register_object ("/org/freedesktop/login1", "org.freedesktop.login1.Manager");

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GVariant) reply = NULL;
      guint32 result;

      reply = g_dbus_connection_call_sync (sys.bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                           "org.freedesktop.DBus", "RequestName",
                                           g_variant_new ("(su)", names[i], 0x4), G_VARIANT_TYPE ("(u)"),
                                           G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
      g_assert_no_error (error);
      g_variant_get (reply, "(u)", &result);
      g_assert_cmpuint (result, ==, 1);
    }

  /* The daemon reads the settings from its config folder (keyfile), and
   * follows NetworkManager, as on a laptop. */
  g_setenv ("GSETTINGS_BACKEND", "keyfile", TRUE);
  g_setenv ("GIO_USE_NETWORK_MONITOR", "networkmanager", TRUE);
}

static void
fake_system_stop (void)
{
  for (guint i = 0; i < sys.registrations->len; i++)
    g_dbus_connection_unregister_object (sys.bus, g_array_index (sys.registrations, guint, i));
  g_array_unref (sys.registrations);
  g_dbus_connection_close_sync (sys.bus, NULL, NULL);
  g_clear_object (&sys.bus);
  g_dbus_node_info_unref (sys.info);
  g_subprocess_force_exit (sys.bus_daemon);
  g_subprocess_wait (sys.bus_daemon, NULL, NULL);
  g_clear_object (&sys.bus_daemon);
  g_free (sys.address);
  g_free (sys.profile);
  g_free (sys.inhibit_what);
  g_free (sys.inhibit_mode);
}

/* A daemon in the background, its output collected as it comes. */

/* A clean stop: SIGTERM, exit status 0. */
static void
daemon_stop (TestDaemon *d)
{
  test_daemon_stop (d, SIGTERM, 30);
  if (!g_subprocess_get_if_exited (d->proc) || g_subprocess_get_exit_status (d->proc) != 0)
    g_error ("The daemon did not stop cleanly:\n%s", d->log->str);
}

static void
assert_contains (const char *haystack,
                 const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("“%s” not found in:\n%s", needle, haystack);
}

/* eiderctl run to its end, with the main context (the fakes) turning. */
static int
run_eiderctl (TestFixture        *fx,
              char              **out,
              const char * const *args)
{
  g_autoptr(GSubprocess) proc = test_eiderctl_spawn (fx, NULL, args);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) stdout_bytes = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  g_subprocess_communicate_async (proc, NULL, NULL, test_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (g_subprocess_communicate_finish (proc, result, &stdout_bytes, NULL, &error));
  g_assert_no_error (error);
  if (g_test_verbose ())
    g_printerr ("eiderctl %s …\n%.*s", args[0], (int) g_bytes_get_size (stdout_bytes),
                (const char *) g_bytes_get_data (stdout_bytes, NULL));
  if (out != NULL)
    *out = g_strndup (g_bytes_get_data (stdout_bytes, NULL), g_bytes_get_size (stdout_bytes));
  g_assert_true (g_subprocess_get_if_exited (proc));

  return g_subprocess_get_exit_status (proc);
}

#define EIDERCTL(fx, out, ...) run_eiderctl ((fx), (out), (const char *[]) { __VA_ARGS__, NULL })

static guint
posted_files (TestFixture *fx)
{
  return test_server_count_log_lines (fx->server, "request POST /files 200");
}

/* A gate holds within 5 s of the change: the host says it is @state
 * ("waiting", "offline") for @reason. */
static void
assert_gate (TestDaemon *d,
             const char *state,
             const char *reason)
{
  double took = test_daemon_wait_state (d, state, reason, 5);

  g_test_message ("%s, “%s”, within %.2f s", state, reason, took);
}

static void
assert_running_again (TestDaemon *d)
{
  double took = test_daemon_wait_running (d, 5);

  g_test_message ("running again within %.2f s", took);
}

/* Waits until @dir/@name is uploaded. */
static void
wait_uploaded (TestDaemon *d,
               const char *dir,
               const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  test_daemon_wait_file (d, path, "uploaded", 60);
}

/* Waits until the fake logind sees @n inhibitors held. */
static void
wait_inhibitors (guint  n,
                 double seconds)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  while (sys.inhibitors_held != n)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      test_iterate_for (10000);
    }
}

#define METERED "Paused on a metered network"

/* Every gate holds the queue within 5 s and lifts by itself. */
static void
test_conditions_gates (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;
  g_autofree char *out = NULL;

  test_fixture_set_up (&fx, NULL);
  test_write_photo (fx.tree, "a.jpg", 64, 64);
  g_assert_cmpint (EIDERCTL (&fx, NULL, "watch", "add", fx.tree), ==, 0);

  /* Metered from the start: nothing goes. */
  set_network (NM_ONLINE, METERED_YES);
  d = test_daemon_spawn (&fx, (const char *[]) { "--jobs", "2", NULL });
  test_daemon_wait_state (d, "waiting", METERED, 30);
  g_assert_cmpstr (eider_dbus_engine1_get_state_action (test_daemon_engine (d)), ==, "back-up-anyway");
  test_iterate_for (2 * G_USEC_PER_SEC);
  g_assert_cmpuint (test_daemon_count (d, "uploaded"), ==, 0);
  g_assert_cmpint (EIDERCTL (&fx, &out, "status"), ==, 0);
  assert_contains (out, "Uploads wait: Paused on a metered network (“eiderctl resume --force” backs up anyway)");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (EIDERCTL (&fx, &out, "status", "--json"), ==, 0);
  assert_contains (out, "\"gate\" : \"Paused on a metered network\"");
  g_clear_pointer (&out, g_free);

  /* Off the metered network: on by itself. */
  set_network (NM_ONLINE, METERED_NO);
  assert_running_again (d);
  test_daemon_wait_counts (d, "uploaded", 1, 60);
  g_assert_cmpuint (posted_files (&fx), ==, 1);

  /* The network goes: the queue holds; it comes back: it goes on. */
  set_network (NM_OFFLINE, METERED_NO);
  assert_gate (d, "offline", "Waiting for a network connection");
  test_write_photo (fx.tree, "offline.jpg", 65, 65);
  test_iterate_for (3 * G_USEC_PER_SEC);
  g_assert_cmpuint (test_daemon_count (d, "uploaded"), ==, 1);
  set_network (NM_ONLINE, METERED_NO);
  assert_running_again (d);
  wait_uploaded (d, fx.tree, "offline.jpg");

  /* On battery: above 20 % it continues, below it pauses. */
  test_daemon_mark (d);
  set_battery (TRUE, 50);
  test_iterate_for (1 * G_USEC_PER_SEC);
  g_assert_cmpuint (test_daemon_count_states (d, "waiting", NULL), ==, 0);
  set_battery (TRUE, 15);
  assert_gate (d, "waiting", "Paused on battery: 15 % left (below 20 %)");
  /* The threshold is a setting, followed at once by the running daemon. */
  g_assert_cmpint (EIDERCTL (&fx, &out, "config", "set", "pause-on-battery-below", "10"), ==, 0);
  assert_contains (out, "pause-on-battery-below = 10");
  g_clear_pointer (&out, g_free);
  assert_running_again (d);
  g_assert_cmpint (EIDERCTL (&fx, NULL, "config", "reset", "pause-on-battery-below"), ==, 0);
  assert_gate (d, "waiting", "Paused on battery: 15 % left (below 20 %)");
  /* The interval for folders that cannot be watched: checked, then kept. */
  g_assert_cmpint (EIDERCTL (&fx, NULL, "config", "set", "poll-seconds", "5"), ==, 1);
  g_assert_cmpint (EIDERCTL (&fx, &out, "config", "set", "poll-seconds", "60"), ==, 0);
  assert_contains (out, "poll-seconds = 60");
  g_clear_pointer (&out, g_free);
  set_battery (FALSE, 15);
  assert_running_again (d);

  /* Power saver. */
  set_profile ("power-saver");
  assert_gate (d, "waiting", "Paused in power saver mode");
  set_profile ("balanced");
  assert_running_again (d);

  /* Metered, with the setting off: it goes on. */
  test_daemon_mark (d);
  g_assert_cmpint (EIDERCTL (&fx, NULL, "config", "set", "pause-on-metered", "false"), ==, 0);
  set_network (NM_ONLINE, METERED_YES);
  test_write_photo (fx.tree, "metered-ok.jpg", 66, 66);
  wait_uploaded (d, fx.tree, "metered-ok.jpg");
  g_assert_cmpuint (test_daemon_count_states (d, "waiting", NULL), ==, 0);
  set_network (NM_ONLINE, METERED_NO);

  /* An upload window that is not now. */
  {
    g_autoptr(GDateTime) now = g_date_time_new_now_local ();
    g_autoptr(GDateTime) start = g_date_time_add_hours (now, 2);
    g_autoptr(GDateTime) end = g_date_time_add_hours (now, 3);
    g_autofree char *window = g_strdup_printf ("%02d:%02d-%02d:%02d",
                                               g_date_time_get_hour (start), g_date_time_get_minute (start),
                                               g_date_time_get_hour (end), g_date_time_get_minute (end));
    g_autofree char *reason = g_strdup_printf ("Waiting for the upload window (%02d:%02d–%02d:%02d)",
                                               g_date_time_get_hour (start), g_date_time_get_minute (start),
                                               g_date_time_get_hour (end), g_date_time_get_minute (end));

    g_assert_cmpint (EIDERCTL (&fx, NULL, "config", "set", "upload-window", window), ==, 0);
    assert_gate (d, "waiting", reason);
    g_assert_cmpint (EIDERCTL (&fx, &out, "config", "set", "upload-window", "later"), ==, 1);
    assert_contains (out, "is not an upload window");
    g_clear_pointer (&out, g_free);
    g_assert_cmpint (EIDERCTL (&fx, NULL, "config", "set", "upload-window", ""), ==, 0);
    assert_running_again (d);
  }

  g_assert_cmpuint (test_daemon_count (d, "uploaded"), ==, 3);
  g_assert_cmpuint (test_daemon_count (d, "failed"), ==, 0);
  g_assert_cmpuint (posted_files (&fx), ==, 3);
  daemon_stop (d);

  test_fixture_tear_down (&fx);
}

/* "Back up anyway": until the condition changes, or for N hours, which a
 * restart keeps; a timed one ends by itself. */
static void
test_conditions_override (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;
  g_autofree char *out = NULL;
  g_autofree char *meta = NULL;

  test_fixture_set_up (&fx, NULL);
  test_write_photo (fx.tree, "a.jpg", 64, 64);
  g_assert_cmpint (EIDERCTL (&fx, NULL, "watch", "add", fx.tree), ==, 0);

  set_network (NM_ONLINE, METERED_YES);
  d = test_daemon_spawn (&fx, (const char *[]) { "--jobs", "2", NULL });
  test_daemon_wait_state (d, "waiting", METERED, 30);
  g_assert_cmpint (EIDERCTL (&fx, &out, "resume", "--force"), ==, 0);
  assert_contains (out, "Backing up anyway until the conditions change (it was: Paused on a metered network).");
  g_clear_pointer (&out, g_free);
  test_daemon_wait_counts (d, "uploaded", 1, 60);
  g_assert_cmpint (eider_dbus_engine1_get_back_up_anyway_until (test_daemon_engine (d)), ==, -1);
  g_assert_cmpint (EIDERCTL (&fx, &out, "status"), ==, 0);
  assert_contains (out, "Backing up anyway until the conditions change");
  g_clear_pointer (&out, g_free);

  /* Off the metered network and back on: paused again. */
  set_network (NM_ONLINE, METERED_NO);
  test_daemon_wait_property (d, "BackUpAnywayUntil", g_variant_new_int64 (0), 5);
  set_network (NM_ONLINE, METERED_YES);
  assert_gate (d, "waiting", METERED);

  /* For an hour: kept across a restart. */
  g_assert_cmpint (EIDERCTL (&fx, &out, "resume", "--force", "--hours", "1"), ==, 0);
  assert_contains (out, "Backing up anyway until ");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (eider_dbus_engine1_get_back_up_anyway_until (test_daemon_engine (d)), >,
                   g_get_real_time () / G_USEC_PER_SEC + 3500);
  daemon_stop (d);
  g_clear_pointer (&d, test_daemon_free);
  test_write_photo (fx.tree, "b.jpg", 65, 65);
  d = test_daemon_spawn (&fx, (const char *[]) { "--jobs", "2", NULL });
  wait_uploaded (d, fx.tree, "b.jpg");
  g_assert_cmpuint (test_daemon_count_states (d, "waiting", NULL), ==, 0);
  g_assert_cmpint (EIDERCTL (&fx, &out, "status"), ==, 0);
  assert_contains (out, "Backing up anyway until 2");
  g_clear_pointer (&out, g_free);
  daemon_stop (d);
  g_clear_pointer (&d, test_daemon_free);

  /* One that ends in a few seconds ends by itself. */
  {
    g_autoptr(EiderStore) store = test_open_store (&fx);
    g_autofree char *soon = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / G_USEC_PER_SEC + 4);

    g_assert_true (eider_store_set_meta (store, "override-until", soon, NULL));
  }
  d = test_daemon_spawn (&fx, (const char *[]) { "--jobs", "2", NULL });
  g_assert_cmpint (eider_dbus_engine1_get_back_up_anyway_until (test_daemon_engine (d)), >, 0);
  test_daemon_wait_property (d, "BackUpAnywayUntil", g_variant_new_int64 (0), 10);
  assert_gate (d, "waiting", METERED);
  /* Until then it was not held back. */
  g_assert_cmpuint (test_daemon_count_states (d, "waiting", NULL), ==, 1);
  daemon_stop (d);
  meta = test_store_meta (&fx, "override-until");
  g_assert_cmpstr (meta, ==, "0");

  /* Nothing holds it back: said so. */
  set_network (NM_ONLINE, METERED_NO);
  g_clear_pointer (&d, test_daemon_free);
  d = test_daemon_spawn (&fx, (const char *[]) { "--jobs", "2", NULL });
  test_daemon_wait_state (d, "idle", "", 30);
  g_assert_cmpint (EIDERCTL (&fx, &out, "resume", "--force"), ==, 0);
  assert_contains (out, "Nothing holds");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (EIDERCTL (&fx, &out, "resume", "--hours", "2"), ==, 2);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (EIDERCTL (&fx, &out, "resume", "--force", fx.tree), ==, 2);
  daemon_stop (d);

  test_fixture_tear_down (&fx);
}

/* logind's sleep inhibitor: taken while the first backup uploads, released
 * on pause, taken again on resume, released when done; not taken again
 * once the first backup is done. */
static void
test_conditions_inhibit (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *meta = NULL;

  test_fixture_set_up (&fx, NULL);
  test_write_video (fx.tree, "long.mp4", 24 * MiB + 3);
  g_assert_cmpint (EIDERCTL (&fx, NULL, "watch", "add", fx.tree), ==, 0);
  /* Slow enough to be a long backup: about 6 s. */
  g_assert_cmpint (EIDERCTL (&fx, NULL, "config", "set", "bandwidth-limit", "4096"), ==, 0);
  set_network (NM_ONLINE, METERED_NO);
  sys.inhibit_calls = 0;

  d = test_daemon_spawn (&fx, (const char *[]) { "--jobs", "2", NULL });
  test_daemon_engine (d);
  wait_inhibitors (1, 30);
  g_assert_cmpuint (sys.inhibit_calls, ==, 1);
  g_assert_cmpstr (sys.inhibit_what, ==, "sleep");
  g_assert_cmpstr (sys.inhibit_mode, ==, "block");

  /* Paused: released within 5 s. */
  reply = test_daemon_call (d, "Pause", g_variant_new ("(^ay)", ""));
  wait_inhibitors (0, 5);
  test_daemon_wait_state (d, "paused", "Paused", 5);

  /* Resumed: taken again, and released when the backup is done. */
  g_clear_pointer (&reply, g_variant_unref);
  reply = test_daemon_call (d, "Resume", g_variant_new ("(^ay)", ""));
  wait_inhibitors (1, 10);
  g_assert_cmpuint (sys.inhibit_calls, ==, 2);
  test_daemon_wait_counts (d, "uploaded", 1, 120);
  wait_inhibitors (0, 10);

  /* Later files upload without keeping the computer awake. */
  test_write_photo (fx.tree, "later.jpg", 64, 64);
  test_daemon_wait_counts (d, "uploaded", 2, 60);
  test_iterate_for (1 * G_USEC_PER_SEC);
  g_assert_cmpuint (sys.inhibit_calls, ==, 2);
  daemon_stop (d);
  g_assert_cmpuint (sys.inhibitors_held, ==, 0);
  /* The first backup is done, for good. */
  meta = test_store_meta (&fx, "first-backup-done");
  g_assert_cmpstr (meta, ==, "1");

  test_fixture_tear_down (&fx);
}

/* 20 MiB capped at 2 MiB/s takes about 10 s (a wide tolerance here; the
 * throttle itself is held to ± 15 % in test-throttle). */
static void
test_conditions_bandwidth (void)
{
  TestFixture fx = { 0 };
  g_autoptr(TestDaemon) d = NULL;
  gint64 start;
  double took;

  test_fixture_set_up (&fx, NULL);
  test_write_video (fx.tree, "clip.mp4", 20 * MiB);
  g_assert_cmpint (EIDERCTL (&fx, NULL, "watch", "add", fx.tree), ==, 0);
  g_assert_cmpint (EIDERCTL (&fx, NULL, "config", "set", "bandwidth-limit", "2048"), ==, 0);
  g_assert_cmpint (EIDERCTL (&fx, NULL, "config", "set", "inhibit-suspend", "false"), ==, 0);
  set_network (NM_ONLINE, METERED_NO);
  sys.inhibit_calls = 0;

  start = g_get_monotonic_time ();
  d = test_daemon_spawn (&fx, (const char *[]) { "--jobs", "2", NULL });
  test_daemon_wait_counts (d, "uploaded", 1, 120);
  took = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  g_test_message ("20 MiB at 2 MiB/s: uploaded %.1f s after the start", took);
  g_assert_cmpfloat (took, >, 8.5);
  g_assert_cmpfloat (took, <, 16);
  g_assert_cmpuint (sys.inhibit_calls, ==, 0);
  daemon_stop (d);

  test_fixture_tear_down (&fx);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_assert_true (eider_crypto_init (NULL));
  g_test_init (&argc, &argv, NULL);
  fake_system_start ();

  g_test_add_func ("/conditions/gates", test_conditions_gates);
  g_test_add_func ("/conditions/override", test_conditions_override);
  g_test_add_func ("/conditions/inhibit", test_conditions_inhibit);
  g_test_add_func ("/conditions/bandwidth", test_conditions_bandwidth);

  status = g_test_run ();
  fake_system_stop ();

  return status;
}
