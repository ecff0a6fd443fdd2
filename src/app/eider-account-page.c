/* eider-account-page.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "eider-account-page"

#include "config.h"

#include <glib/gi18n.h>

#include "eider-account.h"
#include "eider-account-page.h"
#include "eider-application.h"
#include "eider-crypto.h"

struct _EiderAccountPage
{
  AdwBin            parent_instance;

  AdwActionRow     *email_row;
  AdwActionRow     *server_row;
  GtkLevelBar      *storage_bar;
  GtkLabel         *storage_label;
  GtkButton        *logout_button;

  EiderDBusEngine1 *engine;
};

G_DEFINE_FINAL_TYPE (EiderAccountPage, eider_account_page, ADW_TYPE_BIN)

static void
update (EiderAccountPage *self)
{
  const char *email = NULL;
  const char *server = NULL;
  guint64 used = 0;
  guint64 quota = 0;
  g_autofree char *text = NULL;

  if (self->engine != NULL)
    {
      email = eider_dbus_engine1_get_account_email (self->engine);
      server = eider_dbus_engine1_get_account_server (self->engine);
      used = eider_dbus_engine1_get_storage_used (self->engine);
      quota = eider_dbus_engine1_get_storage_quota (self->engine);
    }

  adw_action_row_set_subtitle (self->email_row, email != NULL && email[0] != '\0' ? email : "—");
  adw_action_row_set_subtitle (self->server_row, server != NULL && server[0] != '\0' ? server : "—");

  if (quota > 0)
    {
      g_autofree char *used_text = g_format_size (used);
      g_autofree char *quota_text = g_format_size (quota);

      /* Translators: storage, e.g. "1.2 GB of 10 GB used" */
      text = g_strdup_printf (_("%s of %s used"), used_text, quota_text);
      gtk_level_bar_set_value (self->storage_bar, MIN ((double) used / quota, 1.0));
      gtk_widget_set_visible (GTK_WIDGET (self->storage_bar), TRUE);
    }
  else
    {
      g_autofree char *used_text = g_format_size (used);

      /* Translators: storage without a known quota, e.g. "1.2 GB used" */
      text = self->engine != NULL ? g_strdup_printf (_("%s used"), used_text)
                                  : g_strdup (_("Not known while Eider is stopped"));
      gtk_widget_set_visible (GTK_WIDGET (self->storage_bar), FALSE);
    }

  gtk_label_set_label (self->storage_label, text);
  gtk_widget_set_sensitive (GTK_WIDGET (self->logout_button),
                            email != NULL && email[0] != '\0');
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->storage_bar),
                                  GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT, text,
                                  -1);
}

static void
engine_properties_changed_cb (GDBusProxy       *proxy,
                              GVariant         *changed,
                              GStrv             invalidated,
                              EiderAccountPage *self)
{
  update (self);
}

static void
show_error (EiderAccountPage *self,
            const char       *heading,
            const char       *message)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                              heading, message);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
reload_account_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* The host answers NotLoggedIn: it has let the account go. */
  if (!eider_dbus_engine1_call_reload_account_finish (EIDER_DBUS_ENGINE1 (object), result, &error))
    g_debug ("ReloadAccount after log-out: %s", error->message);
}

static void
logout_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(EiderAccountPage) self = user_data;
  EiderAccount *account = EIDER_ACCOUNT (object);
  g_autoptr(GError) error = NULL;

  /* An error from the server still logs out here (eiderctl does the same). */
  if (!eider_account_logout_finish (account, result, &error) &&
      eider_account_get_state (account) != EIDER_ACCOUNT_STATE_LOGGED_OUT)
    {
      gtk_widget_set_sensitive (GTK_WIDGET (self->logout_button), TRUE);
      show_error (self, _("Could Not Log Out"), error->message);
      return;
    }

  /* The host re-reads the account, stops using it and says so: the
   * window follows AccountEmail to its log-in page. */
  if (self->engine != NULL)
    eider_dbus_engine1_call_reload_account (self->engine, NULL, reload_account_cb, NULL);
}

static void
logout_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    EiderAccountPage *self)
{
  g_autofree char *config_dir = NULL;
  g_autoptr(EiderAccount) account = NULL;
  g_autoptr(GError) error = NULL;

  if (!g_str_equal (response, "logout"))
    return;

  /* The account's keys live in libsodium's guarded memory. */
  if (!eider_crypto_init (&error))
    {
      show_error (self, _("Could Not Log Out"), error->message);
      return;
    }

  config_dir = eider_application_dup_config_dir ();
  account = eider_account_new (config_dir);
  if (!eider_account_load (account, &error))
    {
      show_error (self, _("Could Not Log Out"), error->message);
      return;
    }

  gtk_widget_set_sensitive (GTK_WIDGET (self->logout_button), FALSE);
  eider_account_logout_async (account, NULL, logout_cb, g_object_ref (self));
}

static void
logout_clicked_cb (EiderAccountPage *self)
{
  GtkWidget *dialog;

  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                   _("Log Out?"),
                                   _("The account’s keys are removed from this computer and "
                                     "backups stop until you log in again. What Eider knows "
                                     "about the folders is kept, so nothing is uploaded twice. "
                                     "Nothing in Ente is deleted."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "logout", _("_Log Out"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "logout",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (logout_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/**
 * eider_account_page_set_engine:
 * @self: the page
 * @engine: (nullable): the host's engine while connected, or %NULL
 *
 * Shows @engine's account, and follows it until the next call.
 */
void
eider_account_page_set_engine (EiderAccountPage *self,
                               EiderDBusEngine1 *engine)
{
  g_return_if_fail (EIDER_IS_ACCOUNT_PAGE (self));
  g_return_if_fail (engine == NULL || EIDER_DBUS_IS_ENGINE1 (engine));

  if (self->engine != NULL)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  g_set_object (&self->engine, engine);
  if (engine != NULL)
    g_signal_connect_object (engine, "g-properties-changed",
                             G_CALLBACK (engine_properties_changed_cb), self, 0);
  update (self);
}

static void
eider_account_page_dispose (GObject *object)
{
  EiderAccountPage *self = EIDER_ACCOUNT_PAGE (object);

  if (self->engine != NULL)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  g_clear_object (&self->engine);
  gtk_widget_dispose_template (GTK_WIDGET (self), EIDER_TYPE_ACCOUNT_PAGE);

  G_OBJECT_CLASS (eider_account_page_parent_class)->dispose (object);
}

static void
eider_account_page_class_init (EiderAccountPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = eider_account_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_BASE "/eider-account-page.ui");
  gtk_widget_class_bind_template_child (widget_class, EiderAccountPage, email_row);
  gtk_widget_class_bind_template_child (widget_class, EiderAccountPage, server_row);
  gtk_widget_class_bind_template_child (widget_class, EiderAccountPage, storage_bar);
  gtk_widget_class_bind_template_child (widget_class, EiderAccountPage, storage_label);
  gtk_widget_class_bind_template_child (widget_class, EiderAccountPage, logout_button);
  gtk_widget_class_bind_template_callback (widget_class, logout_clicked_cb);
}

static void
eider_account_page_init (EiderAccountPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update (self);
}
