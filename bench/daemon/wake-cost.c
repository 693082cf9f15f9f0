/*
 * What one hand-off between two threads costs, warm and after idle (docs/benchmarks.md, round 7:
 * a blivet start blocks and wakes its threads about 13 times). Two threads pass a byte back and
 * forth over two pipes, as blivetd's threads hand a start to each other: ROUNDS round trips back
 * to back (warm), then SAMPLES times IDLE seconds of quiet and one round trip. Prints the median
 * warm round trip and each one after idle, in microseconds (a round trip is two wake-ups).
 *
 *     cc -O2 -pthread -o wake-cost bench/daemon/wake-cost.c && ./wake-cost 30 3
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "number.h"

#define ROUNDS 1000

static int ping[2], pong[2];

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void *echo(void *unused) {
    (void)unused;
    char byte;
    while (read(ping[0], &byte, 1) == 1) {
        if (write(pong[1], &byte, 1) != 1) break;
    }
    return NULL;
}

static double round_trip(void) {
    char byte = 'x';
    double start = now_us();
    if (write(ping[1], &byte, 1) != 1 || read(pong[0], &byte, 1) != 1) {
        perror("pipe");
        exit(1);
    }
    return now_us() - start;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    long idle = argc == 3 ? number(argv[1], 0, 3600) : -1;
    long samples = argc == 3 ? number(argv[2], 1, 1000) : -1;
    if (idle < 0 || samples < 0) {
        fprintf(stderr, "usage: wake-cost IDLE_SECONDS SAMPLES\n");
        return 2;
    }
    pthread_t thread;
    if (pipe(ping) || pipe(pong) || pthread_create(&thread, NULL, echo, NULL)) {
        perror("set-up");
        return 1;
    }
    static double warm[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) warm[i] = round_trip();
    qsort(warm, ROUNDS, sizeof warm[0], by_value);
    printf("warm round trip, median of %d: %.1f us\n", ROUNDS, warm[ROUNDS / 2]);
    for (long i = 1; i <= samples; i++) {
        sleep((unsigned)idle);
        printf("after %ld s idle, sample %ld: %.1f us\n", idle, i, round_trip());
    }
    return 0;
}
