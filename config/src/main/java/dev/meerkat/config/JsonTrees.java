package dev.meerkat.config;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ContainerNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Map;

/**
 * JSON trees read and written with {@code jackson-core}'s streaming API, giving the trees and the
 * bytes Jackson's {@code ObjectMapper} gives for the same input (JsonTreesTest compares them), without
 * loading the mapper. Why: {@link Json}.
 */
final class JsonTrees {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** A value the writer does not know: {@link Json} hands it to Jackson's mapper. */
    static final class Unsupported extends RuntimeException {
        Unsupported(Object what) {
            super(what instanceof java.lang.reflect.Type t ? t.getTypeName() : what.getClass().getName(), null, false, false);
        }
    }

    private JsonTrees() {}

    /**
     * The value at the parser's current token, to its end. Iterative, so the depth is bounded by
     * the parser's nesting limit rather than the thread's stack.
     */
    static JsonNode read(JsonParser p) throws IOException {
        ArrayDeque<ContainerNode<?>> open = new ArrayDeque<>();
        JsonToken t = p.currentToken();
        while (true) {
            String field = null;
            if (t == JsonToken.FIELD_NAME) {
                field = p.currentName();
                t = p.nextToken();
            }
            if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
                ContainerNode<?> done = open.pop();
                if (open.isEmpty()) return done;
            } else {
                JsonNode v = value(p, t);
                if (open.isEmpty() && !v.isContainerNode()) return v;
                ContainerNode<?> parent = open.peek();
                if (parent instanceof ObjectNode o) o.set(field, v);
                else if (parent instanceof ArrayNode a) a.add(v);
                if (v instanceof ContainerNode<?> c) open.push(c);
            }
            t = p.nextToken();
            if (t == null) throw new com.fasterxml.jackson.core.JsonParseException(p, "Unexpected end of content");
        }
    }

    private static JsonNode value(JsonParser p, JsonToken t) throws IOException {
        return switch (t) {
            case START_OBJECT -> NODES.objectNode();
            case START_ARRAY -> NODES.arrayNode();
            case VALUE_STRING -> NODES.textNode(p.getText());
            case VALUE_NUMBER_INT -> switch (p.getNumberType()) {
                case INT -> NODES.numberNode(p.getIntValue());
                case LONG -> NODES.numberNode(p.getLongValue());
                default -> NODES.numberNode(p.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> NODES.numberNode(p.getDoubleValue());
            case VALUE_TRUE -> NODES.booleanNode(true);
            case VALUE_FALSE -> NODES.booleanNode(false);
            case VALUE_NULL -> NODES.nullNode();
            case VALUE_EMBEDDED_OBJECT -> p.getEmbeddedObject() instanceof byte[] b ? NODES.binaryNode(b)
                    : NODES.pojoNode(p.getEmbeddedObject());
            default -> throw new com.fasterxml.jackson.core.JsonParseException(p, "Unexpected token " + t);
        };
    }

    /**
     * Writes what the project writes: trees, maps with string keys, collections, strings, numbers,
     * booleans, enums (by name), records (as {@link JsonRecords} says), null.
     *
     * @throws Unsupported for anything else, wherever it sits in {@code v}: the caller drops what
     *     was written so far
     */
    static void write(JsonGenerator g, Object v) throws IOException {
        if (v == null) g.writeNull();
        else if (v instanceof String s) g.writeString(s);
        else if (v instanceof JsonNode n) writeNode(g, n);
        else if (v instanceof Boolean b) g.writeBoolean(b);
        else if (v instanceof Integer || v instanceof Short || v instanceof Byte) g.writeNumber(((Number) v).intValue());
        else if (v instanceof Long l) g.writeNumber(l);
        else if (v instanceof Double d) g.writeNumber(d);
        else if (v instanceof Float f) g.writeNumber(f);
        else if (v instanceof BigDecimal d) g.writeNumber(d);
        else if (v instanceof BigInteger i) g.writeNumber(i);
        else if (v instanceof Map<?, ?> m) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String key)) throw new Unsupported(v);
                g.writeFieldName(key);
                write(g, e.getValue());
            }
            g.writeEndObject();
        } else if (v instanceof Collection<?> c) {
            g.writeStartArray();
            for (Object o : c) write(g, o);
            g.writeEndArray();
        } else if (v instanceof Enum<?> e) g.writeString(e.name());
        else if (v instanceof Record r && JsonRecords.handles(r.getClass())) JsonRecords.write(g, r);
        else throw new Unsupported(v);
    }

    private static void writeNode(JsonGenerator g, JsonNode n) throws IOException {
        switch (n.getNodeType()) {
            case OBJECT -> {
                g.writeStartObject();
                for (Map.Entry<String, JsonNode> e : n.properties()) {
                    g.writeFieldName(e.getKey());
                    writeNode(g, e.getValue());
                }
                g.writeEndObject();
            }
            case ARRAY -> {
                g.writeStartArray();
                for (JsonNode c : n) writeNode(g, c);
                g.writeEndArray();
            }
            case STRING -> g.writeString(n.textValue());
            case BOOLEAN -> g.writeBoolean(n.booleanValue());
            case NULL -> g.writeNull();
            case NUMBER -> {
                switch (n.numberType()) {
                    case INT -> g.writeNumber(n.intValue());
                    case LONG -> g.writeNumber(n.longValue());
                    case BIG_INTEGER -> g.writeNumber(n.bigIntegerValue());
                    case FLOAT -> g.writeNumber(n.floatValue());
                    case DOUBLE -> g.writeNumber(n.doubleValue());
                    case BIG_DECIMAL -> g.writeNumber(n.decimalValue());
                }
            }
            default -> throw new Unsupported(n); // binary and POJO nodes: Jackson's mapper writes those
        }
    }
}
