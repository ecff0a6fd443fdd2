/* test-srp.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * SRP known answers: spec/ente-auth.md Appendix A.1 (the go-srp / Rust
 * vector with a leading-zero A) and the signup verifier of
 * spec/ente-server.md Appendix A.
 */
#include "config.h"

#include <string.h>

#include "eider-srp.h"
#include "test-rng.h"

static const char identity[] = "repro-user-id";
static const char salt[] = "0123456789abcdef";
static const char password[] = "1234567890abcdef";

static void
vector_secrets (guint8 a[64],
                guint8 b[64])
{
  memset (a, 0, 64);
  a[62] = 0x06;
  a[63] = 0xde;
  memset (b, 0x42, 64);
}

static void
test_known_vector (void)
{
  g_autoptr(EiderSecret) p = eider_secret_new_from_data ((const guint8 *) password, 16);
  g_autoptr(EiderSrpClient) client = NULL;
  g_autoptr(EiderSrpServer) server = NULL;
  g_autoptr(GError) error = NULL;
  guint8 verifier[EIDER_SRP_BYTES];
  guint8 m2[EIDER_SRP_PROOF_BYTES];
  guint8 a[64], b[64];
  g_autofree char *v_sha = NULL;
  g_autofree char *a_sha = NULL;
  g_autofree char *b_sha = NULL;
  g_autofree char *m1_hex = NULL;
  g_autofree char *m2_hex = NULL;
  const guint8 *a_pub;

  vector_secrets (a, b);

  eider_srp_compute_verifier (identity, (const guint8 *) salt, 16, (const guint8 *) password, 16,
                              verifier);
  v_sha = test_sha256_hex (verifier, sizeof verifier);
  g_assert_cmpstr (v_sha, ==, "0392b5ab4014e2eac8f15915dab640b2de22d432b99882e43887ee03a4bdd8d8");

  client = eider_srp_client_new (identity, (const guint8 *) salt, 16, p, a, sizeof a);
  a_pub = eider_srp_client_get_a (client);
  /* The leading-zero case: unpadded A is 511 bytes, so PAD(A) starts with 0. */
  g_assert_cmpuint (a_pub[0], ==, 0);
  a_sha = test_sha256_hex (a_pub, EIDER_SRP_BYTES);
  g_assert_cmpstr (a_sha, ==, "d21359f5ab51b69f2d68dcb220d10e8be53496a11498480e301f1e1801b4f4c2");

  server = eider_srp_server_new (verifier, sizeof verifier, b, sizeof b);
  b_sha = test_sha256_hex (eider_srp_server_get_b (server), EIDER_SRP_BYTES);
  g_assert_cmpstr (b_sha, ==, "4b18ec4d03fe41062373792b676febd0fe9d9e1b3353b8764434bd152df9c1f0");

  g_assert_true (eider_srp_client_set_b (client, eider_srp_server_get_b (server), EIDER_SRP_BYTES, &error));
  g_assert_no_error (error);
  m1_hex = test_hex (eider_srp_client_get_m1 (client), EIDER_SRP_PROOF_BYTES);
  g_assert_cmpstr (m1_hex, ==, "c0953b8c74d400fbf664a515deb700d73b65231e7e207a2e2326ff8cf70567ac");

  g_assert_true (eider_srp_server_set_a (server, a_pub, EIDER_SRP_BYTES, &error));
  g_assert_no_error (error);
  g_assert_true (eider_srp_server_verify_m1 (server, eider_srp_client_get_m1 (client),
                                             EIDER_SRP_PROOF_BYTES, m2));
  m2_hex = test_hex (m2, sizeof m2);
  g_assert_cmpstr (m2_hex, ==, "867014678fa90610b00da7a77c2ede58aae999d612f61580bb3aa199e612a561");

  g_assert_true (eider_srp_client_verify_m2 (client, m2, sizeof m2, &error));
  g_assert_no_error (error);

  /* A tampered M2 is refused. */
  m2[0] ^= 1;
  g_assert_false (eider_srp_client_verify_m2 (client, m2, sizeof m2, &error));
  g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_FAILED);
}

