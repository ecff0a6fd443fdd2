/* eider-key-attributes.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-key-attributes"
#include "config.h"

#include <string.h>

#include "eider-key-attributes.h"

EiderKeyAttributes *
eider_key_attributes_generate (const char   *password,
                               guint64       ops_limit,
                               guint64       mem_limit,
                               EiderSecret **master_key_out,
                               EiderSecret **recovery_key_out,
                               EiderSecret **kek_out,
                               GError      **error)
{
  g_autoptr(EiderKeyAttributes) self = g_new0 (EiderKeyAttributes, 1);
  g_autoptr(EiderSecret) master_key = NULL;
  g_autoptr(EiderSecret) recovery_key = NULL;
  g_autoptr(EiderSecret) kek = NULL;
  g_autoptr(EiderSecret) secret_key = NULL;
  guint8 salt[EIDER_SALT_BYTES];
  guint8 public_key[EIDER_KEY_BYTES];
  g_autoptr(EiderSecret) salt_secret = NULL;

  g_return_val_if_fail (password != NULL, NULL);

  master_key = eider_secret_new_random (EIDER_KEY_BYTES);
  recovery_key = eider_secret_new_random (EIDER_KEY_BYTES);
  salt_secret = eider_secret_new_random (EIDER_SALT_BYTES);
  memcpy (salt, eider_secret_peek (salt_secret), sizeof salt);

  kek = eider_crypto_derive_kek (password, salt, ops_limit, mem_limit, error);
  if (kek == NULL)
    return NULL;

  eider_box_keypair (public_key, &secret_key);

  self->kek_salt = eider_base64_encode (salt, sizeof salt);
  self->ops_limit = ops_limit;
  self->mem_limit = mem_limit;
  self->public_key = eider_base64_encode (public_key, sizeof public_key);
  eider_crypto_wrap_key (master_key, kek,
                         &self->encrypted_key, &self->key_decryption_nonce);
  eider_crypto_wrap_key (secret_key, master_key,
                         &self->encrypted_secret_key, &self->secret_key_decryption_nonce);
  eider_crypto_wrap_key (master_key, recovery_key,
                         &self->master_key_encrypted_with_recovery_key,
                         &self->master_key_decryption_nonce);
  eider_crypto_wrap_key (recovery_key, master_key,
                         &self->recovery_key_encrypted_with_master_key,
                         &self->recovery_key_decryption_nonce);

  if (master_key_out != NULL)
    *master_key_out = g_steal_pointer (&master_key);
  if (recovery_key_out != NULL)
    *recovery_key_out = g_steal_pointer (&recovery_key);
  if (kek_out != NULL)
    *kek_out = g_steal_pointer (&kek);

  return g_steal_pointer (&self);
}

/* Go encodes unset optional fields as "": treat that as absent. */
static char *
dup_optional_string (JsonObject *object,
                     const char *member)
{
  const char *value = json_object_get_string_member_with_default (object, member, NULL);

  return value != NULL && value[0] != '\0' ? g_strdup (value) : NULL;
}

