package dev.blivet.bench;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Takes turns with another benchmark program, block by block, so that both are measured across the
 * same stretch of time and whatever else the machine is doing hits both alike, without the two ever
 * running at once. The daemonize harness speaks the same protocol (daemonize-bench.c, -i/-o).
 *
 * <p>Two FIFOs that bench/run-launch.sh creates and keeps open read-write (so opening them never
 * blocks and they never see EOF): before a block, read one byte from {@code in} ('t': your turn,
 * 'x': the other side has finished, run freely from now on); after a block, write 't' to
 * {@code out}; when done, write 'x'. A peer that says nothing for 60 s is taken as gone.
 */
final class Turns implements AutoCloseable {
    private static final long PATIENCE_SECONDS = 60;

    private final OutputStream out;
    private final BlockingQueue<Integer> received = new ArrayBlockingQueue<>(64);
    private boolean free;
    private boolean mine;

    /** No turn-taking: every {@link #await} returns at once. */
    static Turns none() {
        return new Turns();
    }

    private Turns() {
        this.out = null;
        this.free = true;
    }

    Turns(Path in, Path out, boolean first) throws IOException {
        this.mine = first;
        InputStream input = new FileInputStream(in.toFile());
        this.out = new FileOutputStream(out.toFile());
        Thread reader = new Thread(() -> {
            try (input) {
                int b;
                while ((b = input.read()) >= 0) {
                    received.put(b);
                }
            } catch (IOException | InterruptedException e) {
                // the queue then stays empty: await() gives up after its patience
            }
        }, "turns");
        reader.setDaemon(true);
        reader.start();
    }

    /** Blocks until it is this side's turn; true if it had to wait (the other side ran meanwhile). */
    boolean await() throws InterruptedException {
        if (free || mine) {
            mine = false;
            return false;
        }
        Integer b = received.poll(PATIENCE_SECONDS, TimeUnit.SECONDS);
        if (b == null) {
            System.err.println("turns: no word from the other benchmark for " + PATIENCE_SECONDS + " s; running alone");
            free = true;
        } else if (b == 'x') {
            free = true;
        }
        return true;
    }

    /** This side's block is done: the other side's turn. */
    void pass() {
        send('t');
    }

    @Override
    public void close() {
        send('x');
    }

    private void send(int b) {
        if (out == null) {
            return;
        }
        try {
            out.write(b);
            out.flush();
        } catch (IOException e) {
            free = true;
        }
    }
}
