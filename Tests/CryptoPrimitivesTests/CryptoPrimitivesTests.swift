import CryptoPrimitives
import Testing

/// Known-answer tests (FIPS 180-2 and RFC 4231) for the OpenSSL wrappers.
@Suite struct CryptoPrimitivesTests {
    @Test func sha256KnownAnswers() {
        #expect(Hex.encode(SHA256.hash("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Hex.encode(SHA256.hash("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash(Array("abc".utf8)[...]) == SHA256.hash("abc"))
    }

    @Test func hmacSHA256RFC4231Case2() {
        let mac = HMACSHA256.authenticate("what do ya want for nothing?", key: Array("Jefe".utf8))
        #expect(Hex.encode(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func randomBytesAreRandomAndSized() throws {
        let a = try SecureRandom.bytes(count: 32)
        let b = try SecureRandom.bytes(count: 32)
        #expect(a.count == 32 && b.count == 32)
        #expect(a != b)
    }

    @Test func constantTimeEquality() {
        #expect(ConstantTime.equals(Array("token".utf8), Array("token".utf8)))
        #expect(!ConstantTime.equals(Array("token".utf8), Array("tokem".utf8)))
        #expect(!ConstantTime.equals(Array("token".utf8), Array("token2".utf8)))
        #expect(ConstantTime.equals([UInt8](), [UInt8]()))
    }
}
