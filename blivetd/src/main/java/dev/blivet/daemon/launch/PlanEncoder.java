package dev.blivet.daemon.launch;

import static dev.blivet.daemon.launch.HelperProtocol.PlanKey.*;

import dev.blivet.common.RLimit;
import dev.blivet.common.Readiness;
import dev.blivet.common.ResolvedJob;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Packs a {@link ResolvedJob} into the plan blivet-spawn reads from fd 3: the magic "BLVT1\0"
 * then "key=value\0" records (see the comment atop blivet-spawn.c). Validation guaranteed no
 * value holds a NUL, so the encoding needs no escaping.
 */
public final class PlanEncoder {
    /**
     * This JVM's pid, the helper's parent. The helper's check relies on no JVM being exec'd in
     * place (a launch thread would die and a helper before its prctl would pass): a reexec halts
     * this JVM and the keeper starts a new one, with a new pid.
     */
    private static final String SELF = Long.toString(ProcessHandle.current().pid());

    /**
     * @param env the job's final environment (the resolved one plus what blivetd adds at launch)
     */
    public byte[] encode(ResolvedJob job, List<String> env) {
        return encode(job, env, false);
    }

    /**
     * @param joinCgroup the helper joins the cgroup whose directory it gets on fd
     *     {@value HelperProtocol#CGROUP_FD} before it forks the daemon
     */
    public byte[] encode(ResolvedJob job, List<String> env, boolean joinCgroup) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        put(out, HelperProtocol.MAGIC);
        record(out, EXEC, job.program());
        job.argv().forEach(arg -> record(out, ARG, arg));
        env.forEach(entry -> record(out, ENV, entry));
        record(out, UMASK, Integer.toOctalString(job.umask()));
        optional(out, CHROOT, job.chroot());
        record(out, CHDIR, job.chdir());
        optional(out, STDOUT, job.stdout());
        optional(out, STDERR, job.stderr());
        record(out, APPEND, job.append() ? "1" : "0");
        optional(out, LOCKFILE, job.lockfile());
        if (job.readiness() != Readiness.FORKING) {
            optional(out, PIDFILE, job.pidfile()); // a forking job's program writes its own: blivet only reads it
        }
        if (job.identity() != null) {
            record(out, UID, Integer.toUnsignedString(job.identity().uid()));
            record(out, GID, Integer.toUnsignedString(job.identity().gid()));
            for (int group : job.identity().groups()) {
                record(out, GROUP, Integer.toUnsignedString(group));
            }
        }
        for (RLimit limit : job.rlimits()) {
            record(out, RLIMIT, limit.name() + ":" + limitText(limit.soft()) + ":" + limitText(limit.hard()));
        }
        if (job.clientJob()) {
            record(out, CLIENT_JOB, "1");
        }
        if (job.notifyFd() >= 0) {
            record(out, NOTIFY_FD, Integer.toString(job.notifyFd()));
        }
        if (joinCgroup) {
            record(out, CGROUP, "1");
        }
        // The helper forks nothing once this JVM is gone (blivet-spawn.c, main).
        record(out, PARENT, SELF);
        return out.toByteArray();
    }

    private static String limitText(long value) {
        return value == RLimit.INFINITY ? "infinity" : Long.toString(value);
    }

    private static void optional(ByteArrayOutputStream out, HelperProtocol.PlanKey key, String value) {
        if (value != null) {
            record(out, key, value);
        }
    }

    private static void record(ByteArrayOutputStream out, HelperProtocol.PlanKey key, String value) {
        put(out, key.key() + "=" + value);
    }

    private static void put(ByteArrayOutputStream out, String text) {
        out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
        out.write(0);
    }
}
