/* eiderctl-config.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * eiderctl config get|set|reset: the settings the app and the daemon
 * share (GSettings io.github.eiderapp.Eider), without a window. A running
 * daemon follows a change at once.
 */
#define G_LOG_DOMAIN "eiderctl"
#include "config.h"

#include <stdlib.h>

#include "eider-policy.h"
#include "eider-settings.h"
#include "eiderctl.h"

static char *
format_value (GVariant *value)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    return g_variant_dup_string (value, NULL);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return g_strdup (g_variant_get_boolean (value) ? "true" : "false");

  return g_variant_print (value, FALSE);
}

static GVariant *
parse_value (GSettingsSchemaKey  *key,
             const char          *name,
             const char          *text,
             GError             **error)
{
  const GVariantType *type = g_settings_schema_key_get_value_type (key);
  g_autoptr(GVariant) value = NULL;

  if (g_variant_type_equal (type, G_VARIANT_TYPE_BOOLEAN))
    {
      if (g_ascii_strcasecmp (text, "true") == 0 || g_ascii_strcasecmp (text, "yes") == 0 ||
          g_ascii_strcasecmp (text, "on") == 0 || g_str_equal (text, "1"))
        value = g_variant_new_boolean (TRUE);
      else if (g_ascii_strcasecmp (text, "false") == 0 || g_ascii_strcasecmp (text, "no") == 0 ||
               g_ascii_strcasecmp (text, "off") == 0 || g_str_equal (text, "0"))
        value = g_variant_new_boolean (FALSE);
    }
  else if (g_variant_type_equal (type, G_VARIANT_TYPE_INT32))
    {
      gint64 n;

      if (g_ascii_string_to_signed (text, 10, G_MININT32, G_MAXINT32, &n, NULL))
        value = g_variant_new_int32 (n);
    }
  else if (g_variant_type_equal (type, G_VARIANT_TYPE_UINT32))
    {
      guint64 n;

      if (g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32, &n, NULL))
        value = g_variant_new_uint32 (n);
    }
  else if (g_variant_type_equal (type, G_VARIANT_TYPE_STRING))
    {
      value = g_variant_new_string (text);
    }
  else
    {
      value = g_variant_parse (type, text, NULL, NULL, NULL);
    }

  if (value == NULL)
    {
      g_autofree char *type_text = g_variant_type_dup_string (type);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "“%s” is not a value for %s (%s)",
                   text, name,
                   g_str_equal (type_text, "b") ? "true or false"
                   : g_str_equal (type_text, "s") ? "text"
                   : "a whole number");
      return NULL;
    }

  g_variant_ref_sink (value);
  if (!g_settings_schema_key_range_check (key, value))
    {
      g_autoptr(GVariant) range = g_settings_schema_key_get_range (key);
      const char *kind;
      g_autoptr(GVariant) detail = NULL;

      g_variant_get (range, "(&sv)", &kind, &detail);
      if (g_str_equal (kind, "range"))
        {
          g_autoptr(GVariant) min = g_variant_get_child_value (detail, 0);
          g_autoptr(GVariant) max = g_variant_get_child_value (detail, 1);
          g_autofree char *min_text = g_variant_print (min, FALSE);
          g_autofree char *max_text = g_variant_print (max, FALSE);

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s goes from %s to %s", name,
                       min_text, max_text);
        }
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "“%s” is not allowed for %s",
                     text, name);
      return NULL;
    }

  /* What the policy would ignore is refused here, with the reason. */
  if (g_str_equal (name, "upload-window"))
    {
      int start, end;

      if (!eider_policy_parse_schedule (text, &start, &end, error))
        return NULL;
    }

  return g_steal_pointer (&value);
}

static GSettingsSchemaKey *
find_key (GSettings   *settings,
          const char  *name,
          GError     **error)
{
  g_autoptr(GSettingsSchema) schema = NULL;

  g_object_get (settings, "settings-schema", &schema, NULL);
  if (!g_settings_schema_has_key (schema, name))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "No setting is called “%s” (“eiderctl config get” lists them)", name);
      return NULL;
    }

  return g_settings_schema_get_key (schema, name);
}

