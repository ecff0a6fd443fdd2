/* eider-srp.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-srp"
#include "config.h"

#include <string.h>
#include <gmp.h>
#include <sodium.h>

#include "eider-srp.h"

/* RFC 3526 group 16 / RFC 5054 Appendix A, 4096 bits. */
static const char srp_n_hex[] =
  "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
  "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
  "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
  "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
  "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
  "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
  "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
  "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
  "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
  "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
  "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
  "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7"
  "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8"
  "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2"
  "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9"
  "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF";

#define SRP_G 5
#define SRP_SECRET_BYTES 32

typedef struct
{
  mpz_t n;
  mpz_t g;
  mpz_t k;
} SrpGroup;

static const SrpGroup *
srp_group (void)
{
  static SrpGroup *group;

  if (g_once_init_enter (&group))
    {
      SrpGroup *gr = g_new0 (SrpGroup, 1);
      guint8 buf[2 * EIDER_SRP_BYTES];
      guint8 k[crypto_hash_sha256_BYTES];
      size_t count = 0;

      mpz_init_set_str (gr->n, srp_n_hex, 16);
      mpz_init_set_ui (gr->g, SRP_G);

      /* k = H(PAD(N) ‖ PAD(g)) */
      memset (buf, 0, sizeof buf);
      mpz_export (buf, &count, 1, 1, 1, 0, gr->n);
      g_assert (count == EIDER_SRP_BYTES);
      buf[sizeof buf - 1] = SRP_G;
      crypto_hash_sha256 (k, buf, sizeof buf);
      mpz_init (gr->k);
      mpz_import (gr->k, sizeof k, 1, 1, 1, 0, k);

      g_once_init_leave (&group, gr);
    }

  return group;
}

/* Big-endian, left-padded with zeros to 512 bytes. */
static void
pad_export (guint8       out[EIDER_SRP_BYTES],
            const mpz_t  value)
{
  size_t count = (mpz_sizeinbase (value, 2) + 7) / 8;

  g_assert (count <= EIDER_SRP_BYTES);
  memset (out, 0, EIDER_SRP_BYTES);
  if (mpz_sgn (value) != 0)
    mpz_export (out + EIDER_SRP_BYTES - count, NULL, 1, 1, 1, 0, value);
}

static void
import_bytes (mpz_t         out,
              const guint8 *data,
              gsize         len)
{
  mpz_import (out, len, 1, 1, 1, 0, data);
}

static void
clear_secret_mpz (mpz_t value)
{
  /* Overwrite the limbs before GMP frees them. */
  if (value->_mp_alloc > 0)
    sodium_memzero (value->_mp_d, value->_mp_alloc * sizeof (mp_limb_t));
  mpz_clear (value);
}

/* x = H(salt ‖ H(identity ‖ ":" ‖ password)) */
static void
compute_x (mpz_t         x,
           const char   *identity,
           const guint8 *salt,
           gsize         salt_len,
           const guint8 *password,
           gsize         password_len)
{
  crypto_hash_sha256_state st;
  guint8 inner[crypto_hash_sha256_BYTES];
  guint8 outer[crypto_hash_sha256_BYTES];

  crypto_hash_sha256_init (&st);
  crypto_hash_sha256_update (&st, (const guint8 *) identity, strlen (identity));
  crypto_hash_sha256_update (&st, (const guint8 *) ":", 1);
  crypto_hash_sha256_update (&st, password, password_len);
  crypto_hash_sha256_final (&st, inner);

  crypto_hash_sha256_init (&st);
  crypto_hash_sha256_update (&st, salt, salt_len);
  crypto_hash_sha256_update (&st, inner, sizeof inner);
  crypto_hash_sha256_final (&st, outer);

  import_bytes (x, outer, sizeof outer);
  sodium_memzero (inner, sizeof inner);
  sodium_memzero (outer, sizeof outer);
}

