package dev.blivet.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.blivet.common.FileSystemProbe;
import dev.blivet.common.Identity;
import dev.blivet.common.JobSpecResolver;
import dev.blivet.common.NativeAccounts;
import dev.blivet.common.SystemProbe;
import dev.blivet.common.protocol.ProtocolJson;
import dev.blivet.daemon.testing.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The boot-time dry starts: they run the start's Java side and leave nothing behind. */
class WarmupTest {
    private final ObjectMapper mapper = ProtocolJson.newMapper();

    /** Only validate and the resolver are reached: a supervisor or jobs directory would be a side effect. */
    private RequestHandler handler(JobSpecResolver resolver) {
        return new RequestHandler(null, resolver, null, mapper);
    }

    @Test
    void dryStartsResolveTheirSpecAndStartNothing() {
        long before = ProcessHandle.current().descendants().count();
        List<String> launched = new CopyOnWriteArrayList<>();
        long produced = new Warmup(handler(new JobSpecResolver(new NativeAccounts(), Map.of())), mapper,
                job -> launched.add(job.name())).run(3);
        assertTrue(produced > 0, "replies and plans were produced");
        assertEquals(List.of("blivet-warmup", "blivet-warmup", "blivet-warmup", "blivet-warmup", "blivet-warmup",
                "blivet-warmup"), launched, "each dry start went to the dry launch, for root and another uid");
        assertEquals(before, ProcessHandle.current().descendants().count(), "no process was started");
    }

    @Test
    void aFailingWarmupEndsItselfNotBlivetd() throws Exception {
        // A system where the sample's program is missing: the resolver refuses it.
        SystemProbe real = new FileSystemProbe();
        SystemProbe noProgram = new SystemProbe() {
            @Override
            public boolean exists(Path path) {
                return !path.toString().equals("/bin/sh") && real.exists(path);
            }

            @Override
            public boolean isDirectory(Path path) {
                return real.isDirectory(path);
            }

            @Override
            public boolean isRegularFile(Path path) {
                return !path.toString().equals("/bin/sh") && real.isRegularFile(path);
            }

            @Override
            public boolean isSymbolicLink(Path path) {
                return real.isSymbolicLink(path);
            }

            @Override
            public boolean isWritable(Path path) {
                return real.isWritable(path);
            }

            @Override
            public boolean isExecutable(Path file, Identity identity) {
                return false;
            }

            @Override
            public boolean isSameFile(Path a, Path b) {
                return real.isSameFile(a, b);
            }
        };
        List<String> said = new CopyOnWriteArrayList<>();
        Warmup warmup = new Warmup(handler(new JobSpecResolver(new NativeAccounts(), noProgram, Map.of())), mapper,
                job -> { });
        warmup.inBackground(Warmup.ITERATIONS, said::add).get(60, TimeUnit.SECONDS);
        assertTrue(said.stream().anyMatch(line -> line.startsWith("warm-up abandoned")), "said why it stopped: " + said);
    }

    /**
     * While a client's request is answered, each background pass first waits for it, but only so
     * long (Warmup.YIELD_TO_CLIENTS_MS): a request that never ends (a start waiting an hour for
     * readiness) slows the warm-up down and cannot stop it.
     */
    @Test
    void theBackgroundPassesYieldToAClientsRequestButAreNotHeldByIt() throws Exception {
        RequestHandler handler = handler(new JobSpecResolver(new NativeAccounts(), Map.of()));
        List<String> launched = new CopyOnWriteArrayList<>();
        List<String> said = new CopyOnWriteArrayList<>();
        handler.forConnection().answering().begin(); // a client's start, on its connection's handler
        new Warmup(handler, mapper, job -> launched.add(job.name())).inBackground(5, said::add).get(60, TimeUnit.SECONDS);
        Await.until(Duration.ofSeconds(60), () -> Thread.getAllStackTraces().entrySet().stream().anyMatch(
                t -> t.getKey().getName().equals("blivet-warmup") && t.getKey().getState() == Thread.State.TIMED_WAITING
                        && java.util.Arrays.stream(t.getValue()).anyMatch(frame -> frame.getMethodName().equals("awaitNone"))),
                "the warm-up to wait for the request");
        Await.until(Duration.ofSeconds(60), () -> said.stream().anyMatch(line -> line.startsWith("warm-up: 5 dry starts")),
                "the other passes to run although the request is never answered: " + said);
        assertEquals(10, launched.size());
        handler.answering().end();
    }
}
