import dev.blivet.common.JobSpec;
import dev.blivet.common.JobSpecJson;
import dev.blivet.common.JobSpecResolver;
import dev.blivet.common.NativeAccounts;
import dev.blivet.common.SpecException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * What resolving one start's spec costs in a fresh JVM: the intake's look at the file system
 * (issue 13, "one stat per path"), run by bench/daemon/resolve-cost.sh against two built trees.
 * Only the resolver's public API is used, so one compiled copy runs against either tree's jars.
 *
 * <p>Usage: java -cp DIR:TREE/blivetd/target/lib/* ResolveCost SCRATCH_DIR COUNT. The spec names
 * a program by bare name (a PATH lookup), a chdir, a pidfile and a lockfile that do not exist yet,
 * an existing stdout and a new stderr: each kind of path a start asks about. Prints one line:
 * the first resolve, the median of the first 20, of the 31st to the 80th (blivetd's warm-up
 * resolves about 30 times at boot, so a first start sees these), and of the last half, in
 * microseconds.
 */
public final class ResolveCost {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int count = Integer.parseInt(args[1]);
        Path stdout = Files.writeString(dir.resolve("r.out"), "");
        String json = "{\"name\":\"r\",\"command\":[\"sleep\",\"1\"],\"chdir\":\"" + dir + "\",\"pidfile\":\""
                + dir.resolve("r.pid") + "\",\"lockfile\":\"" + dir.resolve("r.lock") + "\",\"stdout\":\"" + stdout
                + "\",\"stderr\":\"" + dir.resolve("r.err") + "\",\"append\":true}";
        JobSpec spec = new JobSpecJson().parse(json);
        JobSpecResolver resolver = new JobSpecResolver(new NativeAccounts(), Map.of());
        long[] ns = new long[count];
        for (int i = 0; i < count; i++) {
            long t0 = System.nanoTime();
            try {
                resolver.resolve(spec);
            } catch (SpecException e) {
                throw new IllegalStateException("the bench's spec was refused: " + e.getMessage(), e);
            }
            ns[i] = System.nanoTime() - t0;
        }
        System.out.printf("first_us=%.1f first20_us=%.1f after30_us=%.1f warm_us=%.1f%n", ns[0] / 1e3,
                median(Arrays.copyOfRange(ns, 0, Math.min(20, count))) / 1e3,
                median(Arrays.copyOfRange(ns, Math.min(30, count - 1), Math.min(80, count))) / 1e3,
                median(Arrays.copyOfRange(ns, count / 2, count)) / 1e3);
    }

    private static double median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
    }
}
