package dev.meerkat.agent.firmware;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Checks an artifact before anything installs it: its SHA-256 must be the rollout's, and its
 * Ed25519 signature (over the artifact's bytes) must verify with the fleet's public key. The JDK
 * has both (Ed25519 since Java 15); no native library.
 */
final class Verifier {
    private final PublicKey key;

    private Verifier(PublicKey key) {
        this.key = key;
    }

    /** Reads the fleet's public key: PEM ({@code -----BEGIN PUBLIC KEY-----}, an X.509 SubjectPublicKeyInfo). */
    static Verifier load(Path pem) throws IOException {
        String text = Files.readString(pem, StandardCharsets.US_ASCII);
        String body = text.replaceAll("-----BEGIN PUBLIC KEY-----|-----END PUBLIC KEY-----|\\s", "");
        try {
            return new Verifier(KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(body))));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException(pem + " is not an Ed25519 public key in PEM (-----BEGIN PUBLIC KEY-----): " + e.getMessage());
        }
    }

    /** Null when the artifact is good, else why not. */
    String problem(Path artifact, String sha256Hex, String signatureBase64) throws IOException {
        MessageDigest sha;
        Signature sig;
        try {
            sha = MessageDigest.getInstance("SHA-256");
            sig = Signature.getInstance("Ed25519");
            sig.initVerify(key);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = Files.newInputStream(artifact)) {
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                sha.update(buf, 0, n);
                sig.update(buf, 0, n);
            }
            String got = HexFormat.of().formatHex(sha.digest());
            if (!got.equalsIgnoreCase(sha256Hex)) return "SHA-256 mismatch: the rollout says " + sha256Hex + ", the artifact is " + got;
            if (!sig.verify(Base64.getDecoder().decode(signatureBase64))) {
                return "the Ed25519 signature does not verify with the fleet's public key";
            }
            return null;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return "the signature cannot be checked: " + e.getMessage();
        }
    }
}
