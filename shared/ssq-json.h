/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-json.h: reading untrusted JSON and typed field access with precise errors. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SSQ_JSON_MAX_DEPTH 32
/* Members of one object. Names made to share a hash in json-glib's member
 * table are refused (ssq-json-names.h), but names whose hashes land on one
 * slot of the table still make it probe past all of them, comparing
 * integers: 4 objects of 1,020 such names took 5.5 ms, of other names 2.0.
 * A sync frame's "since" holds one member per conversation (at 256, the
 * limit before, a user in more conversations could not sync), and a
 * sync's ack names each of them again in "revs". */
#define SSQ_JSON_MAX_MEMBERS 1024
/* What one request a server reads holds in all: members, so that at most
 * two objects reach the limit above (a sync frame has two members per
 * conversation, and a 64 KiB frame room for about 1,000 conversations);
 * values, each a node and some an object or array to allocate (256 KiB
 * of "[{},{},...]" took 12.5 ms of the main loop, 16,384 of them 2.2; a
 * group made with its members names each). */
#define SSQ_JSON_MAX_REQUEST_MEMBERS 2048
#define SSQ_JSON_MAX_REQUEST_VALUES 8192

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
