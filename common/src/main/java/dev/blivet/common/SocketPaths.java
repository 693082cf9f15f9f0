package dev.blivet.common;

import java.nio.file.Path;
import java.util.Map;

/**
 * The one rule for where blivetd listens and blivetctl connects, as {@link #RULE} words it for
 * both programs' help. The per-user directory under /tmp is one blivetd creates 0700 and refuses
 * to use unless it owns it, as tmux does.
 */
public final class SocketPaths {
    public static final String ENV = "BLIVETD_SOCKET";
    public static final String ROOT_SOCKET = "/run/blivetd/blivetd.sock";
    private static final String RUNTIME_ENV = "XDG_RUNTIME_DIR";
    private static final String DIR_NAME = "blivetd";
    private static final String SOCKET_NAME = "blivetd.sock";
    private static final String TMP_DIR_PREFIX = "/tmp/blivetd-";

    /**
     * {@link #resolve} in words, for --help. A compile-time constant so that picocli's
     * {@code @Command(footer = ...)} can use it; {@code SocketPathsTest} holds it to the code.
     */
    public static final String RULE = "Socket: --socket PATH, else $" + ENV + ", else " + ROOT_SOCKET + " as root;"
            + " for other users $" + RUNTIME_ENV + "/" + DIR_NAME + "/" + SOCKET_NAME + " (without " + RUNTIME_ENV
            + ": " + TMP_DIR_PREFIX + "UID/" + SOCKET_NAME + ").";

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
        String runtime = env.get(RUNTIME_ENV);
        if (runtime != null && runtime.startsWith("/")) {
            return Path.of(runtime, DIR_NAME, SOCKET_NAME);
        }
        return Path.of(TMP_DIR_PREFIX + Integer.toUnsignedString(uid), SOCKET_NAME);
    }
}
