package dev.blivet.daemon.usage;

import dev.blivet.common.LimitSupport;
import dev.blivet.common.ResourceLimits;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which cgroup limits can be applied to jobs, and applying them. A limit needs its cgroup v2
 * controller in the job cgroup's parent's cgroup.controllers (only those can be enabled for its
 * children); a limit that cannot be applied is a validation error saying why, never ignored.
 *
 * @param jobsParent the cgroup whose children the job cgroups are, or null: no containment
 * @param controllers what jobsParent's cgroup.controllers offers
 * @param boundToV1 controllers this machine mounts as cgroup v1 hierarchies (they can then not be
 *     in v2 at all)
 */
public record CgroupLimits(Path jobsParent, Set<String> controllers, Set<String> boundToV1) implements LimitSupport {

    public CgroupLimits {
        controllers = Set.copyOf(controllers);
        boundToV1 = Set.copyOf(boundToV1);
    }

    /** blivetd without cgroups (process groups only): no limit can be applied. */
    public static CgroupLimits uncontained() {
        return new CgroupLimits(null, Set.of(), Set.of());
    }

    /**
     * What this machine offers to children of {@code jobsParent}: its cgroup.controllers, and the
     * v1 hierarchies /proc/self/cgroup lists ("N:memory:/path" with N above 0).
     */
    public static CgroupLimits detect(Path jobsParent, Path procSelfCgroup) {
        Set<String> offered = new TreeSet<>();
        try {
            offered.addAll(words(Files.readString(jobsParent.resolve("cgroup.controllers"))));
        } catch (IOException e) {
            // unreadable: nothing offered, and the error says which hierarchy
        }
        Set<String> v1 = new TreeSet<>();
        try {
            for (String line : Files.readAllLines(procSelfCgroup)) {
                String[] parts = line.split(":", 3);
                if (parts.length == 3 && !parts[0].equals("0") && !parts[1].isEmpty()) {
                    v1.addAll(Arrays.asList(parts[1].split(",")));
                }
            }
        } catch (IOException e) {
            // no /proc: no v1 binding known
        }
        return new CgroupLimits(jobsParent, offered, v1);
    }

    @Override
    public Optional<String> whyNot(String key, String controller) {
        String needs = key + " needs the cgroup v2 " + controller + " controller";
        if (jobsParent == null) {
            return Optional.of(needs + ", and there is no cgroup: blivetd runs without containment");
        }
        if (controllers.contains(controller)) {
            return Optional.empty();
        }
        if (boundToV1.contains(controller)) {
            return Optional.of(needs + ", which this machine binds to cgroup v1");
        }
        return Optional.of(needs + ", which " + jobsParent + " does not offer (cgroup.controllers: "
                + (controllers.isEmpty() ? "none" : String.join(" ", new TreeSet<>(controllers))) + ")");
    }

    /**
     * Writes {@code limits} into the job's cgroup: after it is made, before the job runs. The
     * controllers must be enabled in the parent's cgroup.subtree_control ({@link #controllersOf}).
     *
     * @throws IOException naming the file that could not be written
     */
    public static void apply(Path jobCgroup, ResourceLimits limits) throws IOException {
        for (ResourceLimits.Setting setting : limits.files()) {
            Path file = jobCgroup.resolve(setting.file());
            try (var channel = Files.newByteChannel(file, Set.of(StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING,
                    LinkOption.NOFOLLOW_LINKS))) {
                channel.write(java.nio.ByteBuffer.wrap(setting.value().getBytes(StandardCharsets.US_ASCII)));
            } catch (IOException e) {
                throw new IOException("cannot apply " + setting.key() + ": writing \"" + setting.value() + "\" to "
                        + file + ": " + e.getMessage(), e);
            }
        }
    }

    /** The controllers {@code limits} need enabled in the job cgroup's parent, e.g. "+memory +pids". */
    public static Set<String> controllersOf(ResourceLimits limits) {
        Set<String> needed = new TreeSet<>();
        limits.files().forEach(setting -> needed.add(setting.controller()));
        return needed;
    }

    private static Set<String> words(String text) {
        Set<String> words = new TreeSet<>(Arrays.asList(text.trim().split("\\s+")));
        words.remove("");
        return words;
    }
}
