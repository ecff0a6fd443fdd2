/* eider-secret-store.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "eider-crypto.h"

G_BEGIN_DECLS

/* Where an account's master key and auth token are kept: the Secret Service
 * (the desktop keyring, through libsecret), or — only when the user asks for
 * it, on machines without one — a file readable by the user alone (0600).
 *
 * Thread contract: main-thread only; calls block briefly on D-Bus.
 */

#define EIDER_SECRET_STORE_ERROR (eider_secret_store_error_quark ())

typedef enum
{
  EIDER_SECRET_STORE_ERROR_UNAVAILABLE,
  EIDER_SECRET_STORE_ERROR_NOT_FOUND,
  EIDER_SECRET_STORE_ERROR_FAILED,
} EiderSecretStoreError;

typedef enum
{
  EIDER_SECRET_BACKEND_KEYRING,
  EIDER_SECRET_BACKEND_FILE,
} EiderSecretBackend;

GQuark eider_secret_store_error_quark (void);

#define EIDER_TYPE_SECRET_STORE (eider_secret_store_get_type ())
G_DECLARE_FINAL_TYPE (EiderSecretStore, eider_secret_store, EIDER, SECRET_STORE, GObject)

EiderSecretStore   *eider_secret_store_new         (EiderSecretBackend   backend,
                                                    const char          *file_path);
EiderSecretBackend  eider_secret_store_get_backend (EiderSecretStore    *self);
const char         *eider_secret_store_get_path    (EiderSecretStore    *self);
gboolean            eider_secret_store_probe       (EiderSecretStore    *self,
                                                    GError             **error);
gboolean            eider_secret_store_save        (EiderSecretStore    *self,
                                                    const char          *endpoint,
                                                    const char          *email,
                                                    const EiderSecret   *master_key,
                                                    const EiderSecret   *token,
                                                    GError             **error);
gboolean            eider_secret_store_load        (EiderSecretStore    *self,
                                                    const char          *endpoint,
                                                    const char          *email,
                                                    EiderSecret        **master_key,
                                                    EiderSecret        **token,
                                                    GError             **error);
gboolean            eider_secret_store_clear       (EiderSecretStore    *self,
                                                    const char          *endpoint,
                                                    const char          *email,
                                                    GError             **error);

G_END_DECLS