static void
test_wrong_password (void)
{
  g_autoptr(EiderSecret) wrong = eider_secret_new_from_data ((const guint8 *) "1234567890abcdeF", 16);
  g_autoptr(EiderSrpClient) client = NULL;
  g_autoptr(EiderSrpServer) server = NULL;
  g_autoptr(GError) error = NULL;
  guint8 verifier[EIDER_SRP_BYTES];
  guint8 m2[EIDER_SRP_PROOF_BYTES];

  eider_srp_compute_verifier (identity, (const guint8 *) salt, 16, (const guint8 *) password, 16,
                              verifier);
  client = eider_srp_client_new (identity, (const guint8 *) salt, 16, wrong, NULL, 0);
  server = eider_srp_server_new (verifier, sizeof verifier, NULL, 0);

  g_assert_true (eider_srp_client_set_b (client, eider_srp_server_get_b (server), EIDER_SRP_BYTES, &error));
  g_assert_no_error (error);
  g_assert_true (eider_srp_server_set_a (server, eider_srp_client_get_a (client), EIDER_SRP_BYTES, &error));
  g_assert_no_error (error);
  g_assert_false (eider_srp_server_verify_m1 (server, eider_srp_client_get_m1 (client),
                                              EIDER_SRP_PROOF_BYTES, m2));
  g_assert_false (eider_srp_server_verify_m1 (server, eider_srp_client_get_m1 (client), 31, m2));
}

static void
test_random_roundtrip (void)
{
  g_autoptr(EiderSecret) p = eider_secret_new_random (16);
  g_autoptr(EiderSrpClient) client = NULL;
  g_autoptr(EiderSrpServer) server = NULL;
  g_autoptr(GError) error = NULL;
  guint8 s[16];
  guint8 verifier[EIDER_SRP_BYTES];
  guint8 m2[EIDER_SRP_PROOF_BYTES];

  randombytes_buf (s, sizeof s);
  eider_srp_compute_verifier ("11111111-2222-4333-8444-555555555555", s, sizeof s,
                              eider_secret_peek (p), 16, verifier);
  client = eider_srp_client_new ("11111111-2222-4333-8444-555555555555", s, sizeof s, p, NULL, 0);
  server = eider_srp_server_new (verifier, sizeof verifier, NULL, 0);

  g_assert_true (eider_srp_client_set_b (client, eider_srp_server_get_b (server), EIDER_SRP_BYTES, &error));
  g_assert_true (eider_srp_server_set_a (server, eider_srp_client_get_a (client), EIDER_SRP_BYTES, &error));
  g_assert_no_error (error);
  g_assert_true (eider_srp_server_verify_m1 (server, eider_srp_client_get_m1 (client),
                                             EIDER_SRP_PROOF_BYTES, m2));
  g_assert_true (eider_srp_client_verify_m2 (client, m2, sizeof m2, &error));
  g_assert_no_error (error);
}

static void
test_bad_public_values (void)
{
  g_autoptr(EiderSecret) p = eider_secret_new_random (16);
  g_autoptr(EiderSrpClient) client = eider_srp_client_new (identity, (const guint8 *) salt, 16, p, NULL, 0);
  guint8 verifier[EIDER_SRP_BYTES];
  g_autoptr(EiderSrpServer) server = NULL;
  guint8 value[EIDER_SRP_BYTES];

  eider_srp_compute_verifier (identity, (const guint8 *) salt, 16, eider_secret_peek (p), 16, verifier);
  server = eider_srp_server_new (verifier, sizeof verifier, NULL, 0);

  /* wrong length (museum: "Invalid length for srpA") */
  {
    g_autoptr(GError) error = NULL;

    g_assert_false (eider_srp_server_set_a (server, eider_srp_client_get_a (client), 511, &error));
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_BAD_LENGTH);
  }

  /* zero */
  {
    g_autoptr(GError) error = NULL;

    memset (value, 0, sizeof value);
    g_assert_false (eider_srp_client_set_b (client, value, sizeof value, &error));
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_FAILED);
  }

  /* N itself, and anything ≥ N */
  {
    g_autoptr(GError) error = NULL;

    memset (value, 0xff, sizeof value);
    g_assert_false (eider_srp_server_set_a (server, value, sizeof value, &error));
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_FAILED);
  }
}

