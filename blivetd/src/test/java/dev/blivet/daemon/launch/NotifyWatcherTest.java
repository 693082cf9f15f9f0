package dev.blivet.daemon.launch;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.blivet.daemon.testing.Await;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class NotifyWatcherTest {
    /**
     * A watcher closed with its supervisor, not with the JVM (blivetd's start rehearsal at boot),
     * leaves no fd: its wake pipe goes once its thread stops polling.
     */
    @Test
    void closingTheWatcherClosesItsWakePipe() throws IOException {
        NotifyWatcher watcher = new NotifyWatcher(new NativeOs(), source -> { });
        int[] fds = watcher.wakePipeFds();
        String[] pipes = {pipeOf(fds[0]), pipeOf(fds[1])};
        assertTrue(pipes[0].startsWith("pipe:") && pipes[0].equals(pipes[1]), "the wake pipe: " + pipes[0] + ", " + pipes[1]);
        watcher.close();
        // Another test may reuse a number at once, so the pipe itself must be gone from both.
        Await.until(Duration.ofSeconds(10), () -> !pipes[0].equals(pipeOf(fds[0])) && !pipes[0].equals(pipeOf(fds[1])),
                "the wake pipe " + pipes[0] + " closed");
    }

    private static String pipeOf(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException e) {
            return "closed";
        }
    }
}
