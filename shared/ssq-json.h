/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-json.h: reading untrusted JSON and typed field access with precise errors. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SSQ_JSON_MAX_DEPTH 32
/* Members of one object. json-glib keeps them in a GHashTable with an
 * unseeded g_str_hash: names made to collide ("ab" and "bA" hash alike)
 * make each insert walk all the others, and 8,192 of them in a 254 KB body
 * took 0.7-1 s to read. The protocol's largest object (queue headers) has
 * 128. */
#define SSQ_JSON_MAX_MEMBERS 256
/* Members of all the objects of one request a server reads. Within the
 * limit above, 215 KB of 256-member objects with colliding names still took
 * 24-26 ms of the main loop; each such object takes about 0.45 ms, so 4
 * of them about 2 ms. The largest request of the protocol (a publish with
 * its headers) has about 140. */
#define SSQ_JSON_MAX_REQUEST_MEMBERS 1024

JsonObject *ssq_json_parse_object     (const char   *data,
                                       gsize         length,
                                       GError      **error);
JsonObject *ssq_json_parse_request    (const char   *data,
                                       gsize         length,
                                       GError      **error);

gboolean    ssq_json_check_members    (JsonObject   *object,
                                       const char   *allowed,
                                       GError      **error);
gboolean    ssq_json_word_listed      (const char   *list,
                                       const char   *name);
gboolean    ssq_json_get_string       (JsonObject   *object,
                                       const char   *name,
                                       gboolean      required,
                                       const char  **out_value,
                                       GError      **error);
gboolean    ssq_json_get_int          (JsonObject   *object,
                                       const char   *name,
                                       gboolean      required,
                                       gint64        min,
                                       gint64        max,
                                       gint64       *out_value,
                                       GError      **error);
gboolean    ssq_json_get_bool         (JsonObject   *object,
                                       const char   *name,
                                       gboolean      required,
                                       gboolean     *out_value,
                                       GError      **error);
gboolean    ssq_json_get_array        (JsonObject   *object,
                                       const char   *name,
                                       gboolean      required,
                                       guint         max_length,
                                       JsonArray   **out_value,
                                       GError      **error);
gboolean    ssq_json_get_object       (JsonObject   *object,
                                       const char   *name,
                                       gboolean      required,
                                       JsonObject  **out_value,
                                       GError      **error);
GPtrArray  *ssq_json_array_to_strv    (JsonArray    *array,
                                       const char   *what,
                                       GError      **error);

char       *ssq_json_node_to_string   (JsonNode     *node,
                                       gsize        *out_length);
char       *ssq_json_object_to_string (JsonObject   *object,
                                       gsize        *out_length);

G_END_DECLS
