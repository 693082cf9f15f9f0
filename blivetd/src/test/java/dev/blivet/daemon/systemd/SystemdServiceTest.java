package dev.blivet.daemon.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.daemon.testing.Await;
import dev.blivet.daemon.testing.BlivetdProcess;
import dev.blivet.daemon.testing.Client;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * blivetd as a Type=notify service, with a stand-in for systemd: a datagram socket in
 * NOTIFY_SOCKET that records what a real blivetd sends (READY, STATUS, RELOADING, WATCHDOG,
 * STOPPING), and the environment a job inherits from a blivetd that systemd started.
 */
class SystemdServiceTest {
    private static final Duration LONG = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void readyOnceItServesThenJobCountsReloadsAndStopping() throws Exception {
        Path socket = dir.resolve("run/blivetd.sock"); // BlivetdProcess's
        Path envFile = dir.resolve("job.env");
        try (NotifyStandIn systemd = new NotifyStandIn(dir.resolve("notify").toString(), socket)) {
            BlivetdProcess daemon = BlivetdProcess.start(dir, Map.of(
                    "NOTIFY_SOCKET", systemd.env(),
                    // A watchdog for another process: blivetd must neither ping nor pass it on.
                    "WATCHDOG_USEC", "1000000", "WATCHDOG_PID", "1",
                    "LISTEN_FDNAMES", "blivetd.socket",
                    "BLIVET_TEST_INHERITED", "yes"), List.of());
            try (daemon) {
                int ready = systemd.await(0, m -> m.has("READY=1"), "READY=1");
                assertTrue(systemd.messages().get(ready).answered(),
                        "READY=1 came before blivetd's socket answered:\n" + daemon.log());
                systemd.await(0, m -> m.has("STATUS=0 jobs"), "the first job counts");

                try (Client client = daemon.client()) {
                    client.ok("start", "\"spec\":{\"name\":\"envdump\",\"inherit_env\":true,\"command\":[\"/bin/sh\","
                            + "\"-c\",\"env > " + envFile + ".tmp && mv " + envFile + ".tmp " + envFile
                            + " && exec sleep 600\"]}");
                }
                systemd.await(0, m -> m.has("STATUS=1 job: 1 running"), "the job counts after a start");
                Await.until(LONG, () -> Files.exists(envFile), "the job to write its environment");
                Set<String> names = Files.readAllLines(envFile).stream().map(line -> line.split("=", 2)[0])
                        .collect(Collectors.toSet());
                assertTrue(names.contains("BLIVET_TEST_INHERITED"), "inherit_env passes blivetd's environment: " + names);
                for (String own : List.of("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDNAMES")) {
                    assertFalse(names.contains(own), own + " is blivetd's, not its jobs': " + names);
                }

                // SIGHUP: RELOADING=1 with the time, then READY=1 again once the reload is applied.
                int before = systemd.messages().size();
                new ProcessBuilder("kill", "-HUP", Integer.toString(daemon.pid())).start().waitFor();
                int reloading = systemd.await(before, m -> m.has("RELOADING=1"), "RELOADING=1 on SIGHUP");
                assertTrue(systemd.messages().get(reloading).text().contains("\nMONOTONIC_USEC="),
                        systemd.messages().get(reloading).text());
                systemd.await(reloading + 1, m -> m.has("READY=1"), "READY=1 after the SIGHUP's reload");
                // The reload op likewise; its reply comes after READY=1.
                before = systemd.messages().size();
                try (Client client = daemon.client()) {
                    client.ok("reload", null);
                }
                reloading = systemd.await(before, m -> m.has("RELOADING=1"), "RELOADING=1 on the reload op");
                int readyAgain = systemd.await(reloading + 1, m -> m.has("READY=1"), "READY=1 after the reload op");
                assertTrue(readyAgain > reloading);

                assertEquals(List.of(), systemd.with("WATCHDOG=1"), "WATCHDOG_PID names another process");
                assertTrue(daemon.process().isAlive());
            }
            int stopping = systemd.await(0, m -> m.has("STOPPING=1"), "STOPPING=1 on SIGTERM");
            assertTrue(stopping > systemd.await(0, m -> m.has("STATUS=1 job: 1 running"), "the count"));
        }
    }

