package dev.blivet.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.management.HotSpotDiagnosticMXBean;
import dev.blivet.common.Version;
import dev.blivet.common.protocol.Protocol;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "version", modelTransformer = ExitCodeList.class,
        description = {"Show the versions of blivetctl and of the blivetd it reaches.",
                "'blivetctl --version' shows blivetctl's alone, without asking blivetd."},
        footer = {"", "Examples:",
                "  blivetctl version",
                "  blivetctl 0.1.0 (protocol 1)",
                "  blivetd 0.1.0 (protocol 1, pid 812) at /run/blivetd/blivetd.sock; uid 0",
                "  blivetctl version --verbose",
                "  ...",
                "  java: 17.0.15+6-Debian-1deb12u1 at /usr/lib/jvm/java-17-openjdk-amd64",
                "  class-data sharing: in use: /var/cache/blivet/blivetctl.jsa"})
final class VersionCommand extends DaemonCommand {
    @Option(names = {"-v", "--verbose"}, description = {"Also show the java blivetctl runs on and whether its "
            + "class-data sharing archive is in use (without it blivetctl starts about twice as slowly)."})
    boolean verbose;

    /** blivetctl's own version first: it is known even when blivetd is not reachable. */
    @Override
    public Void call() throws CliException {
        Main main = (Main) spec.root().userObject();
        if (!main.json) {
            main.out().println("blivetctl " + Version.get() + " (protocol " + Protocol.VERSION + ")");
            if (verbose) {
                Jvm jvm = Jvm.current();
                main.out().println("java: " + jvm.javaVersion + " at " + jvm.javaHome);
                main.out().println("class-data sharing: " + jvm.describeArchive());
            }
            main.out().flush();
        }
        return super.call();
    }

    @Override
    void run(ControlClient client) throws CliException {
        JsonNode pong = client.call(client.request("ping"));
        if (main.json) {
            ObjectNode document = Json.object();
            ObjectNode ctl = document.putObject("blivetctl").put("version", Version.get()).put("protocol", Protocol.VERSION);
            if (verbose) {
                Jvm jvm = Jvm.current();
                ctl.put("java_home", jvm.javaHome).put("java_version", jvm.javaVersion)
                        .put("cds_archive", jvm.archive).put("cds_in_use", jvm.archiveMapped);
            }
            ObjectNode daemon = document.putObject("blivetd");
            daemon.setAll((ObjectNode) pong);
            daemon.put("socket", client.socket().toString());
            main.printJson(document);
        } else {
            main.out().println(PingCommand.describe(pong, client));
            main.out().flush();
        }
    }

    /**
     * The JVM this blivetctl runs on, and whether its class-data sharing archive is in use. JDK 17
     * silently starts without an archive made by another JDK build or for other jars, so the JVM's
     * flags say only which archive was asked for: an archive in use is mapped from its file, which
     * /proc/self/maps shows.
     */
    record Jvm(String javaHome, String javaVersion, String archive, boolean archiveMapped) {
        static Jvm current() {
            HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            String archive = hotspot.getVMOption("SharedArchiveFile").getValue();
            archive = archive.isEmpty() ? null : archive;
            return new Jvm(System.getProperty("java.home"), System.getProperty("java.runtime.version"),
                    archive, archive != null && mapped(Path.of(archive)));
        }

        String describeArchive() {
            if (archive == null) {
                return "not in use: no archive given (-XX:SharedArchiveFile)";
            }
            if (archiveMapped) {
                return "in use: " + archive;
            }
            return "not in use: the JVM refused " + archive + " (missing, or made by another JDK build or for "
                    + "other jars): remake it with /usr/lib/blivet/update-cds as root for the installed package, "
                    + "mvn package for a build tree";
        }

        private static boolean mapped(Path archive) {
            try {
                String file = archive.toRealPath().toString();
                List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"));
                return maps.stream().anyMatch(line -> line.endsWith(" " + file));
            } catch (IOException e) {
                return false;
            }
        }
    }
}
