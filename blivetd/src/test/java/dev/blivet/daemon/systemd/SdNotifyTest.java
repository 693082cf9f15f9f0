package dev.blivet.daemon.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.daemon.Log;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A systemd that is gone or never was: blivetd says so once and goes on. */
class SdNotifyTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    private final Log log = new Log(new PrintStream(logged, true, StandardCharsets.UTF_8), Log.Level.DEBUG);

    private List<String> warnings() {
        return logged.toString(StandardCharsets.UTF_8).lines().filter(line -> line.contains(" WARN ")).toList();
    }

    @Test
    void aFailureIsLoggedOnceUntilAMessageGetsThrough() throws Exception {
        Path socket = dir.resolve("notify");
        try (SdNotify notify = SdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", socket.toString()), Optional.empty(), log)) {
            assertTrue(notify.enabled());
            for (int i = 0; i < 5; i++) {
                notify.watchdog(); // nobody listens yet
            }
            assertEquals(1, warnings().size(), warnings().toString());
            assertTrue(warnings().get(0).contains("WATCHDOG=1") && warnings().get(0).contains(socket.toString()));

            try (NotifyStandIn systemd = new NotifyStandIn(socket.toString(), dir.resolve("no-daemon"))) {
                notify.ready();
                systemd.await(0, m -> m.has("READY=1"), "READY=1 once someone listens");
            }
            notify.stopping(); // gone again: said once more
            notify.stopping();
            assertEquals(2, warnings().size(), warnings().toString());
        }
    }

    @Test
    void withoutNotifySocketOrWithANonsenseOneNothingIsSent() {
        SdNotify none = SdNotify.fromEnvironment(Map.of(), Optional.empty(), log);
        assertFalse(none.enabled());
        none.ready();
        assertEquals(List.of(), warnings());

        SdNotify relative = SdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", "run/notify"), Optional.empty(), log);
        assertFalse(relative.enabled());
        relative.ready();
        assertEquals(1, warnings().size(), warnings().toString());
        assertTrue(warnings().get(0).contains("NOTIFY_SOCKET=run/notify"));
    }
}
