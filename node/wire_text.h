/* wire_text.h: the protocol's rule that every string is text (UTF-8 without
 * NUL), checked on the encoded bytes.
 *
 * protobuf-c hands a string field to us as a NUL-terminated copy and keeps
 * no length: "STAFF_TRAINED\0X" reads as "STAFF_TRAINED", and invalid UTF-8
 * passes untouched. Only the wire bytes still hold the whole field, so the
 * check walks them, guided by the message's descriptor: every LEN field
 * whose descriptor says `string` is validated, every LEN field that is a
 * sub-message is walked in turn, everything else (numbers, bytes, unknown
 * fields) is skipped. Call it on bytes that already unpacked: the walk
 * relies on their structure being sound and only refuses, never repairs. */
#ifndef TIERSYNC_WIRE_TEXT_H
#define TIERSYNC_WIRE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#define WIRE_TEXT_DEPTH 8 /* nesting the walk follows; the protocol needs 3 */

/* True when every string field of the message d encoded in buf[0..len),
 * and of its sub-messages, is text. On false, *where (when not NULL) names
 * the first field that is not (its name in the schema). */
bool wire_text_ok(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                  const char **where);

#endif
