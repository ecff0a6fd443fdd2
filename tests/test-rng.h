/* test-rng.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A scripted randombytes implementation for known-answer tests: each queued
 * draw makes the next randombytes_buf() call return consecutive byte values
 * from a start byte (the convention of the spec's vectors) and checks the
 * draw's size. With nothing queued, draws come from the system generator.
 * Install it with test_rng_install() before sodium_init().
 */
#pragma once

#include <glib.h>
#include <sodium.h>

typedef struct
{
  guint8 start;
  gsize  size;
} TestRngDraw;

static GQueue test_rng_queue = G_QUEUE_INIT;

static const char *
test_rng_name (void)
{
  return "eider-test-scripted";
}

static uint32_t
test_rng_random (void)
{
  return randombytes_sysrandom_implementation.random ();
}

static void
test_rng_buf (void * const buf,
              const size_t size)
{
  TestRngDraw *draw = g_queue_pop_head (&test_rng_queue);
  guint8 *out = buf;

  if (draw == NULL)
    {
      randombytes_sysrandom_implementation.buf (buf, size);
      return;
    }

  g_assert_cmpuint (size, ==, draw->size);
  for (gsize i = 0; i < size; i++)
    out[i] = (guint8) (draw->start + i);
  g_free (draw);
}

static void
test_rng_stir (void)
{
  randombytes_sysrandom_implementation.stir ();
}

static int
test_rng_close (void)
{
  return 0;
}

static struct randombytes_implementation test_rng_impl = {
  test_rng_name,
  test_rng_random,
  test_rng_stir,
  NULL,
  test_rng_buf,
  test_rng_close,
};

static inline void
test_rng_install (void)
{
  randombytes_set_implementation (&test_rng_impl);
}

/* The next randombytes_buf() of @size bytes returns start, start+1, … */
static inline void
test_rng_expect (guint8 start,
                 gsize  size)
{
  TestRngDraw *draw = g_new (TestRngDraw, 1);

  draw->start = start;
  draw->size = size;
  g_queue_push_tail (&test_rng_queue, draw);
}

static inline void
test_rng_assert_drained (void)
{
  g_assert_cmpuint (g_queue_get_length (&test_rng_queue), ==, 0);
}

static inline GBytes *
test_pattern (gsize len)
{
  guint8 *data = g_malloc (MAX (len, 1));

  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) (i % 251);

  return g_bytes_new_take (data, len);
}

static inline char *
test_hex (const guint8 *data,
          gsize         len)
{
  char *hex = g_malloc (len * 2 + 1);

  sodium_bin2hex (hex, len * 2 + 1, data, len);

  return hex;
}

static inline char *
test_sha256_hex (const guint8 *data,
                 gsize         len)
{
  guint8 digest[crypto_hash_sha256_BYTES];

  crypto_hash_sha256 (digest, data, len);

  return test_hex (digest, sizeof digest);
}
