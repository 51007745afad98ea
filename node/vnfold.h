/* vnfold.h: folds Vietnamese (and other Latin) text for searching: lower
 * case, tone and vowel marks dropped, đ as d, so "nguyen van an" matches
 * "Nguyễn Văn An" and "NGUYỄN VĂN AN". Precomposed letters (what keyboards
 * and Excel write) and decomposed ones (a letter followed by combining
 * marks) fold alike. Bytes that are not valid UTF-8 are copied through. */
#ifndef TIERSYNC_VNFOLD_H
#define TIERSYNC_VNFOLD_H

#include <stdbool.h>
#include <stddef.h>

/* Writes the folded form of s into out (outsz bytes, NUL-terminated,
 * truncated at a character boundary when short); returns its length. The
 * folded form is never longer than s. */
size_t vnfold(const char *s, char *out, size_t outsz);

/* True when the folded needle occurs in the folded haystack (both given
 * unfolded); an empty needle matches everything. */
bool vnfold_contains(const char *haystack, const char *needle);

#endif
