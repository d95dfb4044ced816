/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-media.h: a file attached to a message (immutable snapshot): the
 * protocol's `media` object, or an attachment still waiting in the outbox. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SSQ_TYPE_MEDIA (ssq_media_get_type ())
G_DECLARE_FINAL_TYPE (SsqMedia, ssq_media, SSQ, MEDIA, GObject)

SsqMedia   *ssq_media_new              (const char *id,
                                        const char *name,
                                        const char *mime,
                                        gint64      size,
                                        gint64      width,
                                        gint64      height);
SsqMedia   *ssq_media_new_from_json    (JsonObject *object,
                                        GError    **error);
JsonObject *ssq_media_to_json          (SsqMedia   *self);
const char *ssq_media_get_id           (SsqMedia   *self);
const char *ssq_media_get_name         (SsqMedia   *self);
const char *ssq_media_get_mime         (SsqMedia   *self);
gint64      ssq_media_get_size         (SsqMedia   *self);
gint64      ssq_media_get_width        (SsqMedia   *self);
gint64      ssq_media_get_height       (SsqMedia   *self);
gboolean    ssq_media_is_image         (SsqMedia   *self);
gboolean    ssq_media_has_thumbnail    (SsqMedia   *self);
GFile      *ssq_media_get_local_file   (SsqMedia   *self);
char       *ssq_media_name_for_upload  (const char *name);

/* Lists of media as the cache keeps them: a JSON array of media objects. */
char       *ssq_media_list_to_text     (GPtrArray  *media);
GPtrArray  *ssq_media_list_from_json   (JsonArray  *array,
                                        GError    **error);
GPtrArray  *ssq_media_list_from_text   (const char *text,
                                        GError    **error);

G_END_DECLS
