package dev.blivet.daemon.cgroup;

import dev.blivet.daemon.Log;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import jnr.posix.POSIX;

/**
 * Decides once, at start-up, how blivetd contains its jobs (docs/architecture.md, "Containment"),
 * and prepares it:
 * <ul>
 * <li>{@link Mode#DELEGATED}: blivetd's own cgroup was delegated to it (systemd's Delegate=yes,
 *     for the system or a user manager): blivetd (and its keeper) move into its leaf
 *     {@code supervisor}, and each job gets a child of blivetd's cgroup.
 * <li>{@link Mode#ROOT}: blivetd is root and can write the cgroup v2 hierarchy, wherever it is
 *     mounted (systemd's hybrid layout puts it at /sys/fs/cgroup/unified): blivetd makes
 *     {@code blivetd-<hash of its socket path>} at the top of the hierarchy, with the same layout.
 * <li>{@link Mode#PROCESS_GROUPS}: no writable cgroup v2 (or {@code --cgroups=off}): process
 *     groups, which a job's {@code setsid()} escapes.
 * </ul>
 */
public final class CgroupSetup {
    /** How jobs are contained. */
    public enum Mode {
        DELEGATED("cgroup v2, delegated"),
        ROOT("cgroup v2, made by root"),
        PROCESS_GROUPS("process groups (not contained: setsid escapes)");

        private final String text;

        Mode(String text) {
            this.text = text;
        }

        public String text() {
            return text;
        }
    }

    /**
     * The outcome: the mode, the jobs' cgroups (null for process groups), and why, for the log.
     *
     * @param origin where blivetd was before it moved into {@code supervisor} (ROOT mode only)
     * @param parent the directory blivetd made its cgroup in (ROOT mode only)
     */
    public record Result(Mode mode, JobCgroups cgroups, String detail, CgroupDir origin, CgroupDir parent) {
        public boolean contained() {
            return cgroups != null;
        }
    }

    /** The operator's choice ({@code --cgroups}). */
    public enum Choice {
        AUTO, OFF
    }

    private final CgroupDir.Native lib;
    private final Log log;

    private CgroupSetup(POSIX posix, Log log) {
        this.lib = CgroupDir.Native.load(posix);
        this.log = log;
    }

    /**
     * Detects the mode, moves blivetd (and its keeper) where it belongs, and logs the outcome once.
     * {@code keeper}: blivetd's parent is its keeper, as the link it accepted proves; never the bare
     * variable, which would move whatever process started blivetd into its cgroup.
     */
    public static Result detect(POSIX posix, Log log, Choice choice, Path socket, int euid, boolean keeper) {
        Result result;
        if (choice == Choice.OFF) {
            result = new Result(Mode.PROCESS_GROUPS, null, "--cgroups=off", null, null);
        } else {
            result = new CgroupSetup(posix, log).detect(socket, euid, keeper);
        }
        log.info("containment: " + result.mode().text() + " (" + result.detail() + ")");
        return result;
    }

    private Result detect(Path socket, int euid, boolean keeper) {
        String own;
        Mount mount;
        try {
            own = ownCgroup(Files.readString(Path.of("/proc/self/cgroup")));
            if (own == null) {
                return fallback("no cgroup v2 line in /proc/self/cgroup");
            }
            mount = cgroup2Mount(Files.readString(Path.of("/proc/self/mountinfo")), own);
            if (mount == null) {
                return fallback("no cgroup2 mount holds " + own + " (/proc/self/mountinfo)");
            }
        } catch (IOException e) {
            return fallback(e.getMessage());
        }
        CgroupDir root = null;
        CgroupDir ownDir = null;
        try {
            root = CgroupDir.openMount(lib, mount.point(), mount.root());
            ownDir = walk(root, mount.root(), own);
            if (!own.equals(mount.root()) && delegated(ownDir, euid)) {
                CgroupDir supervisor = enter(ownDir, ownDir, own, keeper);
                root.close();
                supervisor.close();
                return new Result(Mode.DELEGATED, new JobCgroups(lib, ownDir, log), ownDir.path() + " is delegated to uid "
                        + euid + "; blivetd in " + supervisor.path(), null, null);
            }
            if (euid != 0) {
                String why = "cgroup " + ownDir.path() + " is not delegated to uid " + euid;
                root.close();
                ownDir.close();
                return fallback(why);
            }
            CgroupDir base = root.child(CgroupNames.instance(socket), true);
            CgroupDir supervisor = enter(base, ownDir, own, keeper);
            supervisor.close();
            return new Result(Mode.ROOT, new JobCgroups(lib, base, log), "blivetd in " + supervisor.path()
                    + ", jobs beside it" + (keeper ? "" : "; removed at exit"), keeper ? null : ownDir, root);
        } catch (IOException | RuntimeException e) {
            if (ownDir != null && ownDir != root) {
                ownDir.close();
            }
            if (root != null) {
                root.close();
            }
            return fallback(e.getMessage());
        }
    }

