/* eider-policy.c
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "eider-policy"
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "eider-policy.h"

typedef enum
{
  CONDITION_OFFLINE     = 1 << 0,
  CONDITION_METERED     = 1 << 1,
  CONDITION_BATTERY     = 1 << 2,
  CONDITION_POWER_SAVER = 1 << 3,
  CONDITION_SCHEDULE    = 1 << 4,
} Condition;

/* What "back up anyway" may lift: not a missing network. */
#define OVERRIDABLE (CONDITION_METERED | CONDITION_BATTERY | CONDITION_POWER_SAVER | CONDITION_SCHEDULE)

#define DEFAULT_JOBS 4

struct _EiderPolicy
{
  GObject           parent_instance;

  /* The machine */
  gboolean          network_available;
  gboolean          network_metered;
  gboolean          on_battery;
  double            battery_percentage;
  gboolean          power_saver;

  /* The settings */
  gboolean          pause_on_metered;
  int               pause_on_battery_below;
  gboolean          pause_on_power_saver;
  char             *schedule;
  int               schedule_start;   /* minutes from midnight; -1: any time */
  int               schedule_end;
  guint             jobs;

  /* Back up anyway */
  Condition         override_mask;    /* lifted until one of these stops holding */
  gint64            override_until;   /* unix seconds; 0: none */

  /* Outputs */
  Condition         active;
  char             *reason;
  guint             max_jobs;

  EiderPolicyClock  clock;
  gpointer          clock_data;
  GDestroyNotify    clock_destroy;
  GMainContext     *context;
  GSource          *timer;
};

G_DEFINE_FINAL_TYPE (EiderPolicy, eider_policy, G_TYPE_OBJECT)

G_DEFINE_QUARK (eider-policy-error-quark, eider_policy_error)

enum
{
  PROP_0,
  PROP_NETWORK_AVAILABLE,
  PROP_NETWORK_METERED,
  PROP_ON_BATTERY,
  PROP_BATTERY_PERCENTAGE,
  PROP_POWER_SAVER,
  PROP_PAUSE_ON_METERED,
  PROP_PAUSE_ON_BATTERY_BELOW,
  PROP_PAUSE_ON_POWER_SAVER,
  PROP_SCHEDULE,
  PROP_JOBS,
  PROP_REASON,
  PROP_MAX_JOBS,
  PROP_OVERRIDE_ACTIVE,
  PROP_OVERRIDE_UNTIL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void policy_update (EiderPolicy *self);

static GDateTime *
policy_now (EiderPolicy *self)
{
  if (self->clock != NULL)
    return self->clock (self->clock_data);

  return g_date_time_new_now_local ();
}

/* The schedule */

static gboolean
parse_time (const char  *text,
            int         *minute,
            const char **end)
{
  int h = 0, m = 0, n = 0;

  if (sscanf (text, "%2d:%2d%n", &h, &m, &n) != 2 || n < 4 || h < 0 || h > 23 || m < 0 || m > 59)
    return FALSE;
  /* "1:00" and "01:00" both, but nothing sscanf skipped. */
  if (!g_ascii_isdigit (text[0]))
    return FALSE;

  *minute = h * 60 + m;
  *end = text + n;
  return TRUE;
}

/**
 * eider_policy_parse_schedule:
 * @text: (nullable): "HH:MM-HH:MM", or empty for any time
 * @start_minute: (out): the first minute of the window, or -1
 * @end_minute: (out): the minute it ends (excluded), or -1
 * @error: return location for an error
 *
 * Returns: %TRUE when @text is a valid window
 */
gboolean
eider_policy_parse_schedule (const char  *text,
                             int         *start_minute,
                             int         *end_minute,
                             GError     **error)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (text != NULL ? text : ""));
  const char *p = trimmed;
  int start, end;

  g_return_val_if_fail (start_minute != NULL && end_minute != NULL, FALSE);

  if (*p == '\0')
    {
      *start_minute = *end_minute = -1;
      return TRUE;
    }

  if (!parse_time (p, &start, &p))
    goto invalid;
  while (*p == ' ')
    p++;
  if (g_str_has_prefix (p, "-"))
    p += 1;
  else if (g_str_has_prefix (p, "–"))
    p += strlen ("–");
  else
    goto invalid;
  while (*p == ' ')
    p++;
  if (!parse_time (p, &end, &p) || *p != '\0')
    goto invalid;

  if (start == end)
    {
      g_set_error (error, EIDER_POLICY_ERROR, EIDER_POLICY_ERROR_INVALID_SCHEDULE,
                   "The upload window “%s” starts when it ends", text);
      return FALSE;
    }

  *start_minute = start;
  *end_minute = end;
  return TRUE;

