/* eiderctl.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eiderctl"
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>
#include <glib/gi18n.h>

#include "eider-crypto.h"
#include "eider-reason.h"
#include "eiderctl.h"

static const char summary[] =
  "Eider keeps photo and video folders backed up, end-to-end encrypted, to an\n"
  "Ente Photos account. eiderctl runs the same engine without a window.\n"
  "\n"
  "Commands:\n"
  "  account signup   Create an Ente account\n"
  "  account login    Log into an Ente account\n"
  "  account logout   Log out and remove the keys from this computer\n"
  "  account status   Show the account and its session\n"
  "  watch add PATH   Back up a folder (--one-album, --album-per-folder, --album NAME)\n"
  "  watch list       Show the watched folders\n"
  "  watch remove PATH  Stop watching a folder (nothing in Ente changes)\n"
  "  backup --once    Back up every watched folder now, then exit\n"
  "  status           Files per state, what is left, what is being worked on\n"
  "  failures         Files that failed, and why (--skipped: also the skipped ones)\n"
  "  retry            Try the failed files again at the next backup\n"
  "  daemon           Keep the watched folders backed up, without a window\n"
  "  pause [FOLDER]   Pause the backup (or one folder's), also in a running daemon\n"
  "  resume [FOLDER]  Resume it (--force: back up anyway on a metered network,\n"
  "                   a low battery, power saver or outside the upload window)\n"
  "  config get|set   Show or change the settings (metered, battery, power saver,\n"
  "                   upload window, bandwidth limit, keeping the computer awake)\n"
  "\n"
  "Run “eiderctl COMMAND --help” for a command's options.";

void
eiderctl_result_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

GAsyncResult *
eiderctl_wait (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

gboolean
eiderctl_is_tty (void)
{
  return isatty (STDIN_FILENO) && isatty (STDERR_FILENO);
}

void
eiderctl_error (const char *format,
                ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr ("eiderctl: %s\n", message);
}

EiderDBusEngine1 *
eiderctl_connect (EiderctlGlobals *globals,
                  gboolean        *failed)
{
  g_autoptr(GError) error = NULL;
  EiderDBusEngine1 *engine = eider_client_connect_sync (globals->data_dir, NULL, &error);

  *failed = FALSE;
  if (engine == NULL && !g_error_matches (error, EIDER_HOST_ERROR, EIDER_HOST_ERROR_NOT_RUNNING))
    {
      eiderctl_error ("%s", error->message);
      *failed = TRUE;
    }

  return engine;
}

void
eiderctl_host_error (const char   *what,
                     const GError *error)
{
  g_autoptr(GError) copy = g_error_copy (error);

  /* Errors the host did not register arrive with their D-Bus name. */
  if (g_dbus_error_is_remote_error (copy))
    g_dbus_error_strip_remote_error (copy);
  eiderctl_error ("%s: %s", what, copy->message);
}

/* Progress */

struct _EiderctlPrinter
{
  EiderDBusEngine1 *engine;
  gboolean          tty;
  guint             n_uploaded;
  guint             n_skipped;
  guint             n_failed;
  char             *current;
};

static void
printer_line (EiderctlPrinter *printer)
{
  guint64 left = eider_dbus_engine1_get_bytes_left (printer->engine);
  guint64 rate = eider_dbus_engine1_get_upload_speed (printer->engine);
  g_autofree char *left_text = g_format_size (left);
  g_autofree char *speed = g_format_size (rate);

  g_printerr ("\r\033[K%u uploaded, %u to go · %s left · %s/s", printer->n_uploaded,
              eider_dbus_engine1_get_files_left (printer->engine), left_text, speed);
  if (rate > 0 && left > 0)
    {
      guint eta = (guint) (left / rate);

      g_printerr (" · about %u:%02u left", eta / 60, eta % 60);
    }
  if (printer->current != NULL)
    g_printerr (" · %s", printer->current);
}

static void
printer_started_cb (EiderDBusEngine1 *engine,
                    gint64            file_id,
                    const char       *path,
                    guint64           size,
                    EiderctlPrinter  *printer)
{
  g_free (printer->current);
  printer->current = g_path_get_basename (path);
  if (printer->tty)
    printer_line (printer);
}

static void
printer_finished_cb (EiderDBusEngine1 *engine,
                     gint64            file_id,
                     const char       *path,
                     const char       *state,
                     const char       *reason,
                     const char       *details,
                     EiderctlPrinter  *printer)
{
  g_autofree char *text = eider_reason_describe_nick (reason, details);

  if (g_str_equal (state, "uploaded"))
    printer->n_uploaded++;
  else if (g_str_equal (state, "skipped"))
    printer->n_skipped++;
  else if (g_str_equal (state, "failed"))
    printer->n_failed++;
  else
    return;

  if (printer->tty)
    {
      if (!g_str_equal (state, "uploaded"))
        g_printerr ("\r\033[K%s %s: %s\n", state, path, text);
      printer_line (printer);
    }
  else if (*text != '\0')
    g_print ("%s\t%s\t%s\n", state, path, text);
  else
    g_print ("%s\t%s\n", state, path);
}

EiderctlPrinter *
eiderctl_printer_new (EiderDBusEngine1 *engine,
                      gboolean          tty)
{
  EiderctlPrinter *printer = g_new0 (EiderctlPrinter, 1);

  printer->engine = g_object_ref (engine);
  printer->tty = tty;
  g_signal_connect (engine, "file-started", G_CALLBACK (printer_started_cb), printer);
  g_signal_connect (engine, "file-finished", G_CALLBACK (printer_finished_cb), printer);

  return printer;
}

