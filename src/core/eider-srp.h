/* eider-srp.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "eider-crypto.h"

G_BEGIN_DECLS

/* SRP-6a as Ente speaks it (spec/ente-auth.md §4.3): RFC 5054 4096-bit group,
 * g = 5, SHA-256, every big number padded to 512 bytes, M1 = H(A‖B‖S),
 * M2 = H(A‖M1‖K). Client and server halves (the server half drives
 * eider-test-server). Big numbers use GMP's constant-time mpz_powm_sec.
 *
 * Thread contract: an EiderSrpClient or EiderSrpServer is used by one thread
 * at a time; the free functions are thread-safe.
 */

#define EIDER_SRP_BYTES      512
#define EIDER_SRP_PROOF_BYTES 32

typedef struct _EiderSrpClient EiderSrpClient;
typedef struct _EiderSrpServer EiderSrpServer;

/* v = g^x, x = H(salt ‖ H(identity ‖ ":" ‖ password)); out is PAD(v). */
void             eider_srp_compute_verifier   (const char         *identity,
                                               const guint8       *salt,
                                               gsize               salt_len,
                                               const guint8       *password,
                                               gsize               password_len,
                                               guint8              verifier_out[EIDER_SRP_BYTES]);

/* secret may be NULL for 32 random bytes; tests pass a fixed one. */
EiderSrpClient  *eider_srp_client_new         (const char         *identity,
                                               const guint8       *salt,
                                               gsize               salt_len,
                                               const EiderSecret  *password,
                                               const guint8       *secret,
                                               gsize               secret_len);
const guint8    *eider_srp_client_get_a       (EiderSrpClient     *self);
gboolean         eider_srp_client_set_b       (EiderSrpClient     *self,
                                               const guint8       *b,
                                               gsize               b_len,
                                               GError            **error);
const guint8    *eider_srp_client_get_m1      (EiderSrpClient     *self);
gboolean         eider_srp_client_verify_m2   (EiderSrpClient     *self,
                                               const guint8       *m2,
                                               gsize               m2_len,
                                               GError            **error);
void             eider_srp_client_free        (EiderSrpClient     *self);

EiderSrpServer  *eider_srp_server_new         (const guint8       *verifier,
                                               gsize               verifier_len,
                                               const guint8       *secret,
                                               gsize               secret_len);
const guint8    *eider_srp_server_get_b       (EiderSrpServer     *self);
gboolean         eider_srp_server_set_a       (EiderSrpServer     *self,
                                               const guint8       *a,
                                               gsize               a_len,
                                               GError            **error);
gboolean         eider_srp_server_verify_m1   (EiderSrpServer     *self,
                                               const guint8       *m1,
                                               gsize               m1_len,
                                               guint8              m2_out[EIDER_SRP_PROOF_BYTES]);
void             eider_srp_server_free        (EiderSrpServer     *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EiderSrpClient, eider_srp_client_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EiderSrpServer, eider_srp_server_free)

G_END_DECLS
