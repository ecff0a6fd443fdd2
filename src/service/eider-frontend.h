/* eider-frontend.h
 *
 * Copyright 2026 The Eider Authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "eider-engine.h"
#include "eider-policy.h"

G_BEGIN_DECLS

/* What the app and eiderctl daemon put around a running engine:
 *
 *  - the settings (pause-on-metered, pause-on-battery-below,
 *    pause-on-power-saver, upload-window) → the policy's settings;
 *  - GNetworkMonitor (network-available, network-metered), UPower
 *    (on-battery, battery-percentage) and GPowerProfileMonitor
 *    (power-saver-enabled) → the policy's inputs;
 *  - the policy's "reason" → eider_engine_set_gate(), its "max-jobs" →
 *    eider_engine_set_max_jobs(); bandwidth-limit (KB/s) →
 *    eider_engine_set_bandwidth_limit();
 *  - inhibit-suspend: logind's sleep inhibitor is held while the first
 *    backup uploads (the engine is busy and nothing pauses it), and
 *    released when it is done or paused. "first-backup-done" turns TRUE
 *    when the engine went idle, unpaused, with nothing left to upload;
 *    the owner persists it and passes it in at the next start.
 *  - logind's PrepareForSleep: after a resume the policy looks at the
 *    clock again (timers do not count the time asleep).
 *
 * Thread contract: main-thread only.
 */

#define EIDER_TYPE_FRONTEND (eider_frontend_get_type ())
G_DECLARE_FINAL_TYPE (EiderFrontend, eider_frontend, EIDER, FRONTEND, GObject)

EiderFrontend *eider_frontend_new                   (EiderEngine   *engine,
                                                     EiderPolicy   *policy,
                                                     GSettings     *settings,
                                                     gboolean       first_backup_done);
EiderPolicy   *eider_frontend_get_policy            (EiderFrontend *self);
gboolean       eider_frontend_get_first_backup_done (EiderFrontend *self);
/* TRUE while logind's inhibitor is held. */
gboolean       eider_frontend_get_inhibiting        (EiderFrontend *self);

G_END_DECLS
