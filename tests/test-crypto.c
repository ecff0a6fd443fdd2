/* test-crypto.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Known-answer tests from spec/ente-upload.md §16 and spec/ente-auth.md
 * Appendix A, streaming round trips, and every failure mode of eider-crypto.
 */
#include "config.h"

#include <string.h>

#include "eider-crypto.h"
#include "test-rng.h"

#define MiB (1024 * 1024)

static GBytes *
key_from_start (guint8 start)
{
  guint8 key[EIDER_KEY_BYTES];

  for (guint i = 0; i < sizeof key; i++)
    key[i] = start + i;

  return g_bytes_new (key, sizeof key);
}

static EiderSecret *
secret_from_start (guint8 start,
                   gsize  len)
{
  EiderSecret *secret = eider_secret_new (len);

  for (gsize i = 0; i < len; i++)
    eider_secret_get_data (secret)[i] = (guint8) (start + i);

  return secret;
}

static GBytes *
read_fixture (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", name, NULL);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);

  return g_bytes_new_take (contents, len);
}

/* A GInputStream of pattern(L) bytes produced on the fly, and a GOutputStream
 * that only hashes what it is given: together they stream 100 MiB through
 * the encryptor with nothing held in memory. */

#define TEST_TYPE_PATTERN_STREAM (test_pattern_stream_get_type ())
G_DECLARE_FINAL_TYPE (TestPatternStream, test_pattern_stream, TEST, PATTERN_STREAM, GInputStream)

struct _TestPatternStream
{
  GInputStream parent_instance;
  guint64      len;
  guint64      pos;
};

G_DEFINE_FINAL_TYPE (TestPatternStream, test_pattern_stream, G_TYPE_INPUT_STREAM)

static gssize
test_pattern_stream_read (GInputStream  *stream,
                          void          *buffer,
                          gsize          count,
                          GCancellable  *cancellable,
                          GError       **error)
{
  TestPatternStream *self = TEST_PATTERN_STREAM (stream);
  guint8 *out = buffer;
  gsize n = MIN (count, self->len - self->pos);

  /* Short reads on purpose: the encryptor must cope with them. */
  n = MIN (n, 1 * MiB + 3);
  for (gsize i = 0; i < n; i++)
    out[i] = (guint8) ((self->pos + i) % 251);
  self->pos += n;

  return n;
}

static void
test_pattern_stream_class_init (TestPatternStreamClass *klass)
{
  G_INPUT_STREAM_CLASS (klass)->read_fn = test_pattern_stream_read;
}

static void
test_pattern_stream_init (TestPatternStream *self)
{
}

static GInputStream *
test_pattern_stream_new (guint64 len)
{
  TestPatternStream *self = g_object_new (TEST_TYPE_PATTERN_STREAM, NULL);

  self->len = len;

  return G_INPUT_STREAM (self);
}

#define TEST_TYPE_HASH_STREAM (test_hash_stream_get_type ())
G_DECLARE_FINAL_TYPE (TestHashStream, test_hash_stream, TEST, HASH_STREAM, GOutputStream)

struct _TestHashStream
{
  GOutputStream parent_instance;
  EiderHash    *hash;
  guint64       written;
};

G_DEFINE_FINAL_TYPE (TestHashStream, test_hash_stream, G_TYPE_OUTPUT_STREAM)

static gssize
test_hash_stream_write (GOutputStream  *stream,
                        const void     *buffer,
                        gsize           count,
                        GCancellable   *cancellable,
                        GError        **error)
{
  TestHashStream *self = TEST_HASH_STREAM (stream);

  eider_hash_update (self->hash, buffer, count);
  self->written += count;

  return count;
}

static void
test_hash_stream_finalize (GObject *object)
{
  TestHashStream *self = TEST_HASH_STREAM (object);

  g_clear_pointer (&self->hash, eider_hash_free);

  G_OBJECT_CLASS (test_hash_stream_parent_class)->finalize (object);
}

static void
test_hash_stream_class_init (TestHashStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_hash_stream_finalize;
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = test_hash_stream_write;
}

static void
test_hash_stream_init (TestHashStream *self)
{
  self->hash = eider_hash_new ();
}

/* Base64 */

static void
test_base64_vectors (void)
{
  static const guint8 awkward[] = { 0xfb, 0xff };
  g_autoptr(GBytes) key = key_from_start (0x00);
  g_autofree char *std = NULL;
  g_autofree char *url = NULL;
  g_autofree char *std2 = NULL;
  g_autofree char *empty = NULL;
  g_autoptr(GBytes) back = NULL;
  g_autoptr(GError) error = NULL;

  std = eider_base64_encode (g_bytes_get_data (key, NULL), 32);
  g_assert_cmpstr (std, ==, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");

  std2 = eider_base64_encode (awkward, sizeof awkward);
  url = eider_base64_url_encode (awkward, sizeof awkward);
  g_assert_cmpstr (std2, ==, "+/8=");
  g_assert_cmpstr (url, ==, "-_8=");

  empty = eider_base64_encode ((const guint8 *) "", 0);
  g_assert_cmpstr (empty, ==, "");

  back = eider_base64_decode (std, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (back, key));
  g_clear_pointer (&back, g_bytes_unref);

  back = eider_base64_url_decode ("-_8=", &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (back, NULL), g_bytes_get_size (back), awkward, 2);
  g_clear_pointer (&back, g_bytes_unref);

  back = eider_base64_decode ("", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (back), ==, 0);
}

static void
test_base64_rejects (void)
{
  static const char * const bad_std[] = {
    "+/8",           /* unpadded */
    "-_8=",          /* URL-safe alphabet */
    "AAEC AwQ=",     /* whitespace */
    "AAECAwQ=\n",    /* trailing newline */
    "%%%",           /* not base64 at all */
    "AAE=AAE=",      /* padding in the middle */
    "A===",
  };
  static const char * const bad_url[] = { "+/8=", "-_8" };
  guint8 out[4];

  for (guint i = 0; i < G_N_ELEMENTS (bad_std); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = eider_base64_decode (bad_std[i], &error);

      g_assert_null (bytes);
      g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_BAD_BASE64);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad_url); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = eider_base64_url_decode (bad_url[i], &error);

      g_assert_null (bytes);
      g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_BAD_BASE64);
    }

  {
    g_autoptr(GError) error = NULL;

    g_assert_false (eider_base64_decode_exact (NULL, out, sizeof out, &error));
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_BAD_BASE64);
  }

  {
    g_autoptr(GError) error = NULL;

    /* 3 bytes where 4 are needed */
    g_assert_false (eider_base64_decode_exact ("AAEC", out, sizeof out, &error));
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_BAD_LENGTH);
  }

  {
    g_autoptr(GError) error = NULL;
    g_autoptr(EiderSecret) secret = eider_base64_decode_secret ("AAEC", 32, &error);

    g_assert_null (secret);
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_BAD_LENGTH);
  }

  {
    g_autoptr(GError) error = NULL;
    g_autoptr(EiderSecret) secret =
      eider_base64_decode_secret ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 32, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (eider_secret_get_size (secret), ==, 32);
    g_assert_cmpuint (eider_secret_peek (secret)[31], ==, 0x1f);
  }
}

