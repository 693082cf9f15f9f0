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

    /** Returns once no request is being answered. */
    synchronized void awaitNone() throws InterruptedException {
        while (count > 0) {
            wait();
        }
    }
}
