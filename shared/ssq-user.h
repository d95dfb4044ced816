/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-user.h: a user as the client knows it (immutable snapshot). */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SSQ_TYPE_USER (ssq_user_get_type ())
G_DECLARE_FINAL_TYPE (SsqUser, ssq_user, SSQ, USER, GObject)

SsqUser    *ssq_user_new             (const char *id,
                                      const char *username,
                                      const char *display_name,
                                      const char *presence,
                                      gint64      last_seen);
SsqUser    *ssq_user_new_from_json   (JsonObject *object,
                                      GError    **error);
const char *ssq_user_get_id          (SsqUser    *self);
const char *ssq_user_get_username    (SsqUser    *self);
const char *ssq_user_get_display_name (SsqUser   *self);
const char *ssq_user_get_presence    (SsqUser    *self);
gint64      ssq_user_get_last_seen   (SsqUser    *self);

G_END_DECLS
