/* replay_main.c: a main() for the fuzz targets when libFuzzer is not there
 * (gcc, or clang without libclang-rt): runs LLVMFuzzerTestOneInput once on
 * every file named, or every file in every directory named, the way a
 * libFuzzer binary replays inputs. So the regression inputs in
 * fuzz/regressions/ run with any compiler. Exit 0 when none crashed. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf)
        return 1;
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    struct dirent **names;
    int n = scandir(path, &names, NULL, alphasort), bad = 0;
    for (int i = 0; i < n; i++) {
        char sub[4096];
        if (names[i]->d_name[0] != '.') {
            snprintf(sub, sizeof sub, "%s/%s", path, names[i]->d_name);
            bad |= run_file(sub);
        }
        free(names[i]);
    }
    free(names);
    return n < 0 ? 1 : bad;
}

int main(int argc, char **argv)
{
    int bad = 0;
    for (int i = 1; i < argc; i++)
        if (argv[i][0] != '-') /* libFuzzer flags (-runs=0, ...) mean nothing here */
            bad |= run_path(argv[i]);
    return bad;
}