EiderKeyAttributes *
eider_key_attributes_from_json (JsonObject  *object,
                                GError     **error)
{
  static const char * const required[] = {
    "kekSalt", "encryptedKey", "keyDecryptionNonce", "publicKey",
    "encryptedSecretKey", "secretKeyDecryptionNonce",
  };
  g_autoptr(EiderKeyAttributes) self = NULL;

  g_return_val_if_fail (object != NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (required); i++)
    {
      JsonNode *node = json_object_get_member (object, required[i]);

      if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
          json_node_get_value_type (node) != G_TYPE_STRING)
        {
          g_set_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_FAILED,
                       "The account's key attributes lack “%s”", required[i]);
          return NULL;
        }
    }

  if (json_object_get_int_member_with_default (object, "opsLimit", 0) <= 0 ||
      json_object_get_int_member_with_default (object, "memLimit", 0) <= 0)
    {
      g_set_error_literal (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_FAILED,
                           "The account's key attributes lack the key derivation limits");
      return NULL;
    }

  self = g_new0 (EiderKeyAttributes, 1);
  self->kek_salt = g_strdup (json_object_get_string_member (object, "kekSalt"));
  self->ops_limit = json_object_get_int_member (object, "opsLimit");
  self->mem_limit = json_object_get_int_member (object, "memLimit");
  self->encrypted_key = g_strdup (json_object_get_string_member (object, "encryptedKey"));
  self->key_decryption_nonce = g_strdup (json_object_get_string_member (object, "keyDecryptionNonce"));
  self->public_key = g_strdup (json_object_get_string_member (object, "publicKey"));
  self->encrypted_secret_key = g_strdup (json_object_get_string_member (object, "encryptedSecretKey"));
  self->secret_key_decryption_nonce =
    g_strdup (json_object_get_string_member (object, "secretKeyDecryptionNonce"));
  self->master_key_encrypted_with_recovery_key =
    dup_optional_string (object, "masterKeyEncryptedWithRecoveryKey");
  self->master_key_decryption_nonce = dup_optional_string (object, "masterKeyDecryptionNonce");
  self->recovery_key_encrypted_with_master_key =
    dup_optional_string (object, "recoveryKeyEncryptedWithMasterKey");
  self->recovery_key_decryption_nonce = dup_optional_string (object, "recoveryKeyDecryptionNonce");

  return g_steal_pointer (&self);
}

JsonNode *
eider_key_attributes_to_json (const EiderKeyAttributes *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (self != NULL, NULL);

  /* The web client's key order. */
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "encryptedKey");
  json_builder_add_string_value (builder, self->encrypted_key);
  json_builder_set_member_name (builder, "keyDecryptionNonce");
  json_builder_add_string_value (builder, self->key_decryption_nonce);
  json_builder_set_member_name (builder, "kekSalt");
  json_builder_add_string_value (builder, self->kek_salt);
  json_builder_set_member_name (builder, "opsLimit");
  json_builder_add_int_value (builder, self->ops_limit);
  json_builder_set_member_name (builder, "memLimit");
  json_builder_add_int_value (builder, self->mem_limit);
  json_builder_set_member_name (builder, "publicKey");
  json_builder_add_string_value (builder, self->public_key);
  json_builder_set_member_name (builder, "encryptedSecretKey");
  json_builder_add_string_value (builder, self->encrypted_secret_key);
  json_builder_set_member_name (builder, "secretKeyDecryptionNonce");
  json_builder_add_string_value (builder, self->secret_key_decryption_nonce);
  if (self->master_key_encrypted_with_recovery_key != NULL)
    {
      json_builder_set_member_name (builder, "masterKeyEncryptedWithRecoveryKey");
      json_builder_add_string_value (builder, self->master_key_encrypted_with_recovery_key);
      json_builder_set_member_name (builder, "masterKeyDecryptionNonce");
      json_builder_add_string_value (builder, self->master_key_decryption_nonce);
    }
  if (self->recovery_key_encrypted_with_master_key != NULL)
    {
      json_builder_set_member_name (builder, "recoveryKeyEncryptedWithMasterKey");
      json_builder_add_string_value (builder, self->recovery_key_encrypted_with_master_key);
      json_builder_set_member_name (builder, "recoveryKeyDecryptionNonce");
      json_builder_add_string_value (builder, self->recovery_key_decryption_nonce);
    }
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

