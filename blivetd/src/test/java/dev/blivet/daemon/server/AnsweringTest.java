package dev.blivet.daemon.server;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The warm-up yields to requests in flight, but a request that never ends cannot stop it. */
class AnsweringTest {
    @Test
    void aRequestThatNeverEndsHoldsTheWarmupBackOnlyBriefly() {
        Answering answering = new Answering();
        answering.begin(); // e.g. a start waiting an hour for its job's readiness
        // Without the bound this waits for good; the 30 s only say "it returned".
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            for (int pass = 0; pass < 5; pass++) {
                answering.awaitNone(Warmup.YIELD_TO_CLIENTS_MS);
            }
        });
        answering.end();
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> answering.awaitNone(Long.MAX_VALUE / 2_000_000));
    }
}