static int
compare_names (gconstpointer a,
               gconstpointer b,
               gpointer      user_data)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

static void
print_all (GSettings  *settings,
           const char *config_dir)
{
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autofree char *backend = eider_settings_describe_backend (config_dir);
  g_auto(GStrv) keys = NULL;

  g_object_get (settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  g_qsort_with_data (keys, g_strv_length (keys), sizeof (char *), compare_names, NULL);

  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autoptr(GSettingsSchemaKey) key = g_settings_schema_get_key (schema, keys[i]);
      g_autoptr(GVariant) value = g_settings_get_value (settings, keys[i]);
      g_autofree char *text = format_value (value);

      const char *summary = g_settings_schema_key_get_summary (key);

      /* Summaries live in the schema's source, not always in its
       * compiled form. */
      if (summary != NULL)
        g_print ("%-24s %-12s %s\n", keys[i], text, summary);
      else
        g_print ("%-24s %s\n", keys[i], text);
    }
  g_print ("(stored in %s)\n", backend);
}

int
eiderctl_config (EiderctlGlobals *globals,
                 int              argc,
                 char           **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("get [KEY] | set KEY VALUE | reset KEY");
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(GSettingsSchemaKey) key = NULL;
  g_autoptr(GError) error = NULL;
  const char *action;

  g_option_context_set_summary (context,
                                "Shows or changes the settings the app and the daemon share.\n"
                                "A running daemon follows a change at once.\n"
                                "\n"
                                "  get                 every setting, its value and what it does\n"
                                "  get KEY             one value\n"
                                "  set KEY VALUE       e.g. set pause-on-metered false,\n"
                                "                      set upload-window 01:00-07:00, set bandwidth-limit 2048\n"
                                "  reset KEY           back to the default");
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc < 2 ||
      !((g_str_equal (argv[1], "get") && argc <= 3) ||
        (g_str_equal (argv[1], "set") && argc == 4) ||
        (g_str_equal (argv[1], "reset") && argc == 3)))
    {
      g_printerr ("eiderctl config: %s\n",
                  error != NULL ? error->message : "use get [KEY], set KEY VALUE or reset KEY");
      return EIDERCTL_EXIT_USAGE;
    }
  action = argv[1];

  if ((settings = eider_settings_new (globals->config_dir, &error)) == NULL ||
      (argc >= 3 && (key = find_key (settings, argv[2], &error)) == NULL))
    {
      eiderctl_error ("%s", error->message);
      return EIDERCTL_EXIT_FAILED;
    }

  if (g_str_equal (action, "get"))
    {
      if (argc == 2)
        print_all (settings, globals->config_dir);
      else
        {
          g_autoptr(GVariant) value = g_settings_get_value (settings, argv[2]);
          g_autofree char *text = format_value (value);

          g_print ("%s\n", text);
        }
      return EIDERCTL_EXIT_OK;
    }

  if (g_str_equal (action, "set"))
    {
      g_autoptr(GVariant) value = parse_value (key, argv[2], argv[3], &error);

      if (value == NULL)
        {
          eiderctl_error ("%s", error->message);
          return EIDERCTL_EXIT_FAILED;
        }
      if (!g_settings_set_value (settings, argv[2], value))
        {
          eiderctl_error ("%s cannot be changed here", argv[2]);
          return EIDERCTL_EXIT_FAILED;
        }
    }
  else
    g_settings_reset (settings, argv[2]);

  /* Written out before exiting (dconf writes asynchronously). */
  g_settings_sync ();

  {
    g_autoptr(GVariant) value = g_settings_get_value (settings, argv[2]);
    g_autofree char *text = format_value (value);

    g_print ("%s = %s\n", argv[2], text);
  }

  return EIDERCTL_EXIT_OK;
}
