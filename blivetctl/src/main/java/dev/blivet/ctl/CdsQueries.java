package dev.blivet.ctl;

/**
 * The everyday queries, which run without picocli ({@link Shortcut}), as the training runs for
 * blivetctl's class-data sharing archives make them: the whole training ({@link CdsTraining})
 * runs them with the other commands; the queries' own archive is trained on a JVM that runs
 * nothing else (this main, started by {@link CdsTraining}), so that it holds their classes alone.
 * Build-time only; not a command.
 */
public final class CdsQueries {
    private CdsQueries() {
    }

    /** Arguments: the stand-in blivetd's socket, then a path where no socket is. Its parent discards the output. */
    public static void main(String[] args) {
        run(args[0], args[1]);
        System.exit(0);
    }

    static void run(String socket, String missing) {
        Main.run("--socket", socket, "status");
        Main.run("--socket", socket, "status", "web");
        Main.run("--socket", socket, "status", "--json");
        Main.run("--socket", socket, "list");
        Main.run("--socket", socket, "ping");
        Main.run("--socket", socket, "status", "nosuch");
        Main.run("--socket", missing, "status");
    }
}
