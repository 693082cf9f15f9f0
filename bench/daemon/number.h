/* The argument parser of the single-file probes here (idle-touch.c, wake-cost.c). */
#ifndef BLIVET_BENCH_NUMBER_H
#define BLIVET_BENCH_NUMBER_H

#include <errno.h>
#include <stdlib.h>

/* A whole decimal number in [min, max], or -1: "80x" and overflows are refused, not truncated. */
static long number(const char *text, long min, long max) {
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    return errno == 0 && end != text && *end == '\0' && value >= min && value <= max ? value : -1;
}

#endif
