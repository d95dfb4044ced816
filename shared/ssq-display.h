/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-display.h: turning what the server or other people supplied into
 * text that is safe and readable where a client shows it: on a terminal,
 * in a notification, in a sentence about time. */
#pragma once

#include <glib.h>

#include "ssq-media.h"

G_BEGIN_DECLS

char *ssq_display_sanitize          (const char *text);
char *ssq_display_sanitize_line     (const char *text);
char *ssq_display_escape_json       (const char *json);
char *ssq_display_notification_body (const char *text);
char *ssq_display_duration          (gint64      ms);
char *ssq_display_size              (guint64     bytes);
char *ssq_display_media             (SsqMedia   *media);

G_END_DECLS