/* u = H(PAD(A) ‖ PAD(B)) */
static void
compute_u (mpz_t        u,
           const guint8 a[EIDER_SRP_BYTES],
           const guint8 b[EIDER_SRP_BYTES])
{
  crypto_hash_sha256_state st;
  guint8 h[crypto_hash_sha256_BYTES];

  crypto_hash_sha256_init (&st);
  crypto_hash_sha256_update (&st, a, EIDER_SRP_BYTES);
  crypto_hash_sha256_update (&st, b, EIDER_SRP_BYTES);
  crypto_hash_sha256_final (&st, h);
  import_bytes (u, h, sizeof h);
}

/* M1 = H(PAD(A) ‖ PAD(B) ‖ PAD(S)), K = H(PAD(S)), M2 = H(PAD(A) ‖ M1 ‖ K) */
static void
compute_proofs (const guint8 a[EIDER_SRP_BYTES],
                const guint8 b[EIDER_SRP_BYTES],
                const mpz_t  s,
                guint8       m1[EIDER_SRP_PROOF_BYTES],
                guint8       m2[EIDER_SRP_PROOF_BYTES])
{
  crypto_hash_sha256_state st;
  guint8 s_pad[EIDER_SRP_BYTES];
  guint8 k[crypto_hash_sha256_BYTES];

  pad_export (s_pad, s);
  crypto_hash_sha256 (k, s_pad, sizeof s_pad);

  crypto_hash_sha256_init (&st);
  crypto_hash_sha256_update (&st, a, EIDER_SRP_BYTES);
  crypto_hash_sha256_update (&st, b, EIDER_SRP_BYTES);
  crypto_hash_sha256_update (&st, s_pad, sizeof s_pad);
  crypto_hash_sha256_final (&st, m1);

  crypto_hash_sha256_init (&st);
  crypto_hash_sha256_update (&st, a, EIDER_SRP_BYTES);
  crypto_hash_sha256_update (&st, m1, EIDER_SRP_PROOF_BYTES);
  crypto_hash_sha256_update (&st, k, sizeof k);
  crypto_hash_sha256_final (&st, m2);

  sodium_memzero (s_pad, sizeof s_pad);
  sodium_memzero (k, sizeof k);
}

/* Rejects values that are not exactly one padded group element or that are
 * 0 mod N (which would let a peer force a known shared secret). */
static gboolean
check_public_value (const guint8  *value,
                    gsize          len,
                    const char    *name,
                    mpz_t          out,
                    GError       **error)
{
  const SrpGroup *gr = srp_group ();
  mpz_t r;
  gboolean ok;

  if (len != EIDER_SRP_BYTES)
    {
      g_set_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_BAD_LENGTH,
                   "Invalid length for %s: %" G_GSIZE_FORMAT " bytes, expected %d",
                   name, len, EIDER_SRP_BYTES);
      return FALSE;
    }

  import_bytes (out, value, len);
  mpz_init (r);
  mpz_mod (r, out, gr->n);
  ok = mpz_sgn (r) != 0 && mpz_cmp (out, gr->n) < 0;
  mpz_clear (r);

  if (!ok)
    {
      g_set_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_FAILED,
                   "The %s value is not a valid SRP group element", name);
      return FALSE;
    }

  return TRUE;
}

void
eider_srp_compute_verifier (const char   *identity,
                            const guint8 *salt,
                            gsize         salt_len,
                            const guint8 *password,
                            gsize         password_len,
                            guint8        verifier_out[EIDER_SRP_BYTES])
{
  const SrpGroup *gr = srp_group ();
  mpz_t x;
  mpz_t v;

  g_return_if_fail (identity != NULL);

  mpz_inits (x, v, NULL);
  compute_x (x, identity, salt, salt_len, password, password_len);
  mpz_powm_sec (v, gr->g, x, gr->n);
  pad_export (verifier_out, v);
  clear_secret_mpz (x);
  mpz_clear (v);
}

/* Client */

