/* catalog_find.c: lookups in a loaded catalog by code or name (linear: a
 * catalog holds tens of entries, and its arrays keep file order). */
#include "catalog.h"

#include <string.h>

const catalog_indicator *catalog_indicator_find(const catalog_t *c, const char *code)
{
    for (int i = 0; c && code && i < c->ninds; i++)
        if (strcmp(c->inds[i].code, code) == 0)
            return &c->inds[i];
    return NULL;
}

int catalog_rtype_find(const catalog_t *c, const char *name)
{
    for (int i = 0; c && name && i < c->ntypes; i++)
        if (strcmp(c->types[i].name, name) == 0)
            return i;
    return -1;
}

int catalog_field_find(const catalog_rtype *t, const char *name)
{
    for (int i = 0; t && name && i < t->nfields; i++)
        if (strcmp(t->fields[i].name, name) == 0)
            return i;
    return -1;
}

int catalog_category_find(const catalog_t *c, const char *name)
{
    for (int i = 0; c && name && i < c->ncats; i++)
        if (strcmp(c->cats[i].name, name) == 0)
            return i;
    return -1;
}

int catalog_option_find(const catalog_category *cat, const char *option)
{
    for (int i = 0; cat && option && i < cat->noptions; i++)
        if (strcmp(cat->options[i], option) == 0)
            return i;
    return -1;
}
