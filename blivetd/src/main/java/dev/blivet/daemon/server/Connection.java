package dev.blivet.daemon.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.ResolvedJob;
import dev.blivet.common.StrictJson;
import dev.blivet.common.protocol.ErrorCode;
import dev.blivet.common.protocol.Op;
import dev.blivet.common.protocol.Protocol;
import dev.blivet.daemon.Log;
import dev.blivet.daemon.launch.FileId;
import dev.blivet.daemon.launch.NativeOs;
import dev.blivet.daemon.supervisor.JobSnapshot;
import dev.blivet.daemon.supervisor.Refused;
import dev.blivet.daemon.supervisor.Subscriber;
import dev.blivet.daemon.supervisor.Supervisor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import jnr.unixsocket.UnixSocketChannel;

/**
 * One client: reads request lines, answers each in order, and may turn into a stream (events,
 * logs with follow) until the client hangs up. Anything a client sends can only end its own
 * connection, never the daemon.
 */
final class Connection implements Runnable {
    /** Events a slow subscriber may fall behind by before it is cut off. */
    private static final int EVENT_BACKLOG = Protocol.MAX_EVENT_BACKLOG;
    /** Requests are read by the one strict reader, with the limits that bound a peer's memory. */
    private static final StrictJson REQUESTS = new StrictJson(Protocol.REQUEST_LIMITS);

    private final UnixSocketChannel channel;
    private final Peer peer;
    private final RequestHandler handler;
    private final Supervisor supervisor;
    private final Replies replies;
    private final Log log;
    private final NativeOs os;
    private final Runnable onClose;
    private final Follows follows;

    Connection(UnixSocketChannel channel, Peer peer, RequestHandler handler, Supervisor supervisor, Replies replies,
            Log log, NativeOs os, Follows follows, Runnable onClose) {
        this.os = os;
        this.follows = follows;
        this.channel = channel;
        this.peer = peer;
        this.handler = handler.forConnection();
        this.supervisor = supervisor;
        this.replies = replies;
        this.log = log;
        this.onClose = onClose;
    }

    @Override
    public void run() {
        try {
            serveLines();
        } catch (VirtualMachineError e) {
            // Out of heap, of stack, of threads: the request that met the exhaustion fails, with a
            // word if one can still be written (its tree is garbage by now). Nothing of it reaches
            // Main's handler, which ends blivetd: the daemon and every other client go on.
            try {
                writeQuietly(replies.error(NullNode.instance, ErrorCode.INTERNAL, "blivetd could not serve this request: "
                        + e.getClass().getSimpleName() + " (" + e.getMessage() + "); closing the connection", null));
                log.error("client pid " + peer.pid() + ": " + e + "; its connection is closed");
            } catch (VirtualMachineError again) {
                // not even the words could be had: the close says it
            }
        } finally {
            close();
        }
    }

