package dev.blivet.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The real libc lookups, from many threads at once, as blivetd's connection threads make them. */
class NativeAccountsTest {
    private final NativeAccounts accounts = new NativeAccounts();

    @Test
    void concurrentLookupsNeverMixUpTwoUsers() throws Exception {
        Account root = accounts.user("root").orElseThrow();
        Account nobody = accounts.user("nobody").orElseThrow();
        assertEquals(0, root.uid());
        assertTrue(nobody.uid() != 0);

        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> lookups = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                boolean byName = t % 2 == 0;
                lookups.add(pool.submit(() -> {
                    for (int i = 0; i < 2_000; i++) {
                        Account expected = i % 2 == 0 ? root : nobody;
                        Account found = (byName ? accounts.user(expected.name()) : accounts.user(expected.uid()))
                                .orElseThrow();
                        assertEquals(expected, found, "lookup " + i + (byName ? " by name" : " by uid"));
                        assertEquals(expected.gid(), accounts.group(Integer.toString(expected.gid())).orElseThrow());
                    }
                    return null;
                }));
            }
            for (Future<?> lookup : lookups) {
                lookup.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