    private Result fallback(String why) {
        return new Result(Mode.PROCESS_GROUPS, null, why, null, null);
    }

    /**
     * Makes {@code base/supervisor} and moves blivetd into it, and its keeper (our parent, when
     * its link says there is one) if the keeper is in the cgroup we came from: a keeper
     * elsewhere was put there by someone who meant it.
     */
    private CgroupDir enter(CgroupDir base, CgroupDir from, String fromPath, boolean keeper) throws IOException {
        CgroupDir supervisor = base.child(CgroupNames.SUPERVISOR, true);
        if (keeper) {
            int parent = lib.libc().getppid();
            if (parent > 1 && ("0::" + fromPath).equals(cgroupLine(parent))) {
                supervisor.write("cgroup.procs", Integer.toString(parent));
            }
        }
        supervisor.write("cgroup.procs", "0"); // "0": the writer itself, all its threads
        return supervisor;
    }

    /**
     * Delegated to us: systemd marks a delegated cgroup with the xattr trusted.delegate (system
     * manager) or user.delegate (user manager), and a user manager also hands the directory to
     * the user; without any mark we do not take a cgroup someone else manages.
     */
    private boolean delegated(CgroupDir dir, int euid) throws IOException {
        byte[] value = new byte[8];
        for (String name : new String[] {"trusted.delegate", "user.delegate"}) {
            if (lib.libc().fgetxattr(dir.fd(), name, value, value.length) > 0 && value[0] == '1') {
                return true;
            }
        }
        Path self = Path.of("/proc/self/fd/" + dir.fd());
        return euid != 0 && (int) Files.getAttribute(self, "unix:uid", LinkOption.NOFOLLOW_LINKS) == euid
                && (int) Files.getAttribute(self.resolve("cgroup.procs"), "unix:uid") == euid;
    }

    private static CgroupDir walk(CgroupDir root, String rootPath, String target) throws IOException {
        String rest = rootPath.equals("/") ? target : target.substring(rootPath.length());
        CgroupDir dir = root;
        for (String component : rest.split("/")) {
            if (component.isEmpty()) {
                continue;
            }
            CgroupDir next = dir.child(component, false);
            if (dir != root) {
                dir.close();
            }
            dir = next;
        }
        return dir;
    }

    /** The "0::PATH" line's path: the process's cgroup v2 (null without one). */
    static String ownCgroup(String procCgroup) {
        for (String line : procCgroup.split("\n")) {
            if (line.startsWith("0::")) {
                return line.substring(3);
            }
        }
        return null;
    }

    private static String cgroupLine(int pid) {
        try {
            for (String line : Files.readString(Path.of("/proc", Integer.toString(pid), "cgroup"), StandardCharsets.UTF_8)
                    .split("\n")) {
                if (line.startsWith("0::")) {
                    return line;
                }
            }
        } catch (IOException e) {
            // gone
        }
        return null;
    }

    /** A cgroup2 mount: where it is, and which cgroup its directory is. */
    record Mount(Path point, String root) {
    }

    /**
     * The cgroup2 mount whose root holds {@code cgroup}, from /proc/self/mountinfo: fields are
     * "id parent major:minor root mountpoint options [optional...] - fstype source superoptions",
     * with spaces and the like in paths escaped as octal.
     */
    static Mount cgroup2Mount(String mountinfo, String cgroup) {
        for (String line : mountinfo.split("\n")) {
            int dash = line.indexOf(" - ");
            if (dash < 0) {
                continue;
            }
            String[] tail = line.substring(dash + 3).split(" ");
            String[] head = line.substring(0, dash).split(" ");
            if (tail.length < 1 || !tail[0].equals("cgroup2") || head.length < 5) {
                continue;
            }
            String root = unescape(head[3]);
            if (root.equals("/") || cgroup.equals(root) || cgroup.startsWith(root + "/")) {
                return new Mount(Path.of(unescape(head[4])), root);
            }
        }
        return null;
    }

    private static String unescape(String field) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length()) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * At a clean exit in {@link Mode#ROOT} without a keeper: blivetd goes back where it came from
     * and removes its cgroup, which the kernel refuses while a job's cgroup is left in it, so
     * that nothing of it stays behind.
     */
    public static void leave(Result result, Log log) {
        if (result.mode() != Mode.ROOT || result.origin() == null) {
            return;
        }
        CgroupDir base = result.cgroups().baseDir();
        try {
            result.origin().write("cgroup.procs", "0");
            base.removeChild(CgroupNames.SUPERVISOR);
            result.parent().removeChild(base.path().getFileName().toString());
        } catch (IOException e) {
            log.warn("leaving " + base.path() + ": " + e.getMessage());
        }
    }
}