void
eiderctl_printer_finish (EiderctlPrinter *printer,
                         guint           *uploaded,
                         guint           *skipped,
                         guint           *failed)
{
  if (printer->tty)
    g_printerr ("\r\033[K");
  *uploaded = printer->n_uploaded;
  *skipped = printer->n_skipped;
  *failed = printer->n_failed;
  g_signal_handlers_disconnect_by_data (printer->engine, printer);
  g_object_unref (printer->engine);
  g_free (printer->current);
  g_free (printer);
}

gboolean
eiderctl_ensure_state_dir (EiderctlGlobals  *globals,
                           GError          **error)
{
  if (g_mkdir_with_parents (globals->data_dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Could not create %s: %s",
                   globals->data_dir, g_strerror (saved));
      return FALSE;
    }

  return TRUE;
}

EiderStore *
eiderctl_open_store (EiderctlGlobals  *globals,
                     GError          **error)
{
  g_autofree char *path = NULL;

  if (!eiderctl_ensure_state_dir (globals, error))
    return NULL;

  path = g_build_filename (globals->data_dir, "eider.db", NULL);

  return eider_store_open (path, error);
}

EiderWatch *
eiderctl_find_watch (EiderStore *store,
                     const char *arg)
{
  g_autofree char *real = realpath (arg, NULL);
  EiderWatch *watch;

  /* The folder may be gone (one reason to stop watching it). */
  watch = eider_store_find_watch (store, real != NULL ? real : arg);
  if (watch == NULL)
    eiderctl_error ("%s is not watched", arg);

  return watch;
}

/* Reads one line; a secret one without echo. The caller wipes and frees. */
char *
eiderctl_prompt (const char *question,
                 gboolean    secret)
{
  struct termios old_term, new_term;
  gboolean restore = FALSE;
  char buf[1024];
  char *line = NULL;

  g_printerr ("%s", question);

  if (secret && tcgetattr (STDIN_FILENO, &old_term) == 0)
    {
      new_term = old_term;
      new_term.c_lflag &= ~ECHO;
      restore = tcsetattr (STDIN_FILENO, TCSAFLUSH, &new_term) == 0;
    }

  if (fgets (buf, sizeof buf, stdin) != NULL)
    {
      buf[strcspn (buf, "\r\n")] = '\0';
      line = g_strdup (buf);
    }
  sodium_memzero (buf, sizeof buf);

  if (restore)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &old_term);
      g_printerr ("\n");
    }

  return line;
}

char *
eiderctl_read_stdin_line (GError **error)
{
  char buf[1024];

  if (fgets (buf, sizeof buf, stdin) == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Nothing to read on standard input");
      return NULL;
    }

  buf[strcspn (buf, "\r\n")] = '\0';
  {
    char *line = g_strdup (buf);

    sodium_memzero (buf, sizeof buf);
    return line;
  }
}

static char *
default_data_dir (void)
{
  const char *env = g_getenv ("EIDER_DATA_DIR");

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);

  return g_build_filename (g_get_user_data_dir (), "eider", NULL);
}

static char *
default_config_dir (void)
{
  const char *env = g_getenv ("EIDER_CONFIG_DIR");

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);

  return g_build_filename (g_get_user_config_dir (), "eider", NULL);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *config_dir = NULL;
  g_autofree char *data_dir = NULL;
  EiderctlGlobals globals = { NULL };
  gboolean version = FALSE;
  GOptionEntry entries[] = {
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Show the version and exit", NULL },
    { "config-dir", 0, 0, G_OPTION_ARG_FILENAME, &config_dir,
      "Where the account's settings live (default: $EIDER_CONFIG_DIR or ~/.config/eider)", "DIR" },
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
      "Where the backup's state lives (default: $EIDER_DATA_DIR or ~/.local/share/eider)", "DIR" },
    { NULL }
  };

  setlocale (LC_ALL, "");
  /* The core's texts for people (reasons) come translated. */
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");

  if (!eider_crypto_init (&error))
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }

  context = g_option_context_new ("COMMAND [ARGS…]");
  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, NULL);
  /* Options after the command belong to the command. */
  g_option_context_set_strict_posix (context, TRUE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("eiderctl: %s\nTry “eiderctl --help”.\n", error->message);
      return EIDERCTL_EXIT_USAGE;
    }

  if (version)
    {
      g_print ("eiderctl %s (libsodium %s)\n", PACKAGE_VERSION, sodium_version_string ());
      return EIDERCTL_EXIT_OK;
    }

  globals.config_dir = config_dir != NULL ? g_strdup (config_dir) : default_config_dir ();
  globals.data_dir = data_dir != NULL ? g_strdup (data_dir) : default_data_dir ();

  if (argc < 2)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

      g_print ("%s", help);
      g_free (globals.config_dir);
      g_free (globals.data_dir);
      return EIDERCTL_EXIT_OK;
    }

  if (g_str_equal (argv[1], "account") || g_str_equal (argv[1], "config"))
    {
      int status = g_str_equal (argv[1], "account") ? eiderctl_account (&globals, argc - 1, argv + 1)
                                                    : eiderctl_config (&globals, argc - 1, argv + 1);

      g_free (globals.config_dir);
      g_free (globals.data_dir);
      return status;
    }

  {
    int status = eiderctl_backup_command (&globals, argc - 1, argv + 1);

    if (status < 0)
      status = eiderctl_daemon_command (&globals, argc - 1, argv + 1);

    g_free (globals.config_dir);
    g_free (globals.data_dir);
    if (status >= 0)
      return status;
  }

  g_printerr ("eiderctl: unknown command “%s”.\nTry “eiderctl --help”.\n", argv[1]);

  return EIDERCTL_EXIT_USAGE;
}
