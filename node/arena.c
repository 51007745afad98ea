/* arena.c: a bump allocator for protobuf-c decoding (see arena.h). */
#include "arena.h"

#include <stddef.h>
#include <stdlib.h>

struct arena_chunk {
    arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
};

void *arena_alloc(arena_t *a, size_t size)
{
    size = size ? size : 1;
    size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    arena_chunk *c = a->head;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > ARENA_CHUNK_BYTES ? size : ARENA_CHUNK_BYTES;
        c = malloc(sizeof *c + cap);
        if (!c)
            abort();
        *c = (arena_chunk){a->head, 0, cap};
        a->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    return p;
}

static void *pb_alloc(void *ctx, size_t size)
{
    return arena_alloc(ctx, size);
}

static void pb_free(void *ctx, void *p)
{
    (void)ctx, (void)p; /* released with the whole arena */
}

void arena_init(arena_t *a)
{
    *a = (arena_t){{pb_alloc, pb_free, a}, NULL};
}

void arena_release(arena_t *a)
{
    while (a->head) {
        arena_chunk *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}