EiderKeyAttributes *
eider_key_attributes_copy (const EiderKeyAttributes *self)
{
  EiderKeyAttributes *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_new0 (EiderKeyAttributes, 1);
  copy->kek_salt = g_strdup (self->kek_salt);
  copy->ops_limit = self->ops_limit;
  copy->mem_limit = self->mem_limit;
  copy->encrypted_key = g_strdup (self->encrypted_key);
  copy->key_decryption_nonce = g_strdup (self->key_decryption_nonce);
  copy->public_key = g_strdup (self->public_key);
  copy->encrypted_secret_key = g_strdup (self->encrypted_secret_key);
  copy->secret_key_decryption_nonce = g_strdup (self->secret_key_decryption_nonce);
  copy->master_key_encrypted_with_recovery_key = g_strdup (self->master_key_encrypted_with_recovery_key);
  copy->master_key_decryption_nonce = g_strdup (self->master_key_decryption_nonce);
  copy->recovery_key_encrypted_with_master_key = g_strdup (self->recovery_key_encrypted_with_master_key);
  copy->recovery_key_decryption_nonce = g_strdup (self->recovery_key_decryption_nonce);

  return copy;
}

EiderSecret *
eider_key_attributes_unlock (const EiderKeyAttributes  *self,
                             const EiderSecret         *kek,
                             GError                   **error)
{
  g_autoptr(GError) local_error = NULL;
  EiderSecret *master_key;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (kek != NULL, NULL);

  master_key = eider_crypto_unwrap_key (self->encrypted_key, self->key_decryption_nonce,
                                        kek, &local_error);
  if (master_key == NULL)
    {
      /* Failing to open encryptedKey is how Ente detects a wrong password. */
      if (g_error_matches (local_error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_WRONG_KEY))
        g_set_error_literal (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_WRONG_KEY,
                             "Incorrect password");
      else
        g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                    "The account's encrypted key is unreadable: ");
      return NULL;
    }

  return master_key;
}

EiderSecret *
eider_key_attributes_recover (const EiderKeyAttributes  *self,
                              const EiderSecret         *recovery_key,
                              GError                   **error)
{
  g_autoptr(GError) local_error = NULL;
  EiderSecret *master_key;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (recovery_key != NULL, NULL);

  if (self->master_key_encrypted_with_recovery_key == NULL)
    {
      g_set_error_literal (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_FAILED,
                           "This account has no recovery key");
      return NULL;
    }

  master_key = eider_crypto_unwrap_key (self->master_key_encrypted_with_recovery_key,
                                        self->master_key_decryption_nonce,
                                        recovery_key, &local_error);
  if (master_key == NULL)
    {
      if (g_error_matches (local_error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_WRONG_KEY))
        g_set_error_literal (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_WRONG_KEY,
                             "Incorrect recovery key");
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return master_key;
}

EiderSecret *
eider_key_attributes_open_secret_key (const EiderKeyAttributes  *self,
                                      const EiderSecret         *master_key,
                                      GError                   **error)
{
  g_return_val_if_fail (self != NULL, NULL);

  return eider_crypto_unwrap_key (self->encrypted_secret_key, self->secret_key_decryption_nonce,
                                  master_key, error);
}

EiderSecret *
eider_key_attributes_open_recovery_key (const EiderKeyAttributes  *self,
                                        const EiderSecret         *master_key,
                                        GError                   **error)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->recovery_key_encrypted_with_master_key == NULL)
    {
      g_set_error_literal (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_FAILED,
                           "This account has no recovery key");
      return NULL;
    }

  return eider_crypto_unwrap_key (self->recovery_key_encrypted_with_master_key,
                                  self->recovery_key_decryption_nonce, master_key, error);
}

void
eider_key_attributes_free (EiderKeyAttributes *self)
{
  if (self == NULL)
    return;

  g_free (self->kek_salt);
  g_free (self->encrypted_key);
  g_free (self->key_decryption_nonce);
  g_free (self->public_key);
  g_free (self->encrypted_secret_key);
  g_free (self->secret_key_decryption_nonce);
  g_free (self->master_key_encrypted_with_recovery_key);
  g_free (self->master_key_decryption_nonce);
  g_free (self->recovery_key_encrypted_with_master_key);
  g_free (self->recovery_key_decryption_nonce);
  g_free (self);
}
