/* test-policy.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * EiderPolicy: each condition gates with its sentence and lifts by itself,
 * in a fixed order; the settings turn conditions off; power saver limits
 * the work to one job; the upload window opens and closes on time with an
 * injected clock, with exactly one timer and none without a window; "back
 * up anyway" lasts until the conditions change or until its time.
 */
#include "config.h"

#include "eider-policy.h"

/* A clock that starts at a chosen UTC time and runs at the real pace. */
typedef struct
{
  GDateTime *base;
  gint64     started;
} FakeClock;

static GDateTime *
fake_clock_now (gpointer user_data)
{
  FakeClock *clock = user_data;

  return g_date_time_add (clock->base, g_get_monotonic_time () - clock->started);
}

static void
fake_clock_free (gpointer user_data)
{
  FakeClock *clock = user_data;

  g_date_time_unref (clock->base);
  g_free (clock);
}

static void
set_fake_clock (EiderPolicy *policy,
                int          hour,
                int          minute,
                double       seconds)
{
  FakeClock *clock = g_new0 (FakeClock, 1);

  clock->base = g_date_time_new_utc (2026, 3, 14, hour, minute, seconds);
  clock->started = g_get_monotonic_time ();
  eider_policy_set_clock (policy, fake_clock_now, clock, fake_clock_free);
}

/* How long until the next timer of the default main context; -1: none. */
static int
next_timeout_ms (void)
{
  GMainContext *context = g_main_context_default ();
  GPollFD fds[64];
  int timeout = -1;
  int priority;

  g_assert_true (g_main_context_acquire (context));
  g_main_context_prepare (context, &priority);
  g_main_context_query (context, G_MAXINT, &timeout, fds, G_N_ELEMENTS (fds));
  g_main_context_check (context, G_MAXINT, fds, 0);
  g_main_context_release (context);

  return timeout;
}

static void
count_cb (GObject    *object,
          GParamSpec *pspec,
          gpointer    user_data)
{
  (*(guint *) user_data)++;
}

/* Runs the main context until the reason is @want, or fails after @seconds.
 * Returns how long it took. */
static double
wait_for_reason (EiderPolicy *policy,
                 const char  *want,
                 double       seconds)
{
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + (gint64) (seconds * G_USEC_PER_SEC);

  while (g_strcmp0 (eider_policy_get_reason (policy), want) != 0)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Reason “%s” instead of “%s” after %.1f s",
                 eider_policy_get_reason (policy), want, seconds);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }

  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

static void
test_policy_defaults (void)
{
  g_autoptr(EiderPolicy) policy = eider_policy_new ();
  gboolean metered, on_power_saver;
  int below;

  g_object_get (policy, "pause-on-metered", &metered, "pause-on-battery-below", &below,
                "pause-on-power-saver", &on_power_saver, NULL);
  g_assert_true (metered);
  g_assert_cmpint (below, ==, 20);
  g_assert_true (on_power_saver);
  g_assert_null (eider_policy_get_reason (policy));
  g_assert_cmpuint (eider_policy_get_max_jobs (policy), ==, 4);
  g_assert_false (eider_policy_get_override_active (policy));
  g_assert_cmpint (eider_policy_get_override_until (policy), ==, 0);
  /* Nothing to wait for: no timer. */
  g_assert_cmpint (next_timeout_ms (), ==, -1);
}