invalid:
  g_set_error (error, EIDER_POLICY_ERROR, EIDER_POLICY_ERROR_INVALID_SCHEDULE,
               "“%s” is not an upload window such as 01:00-07:00", text);
  return FALSE;
}

static gboolean
has_schedule (EiderPolicy *self)
{
  return self->schedule_start >= 0 && self->schedule_end >= 0;
}

static gboolean
inside_schedule (EiderPolicy *self,
                 GDateTime   *now)
{
  int minute = g_date_time_get_hour (now) * 60 + g_date_time_get_minute (now);

  if (self->schedule_start < self->schedule_end)
    return minute >= self->schedule_start && minute < self->schedule_end;

  /* Across midnight. */
  return minute >= self->schedule_start || minute < self->schedule_end;
}

/* The next time the window opens or closes after @now. */
static GDateTime *
next_schedule_boundary (EiderPolicy *self,
                        GDateTime   *now)
{
  g_autoptr(GTimeZone) tz = g_time_zone_ref (g_date_time_get_timezone (now));
  GDateTime *best = NULL;
  const int minutes[2] = { self->schedule_start, self->schedule_end };

  for (int day = 0; day <= 1; day++)
    {
      g_autoptr(GDateTime) date = g_date_time_add_days (now, day);

      for (guint i = 0; i < G_N_ELEMENTS (minutes); i++)
        {
          g_autoptr(GDateTime) at = g_date_time_new (tz,
                                                     g_date_time_get_year (date),
                                                     g_date_time_get_month (date),
                                                     g_date_time_get_day_of_month (date),
                                                     minutes[i] / 60, minutes[i] % 60, 0);

          if (at == NULL || g_date_time_compare (at, now) <= 0)
            continue;
          if (best == NULL || g_date_time_compare (at, best) < 0)
            {
              g_clear_pointer (&best, g_date_time_unref);
              best = g_steal_pointer (&at);
            }
        }
    }

  return best;
}

/* The timer */

static gboolean
timer_cb (gpointer user_data)
{
  EiderPolicy *self = user_data;

  g_clear_pointer (&self->timer, g_source_unref);
  policy_update (self);

  return G_SOURCE_REMOVE;
}

static void
clear_timer (EiderPolicy *self)
{
  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_clear_pointer (&self->timer, g_source_unref);
    }
}

/* One timer, at the earliest of: the window's next boundary, the end of a
 * timed override. None at all when neither exists. */
static void
schedule_timer (EiderPolicy *self,
                GDateTime   *now)
{
  gint64 now_us = g_date_time_to_unix (now) * G_USEC_PER_SEC + g_date_time_get_microsecond (now);
  gint64 next_us = G_MAXINT64;
  gint64 delay_ms;

  clear_timer (self);

  if (has_schedule (self))
    {
      g_autoptr(GDateTime) boundary = next_schedule_boundary (self, now);

      if (boundary != NULL)
        next_us = g_date_time_to_unix (boundary) * G_USEC_PER_SEC;
    }
  if (self->override_until > 0)
    next_us = MIN (next_us, self->override_until * G_USEC_PER_SEC);

  if (next_us == G_MAXINT64)
    return;

  delay_ms = MAX ((next_us - now_us + 999) / 1000, 1);
  self->timer = g_timeout_source_new ((guint) MIN (delay_ms, G_MAXUINT));
  g_source_set_static_name (self->timer, "[eider] policy boundary");
  g_source_set_callback (self->timer, timer_cb, self, NULL);
  g_source_attach (self->timer, self->context);
}

/* The outputs */

static Condition
conditions_now (EiderPolicy *self,
                GDateTime   *now)
{
  Condition active = 0;

  if (!self->network_available)
    active |= CONDITION_OFFLINE;
  if (self->network_metered && self->pause_on_metered)
    active |= CONDITION_METERED;
  if (self->on_battery && self->pause_on_battery_below > 0 &&
      self->battery_percentage < self->pause_on_battery_below)
    active |= CONDITION_BATTERY;
  if (self->power_saver && self->pause_on_power_saver)
    active |= CONDITION_POWER_SAVER;
  if (has_schedule (self) && !inside_schedule (self, now))
    active |= CONDITION_SCHEDULE;

  return active;
}

