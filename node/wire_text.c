/* wire_text.c: every string field of an encoded message is text (see
 * wire_text.h). */
#include "wire_text.h"

#include "util.h"

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

/* Reads a varint at *p (< end); false when it is cut or longer than 10 bytes. */
static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

static bool walk(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end,
                 int depth, const char **where)
{
    if (depth > WIRE_TEXT_DEPTH)
        return false;
    while (p < end) {
        uint64_t tag, n;
        if (!read_varint(&p, end, &tag))
            return false;
        int type = (int)(tag & 7);
        const ProtobufCFieldDescriptor *f = tag >> 3 <= UINT32_MAX
            ? protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3))
            : NULL;
        if (type == WIRE_VARINT) {
            if (!read_varint(&p, end, &n))
                return false;
            continue;
        }
        if (type == WIRE_I64 || type == WIRE_I32) {
            size_t w = type == WIRE_I64 ? 8 : 4;
            if ((size_t)(end - p) < w)
                return false;
            p += w;
            continue;
        }
        if (type != WIRE_LEN || !read_varint(&p, end, &n) || n > (uint64_t)(end - p))
            return false; /* groups (3, 4) and reserved types: protobuf-c refuses them too */
        bool ok = true;
        if (f && f->type == PROTOBUF_C_TYPE_STRING)
            ok = ts_text_valid((const char *)p, (size_t)n);
        else if (f && f->type == PROTOBUF_C_TYPE_MESSAGE)
            ok = walk(f->descriptor, p, p + n, depth + 1, where);
        if (!ok) {
            if (!*where)
                *where = f->name;
            return false;
        }
        p += n;
    }
    return true;
}

bool wire_text_ok(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                  const char **where)
{
    const char *w = NULL;
    bool ok = walk(d, buf, buf + len, 0, &w);
    if (where)
        *where = w ? w : d->short_name;
    return ok;
}
