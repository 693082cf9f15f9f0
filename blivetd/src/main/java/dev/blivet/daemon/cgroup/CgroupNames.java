package dev.blivet.daemon.cgroup;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The names blivetd gives cgroups. A job's cgroup derives from the job's name alone, so that a
 * later blivetd finds the cgroup of a job it re-adopts; blivetd's own cgroup (where blivetd makes
 * one) derives from its socket path, so that two blivetd instances on different sockets never
 * share one.
 */
public final class CgroupNames {
    /** Every job's cgroup starts with it: no kernel interface file does (they are "cgroup.*", "cpu.*", ...). */
    public static final String JOB_PREFIX = "job-";
    /** blivetd and its keeper live in this leaf, beside the jobs' cgroups. */
    public static final String SUPERVISOR = "supervisor";
    /** The prefix of the cgroup blivetd makes for itself where it is not given one. */
    public static final String INSTANCE_PREFIX = "blivetd-";
    /**
     * The same set as the job names blivetd accepts (common's JobSpecResolver), checked again
     * here because a cgroup name is a path component: no '/', no leading '.', at most 64 bytes.
     */
    private static final Pattern JOB_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}");

    private CgroupNames() {
    }

    /** "job-" + the name; refuses anything that is not a valid job name (never escapes, never collides). */
    public static String job(String jobName) {
        if (jobName == null || !JOB_NAME.matcher(jobName).matches()) {
            throw new IllegalArgumentException("not a job name usable as a cgroup: " + jobName);
        }
        return JOB_PREFIX + jobName;
    }

    /** Whether a directory in blivetd's cgroup is a job's (and not the supervisor leaf or a stranger). */
    public static boolean isJob(String directory) {
        return directory.startsWith(JOB_PREFIX) && JOB_NAME.matcher(directory.substring(JOB_PREFIX.length())).matches();
    }

    /** "blivetd-" + the first 16 hex digits of SHA-256 of the socket's absolute path. */
    public static String instance(Path socket) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(socket.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
            return INSTANCE_PREFIX + HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