/* BLAKE2b */

static void
test_hash_vectors (void)
{
  g_autoptr(GBytes) black = read_fixture ("black-placeholder.jpg");
  g_autofree char *empty = eider_hash_data_base64 ((const guint8 *) "", 0);
  g_autofree char *abc = eider_hash_data_base64 ((const guint8 *) "abc", 3);
  g_autofree char *black_hash = NULL;
  g_autofree char *live = NULL;

  g_assert_cmpstr (empty, ==, "eGoC90IBWQPGxv2FJVLScpEvR0DhWEdhiobiF/cfVBnSXhAxr+5YUxOJZESTTrBLkDpoWxRIt1XVb3Aa/pvizg==");
  g_assert_cmpstr (abc, ==, "uoClP5gcTQ1qJ5e2nxL26UwhLxRoWsS3SxK7b9v/otF9h8U5Kqt5LcJS1d5FM8yVGNOKqNvxklq5I4bt1ACZIw==");
  g_assert_cmpuint (strlen (abc), ==, 88);

  g_assert_cmpuint (g_bytes_get_size (black), ==, 1892);
  black_hash = eider_hash_data_base64 (g_bytes_get_data (black, NULL), g_bytes_get_size (black));
  g_assert_cmpstr (black_hash, ==, "OFOpXpMK1T5v6Fb+FHGx28ubUzLl2y1KNUZO4Cm6afdzXHufo6XCw7b4YDaG0JgGXrMu/pLef4rU2aFCDhg/PQ==");

  /* Live photo hash: the two component hashes joined by ':' (§6). */
  live = g_strconcat (abc, ":", empty, NULL);
  g_assert_cmpuint (strlen (live), ==, 88 * 2 + 1);
}

static void
test_hash_streaming (void)
{
  static const char expected[] =
    "L+ZPOp0xdcR2VNLUj4aIutMWdW2riFRIUOS0G9bB1HoJe+hJsykehHObtE6KUbiks3zcScAs2Y9ub2eyXW82fg==";
  gsize len = 9 * MiB + 7;
  g_autoptr(GBytes) pattern = test_pattern (len);
  const guint8 *data = g_bytes_get_data (pattern, NULL);
  g_autofree char *one_shot = eider_hash_data_base64 (data, len);
  g_autofree char *chunked = NULL;
  g_autofree char *odd = NULL;
  g_autofree char *streamed = NULL;
  g_autoptr(EiderHash) h1 = eider_hash_new ();
  g_autoptr(EiderHash) h2 = eider_hash_new ();
  g_autoptr(GInputStream) in = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (one_shot, ==, expected);

  for (gsize off = 0; off < len; off += 4 * MiB)
    eider_hash_update (h1, data + off, MIN (4 * MiB, len - off));
  chunked = eider_hash_finish_base64 (h1);
  g_assert_cmpstr (chunked, ==, expected);

  for (gsize off = 0; off < len; off += 65537)
    eider_hash_update (h2, data + off, MIN (65537, len - off));
  odd = eider_hash_finish_base64 (h2);
  g_assert_cmpstr (odd, ==, expected);

  in = test_pattern_stream_new (len);
  streamed = eider_hash_stream_base64 (in, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (streamed, ==, expected);
}

/* Secretbox */

static void
test_wrap_vector (void)
{
  g_autoptr(EiderSecret) file_key = secret_from_start (0x00, 32);
  g_autoptr(EiderSecret) collection_key = secret_from_start (0x20, 32);
  g_autoptr(EiderSecret) other_key = secret_from_start (0x21, 32);
  g_autoptr(EiderSecret) unwrapped = NULL;
  g_autofree char *encrypted = NULL;
  g_autofree char *nonce = NULL;
  g_autoptr(GError) error = NULL;

  test_rng_expect (0x40, EIDER_NONCE_BYTES);
  eider_crypto_wrap_key (file_key, collection_key, &encrypted, &nonce);
  test_rng_assert_drained ();

  g_assert_cmpstr (nonce, ==, "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZX");
  g_assert_cmpstr (encrypted, ==, "OpafUK46g5xNjB9I0hxqIHtJ+CpgSr6jTsADkg5htOP/xrIuXRwN/WP+7P71XkU4");
  g_assert_cmpuint (strlen (encrypted), ==, 64);

  unwrapped = eider_crypto_unwrap_key (encrypted, nonce, collection_key, &error);
  g_assert_no_error (error);
  g_assert_true (eider_secret_equal (unwrapped, file_key));
  g_clear_pointer (&unwrapped, eider_secret_free);

  unwrapped = eider_crypto_unwrap_key (encrypted, nonce, other_key, &error);
  g_assert_null (unwrapped);
  g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_WRONG_KEY);
  g_clear_error (&error);

  unwrapped = eider_crypto_unwrap_key (encrypted, "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZ", collection_key, &error);
  g_assert_null (unwrapped);
  g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_BAD_BASE64);
  g_clear_error (&error);

  unwrapped = eider_crypto_unwrap_key ("AAEC", nonce, collection_key, &error);
  g_assert_null (unwrapped);
  g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_TRUNCATED);
  g_clear_error (&error);

  /* One flipped bit in the ciphertext is caught by the MAC. */
  encrypted[10] = encrypted[10] == 'A' ? 'B' : 'A';
  unwrapped = eider_crypto_unwrap_key (encrypted, nonce, collection_key, &error);
  g_assert_null (unwrapped);
  g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_WRONG_KEY);
}

