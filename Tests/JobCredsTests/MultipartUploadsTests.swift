import CodePipeline
import Foundation
import MicroHTTPServer
import Testing

@testable import JobCreds

@Suite struct MultipartUploadsTests {
    static let artifact = Artifact(name: "BuildOutput", revision: nil, bucket: "b", key: "k")
    static let sums = (1...3).map { [UInt8](repeating: UInt8($0), count: 32) }

    static func upload(bound: Bool = true) -> MultipartUploads.Upload {
        var upload = MultipartUploads.Upload(
            artifact: artifact, token: "steps", s3Id: "u", length: 12 << 20, partSize: 5 << 20, partCount: 3)
        if bound { for (index, sum) in sums.enumerated() { upload.bound[index + 1] = sum } }
        return upload
    }

    static func part(_ number: Int, size: UInt64? = nil, checksum: [UInt8]? = nil) -> S3Multipart.Part {
        S3Multipart.Part(
            number: number, etag: "\"e\(number)\"", size: size ?? (number < 3 ? 5 << 20 : 2 << 20),
            checksum: Data(checksum ?? sums[number - 1]).base64EncodedString())
    }

    @Test func everyPartWithItsBoundLengthAndChecksumCompletes() {
        #expect(MultipartUploads.check([Self.part(1), Self.part(2), Self.part(3)], against: Self.upload()) == nil)
    }

    @Test func aMissingShortOrOtherPartIsNamed() {
        let upload = Self.upload()
        #expect(MultipartUploads.check([Self.part(1), Self.part(3)], against: upload)?.contains("part 2") == true)
        #expect(
            MultipartUploads.check([Self.part(1), Self.part(2, size: 1 << 20), Self.part(3)], against: upload)?
                .contains("part 2 holds") == true)
        #expect(
            MultipartUploads.check(
                [Self.part(1), Self.part(2, checksum: Self.sums[0]), Self.part(3)], against: upload)?
                .contains("checksum") == true)
        #expect(
            MultipartUploads.check(
                [Self.part(1), Self.part(2), Self.part(3), Self.part(4, checksum: Self.sums[0])], against: upload)
                != nil)
        #expect(
            MultipartUploads.check([Self.part(1), Self.part(2), Self.part(3)], against: Self.upload(bound: false))
                != nil, "a part no URL was bound for")
    }

    @Test func theLastPartHoldsTheRest() {
        let upload = Self.upload()
        #expect(upload.length(of: 1) == 5 << 20 && upload.length(of: 3) == 2 << 20)
    }

    @Test func routesAreMatchedAsSent() {
        #expect(MultipartRoute(path: "/v1/artifacts/Out/multipart")?.action == .create)
        #expect(MultipartRoute(path: "/v1/artifacts/Out/multipart/mpu-1/parts")?.action == .parts(id: "mpu-1"))
        #expect(MultipartRoute(path: "/v1/artifacts/Out/multipart/mpu-1/complete")?.action == .complete(id: "mpu-1"))
        #expect(MultipartRoute(path: "/v1/artifacts/Out/multipart/mpu-1")?.action == .abort(id: "mpu-1"))
        for path in [
            "/v1/artifacts/Out/multipart/", "/v1/artifacts//multipart", "/v1/artifacts/Out/multipart/a/b",
            "/v1/artifacts/Out/multipart//parts", "/v1/artifacts/Out/download", "/v1/credentials",
        ] {
            #expect(MultipartRoute(path: path) == nil, "\(path)")
        }
    }

    static func query(_ text: String) -> [QueryItem] {
        text.split(separator: "&").map {
            let pair = $0.split(separator: "=", maxSplits: 1)
            return QueryItem(name: String(pair[0]), value: pair.count > 1 ? String(pair[1]) : "")
        }
    }

    @Test func aCreationIsOneS3WouldTake() {
        #expect(MultipartRoute.creation(Self.query("length=22020096&part_size=5242880"))! == (22_020_096, 5_242_880))
        for text in [
            "length=1&part_size=5242879", "length=0&part_size=5242880", "length=52433920001&part_size=5242880",
            "length=10&part_size=5368709121", "length=10", "length=10&part_size=5242880&x=1",
            "length=-1&part_size=5242880",
            "length=1e3&part_size=5242880",
        ] {
            #expect(MultipartRoute.creation(Self.query(text)) == nil, "\(text)")
        }
    }

    @Test func partURLsTakeOneToThirtyTwoChecksums() {
        let one = String(repeating: "ab", count: 32)
        #expect(MultipartRoute.parts(Self.query("first=2&sha256=\(one),\(one)"))?.sha256.count == 2)
        #expect(MultipartRoute.parts(Self.query("first=0&sha256=\(one)")) == nil)
        #expect(MultipartRoute.parts(Self.query("first=1&sha256=\(one),")) == nil)
        #expect(MultipartRoute.parts(Self.query("first=1&sha256=abcd")) == nil)
        let many = Array(repeating: one, count: 33).joined(separator: ",")
        #expect(MultipartRoute.parts(Self.query("first=1&sha256=\(many)")) == nil)
    }
}
