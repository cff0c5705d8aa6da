internal import COpenSSL

/// HMAC-SHA-256 from OpenSSL.
///
/// Thread-safety: stateless; safe from any thread.
public enum HMACSHA256 {
    /// Computes HMAC-SHA-256 of `message` under `key`.
    public static func authenticate(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: SHA256.byteCount)
        var length: UInt32 = 0
        key.withUnsafeBufferPointer { keyBuffer in
            message.withUnsafeBufferPointer { messageBuffer in
                mac.withUnsafeMutableBufferPointer { out in
                    let result = HMAC(
                        EVP_sha256(), keyBuffer.baseAddress, Int32(keyBuffer.count), messageBuffer.baseAddress,
                        messageBuffer.count, out.baseAddress, &length)
                    precondition(result != nil && length == UInt32(SHA256.byteCount), "HMAC(SHA-256) failed")
                }
            }
        }
        return mac
    }

    /// Computes HMAC-SHA-256 of the UTF-8 bytes of `message` under `key`.
    public static func authenticate(_ message: String, key: [UInt8]) -> [UInt8] {
        authenticate(Array(message.utf8), key: key)
    }
}