static void
test_policy_conditions (void)
{
  g_autoptr(EiderPolicy) policy = eider_policy_new ();
  guint reasons = 0;

  g_signal_connect (policy, "notify::reason", G_CALLBACK (count_cb), &reasons);

  /* No network: the queue holds, and goes on when it is back. */
  g_object_set (policy, "network-available", FALSE, NULL);
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, "Waiting for a network connection");
  g_object_set (policy, "network-available", TRUE, NULL);
  g_assert_null (eider_policy_get_reason (policy));
  g_assert_cmpuint (reasons, ==, 2);

  /* Metered: paused by default, not when the setting is off. */
  g_object_set (policy, "network-metered", TRUE, NULL);
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, "Paused on a metered network");
  g_object_set (policy, "pause-on-metered", FALSE, NULL);
  g_assert_null (eider_policy_get_reason (policy));
  g_object_set (policy, "pause-on-metered", TRUE, NULL);
  g_assert_nonnull (eider_policy_get_reason (policy));
  g_object_set (policy, "network-metered", FALSE, NULL);
  g_assert_null (eider_policy_get_reason (policy));

  /* Battery: on with more than 20 %, paused below; the level shows. */
  g_object_set (policy, "on-battery", TRUE, "battery-percentage", 55.0, NULL);
  g_assert_null (eider_policy_get_reason (policy));
  g_object_set (policy, "battery-percentage", 20.0, NULL);
  g_assert_null (eider_policy_get_reason (policy));
  g_object_set (policy, "battery-percentage", 19.6, NULL);
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, "Paused on battery: 19 % left (below 20 %)");
  g_object_set (policy, "battery-percentage", 12.0, NULL);
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, "Paused on battery: 12 % left (below 20 %)");
  g_object_set (policy, "pause-on-battery-below", 10, NULL);
  g_assert_null (eider_policy_get_reason (policy));
  g_object_set (policy, "pause-on-battery-below", 50, NULL);
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, "Paused on battery: 12 % left (below 50 %)");
  g_object_set (policy, "pause-on-battery-below", 0, NULL);
  g_assert_null (eider_policy_get_reason (policy));
  g_object_set (policy, "pause-on-battery-below", 20, NULL);
  /* Plugged in, the level does not matter. */
  g_object_set (policy, "on-battery", FALSE, NULL);
  g_assert_null (eider_policy_get_reason (policy));

  /* Power saver: paused by default, and one job in any case. */
  g_object_set (policy, "power-saver", TRUE, NULL);
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, "Paused in power saver mode");
  g_assert_cmpuint (eider_policy_get_max_jobs (policy), ==, 1);
  g_object_set (policy, "pause-on-power-saver", FALSE, NULL);
  g_assert_null (eider_policy_get_reason (policy));
  g_assert_cmpuint (eider_policy_get_max_jobs (policy), ==, 1);
  g_object_set (policy, "power-saver", FALSE, NULL);
  g_assert_cmpuint (eider_policy_get_max_jobs (policy), ==, 4);
  g_object_set (policy, "jobs", 2u, NULL);
  g_assert_cmpuint (eider_policy_get_max_jobs (policy), ==, 2);
  g_object_set (policy, "pause-on-power-saver", TRUE, NULL);

  /* Several at once: the first in the documented order shows, and the
   * next one when it lifts. */
  g_object_set (policy, "power-saver", TRUE, "on-battery", TRUE, "battery-percentage", 5.0,
                "network-metered", TRUE, "network-available", FALSE, NULL);
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, "Waiting for a network connection");
  g_object_set (policy, "network-available", TRUE, NULL);
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, "Paused on a metered network");
  g_object_set (policy, "network-metered", FALSE, NULL);
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, "Paused on battery: 5 % left (below 20 %)");
  g_object_set (policy, "on-battery", FALSE, NULL);
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, "Paused in power saver mode");
  g_object_set (policy, "power-saver", FALSE, NULL);
  g_assert_null (eider_policy_get_reason (policy));

  /* No condition ever needed a timer. */
  g_assert_cmpint (next_timeout_ms (), ==, -1);
}

static void
test_policy_parse_schedule (void)
{
  static const struct
  {
    const char *text;
    int         start, end;
  } valid[] = {
    { "", -1, -1 },
    { "  ", -1, -1 },
    { "01:00-07:00", 60, 420 },
    { "1:30-7:05", 90, 425 },
    { "22:00 - 06:00", 1320, 360 },
    { "00:00–23:59", 0, 1439 },
  };
  static const char *invalid[] = {
    "01:00", "01:00-", "-07:00", "25:00-07:00", "01:60-07:00", "07:00-07:00", "01:00-07:00x",
    "1-7", "a1:00-07:00", "01:00/07:00",
  };

  for (guint i = 0; i < G_N_ELEMENTS (valid); i++)
    {
      g_autoptr(GError) error = NULL;
      int start = 0, end = 0;

      g_assert_true (eider_policy_parse_schedule (valid[i].text, &start, &end, &error));
      g_assert_no_error (error);
      g_assert_cmpint (start, ==, valid[i].start);
      g_assert_cmpint (end, ==, valid[i].end);
    }

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autoptr(GError) error = NULL;
      int start = 0, end = 0;

      g_assert_false (eider_policy_parse_schedule (invalid[i], &start, &end, &error));
      g_assert_error (error, EIDER_POLICY_ERROR, EIDER_POLICY_ERROR_INVALID_SCHEDULE);
    }
}

