/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-json-reader.h: JSON text, strictly, into json-glib nodes. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* What one document may hold. */
typedef struct {
  guint object_members;  /* in any one object */
  guint members;         /* of all its objects */
  guint values;          /* members' values, array elements and the document */
} SsqJsonBudget;

JsonNode *ssq_json_reader_read (const char          *data,
                                gsize                length,
                                const SsqJsonBudget *budget,
                                GError             **error);

G_END_DECLS
