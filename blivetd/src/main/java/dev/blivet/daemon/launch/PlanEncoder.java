package dev.blivet.daemon.launch;

import dev.blivet.common.RLimit;
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
    static final String MAGIC = "BLVT1";

    /**
     * @param env the job's final environment (the resolved one plus what blivetd adds at launch)
     */
    public byte[] encode(ResolvedJob job, List<String> env) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        put(out, MAGIC);
        record(out, "exec", job.program());
        job.argv().forEach(arg -> record(out, "arg", arg));
        env.forEach(entry -> record(out, "env", entry));
        record(out, "umask", Integer.toOctalString(job.umask()));
        optional(out, "chroot", job.chroot());
        record(out, "chdir", job.chdir());
        optional(out, "stdout", job.stdout());
        optional(out, "stderr", job.stderr());
        record(out, "append", job.append() ? "1" : "0");
        optional(out, "lockfile", job.lockfile());
        optional(out, "pidfile", job.pidfile());
        if (job.identity() != null) {
            record(out, "uid", Integer.toUnsignedString(job.identity().uid()));
            record(out, "gid", Integer.toUnsignedString(job.identity().gid()));
            for (int group : job.identity().groups()) {
                record(out, "group", Integer.toUnsignedString(group));
            }
        }
        for (RLimit limit : job.rlimits()) {
            record(out, "rlimit", limit.name() + ":" + limitText(limit.soft()) + ":" + limitText(limit.hard()));
        }
        if (job.clientJob()) {
            record(out, "client_job", "1");
        }
        if (job.notifyFd() >= 0) {
            record(out, "notify_fd", Integer.toString(job.notifyFd()));
        }
        return out.toByteArray();
    }

    private static String limitText(long value) {
        return value == RLimit.INFINITY ? "infinity" : Long.toString(value);
    }

    private static void optional(ByteArrayOutputStream out, String key, String value) {
        if (value != null) {
            record(out, key, value);
        }
    }

    private static void record(ByteArrayOutputStream out, String key, String value) {
        put(out, key + "=" + value);
    }

    private static void put(ByteArrayOutputStream out, String text) {
        out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
        out.write(0);
    }
}