struct _EiderSrpClient
{
  mpz_t  x;
  mpz_t  a;
  guint8 a_pub[EIDER_SRP_BYTES];
  guint8 m1[EIDER_SRP_PROOF_BYTES];
  guint8 m2[EIDER_SRP_PROOF_BYTES];
  guint  have_b : 1;
};

EiderSrpClient *
eider_srp_client_new (const char         *identity,
                      const guint8       *salt,
                      gsize               salt_len,
                      const EiderSecret  *password,
                      const guint8       *secret,
                      gsize               secret_len)
{
  const SrpGroup *gr = srp_group ();
  EiderSrpClient *self;
  guint8 random_secret[SRP_SECRET_BYTES];
  mpz_t a_pub;

  g_return_val_if_fail (identity != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);

  self = g_new0 (EiderSrpClient, 1);
  mpz_inits (self->x, self->a, a_pub, NULL);

  compute_x (self->x, identity, salt, salt_len,
             eider_secret_peek (password), eider_secret_get_size (password));

  if (secret == NULL)
    {
      randombytes_buf (random_secret, sizeof random_secret);
      secret = random_secret;
      secret_len = sizeof random_secret;
    }
  import_bytes (self->a, secret, secret_len);
  sodium_memzero (random_secret, sizeof random_secret);

  /* A = g^a mod N, sent as PAD(A). */
  mpz_powm_sec (a_pub, gr->g, self->a, gr->n);
  pad_export (self->a_pub, a_pub);
  mpz_clear (a_pub);

  return self;
}

const guint8 *
eider_srp_client_get_a (EiderSrpClient *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->a_pub;
}

gboolean
eider_srp_client_set_b (EiderSrpClient  *self,
                        const guint8    *b,
                        gsize            b_len,
                        GError         **error)
{
  const SrpGroup *gr = srp_group ();
  guint8 b_pad[EIDER_SRP_BYTES];
  mpz_t b_pub, u, base, exp, s, tmp;

  g_return_val_if_fail (self != NULL, FALSE);

  mpz_inits (b_pub, u, base, exp, s, tmp, NULL);

  if (!check_public_value (b, b_len, "srpB", b_pub, error))
    {
      mpz_clears (b_pub, u, base, exp, s, tmp, NULL);
      return FALSE;
    }

  pad_export (b_pad, b_pub);
  compute_u (u, self->a_pub, b_pad);

  /* S = (B − k·g^x)^(a + u·x) mod N */
  mpz_powm_sec (tmp, gr->g, self->x, gr->n);
  mpz_mul (tmp, tmp, gr->k);
  mpz_sub (base, b_pub, tmp);
  mpz_mod (base, base, gr->n);
  mpz_mul (exp, u, self->x);
  mpz_add (exp, exp, self->a);
  mpz_powm_sec (s, base, exp, gr->n);

  compute_proofs (self->a_pub, b_pad, s, self->m1, self->m2);
  self->have_b = TRUE;

  clear_secret_mpz (s);
  clear_secret_mpz (exp);
  clear_secret_mpz (base);
  clear_secret_mpz (tmp);
  mpz_clears (b_pub, u, NULL);

  return TRUE;
}

const guint8 *
eider_srp_client_get_m1 (EiderSrpClient *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (self->have_b, NULL);

  return self->m1;
}

gboolean
eider_srp_client_verify_m2 (EiderSrpClient  *self,
                            const guint8    *m2,
                            gsize            m2_len,
                            GError         **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (self->have_b, FALSE);

  if (m2_len != EIDER_SRP_PROOF_BYTES ||
      sodium_memcmp (m2, self->m2, EIDER_SRP_PROOF_BYTES) != 0)
    {
      g_set_error_literal (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_FAILED,
                           "The server could not prove it knows the password verifier");
      return FALSE;
    }

  return TRUE;
}

void
eider_srp_client_free (EiderSrpClient *self)
{
  if (self == NULL)
    return;

  clear_secret_mpz (self->x);
  clear_secret_mpz (self->a);
  sodium_memzero (self, sizeof *self);
  g_free (self);
}

