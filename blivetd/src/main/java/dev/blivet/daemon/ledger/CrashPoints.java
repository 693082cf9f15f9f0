package dev.blivet.daemon.ledger;

import java.util.Map;

/**
 * Test-only: halts the JVM, as a kill -9 would, at one named point of the custody protocol, so
 * the tests can prove the next JVM decides correctly from what the ledger holds at that instant.
 * Set by the environment variable {@value #ENV} (never in production: unset, nothing happens).
 */
public final class CrashPoints {
    public static final String ENV = "BLIVET_TEST_CRASH_AT";
    /** After a start's intent is recorded, before its spawn. */
    public static final String AFTER_LEDGER_WRITE = "after-ledger-write";
    /** After the spawned job's pid is recorded, before it is ready. */
    public static final String AFTER_SPAWN = "after-spawn";
    /** After a stop signal was sent, before the job ended. */
    public static final String DURING_STOP = "during-stop";
    /** The exit code of a halt, as a kill -9 gives the parent. */
    private static final int HALT_STATUS = 137;

    private final String armed;

    private CrashPoints(String armed) {
        this.armed = armed;
    }

    public static CrashPoints none() {
        return new CrashPoints(null);
    }

    public static CrashPoints fromEnv(Map<String, String> env) {
        return new CrashPoints(env.get(ENV));
    }

    public void reached(String point) {
        if (point.equals(armed)) {
            System.err.println("blivetd: test crash point " + point + " reached: halting");
            Runtime.getRuntime().halt(HALT_STATUS);
        }
    }
}
