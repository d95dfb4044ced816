/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-server-download.c: the headers of a download, read and written. */
#include "ssq-server-download.h"

#include <string.h>

/* Whether @header (If-None-Match) names @etag, or is "*". Weak tags
 * compare by their opaque part (RFC 9110 13.1.2). */
gboolean
ssq_server_download_etag_matches (const char *header,
                                  const char *etag)
{
  g_auto(GStrv) tags = NULL;

  if (header == NULL)
    return FALSE;
  tags = g_strsplit (header, ",", -1);
  for (guint i = 0; tags[i] != NULL; i++)
    {
      const char *tag = g_strstrip (tags[i]);

      if (g_str_has_prefix (tag, "W/"))
        tag += 2;
      if (g_str_equal (tag, "*") || g_str_equal (tag, etag))
        return TRUE;
    }
  return FALSE;
}

/* One byte range of a @size-byte body (RFC 9110 14.1.2): "bytes=a-b",
 * "bytes=a-", "bytes=-n". Several ranges are served whole, which the RFC
 * allows. */
SsqRange
ssq_server_download_range (const char *header,
                           goffset     size,
                           goffset    *out_start,
                           goffset    *out_end)
{
  const char *spec, *dash;
  guint64 a = 0, b = 0;
  gboolean has_a, has_b;
  g_autofree char *first = NULL;

  if (header == NULL || g_ascii_strncasecmp (header, "bytes=", 6) != 0 ||
      strchr (header, ',') != NULL)
    return SSQ_RANGE_WHOLE;
  spec = header + 6;
  while (*spec == ' ')
    spec++;
  dash = strchr (spec, '-');
  if (dash == NULL)
    return SSQ_RANGE_WHOLE;
  first = g_strndup (spec, dash - spec);
  has_a = first[0] != '\0';
  has_b = dash[1] != '\0';
  if ((has_a && !g_ascii_string_to_unsigned (first, 10, 0, G_MAXINT64, &a, NULL)) ||
      (has_b && !g_ascii_string_to_unsigned (dash + 1, 10, 0, G_MAXINT64, &b, NULL)) ||
      (!has_a && !has_b) || (has_a && has_b && b < a))
    return SSQ_RANGE_WHOLE;
  if (!has_a)
    {
      /* The last b bytes. */
      if (b == 0 || size == 0)
        return SSQ_RANGE_UNSATISFIABLE;
      *out_start = size - (goffset) MIN (b, (guint64) size);
      *out_end = size - 1;
      return SSQ_RANGE_PART;
    }
  if ((goffset) a >= size)
    return SSQ_RANGE_UNSATISFIABLE;
  *out_start = (goffset) a;
  *out_end = has_b ? MIN ((goffset) b, size - 1) : size - 1;
  return SSQ_RANGE_PART;
}

/* Images a browser may show in place; anything else (SVG above all, which
 * can hold scripts) is offered as a download. */
gboolean
ssq_server_download_inline (const char *mime)
{
  static const char *const types[] = {
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/avif",
  };

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    if (g_str_equal (mime, types[i]))
      return TRUE;
  return FALSE;
}

/* Content-Disposition with the name twice: an ASCII stand-in in quotes
 * for old clients, and the real one RFC 5987-encoded (filename*). */
void
ssq_server_download_disposition (GString    *headers,
                                 gboolean    show_inline,
                                 const char *name)
{
  g_autofree char *encoded = g_uri_escape_string (name, "!#$&+^`|", FALSE);

  g_string_append_printf (headers, "Content-Disposition: %s; filename=\"",
                          show_inline ? "inline" : "attachment");
  /* Byte by byte (a character beyond ASCII is one '_'), so that no name,
   * however made, can break out of the quotes or the header line. */
  for (const guchar *p = (const guchar *) name; *p != '\0'; p++)
    {
      if (*p >= 0x80 && *p < 0xc0)
        continue;                     /* the rest of a character */
      g_string_append_c (headers, *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\'
                                    ? (char) *p : '_');
    }
  g_string_append_printf (headers, "\"; filename*=UTF-8''%s\r\n", encoded);
}