/* The window opens and closes by itself at its boundaries, with one timer
 * set at the next boundary, and no timer once the window is removed. */
static void
test_policy_schedule (void)
{
  g_autoptr(EiderPolicy) policy = eider_policy_new ();
  const char *waiting = "Waiting for the upload window (01:00–07:00)";
  double took;
  int timeout;

  set_fake_clock (policy, 0, 59, 58.5);
  g_object_set (policy, "schedule", "01:00-07:00", NULL);
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, waiting);
  timeout = next_timeout_ms ();
  g_assert_cmpint (timeout, >, 1000);
  g_assert_cmpint (timeout, <=, 1500);

  took = wait_for_reason (policy, NULL, 5);
  g_test_message ("window opened after %.2f s", took);
  g_assert_cmpfloat (took, >, 1.2);
  g_assert_cmpfloat (took, <, 2.5);
  /* The next boundary is the close, six hours on. */
  timeout = next_timeout_ms ();
  g_assert_cmpint (timeout, >, 6 * 3600 * 1000 - 5000);
  g_assert_cmpint (timeout, <=, 6 * 3600 * 1000);

  /* Closing. */
  set_fake_clock (policy, 6, 59, 59.0);
  g_assert_null (eider_policy_get_reason (policy));
  took = wait_for_reason (policy, waiting, 5);
  g_assert_cmpfloat (took, >, 0.7);
  g_assert_cmpfloat (took, <, 2.0);
  timeout = next_timeout_ms ();
  g_assert_cmpint (timeout, >, 18 * 3600 * 1000 - 5000);
  g_assert_cmpint (timeout, <=, 18 * 3600 * 1000);

  /* Across midnight. */
  set_fake_clock (policy, 21, 59, 59.0);
  g_object_set (policy, "schedule", "22:00-06:00", NULL);
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, "Waiting for the upload window (22:00–06:00)");
  wait_for_reason (policy, NULL, 5);
  set_fake_clock (policy, 3, 0, 0);
  g_assert_null (eider_policy_get_reason (policy));
  set_fake_clock (policy, 12, 0, 0);
  g_assert_nonnull (eider_policy_get_reason (policy));

  /* An invalid window (an edited settings file) is "any time". */
  g_object_set (policy, "schedule", "soon", NULL);
  g_assert_null (eider_policy_get_reason (policy));
  g_assert_cmpint (next_timeout_ms (), ==, -1);

  /* No window, no timer. */
  g_object_set (policy, "schedule", "01:00-07:00", NULL);
  g_assert_cmpint (next_timeout_ms (), >, 0);
  g_object_set (policy, "schedule", "", NULL);
  g_assert_null (eider_policy_get_reason (policy));
  g_assert_cmpint (next_timeout_ms (), ==, -1);
}

/* "Back up anyway" until the conditions change: it lifts what holds now,
 * ends when one of those stops holding, and does not cover a condition
 * that comes later. It never lifts a missing network. */
static void
test_policy_override_until_change (void)
{
  g_autoptr(EiderPolicy) policy = eider_policy_new ();
  guint notified = 0;

  g_signal_connect (policy, "notify::override-active", G_CALLBACK (count_cb), &notified);

  g_assert_false (eider_policy_override_until_change (policy));
  g_assert_false (eider_policy_get_override_active (policy));

  g_object_set (policy, "network-available", FALSE, NULL);
  g_assert_false (eider_policy_override_until_change (policy));
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, "Waiting for a network connection");
  g_object_set (policy, "network-available", TRUE, NULL);

  g_object_set (policy, "network-metered", TRUE, NULL);
  g_assert_nonnull (eider_policy_get_reason (policy));
  g_assert_true (eider_policy_override_until_change (policy));
  g_assert_null (eider_policy_get_reason (policy));
  g_assert_true (eider_policy_get_override_active (policy));
  g_assert_cmpuint (notified, ==, 1);

  /* A new condition is not covered by it. */
  g_object_set (policy, "on-battery", TRUE, "battery-percentage", 10.0, NULL);
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, "Paused on battery: 10 % left (below 20 %)");
  g_object_set (policy, "on-battery", FALSE, NULL);
  g_assert_null (eider_policy_get_reason (policy));
  g_assert_true (eider_policy_get_override_active (policy));

  /* Off the metered network, the override is over; back on it, paused. */
  g_object_set (policy, "network-metered", FALSE, NULL);
  g_assert_false (eider_policy_get_override_active (policy));
  g_assert_cmpuint (notified, ==, 2);
  g_object_set (policy, "network-metered", TRUE, NULL);
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, "Paused on a metered network");

  /* Cancelled by hand. */
  g_assert_true (eider_policy_override_until_change (policy));
  g_assert_null (eider_policy_get_reason (policy));
  eider_policy_cancel_override (policy);
  g_assert_false (eider_policy_get_override_active (policy));
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, "Paused on a metered network");
  g_assert_cmpint (next_timeout_ms (), ==, -1);
}