static void
test_sealed_box (void)
{
  guint8 pk[EIDER_KEY_BYTES];
  guint8 other_pk[EIDER_KEY_BYTES];
  g_autoptr(EiderSecret) sk = NULL;
  g_autoptr(EiderSecret) other_sk = NULL;
  g_autoptr(EiderSecret) token = eider_secret_new_random (32);
  g_autoptr(EiderSecret) opened = NULL;
  g_autoptr(GBytes) sealed = NULL;
  g_autoptr(GError) error = NULL;

  eider_box_keypair (pk, &sk);
  eider_box_keypair (other_pk, &other_sk);

  sealed = eider_sealed_box_seal (eider_secret_peek (token), 32, pk);
  /* Ente's encryptedToken: 32 + 48 = 80 bytes. */
  g_assert_cmpuint (g_bytes_get_size (sealed), ==, 80);

  opened = eider_sealed_box_open (g_bytes_get_data (sealed, NULL), 80, pk, sk, &error);
  g_assert_no_error (error);
  g_assert_true (eider_secret_equal (opened, token));
  g_clear_pointer (&opened, eider_secret_free);

  opened = eider_sealed_box_open (g_bytes_get_data (sealed, NULL), 80, other_pk, other_sk, &error);
  g_assert_null (opened);
  g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_WRONG_KEY);
  g_clear_error (&error);

  opened = eider_sealed_box_open (g_bytes_get_data (sealed, NULL), 47, pk, sk, &error);
  g_assert_null (opened);
  g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_TRUNCATED);
}

/* Blobs */

static void
check_blob_vector (guint8      header_start,
                   const char *plaintext,
                   const char *expected_header,
                   const char *expected_data)
{
  g_autoptr(EiderSecret) key = secret_from_start (0x00, 32);
  g_autoptr(GBytes) ct = NULL;
  g_autoptr(GBytes) back = NULL;
  g_autofree char *header_b64 = NULL;
  g_autofree char *data_b64 = NULL;
  g_autoptr(GError) error = NULL;
  guint8 header[EIDER_STREAM_HEADER_BYTES];
  gsize len = strlen (plaintext);

  test_rng_expect (header_start, EIDER_STREAM_HEADER_BYTES);
  ct = eider_blob_encrypt ((const guint8 *) plaintext, len, key, header);
  test_rng_assert_drained ();

  g_assert_cmpuint (g_bytes_get_size (ct), ==, len + EIDER_STREAM_ABYTES);
  header_b64 = eider_base64_encode (header, sizeof header);
  data_b64 = eider_base64_encode (g_bytes_get_data (ct, NULL), g_bytes_get_size (ct));
  g_assert_cmpstr (header_b64, ==, expected_header);
  g_assert_cmpstr (data_b64, ==, expected_data);

  back = eider_blob_decrypt (g_bytes_get_data (ct, NULL), g_bytes_get_size (ct), key, header, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (back, NULL), g_bytes_get_size (back), plaintext, len);
}

static void
test_blob_vectors (void)
{
  /* metadata */
  check_blob_vector (0xA0,
                     "{\"fileType\":0,\"title\":\"IMG_0001.JPG\",\"creationTime\":1700000000000000,"
                     "\"modificationTime\":1700000000000000,\"hash\":\"x\"}",
                     "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3",
                     "NmRuJRS+rV5gPvsSZNNTFNQN756RWuSq5HPKfpOFWRiKjKs+ESOj2HIdWIFfCdqLlzA/jUPgAd8CyRf7HNK6N24dcMKa+cKSlc0EoVWPhRBalJ7XzYUwTCjfzQwSJ3qvR1Rx5b11ASx4upKgh1pl1TkRyqNzTjiERFj0kZxE2aUZTskQaw==");
  /* public magic metadata */
  check_blob_vector (0x10,
                     "{\"dateTime\":\"2023-08-23T18:03:00.000\",\"offsetTime\":\"+05:30\",\"w\":4032,\"h\":3024}",
                     "EBESExQVFhcYGRobHB0eHyAhIiMkJSYn",
                     "V9uACTIq4N/5PCy9SfXmhUepvPR1V0vVpDpAwmby6GecYjzF9utFeXzc6szu5r8qrsQZV4rLBpdWs4/77RLhcxMf0g5Ai48G4OGtlS14GMdJV332WcfHAb5OduA8tJ4=");
}