/* spec/ente-server.md Appendix A: the signup's SRP verifier. */
static void
test_signup_verifier (void)
{
  static const char expected_b64[] =
    "TfeV2AfrPJEPnd7k5d8igEdqVz1nvww4zM3sx7mdMlvMMwCjYONw9UqjWqgRfmMvp4Z5Carl4Z6LCUr8C1GhnwSsKrfkcpWNWQO6TsfTjVV3nd/4jYaPGTP4Qu2a9Hpdu98qtZNayo1yVFHgcafa9ozBdq6EmHtfqToat3B4RoI8BUtmPnTyGEGzjJnQHXLJTRsMezrAZ+A2zoUO0E9cqr+u7Kv56ZWSRG2EufIwnIsZ8k8MuHXKR0I6JqAfkoRZiePZfpBfWYnVTl7WPLesD0ApoFl7d0TTm4XS43puMA4s+xTMdUQT1/DXsT4ugD4i4xVn8/qaZ+/t7C9tM/ARUoB8/IN4AmBWl6tm3a/iRdy/wZ6CYsVsk915mYXTu/Vm4hqSvERZzJ2MTEOmA9YcWJvypWByP1bHs86uAf/TCv1jXHrLtOnldQzL7dlvKUtTqCniXJz+I9QJajXGucq1OJlhervmffoAL0qM5N/K5fr5DAet/c7xr3B3g3oBL6BIjC+VGtriheyXzNz1EQ5Qw6sBcex5AKCM2FLAJ5Fh2pogusC1bpXVW/GhN1Q7giaV0kzg6IdKp0gnW0PN73BGWXZ1NIZs1nS1uAC2lP2hDsiDH3wclybxgIqbjPasGrHIgIxygUIySOQxg4L+UINvZQrtoxuI8/VJsksOQFbZn74=";
  g_autoptr(GBytes) salt_bytes = NULL;
  g_autoptr(GError) error = NULL;
  guint8 login_subkey[16];
  guint8 verifier[EIDER_SRP_BYTES];
  g_autofree char *b64 = NULL;
  g_autofree char *sha = NULL;
  g_autofree char *head = NULL;
  g_autofree char *tail = NULL;
  size_t len = 0;

  salt_bytes = eider_base64_decode ("4OHi4+Tl5ufo6err7O3u7w==", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (salt_bytes), ==, 16);
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (salt_bytes, NULL))[0], ==, 0xe0);

  g_assert_cmpint (sodium_hex2bin (login_subkey, sizeof login_subkey,
                                   "e9cb8bec5f3f80d4867170d3a7665746", 32,
                                   NULL, &len, NULL), ==, 0);
  g_assert_cmpuint (len, ==, 16);

  eider_srp_compute_verifier ("11111111-2222-4333-8444-555555555555",
                              g_bytes_get_data (salt_bytes, NULL), 16,
                              login_subkey, sizeof login_subkey, verifier);

  sha = test_sha256_hex (verifier, sizeof verifier);
  head = test_hex (verifier, 16);
  tail = test_hex (verifier + sizeof verifier - 16, 16);
  b64 = eider_base64_encode (verifier, sizeof verifier);
  g_assert_cmpstr (sha, ==, "18a716c0ac35e2d49b34bd55e08beb854bc941dd37600391189fcdc15566bfe3");
  g_assert_cmpstr (head, ==, "4df795d807eb3c910f9ddee4e5df2280");
  g_assert_cmpstr (tail, ==, "0aeda31b88f3f549b24b0e4056d99fbe");
  g_assert_cmpstr (b64, ==, expected_b64);
}

int
main (int   argc,
      char *argv[])
{
  test_rng_install ();
  g_assert_true (eider_crypto_init (NULL));
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/srp/known-vector", test_known_vector);
  g_test_add_func ("/srp/wrong-password", test_wrong_password);
  g_test_add_func ("/srp/random-roundtrip", test_random_roundtrip);
  g_test_add_func ("/srp/bad-public-values", test_bad_public_values);
  g_test_add_func ("/srp/signup-verifier", test_signup_verifier);

  return g_test_run ();
}