/* "Back up anyway for N hours": everything that can be lifted is, also
 * what comes meanwhile, until the time; then it ends by itself (one timer). */
static void
test_policy_override_timed (void)
{
  g_autoptr(EiderPolicy) policy = eider_policy_new ();
  g_autoptr(GDateTime) now = NULL;
  gint64 until;
  double took;

  set_fake_clock (policy, 12, 0, 0);
  g_object_set (policy, "power-saver", TRUE, NULL);
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, "Paused in power saver mode");

  now = g_date_time_new_utc (2026, 3, 14, 12, 0, 0);
  until = g_date_time_to_unix (now) + 2;
  eider_policy_override_until (policy, until);
  g_assert_true (eider_policy_get_override_active (policy));
  g_assert_cmpint (eider_policy_get_override_until (policy), ==, until);
  g_assert_null (eider_policy_get_reason (policy));
  /* Power saver still limits the work. */
  g_assert_cmpuint (eider_policy_get_max_jobs (policy), ==, 1);
  g_assert_cmpint (next_timeout_ms (), >, 1500);
  g_assert_cmpint (next_timeout_ms (), <=, 2000);

  /* Covers what comes meanwhile, but not a lost network. */
  g_object_set (policy, "network-metered", TRUE, NULL);
  g_assert_null (eider_policy_get_reason (policy));
  g_object_set (policy, "network-available", FALSE, NULL);
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, "Waiting for a network connection");
  g_object_set (policy, "network-available", TRUE, NULL);
  g_assert_null (eider_policy_get_reason (policy));

  took = wait_for_reason (policy, "Paused on a metered network", 5);
  g_test_message ("override expired after %.2f s", took);
  g_assert_cmpfloat (took, >, 1.5);
  g_assert_cmpfloat (took, <, 3.0);
  g_assert_false (eider_policy_get_override_active (policy));
  g_assert_cmpint (eider_policy_get_override_until (policy), ==, 0);
  g_assert_cmpint (next_timeout_ms (), ==, -1);

  /* A time already past changes nothing. */
  eider_policy_override_until (policy, g_date_time_to_unix (now) - 60);
  g_assert_false (eider_policy_get_override_active (policy));
  g_assert_cmpstr (eider_policy_get_reason (policy), ==, "Paused on a metered network");
}

/* The policy holds no reference on itself through its timer. */
static void
test_policy_finalize (void)
{
  EiderPolicy *policy = eider_policy_new ();

  set_fake_clock (policy, 0, 0, 0);
  g_object_set (policy, "schedule", "01:00-07:00", NULL);
  g_assert_cmpint (next_timeout_ms (), >, 0);
  g_assert_finalize_object (policy);
  g_assert_cmpint (next_timeout_ms (), ==, -1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/policy/defaults", test_policy_defaults);
  g_test_add_func ("/policy/conditions", test_policy_conditions);
  g_test_add_func ("/policy/parse-schedule", test_policy_parse_schedule);
  g_test_add_func ("/policy/schedule", test_policy_schedule);
  g_test_add_func ("/policy/override-until-change", test_policy_override_until_change);
  g_test_add_func ("/policy/override-timed", test_policy_override_timed);
  g_test_add_func ("/policy/finalize", test_policy_finalize);

  return g_test_run ();
}
