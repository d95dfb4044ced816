/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-json-reader.h: JSON text, strictly, into json-glib nodes. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

JsonNode *ssq_json_reader_read (const char  *data,
                                gsize        length,
                                guint        max_members,
                                GError     **error);

G_END_DECLS
