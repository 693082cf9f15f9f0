package dev.blivet.daemon.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/** What /proc says about a process: what a user would look at. */
public final class Proc {
    private final Path dir;

    public Proc(int pid) {
        this.dir = Path.of("/proc", Integer.toString(pid));
    }

    public static int self() {
        return (int) ProcessHandle.current().pid();
    }

    public boolean exists() {
        return Files.exists(dir) && !state().equals("Z");
    }

    /** A field of /proc/PID/status, e.g. "Uid" -> "65534\t65534\t65534\t65534". */
    public String status(String field) {
        for (String line : lines("status")) {
            if (line.startsWith(field + ":")) {
                return line.substring(field.length() + 1).trim();
            }
        }
        throw new AssertionError("no " + field + " in " + dir + "/status");
    }

    public String state() {
        return stat()[2];
    }

    public int ppid() {
        return Integer.parseInt(stat()[3]);
    }

    public int pgid() {
        return Integer.parseInt(stat()[4]);
    }

    public int sid() {
        return Integer.parseInt(stat()[5]);
    }

    /** Fields of /proc/PID/stat after the comm, which may hold spaces; index 2 is the state. */
    private String[] stat() {
        String text = read("stat");
        String afterComm = text.substring(text.lastIndexOf(')') + 2);
        String[] rest = afterComm.trim().split(" ");
        String[] fields = new String[rest.length + 2];
        fields[0] = text.substring(0, text.indexOf(' '));
        fields[1] = text.substring(text.indexOf('(') + 1, text.lastIndexOf(')'));
        System.arraycopy(rest, 0, fields, 2, rest.length);
        return fields;
    }

    public Path cwd() {
        try {
            return Files.readSymbolicLink(dir.resolve("cwd"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public TreeSet<Integer> fds() {
        try (Stream<Path> fds = Files.list(dir.resolve("fd"))) {
            return fds.map(p -> Integer.parseInt(p.getFileName().toString())).collect(TreeSet::new, TreeSet::add, TreeSet::addAll);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The open fds and what each is open on, by number; an fd closed while the table is read is
     * left out. To compare with a later table: a test's fds by number and target, where a count
     * would also see another thread's fd closed meanwhile.
     */
    public Map<Integer, Path> fdTable() {
        Map<Integer, Path> table = new TreeMap<>();
        for (int fd : fds()) {
            try {
                table.put(fd, fdTarget(fd));
            } catch (UncheckedIOException closedMeanwhile) {
                // not in the table: closed between the listing and the readlink
            }
        }
        return table;
    }

    public Path fdTarget(int fd) {
        try {
            return Files.readSymbolicLink(dir.resolve("fd").resolve(Integer.toString(fd)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Map<String, String> environ() {
        Map<String, String> env = new TreeMap<>();
        for (String entry : read("environ").split("\0")) {
            if (!entry.isEmpty()) {
                int eq = entry.indexOf('=');
                env.put(entry.substring(0, eq), entry.substring(eq + 1));
            }
        }
        return env;
    }

    public List<String> cmdline() {
        List<String> args = new ArrayList<>();
        for (String arg : read("cmdline").split("\0")) {
            args.add(arg);
        }
        return args;
    }

    /** The "Max open files  1024  4096  files" line of /proc/PID/limits. */
    public String limit(String label) {
        return lines("limits").stream().filter(l -> l.startsWith(label)).findFirst()
                .orElseThrow(() -> new AssertionError("no limit " + label)).replaceAll("\\s+", " ").trim();
    }

    private List<String> lines(String file) {
        return List.of(read(file).split("\n"));
    }

    private String read(String file) {
        try {
            return new String(Files.readAllBytes(dir.resolve(file)), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Live (non-zombie) processes whose command line is exactly {@code argv}. */
    public static List<Integer> findByCmdline(List<String> argv) {
        return all().filter(p -> {
            try {
                Proc proc = new Proc(p);
                return proc.cmdline().equals(argv) && !proc.state().equals("Z");
            } catch (UncheckedIOException | StringIndexOutOfBoundsException e) {
                return false; // it exited while we looked
            }
        }).toList();
    }

    /** Zombies whose parent is this JVM: the reaper should leave none. */
    public static List<Integer> zombieChildren() {
        int self = self();
        return all().filter(p -> {
            try {
                Proc proc = new Proc(p);
                return proc.state().equals("Z") && proc.ppid() == self;
            } catch (UncheckedIOException | StringIndexOutOfBoundsException e) {
                return false;
            }
        }).toList();
    }

    public static Optional<Integer> find(String comm, java.util.function.Predicate<Proc> filter) {
        return all().filter(p -> {
            try {
                Proc proc = new Proc(p);
                return proc.stat()[1].equals(comm) && filter.test(proc);
            } catch (UncheckedIOException | StringIndexOutOfBoundsException e) {
                return false;
            }
        }).findFirst();
    }

    private static Stream<Integer> all() {
        try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
            return entries.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .map(Integer::parseInt).toList().stream();
        } catch (NoSuchFileException e) {
            return Stream.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