static char *
reason_for (EiderPolicy *self,
            Condition    gating)
{
  if (gating & CONDITION_OFFLINE)
    return g_strdup ("Waiting for a network connection");
  if (gating & CONDITION_METERED)
    return g_strdup ("Paused on a metered network");
  if (gating & CONDITION_BATTERY)
    return g_strdup_printf ("Paused on battery: %.0f %% left (below %d %%)",
                            floor (self->battery_percentage), self->pause_on_battery_below);
  if (gating & CONDITION_POWER_SAVER)
    return g_strdup ("Paused in power saver mode");
  if (gating & CONDITION_SCHEDULE)
    return g_strdup_printf ("Waiting for the upload window (%02d:%02d–%02d:%02d)",
                            self->schedule_start / 60, self->schedule_start % 60,
                            self->schedule_end / 60, self->schedule_end % 60);

  return NULL;
}

static void
policy_update (EiderPolicy *self)
{
  g_autoptr(GDateTime) now = policy_now (self);
  gboolean was_overriding = eider_policy_get_override_active (self);
  gint64 old_until = self->override_until;
  g_autofree char *reason = NULL;
  Condition gating;
  guint max_jobs;

  g_object_freeze_notify (G_OBJECT (self));

  self->active = conditions_now (self, now);

  /* An override until the conditions change ends when one of them no
   * longer holds; a timed one when its time has come. */
  if (self->override_mask != 0 && (self->active & self->override_mask) != self->override_mask)
    self->override_mask = 0;
  if (self->override_until > 0 && g_date_time_to_unix (now) >= self->override_until)
    self->override_until = 0;

  gating = self->active & ~self->override_mask;
  if (self->override_until > 0)
    gating &= ~OVERRIDABLE;

  reason = reason_for (self, gating);
  if (g_strcmp0 (reason, self->reason) != 0)
    {
      g_free (self->reason);
      self->reason = g_steal_pointer (&reason);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REASON]);
    }

  max_jobs = self->power_saver ? 1 : self->jobs;
  if (max_jobs != self->max_jobs)
    {
      self->max_jobs = max_jobs;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_JOBS]);
    }

  if (was_overriding != eider_policy_get_override_active (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OVERRIDE_ACTIVE]);
  if (old_until != self->override_until)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OVERRIDE_UNTIL]);

  schedule_timer (self, now);

  g_object_thaw_notify (G_OBJECT (self));
}

/* GObject */

static void
set_boolean (EiderPolicy *self,
             gboolean    *field,
             gboolean     value,
             guint        prop)
{
  value = !!value;
  if (*field == value)
    return;

  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
  policy_update (self);
}

static void
set_schedule (EiderPolicy *self,
              const char  *schedule)
{
  g_autoptr(GError) error = NULL;
  int start, end;

  if (g_strcmp0 (schedule, self->schedule) == 0)
    return;

  /* The front ends check what the user types; a bad value that still gets
   * here (an edited settings file) means "any time". */
  if (!eider_policy_parse_schedule (schedule, &start, &end, &error))
    {
      g_message ("Ignoring the upload window: %s", error->message);
      start = end = -1;
    }

  g_free (self->schedule);
  self->schedule = g_strdup (schedule);
  self->schedule_start = start;
  self->schedule_end = end;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SCHEDULE]);
  policy_update (self);
}

static void
eider_policy_dispose (GObject *object)
{
  EiderPolicy *self = EIDER_POLICY (object);

  clear_timer (self);
  if (self->clock_destroy != NULL)
    self->clock_destroy (self->clock_data);
  self->clock = NULL;
  self->clock_data = NULL;
  self->clock_destroy = NULL;

  G_OBJECT_CLASS (eider_policy_parent_class)->dispose (object);
}

static void
eider_policy_finalize (GObject *object)
{
  EiderPolicy *self = EIDER_POLICY (object);

  g_free (self->schedule);
  g_free (self->reason);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (eider_policy_parent_class)->finalize (object);
}

