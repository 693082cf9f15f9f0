package dev.blivet.daemon.server;

/**
 * How many client requests blivetd is answering now. The warm-up's background passes wait until
 * none is (see {@link Warmup}): on 2 cores they would otherwise take a core from the very first
 * start they exist to speed up (docs/benchmarks.md, "Issue 13"). Streams (events, logs) are not
 * counted: they may last for days.
 */
final class Answering {
    private int count;

    synchronized void begin() {
        count++;
    }

    synchronized void end() {
        if (--count == 0) {
            notifyAll();
        }
    }

    /**
     * Returns once no request is being answered, or after {@code maxMillis}: a request that waits
     * (a start waiting up to its ready_timeout for readiness, a client that does not read its
     * reply) costs no CPU, and any user could otherwise hold the warm-up back for good.
     */
    synchronized void awaitNone(long maxMillis) throws InterruptedException {
        long deadline = System.nanoTime() + maxMillis * 1_000_000;
        for (long left = maxMillis; count > 0 && left > 0; left = (deadline - System.nanoTime()) / 1_000_000) {
            wait(left);
        }
    }
}
