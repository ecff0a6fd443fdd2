/* eider-key-attributes.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "eider-crypto.h"

G_BEGIN_DECLS

/* An account's keyAttributes (spec/ente-auth.md §3.1): generation at signup,
 * JSON in the web client's key order, and unlocking with the password or
 * recovery key. All binary fields are standard padded base64 strings.
 *
 * Thread contract: plain data; any thread, one at a time.
 */

typedef struct
{
  char    *kek_salt;
  guint64  ops_limit;
  guint64  mem_limit;
  char    *encrypted_key;
  char    *key_decryption_nonce;
  char    *public_key;
  char    *encrypted_secret_key;
  char    *secret_key_decryption_nonce;
  char    *master_key_encrypted_with_recovery_key;
  char    *master_key_decryption_nonce;
  char    *recovery_key_encrypted_with_master_key;
  char    *recovery_key_decryption_nonce;
} EiderKeyAttributes;

/* Random draws, in this order: master key, recovery key, kekSalt, X25519
 * secret key, then the nonces of encryptedKey, encryptedSecretKey,
 * masterKeyEncryptedWithRecoveryKey and recoveryKeyEncryptedWithMasterKey. */
EiderKeyAttributes *eider_key_attributes_generate         (const char                *password,
                                                           guint64                    ops_limit,
                                                           guint64                    mem_limit,
                                                           EiderSecret              **master_key_out,
                                                           EiderSecret              **recovery_key_out,
                                                           EiderSecret              **kek_out,
                                                           GError                   **error);
EiderKeyAttributes *eider_key_attributes_from_json        (JsonObject                *object,
                                                           GError                   **error);
JsonNode           *eider_key_attributes_to_json          (const EiderKeyAttributes  *self);
EiderKeyAttributes *eider_key_attributes_copy             (const EiderKeyAttributes  *self);
EiderSecret        *eider_key_attributes_unlock           (const EiderKeyAttributes  *self,
                                                           const EiderSecret         *kek,
                                                           GError                   **error);
EiderSecret        *eider_key_attributes_recover          (const EiderKeyAttributes  *self,
                                                           const EiderSecret         *recovery_key,
                                                           GError                   **error);
EiderSecret        *eider_key_attributes_open_secret_key  (const EiderKeyAttributes  *self,
                                                           const EiderSecret         *master_key,
                                                           GError                   **error);
EiderSecret        *eider_key_attributes_open_recovery_key (const EiderKeyAttributes *self,
                                                            const EiderSecret        *master_key,
                                                            GError                  **error);
void                eider_key_attributes_free             (EiderKeyAttributes        *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EiderKeyAttributes, eider_key_attributes_free)

G_END_DECLS
