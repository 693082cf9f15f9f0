package dev.blivet.daemon.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs a small Python program as nobody (setpriv drops every privilege), as a hostile user would. */
final class AsNobody {
    static final int UID = 65534;

    private AsNobody() {
    }

    /** Writes {@code source} to {@code script} (readable by nobody) and starts it with {@code args}. */
    static Process python(Path script, String source, String... args) throws IOException {
        Files.writeString(script, source);
        List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                "/usr/bin/python3", script.toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    /** A line client: sends each request line, prints each response line. Arguments: socket, requests... */
    static final String CLIENT = String.join("\n",
            "import socket, sys",
            "s = socket.socket(socket.AF_UNIX)",
            "s.connect(sys.argv[1])",
            "f = s.makefile('rw')",
            "for line in sys.argv[2:]:",
            "    f.write(line + '\\n'); f.flush(); print(f.readline().strip(), flush=True)", "");
}
