/* eider-secret-store.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-secret-store"
#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsecret/secret.h>
#include <sodium.h>

#include "eider-secret-store.h"

G_DEFINE_QUARK (eider-secret-store-error-quark, eider_secret_store_error)

/* The payload: "eider1:<master key, standard base64>:<token>". It is built in
 * guarded memory and handed to libsecret, which keeps its copy in
 * non-pageable memory. */
#define PAYLOAD_PREFIX "eider1:"

struct _EiderSecretStore
{
  GObject             parent_instance;

  EiderSecretBackend  backend;
  char               *path;
};

G_DEFINE_FINAL_TYPE (EiderSecretStore, eider_secret_store, G_TYPE_OBJECT)

static const SecretSchema *
account_schema (void)
{
  static const SecretSchema schema = {
    "io.github.eiderapp.Eider.Account", SECRET_SCHEMA_NONE,
    {
      { "endpoint", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "email", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };

  return &schema;
}

static void
eider_secret_store_finalize (GObject *object)
{
  EiderSecretStore *self = (EiderSecretStore *) object;

  g_clear_pointer (&self->path, g_free);

  G_OBJECT_CLASS (eider_secret_store_parent_class)->finalize (object);
}

static void
eider_secret_store_class_init (EiderSecretStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = eider_secret_store_finalize;
}

static void
eider_secret_store_init (EiderSecretStore *self)
{
}

/**
 * eider_secret_store_new:
 * @file_path: (nullable): the secrets file, for %EIDER_SECRET_BACKEND_FILE
 */
EiderSecretStore *
eider_secret_store_new (EiderSecretBackend  backend,
                        const char         *file_path)
{
  EiderSecretStore *self = g_object_new (EIDER_TYPE_SECRET_STORE, NULL);

  g_return_val_if_fail (backend == EIDER_SECRET_BACKEND_KEYRING || file_path != NULL, self);

  self->backend = backend;
  self->path = g_strdup (file_path);

  return self;
}

EiderSecretBackend
eider_secret_store_get_backend (EiderSecretStore *self)
{
  g_return_val_if_fail (EIDER_IS_SECRET_STORE (self), EIDER_SECRET_BACKEND_KEYRING);

  return self->backend;
}

const char *
eider_secret_store_get_path (EiderSecretStore *self)
{
  g_return_val_if_fail (EIDER_IS_SECRET_STORE (self), NULL);

  return self->path;
}

static EiderSecret *
build_payload (const EiderSecret *master_key,
               const EiderSecret *token)
{
  gsize key_b64_len = sodium_base64_ENCODED_LEN (eider_secret_get_size (master_key),
                                                 sodium_base64_VARIANT_ORIGINAL);
  gsize token_len = strlen ((const char *) eider_secret_peek (token));
  gsize prefix_len = strlen (PAYLOAD_PREFIX);
  g_autoptr(EiderSecret) payload = eider_secret_new (prefix_len + key_b64_len + 1 + token_len + 1);
  char *p = (char *) eider_secret_get_data (payload);

  memcpy (p, PAYLOAD_PREFIX, prefix_len);
  p += prefix_len;
  sodium_bin2base64 (p, key_b64_len, eider_secret_peek (master_key),
                     eider_secret_get_size (master_key), sodium_base64_VARIANT_ORIGINAL);
  p += key_b64_len - 1;
  *p++ = ':';
  memcpy (p, eider_secret_peek (token), token_len);
  p[token_len] = '\0';

  return g_steal_pointer (&payload);
}

static gboolean
parse_payload (const char    *payload,
               EiderSecret  **master_key,
               EiderSecret  **token,
               GError       **error)
{
  const char *key_start;
  const char *colon;
  g_autoptr(EiderSecret) key_b64 = NULL;
  g_autoptr(EiderSecret) key = NULL;

  if (payload == NULL || !g_str_has_prefix (payload, PAYLOAD_PREFIX) ||
      (colon = strchr (payload + strlen (PAYLOAD_PREFIX), ':')) == NULL)
    {
      g_set_error_literal (error, EIDER_SECRET_STORE_ERROR, EIDER_SECRET_STORE_ERROR_FAILED,
                           "The stored account secrets are unreadable");
      return FALSE;
    }

  key_start = payload + strlen (PAYLOAD_PREFIX);
  key_b64 = eider_secret_new (colon - key_start + 1);
  memcpy (eider_secret_get_data (key_b64), key_start, colon - key_start);

  key = eider_base64_decode_secret ((const char *) eider_secret_peek (key_b64), EIDER_KEY_BYTES, error);
  if (key == NULL)
    return FALSE;

  *master_key = g_steal_pointer (&key);
  *token = eider_secret_new_from_data ((const guint8 *) colon + 1, strlen (colon + 1) + 1);

  return TRUE;
}

static char *
file_entry_name (const char *endpoint,
                 const char *email)
{
  return g_strconcat (endpoint, " ", email, NULL);
}

/* The secrets file maps "endpoint email" to a payload. It is only ever
 * written with mode 0600, in a 0700 directory. */
static JsonObject *
file_read (EiderSecretStore  *self,
           GError           **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  if (!json_parser_load_from_mapped_file (parser, self->path, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return json_object_new ();

      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "Could not read the secrets file %s: ", self->path);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, EIDER_SECRET_STORE_ERROR, EIDER_SECRET_STORE_ERROR_FAILED,
                   "The secrets file %s is damaged", self->path);
      return NULL;
    }

  return json_object_ref (json_node_get_object (root));
}

static gboolean
file_write (EiderSecretStore  *self,
            JsonObject        *object,
            GError           **error)
{
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *dir = g_path_get_dirname (self->path);
  char *text;
  gsize len;
  gboolean ok;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv),
                   "Could not create %s: %s", dir, g_strerror (errsv));
      return FALSE;
    }

  json_node_set_object (root, object);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &len);
  ok = g_file_set_contents_full (self->path, text, len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_ONLY_EXISTING,
                                 0600, error);
  sodium_memzero (text, len);
  g_free (text);

  return ok;
}

