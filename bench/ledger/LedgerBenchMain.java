package dev.blivet.daemon;

import dev.blivet.daemon.ledger.Recorder;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine;

/**
 * blivetd for bench/ledger/run.sh only: compiled by that script against the built jars, never
 * part of them, so no production option or variable can turn the ledger off. The first argument
 * says what the supervisor records through; the rest are blivetd's options.
 *
 * <ul>
 *   <li>{@code ledger}: the ledger, as {@code bin/blivetd} runs it;
 *   <li>{@code none}: {@link Recorder#none()}, the same tree without the ledger's cost on the
 *       start path (the ledger is still opened and read at start-up, as it costs nothing later);
 *   <li>{@code timed}: the ledger, each call timed on the loop thread; at exit (SIGTERM) one line
 *       per call is written to stderr: {@code LEDGER-CALL name count p50_us p90_us mean_us}.
 * </ul>
 */
public final class LedgerBenchMain {
    private LedgerBenchMain() {
    }

    public static void main(String[] args) {
        String mode = args.length > 0 ? args[0] : "";
        String[] rest = Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
        Main main = switch (mode) {
            case "ledger" -> new Main();
            case "none" -> new Main(ledger -> Recorder.none());
            case "timed" -> new Main(LedgerBenchMain::timed);
            default -> throw new IllegalArgumentException("first argument: ledger, none or timed, not " + mode);
        };
        System.exit(new CommandLine(main).execute(rest));
    }

    private static Recorder timed(Recorder ledger) {
        Map<String, List<Long>> nanos = new TreeMap<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            synchronized (nanos) {
                nanos.forEach((call, list) -> {
                    long[] sorted = list.stream().mapToLong(Long::longValue).sorted().toArray();
                    System.err.printf("LEDGER-CALL %s %d %.1f %.1f %.1f%n", call, sorted.length,
                            sorted[sorted.length / 2] / 1000.0, sorted[(int) (sorted.length * 0.9)] / 1000.0,
                            Arrays.stream(sorted).average().orElse(0) / 1000.0);
                });
            }
        }));
        return (Recorder) Proxy.newProxyInstance(Recorder.class.getClassLoader(), new Class<?>[] {Recorder.class},
                (proxy, method, callArgs) -> {
                    long t0 = System.nanoTime();
                    try {
                        return method.invoke(ledger, callArgs);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    } finally {
                        long spent = System.nanoTime() - t0;
                        synchronized (nanos) {
                            nanos.computeIfAbsent(method.getName(), k -> new ArrayList<>()).add(spent);
                        }
                    }
                });
    }
}
