/* eider-account-page.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "eider-account-page"

#include "config.h"

#include <glib/gi18n.h>

#include "eider-account-page.h"

struct _EiderAccountPage
{
  AdwBin            parent_instance;

  AdwActionRow     *email_row;
  AdwActionRow     *server_row;
  GtkLevelBar      *storage_bar;
  GtkLabel         *storage_label;

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
}

static void
eider_account_page_init (EiderAccountPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update (self);
}
