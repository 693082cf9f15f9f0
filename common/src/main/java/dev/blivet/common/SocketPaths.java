package dev.blivet.common;

import java.nio.file.Path;
import java.util.Map;

/**
 * The one rule for where blivetd listens and blivetctl connects: {@code --socket PATH}, else
 * {@code $BLIVETD_SOCKET}, else {@value #ROOT_SOCKET} for root, else
 * {@code $XDG_RUNTIME_DIR/blivetd/blivetd.sock}, else {@code /tmp/blivetd-UID/blivetd.sock}
 * (a directory blivetd creates 0700 and refuses to use unless it owns it, as tmux does).
 */
public final class SocketPaths {
    public static final String ENV = "BLIVETD_SOCKET";
    public static final String ROOT_SOCKET = "/run/blivetd/blivetd.sock";
    private static final String SOCKET_NAME = "blivetd.sock";

    private SocketPaths() {
    }

    /**
     * @param option the --socket value, or null
     * @param env the process environment
     */
    public static Path resolve(String option, Map<String, String> env, int uid) {
        if (option != null && !option.isEmpty()) {
            return Path.of(option);
        }
        String fromEnv = env.get(ENV);
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return Path.of(fromEnv);
        }
        if (uid == 0) {
            return Path.of(ROOT_SOCKET);
        }
        String runtime = env.get("XDG_RUNTIME_DIR");
        if (runtime != null && runtime.startsWith("/")) {
            return Path.of(runtime, "blivetd", SOCKET_NAME);
        }
        return Path.of("/tmp", "blivetd-" + Integer.toUnsignedString(uid), SOCKET_NAME);
    }
}
