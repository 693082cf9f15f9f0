package dev.blivet.daemon.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waits for a condition with a deadline: tests never sleep to synchronize. */
public final class Await {
    private Await() {
    }

    public static void until(Duration limit, BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + limit.toNanos();
        long pauseMicros = 100;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("gave up after " + limit.toMillis() + " ms waiting for " + what);
            }
            // Backing off keeps a loaded 2-core machine free for the process being waited on.
            java.util.concurrent.locks.LockSupport.parkNanos(pauseMicros * 1000);
            pauseMicros = Math.min(pauseMicros * 2, 20_000);
        }
    }
}