static void
test_blob_failures (void)
{
  g_autoptr(EiderSecret) key = eider_secret_new_random (32);
  g_autoptr(EiderSecret) other = eider_secret_new_random (32);
  g_autoptr(GBytes) ct = NULL;
  g_autoptr(GBytes) back = NULL;
  g_autoptr(GError) error = NULL;
  guint8 header[EIDER_STREAM_HEADER_BYTES];
  crypto_secretstream_xchacha20poly1305_state st;
  guint8 message_ct[5 + EIDER_STREAM_ABYTES];

  ct = eider_blob_encrypt ((const guint8 *) "hello", 5, key, header);

  back = eider_blob_decrypt (g_bytes_get_data (ct, NULL), g_bytes_get_size (ct), other, header, &error);
  g_assert_null (back);
  g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_WRONG_KEY);
  g_clear_error (&error);

  back = eider_blob_decrypt (g_bytes_get_data (ct, NULL), 10, key, header, &error);
  g_assert_null (back);
  g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_TRUNCATED);
  g_clear_error (&error);

  /* A blob tagged MESSAGE instead of FINAL is refused, as Ente's readers do. */
  crypto_secretstream_xchacha20poly1305_init_push (&st, header, eider_secret_peek (key));
  crypto_secretstream_xchacha20poly1305_push (&st, message_ct, NULL, (const guint8 *) "hello", 5,
                                              NULL, 0, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
  back = eider_blob_decrypt (message_ct, sizeof message_ct, key, header, &error);
  g_assert_null (back);
  g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_MISSING_FINAL);
}

/* Streams */