static GError *
keyring_unavailable (const GError *cause)
{
  return g_error_new (EIDER_SECRET_STORE_ERROR, EIDER_SECRET_STORE_ERROR_UNAVAILABLE,
                      "No keyring (Secret Service) is available to keep the account's keys: %s. "
                      "Start one (for example gnome-keyring), or, on a machine without a desktop, "
                      "allow a file readable only by you with --store-secrets-in-file",
                      cause->message);
}

/**
 * eider_secret_store_probe:
 *
 * Checks that secrets can be kept before anything that needs them is done
 * (a sign-up must not create an account whose keys cannot be stored).
 */
gboolean
eider_secret_store_probe (EiderSecretStore  *self,
                          GError           **error)
{
  g_return_val_if_fail (EIDER_IS_SECRET_STORE (self), FALSE);

  if (self->backend == EIDER_SECRET_BACKEND_KEYRING)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(SecretService) service = NULL;

      g_autoptr(SecretCollection) collection = NULL;

      service = secret_service_get_sync (SECRET_SERVICE_OPEN_SESSION, NULL, &local_error);
      if (service != NULL)
        collection = secret_collection_for_alias_sync (service, SECRET_COLLECTION_DEFAULT,
                                                       SECRET_COLLECTION_NONE, NULL, &local_error);
      if (service == NULL || local_error != NULL)
        {
          g_propagate_error (error, keyring_unavailable (local_error));
          return FALSE;
        }

      if (collection == NULL)
        {
          g_set_error_literal (error, EIDER_SECRET_STORE_ERROR, EIDER_SECRET_STORE_ERROR_UNAVAILABLE,
                               "The keyring has no default collection to keep the account's keys "
                               "in: set one up (for example by logging into a desktop session), or "
                               "allow a file readable only by you with --store-secrets-in-file");
          return FALSE;
        }

      return TRUE;
    }
  else
    {
      g_autoptr(JsonObject) object = file_read (self, error);

      return object != NULL && file_write (self, object, error);
    }
}

