package dev.blivet.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every example in examples/jobs is a spec blivetd would run: the schema accepts it, and it
 * parses and resolves against this machine's real users and files, as {@code blivetctl validate}
 * would check it.
 */
class ExamplesTest {
    private static final Path EXAMPLES = Path.of("..", "examples", "jobs");

    static List<Path> examples() throws IOException {
        try (Stream<Path> files = Files.list(EXAMPLES)) {
            return files.filter(file -> file.toString().endsWith(".json")).sorted().toList();
        }
    }

    @Test
    void thereAreExamples() throws IOException {
        assertFalse(examples().isEmpty(), "no examples in " + EXAMPLES.toAbsolutePath());
    }

    @ParameterizedTest
    @MethodSource("examples")
    void anExampleIsValid(Path example) throws Exception {
        assertEquals(List.of(), SchemaTest.schema().errors(new ObjectMapper().readTree(example.toFile())),
                example + " against the schema");
        JobSpec spec = new JobSpecJson().parseFile(example);
        ResolvedJob job = new JobSpecResolver(new NativeAccounts(), Map.of()).resolve(spec);
        assertEquals(example.getFileName().toString(), job.name() + ".json", "an example is named after its job");
    }
}
