/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ssq-test-images.h: real image files for tests (see ssq-test-images.c). */
#pragma once

#include <gdk-pixbuf/gdk-pixbuf.h>

G_BEGIN_DECLS

/* Colours as 0xRRGGBBAA, as gdk_pixbuf_fill() and ssq_test_image_pixel() take them. */
#define SSQ_TEST_GREY  0x808080ffu
#define SSQ_TEST_RED   0xff0000ffu
#define SSQ_TEST_CLEAR 0x00000000u

extern const char *const ssq_test_image_phone_secrets[];

GdkPixbuf *ssq_test_image_marked       (int           width,
                                        int           height,
                                        gboolean      alpha);
void       ssq_test_image_save         (GdkPixbuf    *pixbuf,
                                        const char   *path,
                                        const char   *type);
GdkPixbuf *ssq_test_image_decode       (GBytes       *bytes);
guint32    ssq_test_image_pixel        (GdkPixbuf    *pixbuf,
                                        int           x,
                                        int           y);
gboolean   ssq_test_image_colour_near  (guint32       got,
                                        guint32       expected);
void       ssq_test_image_phone_photo  (const char   *path);
void       ssq_test_image_declared_png (const char   *path,
                                        guint32       width,
                                        guint32       height,
                                        guint32       n_rows);
void       ssq_test_png_chunk          (GByteArray   *png,
                                        const char   *type,
                                        const guint8 *data,
                                        guint32       len);
void       ssq_test_image_gif          (const char   *path,
                                        guint16       width,
                                        guint16       height,
                                        const guint8 *frames,
                                        guint         n_frames);
void       ssq_test_write_file         (const char   *path,
                                        const void   *data,
                                        gsize         len);

G_END_DECLS