/* Server */

struct _EiderSrpServer
{
  mpz_t  v;
  mpz_t  b;
  guint8 b_pub[EIDER_SRP_BYTES];
  guint8 m1[EIDER_SRP_PROOF_BYTES];
  guint8 m2[EIDER_SRP_PROOF_BYTES];
  guint  have_a : 1;
};

EiderSrpServer *
eider_srp_server_new (const guint8 *verifier,
                      gsize         verifier_len,
                      const guint8 *secret,
                      gsize         secret_len)
{
  const SrpGroup *gr = srp_group ();
  EiderSrpServer *self;
  guint8 random_secret[SRP_SECRET_BYTES];
  mpz_t b_pub, tmp;

  g_return_val_if_fail (verifier != NULL, NULL);

  self = g_new0 (EiderSrpServer, 1);
  mpz_inits (self->v, self->b, b_pub, tmp, NULL);
  import_bytes (self->v, verifier, verifier_len);

  if (secret == NULL)
    {
      randombytes_buf (random_secret, sizeof random_secret);
      secret = random_secret;
      secret_len = sizeof random_secret;
    }
  import_bytes (self->b, secret, secret_len);
  sodium_memzero (random_secret, sizeof random_secret);

  /* B = (k·v + g^b) mod N */
  mpz_powm_sec (b_pub, gr->g, self->b, gr->n);
  mpz_mul (tmp, gr->k, self->v);
  mpz_add (b_pub, b_pub, tmp);
  mpz_mod (b_pub, b_pub, gr->n);
  pad_export (self->b_pub, b_pub);
  mpz_clears (b_pub, tmp, NULL);

  return self;
}

const guint8 *
eider_srp_server_get_b (EiderSrpServer *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->b_pub;
}

gboolean
eider_srp_server_set_a (EiderSrpServer  *self,
                        const guint8    *a,
                        gsize            a_len,
                        GError         **error)
{
  const SrpGroup *gr = srp_group ();
  guint8 a_pad[EIDER_SRP_BYTES];
  mpz_t a_pub, u, s, tmp;

  g_return_val_if_fail (self != NULL, FALSE);

  mpz_inits (a_pub, u, s, tmp, NULL);

  if (!check_public_value (a, a_len, "srpA", a_pub, error))
    {
      mpz_clears (a_pub, u, s, tmp, NULL);
      return FALSE;
    }

  pad_export (a_pad, a_pub);
  compute_u (u, a_pad, self->b_pub);

  /* S = (A · v^u)^b mod N */
  mpz_powm (tmp, self->v, u, gr->n);
  mpz_mul (tmp, tmp, a_pub);
  mpz_mod (tmp, tmp, gr->n);
  mpz_powm_sec (s, tmp, self->b, gr->n);

  compute_proofs (a_pad, self->b_pub, s, self->m1, self->m2);
  self->have_a = TRUE;

  clear_secret_mpz (s);
  clear_secret_mpz (tmp);
  mpz_clears (a_pub, u, NULL);

  return TRUE;
}

gboolean
eider_srp_server_verify_m1 (EiderSrpServer *self,
                            const guint8   *m1,
                            gsize           m1_len,
                            guint8          m2_out[EIDER_SRP_PROOF_BYTES])
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (self->have_a, FALSE);

  if (m1_len != EIDER_SRP_PROOF_BYTES ||
      sodium_memcmp (m1, self->m1, EIDER_SRP_PROOF_BYTES) != 0)
    return FALSE;

  if (m2_out != NULL)
    memcpy (m2_out, self->m2, EIDER_SRP_PROOF_BYTES);

  return TRUE;
}

void
eider_srp_server_free (EiderSrpServer *self)
{
  if (self == NULL)
    return;

  clear_secret_mpz (self->v);
  clear_secret_mpz (self->b);
  sodium_memzero (self, sizeof *self);
  g_free (self);
}