static void
eider_policy_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  EiderPolicy *self = EIDER_POLICY (object);

  switch (prop_id)
    {
    case PROP_NETWORK_AVAILABLE:
      g_value_set_boolean (value, self->network_available);
      break;
    case PROP_NETWORK_METERED:
      g_value_set_boolean (value, self->network_metered);
      break;
    case PROP_ON_BATTERY:
      g_value_set_boolean (value, self->on_battery);
      break;
    case PROP_BATTERY_PERCENTAGE:
      g_value_set_double (value, self->battery_percentage);
      break;
    case PROP_POWER_SAVER:
      g_value_set_boolean (value, self->power_saver);
      break;
    case PROP_PAUSE_ON_METERED:
      g_value_set_boolean (value, self->pause_on_metered);
      break;
    case PROP_PAUSE_ON_BATTERY_BELOW:
      g_value_set_int (value, self->pause_on_battery_below);
      break;
    case PROP_PAUSE_ON_POWER_SAVER:
      g_value_set_boolean (value, self->pause_on_power_saver);
      break;
    case PROP_SCHEDULE:
      g_value_set_string (value, self->schedule);
      break;
    case PROP_JOBS:
      g_value_set_uint (value, self->jobs);
      break;
    case PROP_REASON:
      g_value_set_string (value, self->reason);
      break;
    case PROP_MAX_JOBS:
      g_value_set_uint (value, self->max_jobs);
      break;
    case PROP_OVERRIDE_ACTIVE:
      g_value_set_boolean (value, eider_policy_get_override_active (self));
      break;
    case PROP_OVERRIDE_UNTIL:
      g_value_set_int64 (value, self->override_until);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_policy_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  EiderPolicy *self = EIDER_POLICY (object);

  switch (prop_id)
    {
    case PROP_NETWORK_AVAILABLE:
      set_boolean (self, &self->network_available, g_value_get_boolean (value), prop_id);
      break;
    case PROP_NETWORK_METERED:
      set_boolean (self, &self->network_metered, g_value_get_boolean (value), prop_id);
      break;
    case PROP_ON_BATTERY:
      set_boolean (self, &self->on_battery, g_value_get_boolean (value), prop_id);
      break;
    case PROP_BATTERY_PERCENTAGE:
      if (self->battery_percentage != g_value_get_double (value))
        {
          self->battery_percentage = g_value_get_double (value);
          g_object_notify_by_pspec (object, pspec);
          policy_update (self);
        }
      break;
    case PROP_POWER_SAVER:
      set_boolean (self, &self->power_saver, g_value_get_boolean (value), prop_id);
      break;
    case PROP_PAUSE_ON_METERED:
      set_boolean (self, &self->pause_on_metered, g_value_get_boolean (value), prop_id);
      break;
    case PROP_PAUSE_ON_BATTERY_BELOW:
      if (self->pause_on_battery_below != g_value_get_int (value))
        {
          self->pause_on_battery_below = g_value_get_int (value);
          g_object_notify_by_pspec (object, pspec);
          policy_update (self);
        }
      break;
    case PROP_PAUSE_ON_POWER_SAVER:
      set_boolean (self, &self->pause_on_power_saver, g_value_get_boolean (value), prop_id);
      break;
    case PROP_SCHEDULE:
      set_schedule (self, g_value_get_string (value));
      break;
    case PROP_JOBS:
      if (self->jobs != g_value_get_uint (value))
        {
          self->jobs = g_value_get_uint (value);
          g_object_notify_by_pspec (object, pspec);
          policy_update (self);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
eider_policy_class_init (EiderPolicyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = eider_policy_dispose;
  object_class->finalize = eider_policy_finalize;
  object_class->get_property = eider_policy_get_property;
  object_class->set_property = eider_policy_set_property;

  /* The machine (GNetworkMonitor, UPower, GPowerProfileMonitor) */
  properties[PROP_NETWORK_AVAILABLE] =
    g_param_spec_boolean ("network-available", NULL, NULL, TRUE, rw);
  properties[PROP_NETWORK_METERED] =
    g_param_spec_boolean ("network-metered", NULL, NULL, FALSE, rw);
  properties[PROP_ON_BATTERY] =
    g_param_spec_boolean ("on-battery", NULL, NULL, FALSE, rw);
  properties[PROP_BATTERY_PERCENTAGE] =
    g_param_spec_double ("battery-percentage", NULL, NULL, 0, 100, 100, rw);
  properties[PROP_POWER_SAVER] =
    g_param_spec_boolean ("power-saver", NULL, NULL, FALSE, rw);

  /* The settings (the GSettings keys of the same names) */
  properties[PROP_PAUSE_ON_METERED] =
    g_param_spec_boolean ("pause-on-metered", NULL, NULL, TRUE, rw);
  properties[PROP_PAUSE_ON_BATTERY_BELOW] =
    g_param_spec_int ("pause-on-battery-below", NULL, NULL, 0, 100, 20, rw);
  properties[PROP_PAUSE_ON_POWER_SAVER] =
    g_param_spec_boolean ("pause-on-power-saver", NULL, NULL, TRUE, rw);
  properties[PROP_SCHEDULE] =
    g_param_spec_string ("schedule", NULL, NULL, NULL, rw);
  properties[PROP_JOBS] =
    g_param_spec_uint ("jobs", NULL, NULL, 1, 64, DEFAULT_JOBS, rw);

  /* The outputs */
  properties[PROP_REASON] =
    g_param_spec_string ("reason", NULL, NULL, NULL, ro);
  properties[PROP_MAX_JOBS] =
    g_param_spec_uint ("max-jobs", NULL, NULL, 1, 64, DEFAULT_JOBS, ro);
  properties[PROP_OVERRIDE_ACTIVE] =
    g_param_spec_boolean ("override-active", NULL, NULL, FALSE, ro);
  properties[PROP_OVERRIDE_UNTIL] =
    g_param_spec_int64 ("override-until", NULL, NULL, 0, G_MAXINT64, 0, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
eider_policy_init (EiderPolicy *self)
{
  self->network_available = TRUE;
  self->battery_percentage = 100;
  self->pause_on_metered = TRUE;
  self->pause_on_battery_below = 20;
  self->pause_on_power_saver = TRUE;
  self->schedule_start = self->schedule_end = -1;
  self->jobs = DEFAULT_JOBS;
  self->max_jobs = DEFAULT_JOBS;
  self->context = g_main_context_ref_thread_default ();
}

/**
 * eider_policy_new:
 *
 * Returns: (transfer full): a policy that lets uploads run until told
 *   otherwise
 */
EiderPolicy *
eider_policy_new (void)
{
  return g_object_new (EIDER_TYPE_POLICY, NULL);
}

/**
 * eider_policy_set_clock:
 * @self: a policy
 * @clock: (nullable): returns the local time; %NULL for the real one
 * @user_data: for @clock
 * @destroy: (nullable): frees @user_data
 *
 * Replaces the clock (tests) and looks at it at once.
 */
void
eider_policy_set_clock (EiderPolicy      *self,
                        EiderPolicyClock  clock,
                        gpointer          user_data,
                        GDestroyNotify    destroy)
{
  GDestroyNotify old_destroy;
  gpointer old_data;

  g_return_if_fail (EIDER_IS_POLICY (self));

  old_destroy = self->clock_destroy;
  old_data = self->clock_data;
  self->clock = clock;
  self->clock_data = user_data;
  self->clock_destroy = destroy;
  if (old_destroy != NULL)
    old_destroy (old_data);

  policy_update (self);
}

const char *
eider_policy_get_reason (EiderPolicy *self)
{
  g_return_val_if_fail (EIDER_IS_POLICY (self), NULL);

  return self->reason;
}

guint
eider_policy_get_max_jobs (EiderPolicy *self)
{
  g_return_val_if_fail (EIDER_IS_POLICY (self), 1);

  return self->max_jobs;
}

gboolean
eider_policy_override_until_change (EiderPolicy *self)
{
  gboolean was_overriding;
  Condition lift;

  g_return_val_if_fail (EIDER_IS_POLICY (self), FALSE);

  policy_update (self);
  lift = self->active & OVERRIDABLE;
  if (lift == 0)
    return FALSE;

  was_overriding = eider_policy_get_override_active (self);
  self->override_mask |= lift;
  if (!was_overriding)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OVERRIDE_ACTIVE]);
  policy_update (self);

  return TRUE;
}

void
eider_policy_override_until (EiderPolicy *self,
                             gint64       unix_time)
{
  gboolean was_overriding;

  g_return_if_fail (EIDER_IS_POLICY (self));

  unix_time = MAX (unix_time, 0);
  if (self->override_until == unix_time)
    return;

  was_overriding = eider_policy_get_override_active (self);
  self->override_until = unix_time;
  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OVERRIDE_UNTIL]);
  if (was_overriding != eider_policy_get_override_active (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OVERRIDE_ACTIVE]);
  /* A time already past ends it here. */
  policy_update (self);
  g_object_thaw_notify (G_OBJECT (self));
}

void
eider_policy_cancel_override (EiderPolicy *self)
{
  g_return_if_fail (EIDER_IS_POLICY (self));

  if (!eider_policy_get_override_active (self))
    return;

  self->override_mask = 0;
  self->override_until = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OVERRIDE_ACTIVE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OVERRIDE_UNTIL]);
  policy_update (self);
}

gboolean
eider_policy_get_override_active (EiderPolicy *self)
{
  g_return_val_if_fail (EIDER_IS_POLICY (self), FALSE);

  return self->override_mask != 0 || self->override_until > 0;
}

gint64
eider_policy_get_override_until (EiderPolicy *self)
{
  g_return_val_if_fail (EIDER_IS_POLICY (self), 0);

  return self->override_until;
}

void
eider_policy_reevaluate (EiderPolicy *self)
{
  g_return_if_fail (EIDER_IS_POLICY (self));

  policy_update (self);
}
