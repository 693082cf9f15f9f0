package dev.blivet.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@link Shortcut} against picocli: every command line the shortcut takes means the same to
 * picocli (command, --socket, --json, names), and every one it cannot be sure of is left to
 * picocli. The commands it runs take nothing but the shared options and job names, as picocli's
 * model of them says.
 */
class ShortcutTest {
    /** Command lines the shortcut runs. */
    private static final List<String[]> TAKEN = List.of(
            args("status"), args("list"), args("ping"),
            args("status", "web"), args("status", "web", "db", "cache"),
            args("--json", "status"), args("status", "--json"), args("status", "web", "--json", "db"),
            args("--socket", "/run/b.sock", "status"), args("status", "--socket", "/run/b.sock"),
            args("--socket=/run/b.sock", "list"), args("list", "--socket=/run/b.sock", "--json"),
            args("status", "status"), args("status", "list", "help"), args("ping", "--json", "--socket", "/s"),
            args("status", "a=b"), args("status", "web:1", "ünïcode"), args("--socket", "with space", "ping"));

    /** Command lines left to picocli: help, usage errors, anything the shortcut is not sure of. */
    private static final List<String[]> DECLINED = List.of(
            args(), args("--json"), args("--socket", "/s"), args("help"), args("help", "status"),
            args("start", "x.json"), args("stop", "web"), args("restart", "web"), args("version"), args("stat"),
            args("--help"), args("-h", "status"), args("status", "--help"), args("status", "-h"), args("--version"),
            args("-V"), args("status", "--bogus"), args("status", "-"), args("status", "--"), args("status", "--", "web"),
            args("status", "-x"), args("@args.txt"), args("status", "@names"), args("--socket", "@file", "status"),
            args("--json", "--json", "status"), args("status", "--json", "--json"),
            args("--socket", "/a", "--socket", "/b", "status"), args("--socket=/a", "status", "--socket=/b"),
            args("status", "--socket"), args("status", "--socket="), args("--socket", "--json", "status"),
            args("--socket", "-x", "status"), args("status", ""), args(""), args("list", "web"), args("ping", "web"),
            args("web", "status"), args("STATUS"), args("--socket", "status", "status"),
            args("status", "--socket", "list"), args("--socket=ping", "ping"), args("status", "--Json"), args("status", "--sock", "/s"));

    private static String[] args(String... args) {
        return args;
    }

    @Test
    void everyCommandLineItTakesMeansTheSameToPicocli() {
        for (String[] args : TAKEN) {
            Shortcut shortcut = Shortcut.parse(args);
            assertNotNull(shortcut, () -> "taken: " + List.of(args));
            assertEquals(picocli(args), shortcut.parsed(), () -> "picocli reads " + List.of(args) + " alike");
        }
    }

    @Test
    void itLeavesEverythingElseToPicocli() {
        for (String[] args : DECLINED) {
            assertNull(Shortcut.parse(args), () -> "left to picocli: " + List.of(args));
        }
    }

    @Test
    void itsCommandsTakeOnlyTheSharedOptionsAndNames() {
        CommandLine top = new CommandLine(new Main());
        for (String command : Shortcut.commands()) {
            CommandSpec spec = top.getSubcommands().get(command).getCommandSpec();
            Set<String> options = new TreeSet<>();
            for (OptionSpec option : spec.options()) {
                options.add(option.longestName());
            }
            assertEquals(Set.of(Main.SOCKET, Main.JSON, "--help"), options, command + "'s options");
            for (OptionSpec option : spec.options()) {
                assertTrue(option.inherited() || option.usageHelp(), option.longestName() + " is the top command's");
            }
            List<PositionalParamSpec> positionals = spec.positionalParameters();
            boolean takesNames = Shortcut.parse(args(command, "web")) != null;
            if (takesNames) {
                assertEquals(1, positionals.size(), command + " takes one list of names");
                assertEquals("0..*", positionals.get(0).arity().toString(), command + "'s names are optional");
                assertEquals(List.class, positionals.get(0).type(), command + "'s names are a list");
            } else {
                assertEquals(List.of(), positionals, command + " takes no names");
            }
        }
        assertTrue(Commands.names().containsAll(Shortcut.commands()));
    }

    /**
     * The launchers' archive.sh picks the queries' class-data sharing archive for every command
     * line the shortcut runs, and the archive of every command for the other commands.
     */
    @Test
    void theLauncherPicksTheQueriesArchiveForWhatItRuns() throws Exception {
        for (String[] args : TAKEN) {
            assertEquals("blivetctl-queries", launcherArchive(args), () -> "archive for " + List.of(args));
        }
        List<String[]> others = new ArrayList<>(List.of(args(), args("--json"), args("--socket", "/s"),
                args("--socket", "status", "start", "x.json"), args("help", "status")));
        for (String command : Commands.names()) {
            if (!Shortcut.commands().contains(command)) {
                others.add(args(command, "status"));
                others.add(args("--json", "--socket", "/s", command));
            }
        }
        for (String[] args : others) {
            assertEquals("blivetctl", launcherArchive(args), () -> "archive for " + List.of(args));
        }
    }

    /** The $archive that src/main/launcher/archive.sh sets for these arguments, run by sh. */
    private static String launcherArchive(String[] args) throws Exception {
        List<String> command = new ArrayList<>(List.of("sh", "-c",
                ". \"$0\" && blivetctl_archive \"$@\" && printf %s \"$archive\"", "src/main/launcher/archive.sh"));
        command.addAll(List.of(args));
        Process sh = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(sh.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, sh.waitFor(), () -> "sh for " + List.of(args) + ": " + out);
        return out;
    }

    /** What picocli parses these arguments into, in {@link Shortcut#parsed}'s terms. */
    private static Map<String, Object> picocli(String[] args) {
        Main main = new Main();
        ParseResult result = new CommandLine(main).parseArgs(args);
        assertTrue(result.hasSubcommand(), () -> List.of(args) + " names a command");
        ParseResult sub = result.subcommand();
        List<String> names = new ArrayList<>();
        for (ArgSpec positional : sub.commandSpec().positionalParameters()) {
            List<String> values = positional.getValue();
            names.addAll(values);
        }
        Map<String, Object> parsed = new LinkedHashMap<>();
        parsed.put("command", sub.commandSpec().name());
        parsed.put("socket", String.valueOf(main.socket));
        parsed.put("json", main.json);
        parsed.put("names", names);
        return parsed;
    }
}
