/**
 * Loads each native library the distribution ships, on the machine it runs on (an arm64 or armhf
 * root under qemu-user in {@code arm-test.sh}), with the distribution's {@code lib/} as the class
 * path: JNA (sd_notify), Pi4J's linuxfs and gpiod (I2C, GPIO), Netty's epoll transport and
 * BoringSSL (ZooKeeper's client, when it uses Netty). One line per library, {@code OK}, or
 * {@code FALLBACK} where the library is optional and its absence is handled, or {@code FAIL}.
 * Exit code 0 when every required one loaded. Written against no library, by reflection, so it is
 * compiled on its own ({@code javac --release 21}).
 *
 * <p>Usage: {@code java -cp 'lib/*:DIR' NativeCheck [--optional-netty]}; with {@code
 * --optional-netty}, Netty's natives may be missing (armhf: Netty ships none), which must then show
 * as a clean fallback (the JDK's NIO and TLS).
 */
public final class NativeCheck {
    private static int failed;

    public static void main(String[] args) {
        boolean nettyOptional = args.length > 0 && args[0].equals("--optional-netty");
        System.out.println("os.arch=" + System.getProperty("os.arch") + " java=" + System.getProperty("java.version"));
        check("jna", true, () -> {
            Class<?> n = init("com.sun.jna.Native");
            return "libjnidispatch loaded, pointer size " + n.getField("POINTER_SIZE").get(null) + ", long size " + n.getMethod("getNativeSize", Class.class).invoke(null, long.class);
        });
        check("pi4j-linuxfs", true, () -> {
            Class<?> loader = init("com.pi4j.library.linuxfs.util.NativeLibraryLoader");
            loader.getMethod("load", String.class, String.class).invoke(null, "libpi4j-linuxfs.so", "pi4j-linuxfs");
            return "libpi4j-linuxfs loaded";
        });
        check("pi4j-gpiod", true, () -> {
            init("com.pi4j.library.gpiod.internal.GpioD"); // its class initializer loads libgpiod and libpi4j-gpiod
            return "libgpiod and libpi4j-gpiod loaded";
        });
        check("netty-epoll", !nettyOptional, () -> {
            Class<?> epoll = init("io.netty.channel.epoll.Epoll");
            if ((Boolean) epoll.getMethod("isAvailable").invoke(null)) return "available";
            throw new IllegalStateException("not available: " + epoll.getMethod("unavailabilityCause").invoke(null));
        });
        check("netty-tcnative", !nettyOptional, () -> {
            Class<?> ssl = init("io.netty.handler.ssl.OpenSsl");
            if ((Boolean) ssl.getMethod("isAvailable").invoke(null)) return "BoringSSL " + ssl.getMethod("versionString").invoke(null);
            throw new IllegalStateException("not available: " + ssl.getMethod("unavailabilityCause").invoke(null));
        });
        System.out.println(failed == 0 ? "native libraries: all loaded" : "native libraries: " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }

    interface Check {
        String run() throws Throwable;
    }

    private static Class<?> init(String name) throws ClassNotFoundException {
        return Class.forName(name, true, NativeCheck.class.getClassLoader());
    }

    private static void check(String what, boolean required, Check c) {
        try {
            System.out.println("OK       " + what + ": " + c.run());
        } catch (Throwable t) {
            Throwable cause = t instanceof java.lang.reflect.InvocationTargetException || t instanceof ExceptionInInitializerError
                    ? (t.getCause() == null ? t : t.getCause()) : t;
            if (required) {
                failed++;
                System.out.println("FAIL     " + what + ": " + cause);
            } else {
                System.out.println("FALLBACK " + what + ": " + cause);
            }
        }
    }

    private NativeCheck() {}
}
