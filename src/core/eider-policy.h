/* eider-policy.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* When uploads may run: pure logic over the state of the machine and the
 * user's settings, with no system access of its own. The front end binds
 * the inputs (GNetworkMonitor, UPower, GPowerProfileMonitor) and the
 * settings (GSettings) to its properties, and its outputs to the engine:
 *
 *   "reason"   %NULL while uploads may run; otherwise a sentence for the
 *              status, from the first condition that holds, in this order:
 *              no network, metered network, battery, power saver, outside
 *              the upload window.
 *   "max-jobs" "jobs", or 1 under power saver (CPU work on one thread).
 *
 * "Back up anyway" lifts the metered, battery, power-saver and schedule
 * conditions (never the missing network): either until the conditions
 * that held when it was asked change (one of them stops holding), or
 * until a time. A schedule or a timed override keeps exactly one timer,
 * at the next boundary; nothing else ever wakes up.
 *
 * Thread contract: main-thread only; the timer runs on the thread-default
 * main context of the thread that created the policy.
 */

/* The current local time (transfer full); tests inject their own. */
typedef GDateTime *(*EiderPolicyClock) (gpointer user_data);

#define EIDER_POLICY_ERROR (eider_policy_error_quark ())

typedef enum
{
  EIDER_POLICY_ERROR_INVALID_SCHEDULE,
} EiderPolicyError;

GQuark eider_policy_error_quark (void);

#define EIDER_TYPE_POLICY (eider_policy_get_type ())
G_DECLARE_FINAL_TYPE (EiderPolicy, eider_policy, EIDER, POLICY, GObject)

EiderPolicy *eider_policy_new                   (void);
void         eider_policy_set_clock             (EiderPolicy      *self,
                                                 EiderPolicyClock  clock,
                                                 gpointer          user_data,
                                                 GDestroyNotify    destroy);
const char  *eider_policy_get_reason            (EiderPolicy      *self);
guint        eider_policy_get_max_jobs          (EiderPolicy      *self);

/* Back up anyway until the conditions that hold now change. Returns
 * %FALSE (and changes nothing) when no condition that can be lifted
 * holds. */
gboolean     eider_policy_override_until_change (EiderPolicy      *self);
/* Back up anyway until @unix_time (seconds); a time already past cancels
 * a timed override. */
void         eider_policy_override_until        (EiderPolicy      *self,
                                                 gint64            unix_time);
void         eider_policy_cancel_override       (EiderPolicy      *self);
/* TRUE while an override is in force. */
gboolean     eider_policy_get_override_active   (EiderPolicy      *self);
/* The end of a timed override (unix seconds), or 0. */
gint64       eider_policy_get_override_until    (EiderPolicy      *self);
/* Looks at the clock again (after a suspend, or a change of time zone). */
void         eider_policy_reevaluate            (EiderPolicy      *self);

/* "HH:MM-HH:MM" (also with an en dash), e.g. "01:00-07:00"; it may cross
 * midnight ("22:00-06:00"). An empty string is "any time" (both minutes
 * set to -1). Minutes are counted from midnight. */
gboolean     eider_policy_parse_schedule        (const char       *text,
                                                 int              *start_minute,
                                                 int              *end_minute,
                                                 GError          **error);

G_END_DECLS
