// superbot-cli is linked as a static executable: it starts in about half the time of a
// dynamically linked one, because the loader no longer maps and relocates libstdc++ and libc
// for each `status`. Nothing in the CLI loads a shared object. The only caller of dlopen is the
// Swift runtime's optional lookup of a prespecializations library, which treats NULL as "none".
// Defining it here keeps glibc's static dlopen (and its link-time warning) out of the binary.
// Only in the static (release) link: a debug CLI and the test bundle use the real one.
#ifdef SUPERBOT_STATIC_EXECUTABLE
#include <stddef.h>

void *dlopen(const char *file, int mode) {
    (void)file;
    (void)mode;
    return NULL;
}
#endif
