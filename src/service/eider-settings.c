/* eider-settings.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-settings"
#include "config.h"

#include <errno.h>

#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>

#include "eider-settings.h"

#define KEYFILE_NAME  "settings.ini"
#define KEYFILE_GROUP "eider"
#define SCHEMA_PATH   "/io/github/eiderapp/Eider/"

/* TRUE when this program runs from the build tree it was built in. */
static gboolean
running_uninstalled (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  return exe != NULL && g_str_has_prefix (exe, EIDER_BUILD_ROOT G_DIR_SEPARATOR_S);
}

static GSettingsSchema *
lookup_schema (GError **error)
{
  GSettingsSchemaSource *installed = g_settings_schema_source_get_default ();
  GSettingsSchema *schema = NULL;

  if (running_uninstalled ())
    {
      g_autoptr(GSettingsSchemaSource) built = NULL;
      g_autoptr(GError) local_error = NULL;

      built = g_settings_schema_source_new_from_directory (EIDER_BUILD_SCHEMA_DIR, installed, FALSE,
                                                           &local_error);
      if (built != NULL)
        schema = g_settings_schema_source_lookup (built, EIDER_SETTINGS_SCHEMA_ID, FALSE);
      else
        g_debug ("No schema compiled in %s: %s", EIDER_BUILD_SCHEMA_DIR, local_error->message);
    }

  if (schema == NULL && installed != NULL)
    schema = g_settings_schema_source_lookup (installed, EIDER_SETTINGS_SCHEMA_ID, TRUE);

  if (schema == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 "The settings schema %s is not installed (glib-compile-schemas, or set "
                 "GSETTINGS_SCHEMA_DIR)", EIDER_SETTINGS_SCHEMA_ID);

  return schema;
}

/* "keyfile", "default" (dconf, or what GSETTINGS_BACKEND asks for). */
static gboolean
wants_keyfile (void)
{
  const char *env = g_getenv ("GSETTINGS_BACKEND");
  g_autoptr(GSettingsBackend) fallback = NULL;

  if (env != NULL && env[0] != '\0')
    return g_str_equal (env, "keyfile");

  /* Without dconf, GLib's default keeps settings in memory only. */
  fallback = g_settings_backend_get_default ();

  return g_str_equal (G_OBJECT_TYPE_NAME (fallback), "GMemorySettingsBackend");
}

static char *
keyfile_path (const char *config_dir)
{
  return g_build_filename (config_dir, KEYFILE_NAME, NULL);
}

/**
 * eider_settings_new:
 * @config_dir: the configuration folder
 * @error: return location for an error
 *
 * Returns: (transfer full): the settings, or %NULL when the schema is
 *   missing or the folder cannot be made
 */
GSettings *
eider_settings_new (const char  *config_dir,
                    GError     **error)
{
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autoptr(GSettingsBackend) backend = NULL;

  g_return_val_if_fail (config_dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if ((schema = lookup_schema (error)) == NULL)
    return NULL;

  if (wants_keyfile ())
    {
      g_autofree char *path = keyfile_path (config_dir);

      if (g_mkdir_with_parents (config_dir, 0700) != 0)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Could not create %s: %s",
                       config_dir, g_strerror (saved));
          return NULL;
        }
      backend = g_keyfile_settings_backend_new (path, SCHEMA_PATH, KEYFILE_GROUP);
    }
  else
    backend = g_settings_backend_get_default ();

  return g_settings_new_full (schema, backend, NULL);
}

char *
eider_settings_describe_backend (const char *config_dir)
{
  g_autoptr(GSettingsBackend) fallback = NULL;
  const char *name;

  g_return_val_if_fail (config_dir != NULL, NULL);

  if (wants_keyfile ())
    return keyfile_path (config_dir);

  fallback = g_settings_backend_get_default ();
  name = G_OBJECT_TYPE_NAME (fallback);
  if (g_str_equal (name, "DConfSettingsBackend"))
    return g_strdup ("dconf");
  if (g_str_equal (name, "GMemorySettingsBackend"))
    return g_strdup ("memory (lost at exit)");

  return g_strdup (name);
}

static gboolean
kb_to_bytes (GValue   *value,
             GVariant *variant,
             gpointer  user_data)
{
  g_value_set_uint64 (value, (guint64) g_variant_get_uint32 (variant) * 1024);
  return TRUE;
}

/**
 * eider_settings_bind_bandwidth_limit:
 * @settings: the settings
 * @object: an object with a guint64 "bandwidth-limit" in bytes per second
 *   (the engine)
 *
 * Binds the "bandwidth-limit" setting (KB/s, 1 KB = 1024 bytes) to @object.
 * g_settings_unbind (@object, "bandwidth-limit") undoes it.
 */
void
eider_settings_bind_bandwidth_limit (GSettings *settings,
                                     gpointer   object)
{
  g_settings_bind_with_mapping (settings, "bandwidth-limit", object, "bandwidth-limit",
                                G_SETTINGS_BIND_GET, kb_to_bytes, NULL, NULL, NULL);
}
