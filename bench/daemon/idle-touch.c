/*
 * Does the machine take back a process's memory while it idles? (docs/benchmarks.md, round 7:
 * why blivet's sporadic start is slow on a guest.) Touches MB megabytes of anonymous memory, once
 * more warm, then again after IDLE seconds of sleep, and prints how long each pass over its pages
 * took. A pass after idle far slower than the warm one (milliseconds per megabyte, not
 * microseconds) means the pages were reclaimed (by the guest's kernel: major faults; by the host:
 * none the guest sees) and faulted back; a few times slower is the caches gone cold.
 *
 *     cc -O2 -o idle-touch bench/daemon/idle-touch.c && ./idle-touch 80 40
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "number.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* One write per page: what a process's next run over its working set costs. */
static double pass(volatile char *pages, size_t size) {
    double start = now_ms();
    for (size_t i = 0; i < size; i += 4096) {
        pages[i]++;
    }
    return now_ms() - start;
}

int main(int argc, char **argv) {
    long mb = argc == 3 ? number(argv[1], 1, 1 << 20) : -1;
    long idle = argc == 3 ? number(argv[2], 0, 86400) : -1;
    if (mb < 0 || idle < 0) {
        fprintf(stderr, "usage: idle-touch MB IDLE_SECONDS (MB 1-1048576, IDLE_SECONDS 0-86400)\n");
        return 2;
    }
    size_t size = (size_t)mb << 20;
    volatile char *pages = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    /* 4 KB pages, as a JVM's code and most of its data: one huge page would hide the per-page cost. */
    madvise((void *)pages, size, MADV_NOHUGEPAGE);
    printf("first touch %.2f ms\n", pass(pages, size));
    printf("warm %.2f ms\n", pass(pages, size));
    sleep((unsigned)idle);
    printf("after %ld s idle %.2f ms\n", idle, pass(pages, size));
    printf("again %.2f ms\n", pass(pages, size));
    return 0;
}