static GBytes *
encrypt_bytes (GBytes            *plain,
               const EiderSecret *key,
               guint8             header[EIDER_STREAM_HEADER_BYTES])
{
  g_autoptr(GInputStream) in = g_memory_input_stream_new_from_bytes (plain);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;
  guint64 plain_size = 0;

  g_assert_true (eider_crypto_encrypt_stream (in, out, key, header, &plain_size,
                                              NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (plain_size, ==, g_bytes_get_size (plain));
  g_assert_true (g_output_stream_close (out, NULL, NULL));

  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

static GBytes *
decrypt_bytes (GBytes             *ct,
               const EiderSecret  *key,
               const guint8        header[EIDER_STREAM_HEADER_BYTES],
               gint64              expected_size,
               GError            **error)
{
  g_autoptr(GInputStream) in = g_memory_input_stream_new_from_bytes (ct);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();

  if (!eider_crypto_decrypt_stream (in, out, key, header, expected_size, NULL, error))
    return NULL;

  g_assert_true (g_output_stream_close (out, NULL, NULL));

  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

/* Counts the secretstream tags in @ct by decrypting block by block. */
static void
assert_tags (GBytes            *ct,
             const EiderSecret *key,
             const guint8       header[EIDER_STREAM_HEADER_BYTES],
             guint              expected_chunks)
{
  gsize len = g_bytes_get_size (ct);
  const guint8 *data = g_bytes_get_data (ct, NULL);
  g_autofree guint8 *plain = g_malloc (EIDER_STREAM_CHUNK_SIZE);
  crypto_secretstream_xchacha20poly1305_state st;
  guint chunks = 0;

  g_assert_cmpint (crypto_secretstream_xchacha20poly1305_init_pull (&st, header, eider_secret_peek (key)), ==, 0);
  for (gsize off = 0; off < len; off += EIDER_STREAM_BLOCK_SIZE)
    {
      gsize n = MIN (EIDER_STREAM_BLOCK_SIZE, len - off);
      unsigned char tag = 0xff;

      g_assert_cmpint (crypto_secretstream_xchacha20poly1305_pull (&st, plain, NULL, &tag, data + off, n, NULL, 0), ==, 0);
      chunks++;
      if (off + n == len)
        g_assert_cmpuint (tag, ==, crypto_secretstream_xchacha20poly1305_TAG_FINAL);
      else
        g_assert_cmpuint (tag, ==, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
    }

  g_assert_cmpuint (chunks, ==, expected_chunks);
}

static void
test_stream_vectors (void)
{
  g_autoptr(EiderSecret) key = secret_from_start (0x00, 32);
  struct {
    gsize       plain;
    guint8      header_start;
    const char *header_b64;
    gsize       encrypted;
    const char *sha256;
    const char *tail;
    guint       chunks;
  } vectors[] = {
    { 4 * MiB + 5, 0xC0, "wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX", 4194343,
      "2785136da163acd2efc448d292119cbd12cf7e5efa60decdc9c3720ee39c9aab",
      "93b27a82799b69b5c9c431fb276f8cdc52b17bcd14285ddbd4b492eb75f3bf36", 2 },
    { 8 * MiB, 0xE0, "4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3", 8388642,
      "a6a4fe822edf8c3db9c54cd08ccca2d58354f95003b44bf2b184961d30cc0627", NULL, 2 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autoptr(GBytes) plain = test_pattern (vectors[i].plain);
      g_autoptr(GBytes) ct = NULL;
      g_autoptr(GBytes) back = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *header_b64 = NULL;
      g_autofree char *sha = NULL;
      guint8 header[EIDER_STREAM_HEADER_BYTES];
      const guint8 *data;
      gsize len;

      test_rng_expect (vectors[i].header_start, EIDER_STREAM_HEADER_BYTES);
      ct = encrypt_bytes (plain, key, header);
      test_rng_assert_drained ();

      header_b64 = eider_base64_encode (header, sizeof header);
      g_assert_cmpstr (header_b64, ==, vectors[i].header_b64);

      data = g_bytes_get_data (ct, &len);
      g_assert_cmpuint (len, ==, vectors[i].encrypted);
      g_assert_cmpuint (len, ==, eider_crypto_encrypted_size (vectors[i].plain));
      sha = test_sha256_hex (data, len);
      g_assert_cmpstr (sha, ==, vectors[i].sha256);
      if (vectors[i].tail != NULL)
        {
          g_autofree char *tail = test_hex (data + len - 32, 32);
          g_assert_cmpstr (tail, ==, vectors[i].tail);
        }
      assert_tags (ct, key, header, vectors[i].chunks);

      back = decrypt_bytes (ct, key, header, len, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (back, plain));
    }
}

static void
test_stream_roundtrip_sizes (void)
{
  const gsize sizes[] = { 0, 1, 17, 4 * MiB - 1, 4 * MiB, 4 * MiB + 1, 8 * MiB, 12 * MiB + 3 };
  g_autoptr(EiderSecret) key = eider_secret_new_random (32);

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(GBytes) plain = test_pattern (sizes[i]);
      g_autoptr(GBytes) ct = NULL;
      g_autoptr(GBytes) back = NULL;
      g_autoptr(GError) error = NULL;
      guint8 header[EIDER_STREAM_HEADER_BYTES];
      guint chunks = MAX (1, (sizes[i] + EIDER_STREAM_CHUNK_SIZE - 1) / EIDER_STREAM_CHUNK_SIZE);

      ct = encrypt_bytes (plain, key, header);
      g_assert_cmpuint (g_bytes_get_size (ct), ==, eider_crypto_encrypted_size (sizes[i]));
      assert_tags (ct, key, header, chunks);

      back = decrypt_bytes (ct, key, header, g_bytes_get_size (ct), &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (back, plain));

      /* Without the expected size too. */
      g_clear_pointer (&back, g_bytes_unref);
      back = decrypt_bytes (ct, key, header, -1, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (back, plain));
    }
}

static void
progress_cb (guint64  done,
             gpointer user_data)
{
  guint64 *last = user_data;

  g_assert_cmpuint (done, >, *last);
  *last = done;
}

/* 100 MiB + 7, produced and consumed on the fly, through a file on disk. */
static void
test_stream_roundtrip_large (void)
{
  const guint64 size = 100 * (guint64) MiB + 7;
  g_autoptr(EiderSecret) key = eider_secret_new_random (32);
  g_autoptr(GInputStream) source = test_pattern_stream_new (size);
  g_autoptr(GInputStream) again = test_pattern_stream_new (size);
  g_autoptr(GFileIOStream) io = NULL;
  g_autoptr(GFile) tmp = NULL;
  g_autoptr(GFileInputStream) ct_in = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(TestHashStream) sink = g_object_new (TEST_TYPE_HASH_STREAM, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *actual = NULL;
  guint8 header[EIDER_STREAM_HEADER_BYTES];
  guint64 plain_size = 0;
  guint64 last = 0;

  tmp = g_file_new_tmp ("eider-stream-XXXXXX", &io, &error);
  g_assert_no_error (error);

  g_assert_true (eider_crypto_encrypt_stream (source,
                                              g_io_stream_get_output_stream (G_IO_STREAM (io)),
                                              key, header, &plain_size,
                                              progress_cb, &last, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (plain_size, ==, size);
  g_assert_cmpuint (last, ==, size);
  g_assert_true (g_io_stream_close (G_IO_STREAM (io), NULL, NULL));

  info = g_file_query_info (tmp, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_file_info_get_size (info), ==, 104858025 + 7 + 17);
  g_assert_cmpuint (g_file_info_get_size (info), ==, eider_crypto_encrypted_size (size));

  ct_in = g_file_read (tmp, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (eider_crypto_decrypt_stream (G_INPUT_STREAM (ct_in), G_OUTPUT_STREAM (sink),
                                              key, header, g_file_info_get_size (info),
                                              NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sink->written, ==, size);

  expected = eider_hash_stream_base64 (again, NULL, &error);
  g_assert_no_error (error);
  actual = eider_hash_finish_base64 (sink->hash);
  g_assert_cmpstr (actual, ==, expected);

  g_file_delete (tmp, NULL, NULL);
}

static void
test_stream_failures (void)
{
  g_autoptr(EiderSecret) key = eider_secret_new_random (32);
  g_autoptr(EiderSecret) other = eider_secret_new_random (32);
  g_autoptr(GBytes) plain = test_pattern (8 * MiB + 100);
  g_autoptr(GBytes) ct = NULL;
  guint8 header[EIDER_STREAM_HEADER_BYTES];
  const guint8 *data;
  gsize len;

  ct = encrypt_bytes (plain, key, header);
  data = g_bytes_get_data (ct, &len);

  /* wrong key */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) back = decrypt_bytes (ct, other, header, len, &error);

    g_assert_null (back);
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_WRONG_KEY);
  }

  /* truncated in the middle of the last chunk */
  {
    g_autoptr(GBytes) cut = g_bytes_new (data, len - 50);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) back = decrypt_bytes (cut, key, header, -1, &error);

    g_assert_null (back);
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_TRUNCATED);
  }

  /* truncated to fewer bytes than a chunk's overhead */
  {
    g_autoptr(GBytes) cut = g_bytes_new (data, 2 * EIDER_STREAM_BLOCK_SIZE + 5);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) back = decrypt_bytes (cut, key, header, -1, &error);

    g_assert_null (back);
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_TRUNCATED);
  }

  /* truncated at a chunk boundary, but the expected size says more */
  {
    g_autoptr(GBytes) cut = g_bytes_new (data, 2 * EIDER_STREAM_BLOCK_SIZE);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) back = decrypt_bytes (cut, key, header, len, &error);

    g_assert_null (back);
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_TRUNCATED);
  }

  /* truncated at a chunk boundary with no size known: FINAL is missing */
  {
    g_autoptr(GBytes) cut = g_bytes_new (data, 2 * EIDER_STREAM_BLOCK_SIZE);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) back = decrypt_bytes (cut, key, header, -1, &error);

    g_assert_null (back);
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_MISSING_FINAL);
  }

  /* empty */
  {
    g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) back = decrypt_bytes (empty, key, header, -1, &error);

    g_assert_null (back);
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_TRUNCATED);
  }

  /* a damaged byte in a middle chunk */
  {
    g_autofree guint8 *copy = g_memdup2 (data, len);
    g_autoptr(GBytes) damaged = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) back = NULL;

    copy[EIDER_STREAM_BLOCK_SIZE + 1000] ^= 0x01;
    damaged = g_bytes_new (copy, len);
    back = decrypt_bytes (damaged, key, header, len, &error);
    g_assert_null (back);
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_CORRUPT);
  }

  /* data after FINAL, with the size known */
  {
    g_autofree guint8 *longer = g_malloc (len + 20);
    g_autoptr(GBytes) extended = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) back = NULL;

    memcpy (longer, data, len);
    memset (longer + len, 0x5a, 20);
    extended = g_bytes_new_take (g_steal_pointer (&longer), len + 20);
    back = decrypt_bytes (extended, key, header, len, &error);
    g_assert_null (back);
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_TRAILING_DATA);
  }
}