    private void serveLines() {
        LineReader lines = new LineReader(channel, Protocol.MAX_LINE_BYTES, Protocol.READ_BUFFER_BYTES);
        try {
            LineReader.Line line;
            while ((line = lines.next()) != null) {
                if (!line.isBlank() && !serve(line)) {
                    return;
                }
            }
        } catch (LineReader.LineTooLongException e) {
            writeQuietly(replies.error(NullNode.instance, ErrorCode.LINE_TOO_LONG, "request line longer than "
                    + Protocol.MAX_LINE_BYTES + " bytes (the limit); closing the connection", null));
            discardRestOfInput();
        } catch (IOException e) {
            log.debug("client pid " + peer.pid() + ": " + e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            // A bug met by one client ends that client's connection, not the daemon.
            log.error("client pid " + peer.pid() + ": " + e);
        }
    }

    /** Answers one request line; false when the connection is done (a stream ended). */
    private boolean serve(LineReader.Line line) throws IOException {
        JsonNode parsed;
        try {
            parsed = REQUESTS.parse(line.bytes(), 0, line.length());
        } catch (StrictJson.LimitException e) {
            write(replies.error(NullNode.instance, ErrorCode.BAD_REQUEST, "request too large: " + e.getOriginalMessage(), null));
            return true;
        } catch (JsonProcessingException e) {
            write(replies.error(NullNode.instance, ErrorCode.BAD_REQUEST, "malformed JSON: " + e.getOriginalMessage(), null));
            return true;
        }
        if (!(parsed instanceof ObjectNode request)) {
            write(replies.error(NullNode.instance, ErrorCode.BAD_REQUEST, "a request must be a JSON object", null));
            return true;
        }
        JsonNode id = request.has("id") ? request.get("id") : NullNode.instance;
        JsonNode op = request.get("op");
        if (op == null || !op.isTextual()) {
            write(replies.error(id, ErrorCode.BAD_REQUEST, "'op' is required and must be a string", null));
            return true;
        }
        try {
            Op known = Op.fromWire(op.asText()).orElseThrow(() -> new RequestException(ErrorCode.UNKNOWN_OP,
                    "unknown op '" + op.asText() + "'; known: " + Op.known()));
            switch (known) {
                case EVENTS -> {
                    streamEvents(id);
                    return false;
                }
                case LOGS -> {
                    return logs(id, request);
                }
                case REEXEC -> {
                    write(replies.ok(id, handler.reexec(peer)));
                    handler.beginReexec(); // after the reply: this JVM is about to exit
                    return false;
                }
                default -> {
                    handler.answering().begin();
                    try {
                        write(replies.ok(id, handler.handle(known, request, peer).get()));
                    } finally {
                        handler.answering().end();
                    }
                }
            }
        } catch (ExecutionException | CompletionException e) {
            Throwable cause = e.getCause();
            ObjectNode refusal = replies.refusal(id, cause);
            if (refusal == null) {
                log.error("request " + op.asText() + " failed: " + cause);
                refusal = replies.error(id, ErrorCode.INTERNAL, "internal error: " + cause, null);
            }
            write(refusal);
        } catch (RequestException | Refused e) {
            write(replies.refusal(id, e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return true;
    }

    private void streamEvents(JsonNode id) throws IOException, InterruptedException {
        BlockingQueue<JobSnapshot> queue = new ArrayBlockingQueue<>(EVENT_BACKLOG);
        Thread streamer = Thread.currentThread();
        java.util.concurrent.atomic.AtomicBoolean overflowed = new java.util.concurrent.atomic.AtomicBoolean();
        Subscriber subscriber = new Subscriber() {
            @Override
            public int uid() {
                return peer.uid();
            }

            @Override
            public boolean offer(JobSnapshot change) {
                if (queue.offer(change)) {
                    return true;
                }
                overflowed.set(true); // the client is too slow: cut it off, and say why
                streamer.interrupt();
                return false;
            }
        };
        try {
            supervisor.subscribe(subscriber).get();
        } catch (ExecutionException e) {
            throw new CompletionException(e.getCause());
        }
        write(replies.ok(id, replies.subscribed()));
        Thread hangup = null;
        try {
            // The hang-up watcher interrupts rather than queues: a full queue must not hide a hang-up.
            hangup = watchForHangup(streamer::interrupt);
            while (true) {
                JobSnapshot change;
                try {
                    change = queue.take();
                } catch (InterruptedException e) {
                    if (overflowed.get()) {
                        writeQuietly(replies.eventsCutOff(id, EVENT_BACKLOG));
                    }
                    return;
                }
                write(replies.stateEvent(change));
            }
        } finally {
            supervisor.unsubscribe(subscriber);
            if (hangup != null) {
                hangup.interrupt();
            }
            Thread.interrupted(); // the interrupt was ours to read; the connection closes next
        }
    }

    private boolean logs(JsonNode id, ObjectNode request) throws IOException, InterruptedException, ExecutionException {
        String stream = request.has("stream") ? Fields.text(request, "stream") : "stdout";
        if (!stream.equals("stdout") && !stream.equals("stderr")) {
            throw new RequestException(ErrorCode.BAD_REQUEST, "'stream' must be \"stdout\" or \"stderr\"");
        }
        int count = Fields.integer(request, "lines", 10, 0, 100_000);
        boolean follow = Fields.bool(request, "follow", false);
        String name = Fields.name(request);
        Supervisor.JobOutput output = supervisor.output(name, peer.uid()).get();
        ResolvedJob job = output.job();
        String file = stream.equals("stdout") ? job.stdout() : job.stderr();
        FileId opened = stream.equals("stdout") ? output.files().stdout() : output.files().stderr();
        if (file == null) {
            throw new RequestException(ErrorCode.CONFLICT, "job " + job.name() + " has no " + stream
                    + " file (it goes to /dev/null); set \"" + stream + "\" in its spec");
        }
        try (CheckedLogFile checked = CheckedLogFile.open(os, file, output.owner(), opened)) {
            return tail(id, file, checked, count, follow);
        }
    }

    private boolean tail(JsonNode id, String file, CheckedLogFile checked, int count, boolean follow)
            throws IOException, InterruptedException {
        if (checked == null) {
            write(replies.ok(id, replies.logLines(file, java.util.List.of())));
            return true; // nothing written yet; following a file that does not exist is not offered
        }
        if (follow && !follows.tryAcquire(peer)) {
            throw new RequestException(ErrorCode.LIMIT_EXCEEDED, "uid " + peer.uid() + " already follows "
                    + Protocol.MAX_FOLLOWS_PER_USER + " logs, the most a user may follow at once; end one first");
        }
        try {
            return sendLines(id, file, new LogTail(checked.readablePath(), checked.directoryPath()), count, follow);
        } finally {
            if (follow) {
                follows.release(peer);
            }
        }
    }

    private boolean sendLines(JsonNode id, String file, LogTail tail, int count, boolean follow)
            throws IOException, InterruptedException {
        LogTail.Tail last = tail.lastLines(count);
        write(replies.ok(id, replies.logLines(file, last.lines())));
        if (!follow) {
            return true;
        }
        Thread hangup = watchForHangup(tail::cancel);
        try {
            tail.follow(last, text -> {
                try {
                    write(replies.logEvent(text));
                    return true;
                } catch (IOException e) {
                    return false;
                }
            });
        } finally {
            hangup.interrupt();
        }
        return false;
    }

    /**
     * In stream mode the client sends nothing more; a thread reads on so that a hang-up is
     * noticed at once rather than at the next write. When no thread can be had (the task limit),
     * the stream ends at once with a word why, and only this stream.
     */
    private Thread watchForHangup(Runnable onHangup) {
        Thread thread = new Thread(() -> {
            ByteBuffer sink = ByteBuffer.allocate(4096);
            try {
                while (channel.read(sink) >= 0) {
                    sink.clear();
                }
            } catch (IOException e) {
                // closed either way
            }
            onHangup.run();
        }, "blivet-hangup-" + peer.pid());
        thread.setDaemon(true);
        try {
            thread.start();
        } catch (OutOfMemoryError e) {
            writeQuietly(replies.error(NullNode.instance, ErrorCode.INTERNAL, "blivetd could not start a thread to watch this"
                    + " stream (" + e.getMessage() + "); the stream ends", null));
            onHangup.run();
        }
        return thread;
    }

    private synchronized void write(JsonNode message) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(replies.line(message));
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private void writeQuietly(JsonNode message) {
        try {
            write(message);
        } catch (IOException | OutOfMemoryError e) {
            // the client is gone, or there is no memory to say it: either way nothing more to tell
        }
    }

    /**
     * Closing a Unix socket with unread input resets it, and the client would lose the error just
     * written: so take in (and drop) what it is still sending, up to a bound, before closing.
     */
    private void discardRestOfInput() {
        try {
            channel.shutdownOutput();
            ByteBuffer sink = ByteBuffer.allocate(Protocol.READ_BUFFER_BYTES);
            // Costs reads, not memory (one small sink): as much as the old 1 MiB limit allowed.
            long budget = 16L << 20;
            int n;
            while (budget > 0 && (n = channel.read(sink)) >= 0) {
                budget -= n;
                sink.clear();
            }
        } catch (IOException e) {
            // the client is gone already
        }
    }

    private void close() {
        try {
            channel.close();
        } catch (IOException | OutOfMemoryError e) {
            // closed, or as closed as it will get; the count must go back either way
        } finally {
            onClose.run();
        }
    }
}