    @Test
    void aBurstOfChangesIsCoalescedIntoAFewStatusUpdatesASecond() throws Exception {
        Path socket = dir.resolve("run/blivetd.sock");
        int jobs = 40;
        try (NotifyStandIn systemd = new NotifyStandIn(dir.resolve("notify").toString(), socket);
                BlivetdProcess daemon = BlivetdProcess.start(dir, Map.of("NOTIFY_SOCKET", systemd.env()), List.of())) {
            systemd.await(0, m -> m.has("STATUS=0 jobs"), "the first job counts");
            int before = systemd.messages().size();
            try (Client client = daemon.client()) {
                for (int i = 0; i < jobs; i++) {
                    // Each start makes at least two changes (starting, running): 80 in all.
                    client.ok("start", "\"wait\":false,\"spec\":{\"name\":\"burst" + i
                            + "\",\"command\":[\"/bin/sleep\",\"600\"]}");
                }
            }
            systemd.await(before, m -> m.has("STATUS=" + jobs + " jobs: " + jobs + " running"), "every job counted");
            List<NotifyStandIn.Message> updates = systemd.messages().subList(before, systemd.messages().size()).stream()
                    .filter(m -> m.text().startsWith("STATUS=")).toList();
            double seconds = (updates.get(updates.size() - 1).nanos() - updates.get(0).nanos()) / 1e9;
            // At most two a second (StatusReporter.MIN_INTERVAL), with room for a late reader.
            assertTrue(updates.size() <= 2 + seconds / 0.25, updates.size() + " updates in " + seconds + " s: " + updates);
        }
    }

    @Test
    void watchdogPingsComeFromTheSupervisorsLoopAndStopWhenItHangs() throws Exception {
        Path socket = dir.resolve("run/blivetd.sock");
        // An abstract name, as systemd's own $NOTIFY_SOCKET may be.
        String name = "@blivet-test-notify-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (NotifyStandIn systemd = new NotifyStandIn(name, socket);
                BlivetdProcess daemon = BlivetdProcess.start(dir, Map.of("NOTIFY_SOCKET", name,
                        "WATCHDOG_USEC", "1000000"), List.of("-D" + LoopHangHook.PROPERTY + "=TTIN"))) {
            systemd.await(0, m -> m.has("READY=1"), "READY=1 on an abstract socket");
            Await.until(LONG, () -> systemd.with("WATCHDOG=1").size() >= 6, "six watchdog pings (WATCHDOG_USEC=1 s)");
            List<NotifyStandIn.Message> pings = systemd.with("WATCHDOG=1");
            double meanGap = (pings.get(5).nanos() - pings.get(0).nanos()) / 5.0 / 1e9;
            // Half of WATCHDOG_USEC is 0.5 s; generous bounds for a loaded machine.
            assertTrue(meanGap > 0.25 && meanGap < 10, "mean gap between pings " + meanGap + " s");

            signal("TTIN", daemon.pid());
            Await.until(LONG, () -> daemon.log().contains("test hook: the supervisor's loop hangs"), "the loop to hang");
            // Every datagram sent before the hang is in the stand-in's queue ahead of this mark.
            systemd.mark("MARK=hung");
            systemd.await(0, m -> m.has("MARK=hung"), "the mark");
            int pingsBefore = systemd.with("WATCHDOG=1").size();
            // Four intervals with a hung loop: the timer thread still runs, but no ping may get out.
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (System.nanoTime() < end) {
                assertEquals(pingsBefore, systemd.with("WATCHDOG=1").size(), "a ping while the loop hangs");
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            }

            signal("TTIN", daemon.pid());
            Await.until(LONG, () -> systemd.with("WATCHDOG=1").size() > pingsBefore + 1,
                    "pings again once the loop runs");
        }
    }

    private static void signal(String name, int pid) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + name, Integer.toString(pid)).start().waitFor());
    }
}
