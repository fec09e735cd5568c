package dev.meerkat.config;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.io.IOException;
import java.lang.annotation.Annotation;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records to JSON and back the way Jackson's {@code ObjectMapper} does it by default, for the
 * records the project writes to znodes and files, without loading the mapper (why: {@link Json}).
 *
 * <p>Written: each component in declaration order, nulls included; then, as Jackson does, each
 * public {@code getX()} and {@code isX()} (boolean) method as property {@code x}, by name
 * (RolloutState's {@code isFinal()} is written as {@code "final"}). Where such a method has a
 * component's name, the component is written: Jackson would write the method's value instead, which
 * for {@code RolloutDocument.Amount} is a boolean in place of a number.
 *
 * <p>Read: each component from the key of its name, keys not known are ignored, a missing key or a
 * null is the component type's default (null, 0, false). Scalars convert as Jackson's defaults
 * convert them (a number into a String, {@code "5"} into an int, a fraction into an int by
 * truncation). Components may be strings, numbers, booleans, enums, {@code JsonNode}, records,
 * {@code List} and {@code Map} with string keys of those. A record with Jackson annotations, or with
 * a component of another type, is {@link JsonTrees.Unsupported}: {@link Json} hands it to the mapper.
 */
final class JsonRecords {
    private record Property(String name, Method accessor) {}

    private record Shape(List<Property> written, RecordComponent[] components, Constructor<?> constructor) {}

    private static final ClassValue<Shape> SHAPES = new ClassValue<>() {
        @Override
        protected Shape computeValue(Class<?> type) {
            return shape(type);
        }
    };

    private JsonRecords() {}

    /** A record with no Jackson annotation: Jackson's defaults apply to it, so this class can. */
    static boolean handles(Class<?> type) {
        return type.isRecord() && SHAPES.get(type) != null;
    }

    static void write(JsonGenerator g, Record r) throws IOException {
        g.writeStartObject();
        for (Property p : SHAPES.get(r.getClass()).written()) {
            g.writeFieldName(p.name());
            JsonTrees.write(g, invoke(p.accessor(), r));
        }
        g.writeEndObject();
    }

    /** @throws JsonTrees.Unsupported for a component type this class does not read */
    static <T> T read(JsonNode node, Class<T> type) throws IOException {
        return type.cast(bind(node, type, "$"));
    }

    private static Object bind(JsonNode n, Type type, String at) throws IOException {
        boolean absent = n == null || n.isNull();
        if (type instanceof ParameterizedType p) {
            if (absent) return null;
            Type raw = p.getRawType();
            Type[] args = p.getActualTypeArguments();
            if (raw == List.class) {
                if (!n.isArray()) throw mismatch(at, "an array", n);
                List<Object> out = new ArrayList<>(n.size());
                for (int i = 0; i < n.size(); i++) out.add(bind(n.get(i), args[0], at + "[" + i + "]"));
                return out;
            }
            if (raw == Map.class && args[0] == String.class) {
                if (!n.isObject()) throw mismatch(at, "an object", n);
                Map<String, Object> out = new LinkedHashMap<>();
                for (Map.Entry<String, JsonNode> e : n.properties()) out.put(e.getKey(), bind(e.getValue(), args[1], at + "." + e.getKey()));
                return out;
            }
            throw new JsonTrees.Unsupported(type);
        }
        if (!(type instanceof Class<?> c)) throw new JsonTrees.Unsupported(type);
        if (c == JsonNode.class) return n == null ? null : n.isNull() ? NullNode.getInstance() : n;
        if (c.isPrimitive()) {
            if (absent) return c == boolean.class ? Boolean.FALSE : defaultNumber(c);
            return scalar(n, c, at);
        }
        if (absent) return null;
        if (c == String.class || c == Integer.class || c == Long.class || c == Double.class || c == Boolean.class) return scalar(n, c, at);
        if (c.isEnum()) {
            if (!n.isTextual()) throw mismatch(at, "a name", n);
            for (Object e : c.getEnumConstants()) if (((Enum<?>) e).name().equals(n.textValue())) return e;
            throw new IOException(at + ": not one of " + List.of(c.getEnumConstants()) + ": \"" + n.textValue() + "\"");
        }
        if (c.isRecord()) {
            Shape shape = SHAPES.get(c);
            if (shape == null) throw new JsonTrees.Unsupported(c);
            if (!n.isObject()) throw mismatch(at, "an object", n);
            Object[] values = new Object[shape.components().length];
            for (int i = 0; i < values.length; i++) {
                RecordComponent rc = shape.components()[i];
                values[i] = bind(n.get(rc.getName()), rc.getGenericType(), at + "." + rc.getName());
            }
            try {
                return shape.constructor().newInstance(values);
            } catch (InvocationTargetException e) {
                throw new IOException(at + ": cannot make a " + c.getSimpleName() + ": " + e.getCause(), e.getCause());
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        throw new JsonTrees.Unsupported(c);
    }

    private static Object defaultNumber(Class<?> c) {
        if (c == int.class) return 0;
        if (c == long.class) return 0L;
        if (c == double.class) return 0.0;
        throw new JsonTrees.Unsupported(c); // short, byte, char, float: none of the project's records has one
    }

    private static Object scalar(JsonNode n, Class<?> c, String at) throws IOException {
        if (c == String.class) {
            if (n.isValueNode()) return n.asText();
            throw mismatch(at, "a string", n);
        }
        if (c == boolean.class || c == Boolean.class) {
            if (n.isBoolean()) return n.booleanValue();
            if (n.isTextual() && (n.textValue().equals("true") || n.textValue().equals("false"))) return Boolean.valueOf(n.textValue());
            throw mismatch(at, "true or false", n);
        }
        try {
            if (c == int.class || c == Integer.class) {
                if (n.isNumber()) {
                    if (n.isIntegralNumber() ? n.canConvertToInt() : Math.abs(n.doubleValue()) <= Integer.MAX_VALUE) return n.intValue();
                    throw new IOException(at + ": out of the range of an int: " + n.asText());
                }
                if (n.isTextual()) return Integer.parseInt(n.textValue().trim());
            } else if (c == long.class || c == Long.class) {
                if (n.isNumber()) {
                    if (n.isIntegralNumber() ? n.canConvertToLong() : Math.abs(n.doubleValue()) <= Long.MAX_VALUE) return n.longValue();
                    throw new IOException(at + ": out of the range of a long: " + n.asText());
                }
                if (n.isTextual()) return Long.parseLong(n.textValue().trim());
            } else if (c == double.class || c == Double.class) {
                if (n.isNumber()) return n.doubleValue();
                if (n.isTextual()) return Double.parseDouble(n.textValue().trim());
            } else {
                throw new JsonTrees.Unsupported(c);
            }
        } catch (NumberFormatException e) {
            throw new IOException(at + ": not a number: \"" + n.textValue() + "\"");
        }
        throw mismatch(at, "a number", n);
    }

    private static IOException mismatch(String at, String wanted, JsonNode n) {
        return new IOException(at + ": expected " + wanted + ", got " + n.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
    }

    private static Object invoke(Method m, Object target) {
        try {
            return m.invoke(target);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Null for a record Jackson would not treat by its defaults (it has Jackson annotations). */
    private static Shape shape(Class<?> type) {
        if (!type.isRecord() || jacksonAnnotated(type)) return null;
        RecordComponent[] components = type.getRecordComponents();
        List<Property> written = new ArrayList<>();
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            RecordComponent rc = components[i];
            if (jacksonAnnotated(rc) || jacksonAnnotated(rc.getAccessor())) return null;
            Method accessor = rc.getAccessor();
            accessor.setAccessible(true);
            written.add(new Property(rc.getName(), accessor));
            types[i] = rc.getType();
        }
        List<Property> getters = new ArrayList<>();
        for (Method m : type.getMethods()) {
            if (Modifier.isStatic(m.getModifiers()) || m.getParameterCount() > 0 || m.isBridge() || m.isSynthetic()) continue;
            String name = m.getName();
            String property;
            if (name.startsWith("get") && name.length() > 3 && m.getReturnType() != void.class && !name.equals("getClass")) {
                property = mangle(name.substring(3));
            } else if (name.startsWith("is") && name.length() > 2 && m.getReturnType() == boolean.class) {
                property = mangle(name.substring(2));
            } else {
                continue;
            }
            if (jacksonAnnotated(m)) return null;
            String p = property;
            if (written.stream().noneMatch(w -> w.name().equals(p))) {
                m.setAccessible(true);
                getters.add(new Property(property, m));
            }
        }
        getters.sort(Comparator.comparing(Property::name));
        written.addAll(getters);
        try {
            Constructor<?> constructor = type.getDeclaredConstructor(types);
            constructor.setAccessible(true);
            return new Shape(List.copyOf(written), components, constructor);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("a record without its canonical constructor: " + type, e);
        }
    }

    /** Jackson's: the leading capitals in lower case ({@code URL} is {@code url}, {@code Final} is {@code final}). */
    private static String mangle(String base) {
        StringBuilder b = new StringBuilder(base.length());
        int i = 0;
        for (; i < base.length(); i++) {
            char upper = base.charAt(i);
            char lower = Character.toLowerCase(upper);
            if (upper == lower) break;
            b.append(lower);
        }
        return b.append(base, i, base.length()).toString();
    }

    private static boolean jacksonAnnotated(AnnotatedElement e) {
        for (Annotation a : e.getAnnotations()) {
            if (a.annotationType().getName().startsWith("com.fasterxml.jackson.")) return true;
        }
        return false;
    }
}
