package dev.blivet.daemon.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ServiceEnvironmentTest {
    @Test
    void jobsGetNoneOfWhatSystemdAndTheKeeperMeantForBlivetd() {
        Map<String, String> env = Map.of("NOTIFY_SOCKET", "/run/systemd/notify", "WATCHDOG_USEC", "30000000",
                "WATCHDOG_PID", "42", "LISTEN_FDS", "1", "LISTEN_PID", "42", "LISTEN_FDNAMES", "blivetd.socket",
                "BLIVET_KEEPER_FD", "4", "PATH", "/usr/bin", "LANG", "C.UTF-8");
        assertEquals(Map.of("PATH", "/usr/bin", "LANG", "C.UTF-8"), ServiceEnvironment.forJobs(env));
    }

    @Test
    void watchdogAtHalfItsTimeoutOnlyForThisProcess() {
        assertEquals(Optional.of(Duration.ofSeconds(15)),
                ServiceEnvironment.watchdogInterval(Map.of("WATCHDOG_USEC", "30000000"), 42));
        assertEquals(Optional.of(Duration.ofSeconds(15)),
                ServiceEnvironment.watchdogInterval(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "42"), 42));
        // The keeper's pid: the JVM pings only once the keeper has named it.
        assertEquals(Optional.empty(),
                ServiceEnvironment.watchdogInterval(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "41"), 42));
        assertEquals(Optional.empty(), ServiceEnvironment.watchdogInterval(Map.of(), 42));
        assertEquals(Optional.empty(), ServiceEnvironment.watchdogInterval(Map.of("WATCHDOG_USEC", "0"), 42));
        assertEquals(Optional.empty(), ServiceEnvironment.watchdogInterval(Map.of("WATCHDOG_USEC", "soon"), 42));
        assertEquals(Optional.empty(), ServiceEnvironment.watchdogInterval(Map.of("WATCHDOG_USEC", "-5"), 42));
        assertEquals(Optional.of(Duration.ofNanos(500)), ServiceEnvironment.watchdogInterval(Map.of("WATCHDOG_USEC", "1"), 42));
        // No overflow: "infinity" is no watchdog in systemd, but a huge number must not break blivetd.
        assertEquals(Optional.of(Duration.of(Long.MAX_VALUE, java.time.temporal.ChronoUnit.MICROS).dividedBy(2)),
                ServiceEnvironment.watchdogInterval(Map.of("WATCHDOG_USEC", Long.toString(Long.MAX_VALUE)), 42));
    }
}
