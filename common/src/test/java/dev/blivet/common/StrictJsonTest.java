package dev.blivet.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.blivet.common.protocol.Protocol;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The one strict reader: one document, no duplicate key, and every limit named when hit. */
class StrictJsonTest {
    private final StrictJson requests = new StrictJson(Protocol.REQUEST_LIMITS);

    private JsonProcessingException refused(StrictJson reader, String text, String... words) {
        JsonProcessingException e = assertThrows(JsonProcessingException.class, () -> reader.parse(text), text);
        for (String word : words) {
            assertTrue(e.getOriginalMessage().contains(word), () -> "should say " + word + ": " + e.getOriginalMessage());
        }
        return e;
    }

    @Test
    void readsOneDocument() throws JsonProcessingException {
        JsonNode node = requests.parse("{\"op\":\"ping\",\"id\":[1,2.5,true,null,\"x\",{}],\"n\":12345678901234}");
        assertEquals("ping", node.get("op").asText());
        assertEquals(6, node.get("id").size());
        assertEquals(12345678901234L, node.get("n").asLong());
    }

    @Test
    void duplicateKeysAreRefusedAtEveryDepth() {
        refused(requests, "{\"op\":\"ping\",\"op\":\"reload\"}", "Duplicate field 'op'");
        refused(requests, "{\"op\":\"start\",\"spec\":{\"umask\":\"022\",\"umask\":\"077\"}}", "Duplicate field 'umask'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"op\":\"ping\"} {\"op\":\"reload\"}", "{\"op\":\"ping\"} 1", "{} []", "1 2"})
    void trailingValuesAreRefused(String text) {
        refused(requests, text, "trailing content");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"op\":\"ping\"} x", "{\"op\":\"ping\"}}", "{\"op\":\"ping\"},"})
    void trailingGarbageIsRefused(String text) {
        refused(requests, text);
    }

    @Test
    void tokensAreCountedAndTheLimitNamed() throws JsonProcessingException {
        int max = Protocol.REQUEST_LIMITS.maxTokens();
        // "[" + n x "0," + "]": n + 2 tokens
        assertEquals(max - 2, requests.parse(array(max - 2, "0")).size());
        JsonProcessingException e = refused(requests, array(max - 1, "0"), "more than " + max + " JSON tokens");
        assertTrue(e instanceof StrictJson.LimitException);
    }

    @Test
    void nestingIsLimitedAndTheLimitNamed() throws JsonProcessingException {
        int max = Protocol.REQUEST_LIMITS.maxDepth();
        requests.parse("[".repeat(max) + "]".repeat(max));
        requests.parse("{\"a\":".repeat(max - 1) + "{}" + "}".repeat(max - 1));
        refused(requests, "[".repeat(max + 1) + "]".repeat(max + 1), "nested deeper than " + max + " levels");
        // far deeper than Jackson's own backstop: still our words, never a stack overflow
        refused(requests, "[".repeat(60_000), "nested deeper than " + max + " levels");
    }

    @Test
    void sizeStringAndNumberAreLimited() throws JsonProcessingException {
        StrictJson specs = new StrictJson(Protocol.SPEC_LIMITS);
        int maxBytes = Protocol.SPEC_LIMITS.maxBytes();
        String fits = "\"" + "a".repeat(maxBytes - 2) + "\"";
        assertEquals(maxBytes - 2, specs.parse(fits).asText().length());
        refused(specs, "\"" + "a".repeat(maxBytes - 1) + "\"", "longer than " + maxBytes + " bytes");
        refused(specs, "[" + "1".repeat(Protocol.MAX_NUMBER_CHARS + 1) + "]",
                "number longer than " + Protocol.MAX_NUMBER_CHARS);
    }

    @Test
    void aFileIsReadNoFurtherThanTheLimit(@TempDir Path tmp) throws IOException {
        StrictJson specs = new StrictJson(Protocol.SPEC_LIMITS);
        Path small = Files.writeString(tmp.resolve("small.json"), "{\"name\":\"web\"}");
        assertEquals("web", specs.parse(specs.readFile(small)).get("name").asText());
        Path big = Files.writeString(tmp.resolve("big.json"), " ".repeat(Protocol.MAX_SPEC_BYTES) + "{}");
        StrictJson.LimitException e = assertThrows(StrictJson.LimitException.class, () -> specs.readFile(big));
        assertTrue(e.getOriginalMessage().contains(Integer.toString(Protocol.MAX_SPEC_BYTES)), e::getOriginalMessage);
    }

    @Test
    void whatPassesAsASpecFilePassesInsideAStartRequest() throws JsonProcessingException {
        // validate and start agree only if the spec limits leave room for the request around them
        StrictJson specs = new StrictJson(Protocol.SPEC_LIMITS);
        int depth = Protocol.SPEC_LIMITS.maxDepth();
        String deepest = "{\"rlimits\":" + "[".repeat(depth - 1) + "]".repeat(depth - 1) + "}";
        specs.parse(deepest);
        requests.parse("{\"id\":1,\"op\":\"start\",\"wait\":false,\"spec\":" + deepest + "}");
        String most = "{\"command\":" + array(Protocol.MAX_SPEC_TOKENS - 5, "\"a\"") + "}";
        specs.parse(most);
        requests.parse("{\"id\":1,\"op\":\"start\",\"wait\":false,\"spec\":" + most + "}");
        assertTrue(Protocol.MAX_SPEC_BYTES + 1024 <= Protocol.MAX_LINE_BYTES);
    }

    @Test
    void aSpecInsideARequestIsHeldToAFilesTokensAndDepth() throws JsonProcessingException {
        StrictJson specs = new StrictJson(Protocol.SPEC_LIMITS);
        String atLimit = "{\"command\":" + array(Protocol.MAX_SPEC_TOKENS - 5, "\"a\"") + "}";
        String over = "{\"command\":" + array(Protocol.MAX_SPEC_TOKENS - 4, "\"a\"") + "}";
        specs.parse(atLimit);
        refused(specs, over, "more than " + Protocol.MAX_SPEC_TOKENS);
        specs.checkTree(requests.parse("{\"spec\":" + atLimit + "}").get("spec"));
        JsonNode inline = requests.parse("{\"spec\":" + over + "}").get("spec");
        assertThrows(StrictJson.LimitException.class, () -> specs.checkTree(inline));

        int depth = Protocol.SPEC_LIMITS.maxDepth();
        JsonNode deepest = requests.parse("{\"spec\":" + "[".repeat(depth) + "]".repeat(depth) + "}").get("spec");
        specs.checkTree(deepest);
        // deeper cannot sit inside a request at all; a tree from elsewhere is still checked
        JsonNode deeper = new StrictJson(StrictJson.Limits.depthOnly(64)).parse("[".repeat(depth + 1) + "]".repeat(depth + 1));
        StrictJson.LimitException e = assertThrows(StrictJson.LimitException.class, () -> specs.checkTree(deeper));
        assertTrue(e.getOriginalMessage().contains("nested deeper than " + depth), e::getOriginalMessage);
    }

    private static String array(int items, String item) {
        return "[" + String.join(",", java.util.Collections.nCopies(items, item)) + "]";
    }
}
