package dev.blivet.ctl;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The everyday queries ({@code status}, {@code list}, {@code ping}) run without picocli. Their
 * command lines are the shared options ({@code --socket PATH}, {@code --socket=PATH},
 * {@code --json}) and job names, and picocli's start-up (its classes, its model of the command,
 * its help machinery) cost more than the rest of such a run together (docs/benchmarks.md,
 * "blivetctl: start-up"). This parser takes only command lines whose meaning is certain: any
 * other option, a repeated option, {@code --}, an {@code @file}, a word that is no query, a name
 * where the command takes none, or a --socket value picocli would refuse (a command's name,
 * anything starting with - or @) makes {@link #parse} return null, and picocli parses the
 * command line as it always has, help and usage errors included. ShortcutTest holds it to
 * picocli's model and parse.
 */
final class Shortcut {
    /** The queries this runs, and whether each takes job names. */
    private enum Query {
        STATUS("status", true), LIST("list", false), PING("ping", false);

        final String command;
        final boolean takesNames;

        Query(String command, boolean takesNames) {
            this.command = command;
            this.takesNames = takesNames;
        }

        static Query named(String word) {
            for (Query query : values()) {
                if (query.command.equals(word)) {
                    return query;
                }
            }
            return null;
        }

        DaemonCommand create(List<String> names) {
            switch (this) {
                case STATUS:
                    StatusCommand status = new StatusCommand();
                    status.names = names;
                    return status;
                case LIST:
                    return new ListCommand();
                default:
                    return new PingCommand();
            }
        }
    }

    private final Query query;
    private final String socket;
    private final boolean json;
    private final List<String> names;

    private Shortcut(Query query, String socket, boolean json, List<String> names) {
        this.query = query;
        this.socket = socket;
        this.json = json;
        this.names = names;
    }

    /** The command names this runs (for tests). */
    static List<String> commands() {
        List<String> commands = new ArrayList<>();
        for (Query query : Query.values()) {
            commands.add(query.command);
        }
        return commands;
    }

    /** The query these arguments make, or null: picocli's to parse. */
    static Shortcut parse(String[] args) {
        Query query = null;
        String socket = null;
        boolean json = false;
        List<String> names = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals(Main.JSON)) {
                if (json) {
                    return null;
                }
                json = true;
            } else if (arg.equals(Main.SOCKET) || arg.startsWith(Main.SOCKET + "=")) {
                String value = arg.equals(Main.SOCKET) ? (i + 1 < args.length ? args[++i] : null)
                        : arg.substring(Main.SOCKET.length() + 1);
                // picocli takes neither an option's name nor a command's for an option's value.
                if (socket != null || value == null || value.isEmpty() || value.startsWith("-") || value.startsWith("@")
                        || Commands.names().contains(value)) {
                    return null;
                }
                socket = value;
            } else if (arg.isEmpty() || arg.startsWith("-") || arg.startsWith("@")) {
                return null;
            } else if (query == null) {
                query = Query.named(arg);
                if (query == null) {
                    return null;
                }
            } else if (query.takesNames) {
                names.add(arg);
            } else {
                return null;
            }
        }
        return query == null ? null : new Shortcut(query, socket, json, names);
    }

    /**
     * Runs the query as picocli would have; returns the exit code.
     *
     * @param ahead this run's work ahead (the socket channel), or null
     */
    int run(Ahead ahead, PrintWriter out, PrintWriter err) {
        Main main = new Main();
        main.ahead = ahead;
        main.socket = socket;
        main.json = json;
        main.out = out;
        main.err = err;
        try {
            query.create(List.copyOf(names)).call(main);
            return 0;
        } catch (Exception e) {
            return Failures.handle(e, main);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** What {@link #parse} made of the arguments, for tests: command, socket, json, names. */
    Map<String, Object> parsed() {
        return Map.of("command", query.command, "socket", String.valueOf(socket), "json", json, "names", names);
    }
}
