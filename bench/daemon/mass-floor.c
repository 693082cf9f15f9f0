/*
 * The floor of a mass start on this machine, for bench/daemon/issue13.sh: one small C process
 * that starts COUNT copies of PROGRAM ARG as fast as it can (posix_spawn, which returns once the
 * child has exec'd), from WORKERS processes at once (one per core makes the most of them), with
 * no supervision, no file and no wait. Whatever any supervisor does per
 * job comes on top of this; on a VM where every glibc program's start traps on cpuid
 * (docs/benchmarks.md, "Machine"), the jobs' own exec is most of it.
 *
 *   mass-floor COUNT WORKERS PROGRAM ARG
 *
 * Prints: spawned_ms=<from its own start until every worker's last spawn returned>. The children are left
 * running (re-parented); the caller kills them.
 *
 * Build: cc -O2 -Wall -Wextra -o mass-floor mass-floor.c
 */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int spawn_all(long count, char **child_argv) {
    for (long i = 0; i < count; i++) {
        pid_t pid;
        int error = posix_spawn(&pid, child_argv[0], NULL, NULL, child_argv, environ);
        if (error != 0) {
            fprintf(stderr, "mass-floor: spawn %ld of %ld: %s\n", i + 1, count, strerror(error));
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: mass-floor COUNT WORKERS PROGRAM ARG\n");
        return 2;
    }
    double t0 = now_ms();
    long count = strtol(argv[1], NULL, 10);
    long workers = strtol(argv[2], NULL, 10);
    char *child_argv[] = {argv[3], argv[4], NULL};
    if (count < 0 || workers < 1) {
        fprintf(stderr, "mass-floor: COUNT >= 0 and WORKERS >= 1\n");
        return 2;
    }
    for (long w = 0; w < workers; w++) {
        long share = count / workers + (w < count % workers);
        pid_t pid = fork();
        if (pid < 0) {
            perror("mass-floor: fork");
            return 1;
        }
        if (pid == 0) {
            _exit(spawn_all(share, child_argv));
        }
    }
    int failed = 0, status;
    while (wait(&status) > 0) {
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    printf("spawned_ms=%.1f\n", now_ms() - t0);
    return failed;
}