/* An exact multiple of 4 MiB followed by an empty FINAL trailer: the stream
 * already ended on its last full chunk, so the trailer is trailing data. */
static void
test_stream_empty_trailer (void)
{
  g_autoptr(EiderSecret) key = eider_secret_new_random (32);
  g_autoptr(GBytes) plain = test_pattern (8 * MiB);
  g_autoptr(GBytes) ct = NULL;
  g_autoptr(GBytes) back = NULL;
  g_autoptr(GBytes) extended = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *longer = NULL;
  guint8 header[EIDER_STREAM_HEADER_BYTES];
  const guint8 *data;
  gsize len;

  ct = encrypt_bytes (plain, key, header);
  data = g_bytes_get_data (ct, &len);
  g_assert_cmpuint (len, ==, 8388642);

  longer = g_malloc (len + EIDER_STREAM_ABYTES);
  memcpy (longer, data, len);
  memset (longer + len, 0, EIDER_STREAM_ABYTES);
  extended = g_bytes_new_take (g_steal_pointer (&longer), len + EIDER_STREAM_ABYTES);

  back = decrypt_bytes (extended, key, header, -1, &error);
  g_assert_null (back);
  g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_TRAILING_DATA);
}

/* A stream whose last chunk is MESSAGE, and one with an empty FINAL trailer:
 * both are what Ente's readers refuse (§16.5 negative tests). */
static void
test_stream_bad_framing (void)
{
  g_autoptr(EiderSecret) key = eider_secret_new_random (32);
  g_autoptr(GBytes) plain = test_pattern (4 * MiB);
  const guint8 *p = g_bytes_get_data (plain, NULL);
  g_autofree guint8 *ct = g_malloc (2 * EIDER_STREAM_BLOCK_SIZE);
  crypto_secretstream_xchacha20poly1305_state st;
  guint8 header[EIDER_STREAM_HEADER_BYTES];

  /* MESSAGE only */
  {
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(GBytes) back = NULL;
    g_autoptr(GError) error = NULL;

    crypto_secretstream_xchacha20poly1305_init_push (&st, header, eider_secret_peek (key));
    crypto_secretstream_xchacha20poly1305_push (&st, ct, NULL, p, 4 * MiB, NULL, 0,
                                                crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
    bytes = g_bytes_new (ct, EIDER_STREAM_BLOCK_SIZE);
    back = decrypt_bytes (bytes, key, header, EIDER_STREAM_BLOCK_SIZE, &error);
    g_assert_null (back);
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_MISSING_FINAL);
  }

  /* a short last chunk tagged MESSAGE */
  {
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(GBytes) back = NULL;
    g_autoptr(GError) error = NULL;

    crypto_secretstream_xchacha20poly1305_init_push (&st, header, eider_secret_peek (key));
    crypto_secretstream_xchacha20poly1305_push (&st, ct, NULL, p, 100, NULL, 0,
                                                crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
    bytes = g_bytes_new (ct, 100 + EIDER_STREAM_ABYTES);
    back = decrypt_bytes (bytes, key, header, -1, &error);
    g_assert_null (back);
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_MISSING_FINAL);
  }

  /* The encryptor refuses to produce the bad shapes. */
  {
    g_autoptr(EiderStreamEncryptor) enc = eider_stream_encryptor_new (key, header);
    g_autoptr(GError) error = NULL;

    /* a non-final chunk that is not 4 MiB */
    g_assert_false (eider_stream_encryptor_push (enc, p, 100, FALSE, ct, &error));
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_BAD_LENGTH);
    g_clear_error (&error);

    g_assert_true (eider_stream_encryptor_push (enc, p, 4 * MiB, FALSE, ct, &error));
    g_assert_no_error (error);

    /* an empty trailing FINAL chunk */
    g_assert_false (eider_stream_encryptor_push (enc, p, 0, TRUE, ct, &error));
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_BAD_LENGTH);
    g_clear_error (&error);

    g_assert_true (eider_stream_encryptor_push (enc, p, 4 * MiB, TRUE, ct, &error));
    g_assert_no_error (error);

    /* anything after FINAL */
    g_assert_false (eider_stream_encryptor_push (enc, p, 10, TRUE, ct, &error));
    g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_TRAILING_DATA);
  }
}