gboolean
eider_secret_store_save (EiderSecretStore   *self,
                         const char         *endpoint,
                         const char         *email,
                         const EiderSecret  *master_key,
                         const EiderSecret  *token,
                         GError            **error)
{
  g_autoptr(EiderSecret) payload = NULL;

  g_return_val_if_fail (EIDER_IS_SECRET_STORE (self), FALSE);
  g_return_val_if_fail (endpoint != NULL && email != NULL, FALSE);
  g_return_val_if_fail (master_key != NULL && token != NULL, FALSE);

  payload = build_payload (master_key, token);

  if (self->backend == EIDER_SECRET_BACKEND_KEYRING)
    {
      g_autoptr(GError) local_error = NULL;
      g_autofree char *label = g_strdup_printf ("Eider: Ente account %s on %s", email, endpoint);

      if (!secret_password_store_sync (account_schema (), SECRET_COLLECTION_DEFAULT, label,
                                       (const char *) eider_secret_peek (payload), NULL, &local_error,
                                       "endpoint", endpoint, "email", email, NULL))
        {
          if (local_error->domain == G_DBUS_ERROR || local_error->domain == G_IO_ERROR ||
              local_error->domain == G_SPAWN_ERROR)
            g_propagate_error (error, keyring_unavailable (local_error));
          else
            g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                        "Could not save the account's keys in the keyring: ");
          return FALSE;
        }

      return TRUE;
    }
  else
    {
      g_autoptr(JsonObject) object = file_read (self, error);
      g_autofree char *name = file_entry_name (endpoint, email);
      gboolean ok;

      if (object == NULL)
        return FALSE;

      json_object_set_string_member (object, name, (const char *) eider_secret_peek (payload));
      ok = file_write (self, object, error);

      /* Wipe the copy json-glib made. */
      {
        char *copy = (char *) json_object_get_string_member (object, name);

        sodium_memzero (copy, strlen (copy));
      }

      return ok;
    }
}

gboolean
eider_secret_store_load (EiderSecretStore   *self,
                         const char         *endpoint,
                         const char         *email,
                         EiderSecret       **master_key,
                         EiderSecret       **token,
                         GError            **error)
{
  g_return_val_if_fail (EIDER_IS_SECRET_STORE (self), FALSE);
  g_return_val_if_fail (master_key != NULL && token != NULL, FALSE);

  if (self->backend == EIDER_SECRET_BACKEND_KEYRING)
    {
      g_autoptr(GError) local_error = NULL;
      char *payload;
      gboolean ok;

      payload = secret_password_lookup_sync (account_schema (), NULL, &local_error,
                                             "endpoint", endpoint, "email", email, NULL);
      if (local_error != NULL)
        {
          if (local_error->domain == G_DBUS_ERROR || local_error->domain == G_IO_ERROR ||
              local_error->domain == G_SPAWN_ERROR)
            g_propagate_error (error, keyring_unavailable (local_error));
          else
            g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }

      if (payload == NULL)
        {
          g_set_error (error, EIDER_SECRET_STORE_ERROR, EIDER_SECRET_STORE_ERROR_NOT_FOUND,
                       "The keyring holds no keys for %s on %s", email, endpoint);
          return FALSE;
        }

      ok = parse_payload (payload, master_key, token, error);
      secret_password_free (payload);

      return ok;
    }
  else
    {
      g_autoptr(JsonObject) object = file_read (self, error);
      g_autofree char *name = file_entry_name (endpoint, email);
      const char *payload;

      if (object == NULL)
        return FALSE;

      payload = json_object_get_string_member_with_default (object, name, NULL);
      if (payload == NULL)
        {
          g_set_error (error, EIDER_SECRET_STORE_ERROR, EIDER_SECRET_STORE_ERROR_NOT_FOUND,
                       "%s holds no keys for %s on %s", self->path, email, endpoint);
          return FALSE;
        }

      return parse_payload (payload, master_key, token, error);
    }
}

gboolean
eider_secret_store_clear (EiderSecretStore  *self,
                          const char        *endpoint,
                          const char        *email,
                          GError           **error)
{
  g_return_val_if_fail (EIDER_IS_SECRET_STORE (self), FALSE);

  if (self->backend == EIDER_SECRET_BACKEND_KEYRING)
    {
      g_autoptr(GError) local_error = NULL;

      secret_password_clear_sync (account_schema (), NULL, &local_error,
                                  "endpoint", endpoint, "email", email, NULL);
      if (local_error != NULL)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "Could not remove the account's keys from the keyring: ");
          return FALSE;
        }

      return TRUE;
    }
  else
    {
      g_autoptr(JsonObject) object = file_read (self, error);
      g_autofree char *name = file_entry_name (endpoint, email);

      if (object == NULL)
        return FALSE;

      if (!json_object_has_member (object, name))
        return TRUE;

      json_object_remove_member (object, name);
      if (json_object_get_size (object) == 0)
        {
          if (g_unlink (self->path) != 0 && errno != ENOENT)
            {
              int errsv = errno;

              g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv),
                           "Could not remove %s: %s", self->path, g_strerror (errsv));
              return FALSE;
            }
          return TRUE;
        }

      return file_write (self, object, error);
    }
}
