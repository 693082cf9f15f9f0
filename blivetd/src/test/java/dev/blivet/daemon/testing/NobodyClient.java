package dev.blivet.daemon.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A protocol client running as nobody (setpriv drops it; CI is root): one connection, each
 * request answered before the next is sent. Returns the response lines.
 */
public final class NobodyClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    private NobodyClient() {
    }

    public static List<JsonNode> send(Path scratch, Path socket, List<String> requests) throws Exception {
        Path script = Files.createTempFile(scratch, "client", ".py");
        Files.writeString(script, String.join("\n",
                "import socket, sys",
                "s = socket.socket(socket.AF_UNIX)",
                "s.connect(sys.argv[1])",
                "f = s.makefile('rw')",
                "for line in sys.stdin:",
                "    f.write(line); f.flush(); print(f.readline().strip(), flush=True)", ""));
        script.toFile().setReadable(true, false);
        List<String> command = List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                "/usr/bin/python3", script.toString(), socket.toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().write((String.join("\n", requests) + "\n").getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), output);
        List<JsonNode> replies = new ArrayList<>();
        for (String line : output.split("\n")) {
            replies.add(JSON.readTree(line));
        }
        assertEquals(requests.size(), replies.size(), output);
        return replies;
    }

    public static List<JsonNode> send(Path scratch, Path socket, String... requests) throws Exception {
        return send(scratch, socket, List.of(requests));
    }
}