static void
test_stream_cancelled (void)
{
  g_autoptr(EiderSecret) key = eider_secret_new_random (32);
  g_autoptr(GInputStream) in = test_pattern_stream_new (20 * MiB);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  guint8 header[EIDER_STREAM_HEADER_BYTES];

  g_cancellable_cancel (cancellable);
  g_assert_false (eider_crypto_encrypt_stream (in, out, key, header, NULL, NULL, NULL,
                                               cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_encrypted_size (void)
{
  const struct { guint64 p, e; } table[] = {
    { 0, 17 },
    { 1, 18 },
    { 4194304, 4194321 },
    { 4194305, 4194339 },
    { 16777216, 16777284 },
    { 16777217, 16777302 },
    { 104857600, 104858025 },
    { 10 * (guint64) 1024 * MiB, 10 * (guint64) 1024 * MiB + 17 * 2560 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    g_assert_cmpuint (eider_crypto_encrypted_size (table[i].p), ==, table[i].e);
}

static void
test_content_md5 (void)
{
  g_autoptr(GBytes) black = read_fixture ("black-placeholder.jpg");
  g_autoptr(EiderMd5) md5 = eider_md5_new ();
  g_autofree char *empty = eider_content_md5 ((const guint8 *) "", 0);
  g_autofree char *whole = NULL;
  g_autofree char *parts = NULL;
  const guint8 *data;
  gsize len;

  g_assert_cmpstr (empty, ==, "1B2M2Y8AsgTpgAmY7PhCfg==");

  data = g_bytes_get_data (black, &len);
  whole = eider_content_md5 (data, len);
  g_assert_cmpstr (whole, ==, "k2Wwys+nsA0VckGFej4qcQ==");

  eider_md5_update (md5, data, 1000);
  eider_md5_update (md5, data + 1000, len - 1000);
  parts = eider_md5_finish_base64 (md5);
  g_assert_cmpstr (parts, ==, whole);

  /* Finishing starts the next digest afresh (one EiderMd5 serves every
   * part of an upload). */
  g_clear_pointer (&parts, g_free);
  eider_md5_update (md5, data, len);
  parts = eider_md5_finish_base64 (md5);
  g_assert_cmpstr (parts, ==, whole);
  g_clear_pointer (&parts, g_free);
  parts = eider_md5_finish_base64 (md5);
  g_assert_cmpstr (parts, ==, empty);
}

/* Key derivation (ente-auth.md Appendix A.2, A.3) */

static void
test_login_subkey (void)
{
  g_autoptr(EiderSecret) kek = secret_from_start (0x00, 32);
  g_autoptr(EiderSecret) sub = eider_crypto_derive_login_subkey (kek);
  g_autofree char *hex = test_hex (eider_secret_peek (sub), eider_secret_get_size (sub));
  g_autofree char *b64 = eider_base64_encode (eider_secret_peek (sub), eider_secret_get_size (sub));
  guint8 direct16[16];
  g_autofree char *direct_hex = NULL;

  g_assert_cmpuint (eider_secret_get_size (sub), ==, 16);
  g_assert_cmpstr (hex, ==, "6970b5d34442fd11788a83b4b57e1e72");
  g_assert_cmpstr (b64, ==, "aXC100RC/RF4ioO0tX4ecg==");

  /* Deriving 16 bytes directly is the documented mistake: it differs. */
  crypto_kdf_derive_from_key (direct16, 16, 1, "loginctx", eider_secret_peek (kek));
  direct_hex = test_hex (direct16, 16);
  g_assert_cmpstr (direct_hex, ==, "ac851cddefc1f917a05a4e339d56475a");
  g_assert_cmpstr (direct_hex, !=, hex);
}

static void
test_argon2id (void)
{
  guint8 salt[EIDER_SALT_BYTES];
  g_autoptr(EiderSecret) interactive = NULL;
  g_autoptr(EiderSecret) sensitive = NULL;
  g_autoptr(EiderSecret) sub = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *hex1 = NULL;
  g_autofree char *hex2 = NULL;
  g_autofree char *sub_b64 = NULL;

  for (guint i = 0; i < sizeof salt; i++)
    salt[i] = i;

  interactive = eider_crypto_derive_kek ("password", salt, 2, 67108864, &error);
  g_assert_no_error (error);
  hex1 = test_hex (eider_secret_peek (interactive), 32);
  g_assert_cmpstr (hex1, ==, "3fde0023e9c90652edac14784971e4258e084751bce00b5965d995c639b15cff");

  sensitive = eider_crypto_derive_kek ("password", salt, 16, 268435456, &error);
  g_assert_no_error (error);
  hex2 = test_hex (eider_secret_peek (sensitive), 32);
  g_assert_cmpstr (hex2, ==, "a36179ab6584df1c7a772c7204cd0a38ac9067c5d53e138e7a66930f332e2ef8");

  sub = eider_crypto_derive_login_subkey (sensitive);
  sub_b64 = eider_base64_encode (eider_secret_peek (sub), 16);
  g_assert_cmpstr (sub_b64, ==, "6cuL7F8/gNSGcXDTp2ZXRg==");
}

static void
test_argon2id_bad_limits (void)
{
  guint8 salt[EIDER_SALT_BYTES] = { 0 };
  g_autoptr(EiderSecret) kek = NULL;
  g_autoptr(GError) error = NULL;

  kek = eider_crypto_derive_kek ("password", salt, 0, 67108864, &error);
  g_assert_null (kek);
  g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_FAILED);
  g_clear_error (&error);

  kek = eider_crypto_derive_kek ("password", salt, 2, 1024, &error);
  g_assert_null (kek);
  g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_FAILED);
}

/* Recovery key (ente-server.md Appendix A) */

static void
test_mnemonic_vectors (void)
{
  const struct { guint8 fill; gboolean ramp; const char *words; } vectors[] = {
    { 0x40, TRUE, "doctor anxiety move mass federal casual cancel citizen ensure give fatal pact "
                  "agree powder essence melt film river bind regret remind concert just welcome" },
    { 0x00, FALSE, "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                   "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                   "abandon abandon abandon art" },
    { 0xff, FALSE, "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo "
                   "zoo zoo zoo vote" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autoptr(EiderSecret) key = eider_secret_new (32);
      g_autoptr(EiderSecret) back = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *words = NULL;

      for (guint b = 0; b < 32; b++)
        eider_secret_get_data (key)[b] = vectors[i].ramp ? vectors[i].fill + b : vectors[i].fill;

      words = eider_recovery_key_to_mnemonic (key);
      g_assert_cmpstr (words, ==, vectors[i].words);

      back = eider_recovery_key_from_mnemonic (words, &error);
      g_assert_no_error (error);
      g_assert_true (eider_secret_equal (back, key));
    }
}

static void
test_mnemonic_input_forms (void)
{
  g_autoptr(EiderSecret) key = secret_from_start (0x40, 32);
  g_autoptr(EiderSecret) from_hex = NULL;
  g_autoptr(EiderSecret) from_messy = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *hex = test_hex (eider_secret_peek (key), 32);
  g_autofree char *upper = g_ascii_strup (hex, -1);

  from_hex = eider_recovery_key_from_mnemonic (upper, &error);
  g_assert_no_error (error);
  g_assert_true (eider_secret_equal (from_hex, key));

  from_messy = eider_recovery_key_from_mnemonic ("  Doctor anxiety move mass federal casual cancel\n"
                                                 "citizen ensure give fatal pact agree powder essence "
                                                 "melt film  river bind regret remind concert just WELCOME\n",
                                                 &error);
  g_assert_no_error (error);
  g_assert_true (eider_secret_equal (from_messy, key));
}

static void
test_mnemonic_rejects (void)
{
  static const char * const bad[] = {
    /* 23 words */
    "doctor anxiety move mass federal casual cancel citizen ensure give fatal pact "
    "agree powder essence melt film river bind regret remind concert just",
    /* 25 words */
    "doctor anxiety move mass federal casual cancel citizen ensure give fatal pact "
    "agree powder essence melt film river bind regret remind concert just welcome welcome",
    /* a word not in the list */
    "doctor anxiety move mass federal casual cancel citizen ensure give fatal pact "
    "agree powder essence melt film river bind regret remind concert just welcomx",
    /* two words swapped: the checksum catches it */
    "anxiety doctor move mass federal casual cancel citizen ensure give fatal pact "
    "agree powder essence melt film river bind regret remind concert just welcome",
    /* 63 hex characters */
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5",
    "",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(EiderSecret) key = eider_recovery_key_from_mnemonic (bad[i], &error);

      g_assert_null (key);
      g_assert_error (error, EIDER_CRYPTO_ERROR, EIDER_CRYPTO_ERROR_BAD_MNEMONIC);
    }
}

/* Secure blocks, small (from slabs) and large (pages of their own):
 * aligned for libsodium's states, zero when given, wiped when given back,
 * and more of them alive at once than one slab holds. */
static void
test_secure_memory (void)
{
  g_autoptr(GPtrArray) blocks = g_ptr_array_new ();
  const gsize sizes[] = { 1, 32, 384, 448, 449, 5000 };

  for (guint round = 0; round < 2; round++)
    {
      for (guint i = 0; i < 300; i++)
        {
          gsize size = sizes[i % G_N_ELEMENTS (sizes)];
          guint8 *mem = eider_secure_alloc (size);

          g_assert_cmpuint ((guintptr) mem % 64, ==, 0);
          for (gsize j = 0; j < size; j++)
            g_assert_cmpuint (mem[j], ==, 0);
          memset (mem, 0xA5, size);
          g_ptr_array_add (blocks, mem);
        }
      for (guint i = 0; i < blocks->len; i++)
        {
          gsize size = sizes[i % G_N_ELEMENTS (sizes)];
          guint8 *mem = g_ptr_array_index (blocks, i);

          /* Each block is still what was written: no two overlap. */
          for (gsize j = 0; j < size; j++)
            g_assert_cmpuint (mem[j], ==, 0xA5);
        }
      for (guint i = 0; i < blocks->len; i++)
        eider_secure_free (g_ptr_array_index (blocks, i));
      g_ptr_array_set_size (blocks, 0);
    }
  eider_secure_free (NULL);
}

static void
test_secret_basics (void)
{
  g_autoptr(EiderSecret) a = secret_from_start (1, 16);
  g_autoptr(EiderSecret) b = eider_secret_copy (a);
  g_autoptr(EiderSecret) c = eider_secret_new_random (16);
  g_autoptr(EiderSecret) d = eider_secret_new_random (16);
  g_autoptr(EiderSecret) e = eider_secret_new (0);

  g_assert_true (eider_secret_equal (a, b));
  g_assert_false (eider_secret_equal (c, d));
  g_assert_false (eider_secret_equal (a, e));
  g_assert_cmpuint (eider_secret_get_size (e), ==, 0);
  g_assert_true (eider_secret_equal (NULL, NULL));
  g_assert_false (eider_secret_equal (a, NULL));
}

int
main (int   argc,
      char *argv[])
{
  test_rng_install ();
  g_assert_true (eider_crypto_init (NULL));
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/crypto/secret/basics", test_secret_basics);
  g_test_add_func ("/crypto/secure-memory", test_secure_memory);
  g_test_add_func ("/crypto/base64/vectors", test_base64_vectors);
  g_test_add_func ("/crypto/base64/rejects", test_base64_rejects);
  g_test_add_func ("/crypto/hash/vectors", test_hash_vectors);
  g_test_add_func ("/crypto/hash/streaming", test_hash_streaming);
  g_test_add_func ("/crypto/secretbox/wrap-vector", test_wrap_vector);
  g_test_add_func ("/crypto/sealed-box", test_sealed_box);
  g_test_add_func ("/crypto/blob/vectors", test_blob_vectors);
  g_test_add_func ("/crypto/blob/failures", test_blob_failures);
  g_test_add_func ("/crypto/stream/vectors", test_stream_vectors);
  g_test_add_func ("/crypto/stream/roundtrip-sizes", test_stream_roundtrip_sizes);
  g_test_add_func ("/crypto/stream/roundtrip-100MiB", test_stream_roundtrip_large);
  g_test_add_func ("/crypto/stream/failures", test_stream_failures);
  g_test_add_func ("/crypto/stream/empty-trailer", test_stream_empty_trailer);
  g_test_add_func ("/crypto/stream/bad-framing", test_stream_bad_framing);
  g_test_add_func ("/crypto/stream/cancelled", test_stream_cancelled);
  g_test_add_func ("/crypto/encrypted-size", test_encrypted_size);
  g_test_add_func ("/crypto/content-md5", test_content_md5);
  g_test_add_func ("/crypto/kdf/login-subkey", test_login_subkey);
  g_test_add_func ("/crypto/kdf/argon2id", test_argon2id);
  g_test_add_func ("/crypto/kdf/bad-limits", test_argon2id_bad_limits);
  g_test_add_func ("/crypto/recovery/vectors", test_mnemonic_vectors);
  g_test_add_func ("/crypto/recovery/input-forms", test_mnemonic_input_forms);
  g_test_add_func ("/crypto/recovery/rejects", test_mnemonic_rejects);

  return g_test_run ();
}
