import Foundation
import XCTest
@testable import Builder
import Tokenizer

final class SplitTests: XCTestCase {
    /// numpy.random.default_rng(seed).permutation(n), from numpy (fixture).
    func testPermutationMatchesNumpy() throws {
        let data = try Data(contentsOf: builderFixtures.appendingPathComponent("split_permutations.json"))
        let root = try JSON.parse([UInt8](data))
        let cases = root["cases"]?.arrayValue ?? []
        XCTAssertGreaterThanOrEqual(cases.count, 7)
        for c in cases {
            let n = c["n"]!.intValue!, seed = c["seed"]!.intValue!
            let want = c["permutation"]!.arrayValue!.map { $0.intValue! }
            XCTAssertEqual(TrainTestSplit.permutation(n, seed: UInt64(seed)), want, "n=\(n) seed=\(seed)")
        }
    }

    /// The course's DatasetDict: 1400 rows, test_size 0.1 → 1260 train / 140 test.
    func testCourseSplitSizes() {
        let (train, test) = TrainTestSplit.split(1400, testSize: 0.1, seed: 123)
        XCTAssertEqual(train.count, 1260)
        XCTAssertEqual(test.count, 140)
        XCTAssertEqual(Set(train + test).count, 1400)
        XCTAssertEqual(TrainTestSplit.testCount(10, testSize: 0.25), 3, "ceil, as datasets")
        XCTAssertEqual(TrainTestSplit.split(5, testSize: 0, seed: 1).train, [0, 1, 2, 3, 4])
    }

    func testSeedSequenceStateMatchesNumpy() {
        // numpy.random.SeedSequence(123).generate_state(4, numpy.uint64)
        XCTAssertEqual(NumpySeedSequence(seed: 123).generateState64(4),
                       [0xB138_3ED0_2958_44F6, 0xA250_632E_171D_58AF, 0x86A7_247F_7443_199D, 0x136D_E7E3_C11F_CE1D])
        // A seed above 2^32 is two entropy words: numpy.random.default_rng(2**40 + 5).permutation(20)
        XCTAssertEqual(TrainTestSplit.permutation(20, seed: (1 << 40) + 5),
                       [12, 3, 7, 13, 18, 2, 9, 16, 17, 10, 1, 5, 6, 0, 19, 8, 14, 4, 15, 11])
    }
}

final class SHA256Tests: XCTestCase {
    /// The hardware blocks (SHA-NI, when this CPU has it) against the portable loop: random
    /// inputs of every length around the block size, fed in random pieces. (The known digests
    /// below run whichever path this CPU takes.)
    func testHardwareEqualsPortable() {
        var rng = SeededRandom(seed: 256)
        for length in Array(0..<200) + [1_000, 4_096, 65_537, 300_001] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var fast = SHA256(), portable = SHA256(hardware: false)
            var at = 0
            while at < length {
                let piece = min(length - at, 1 + Int(rng.next() % 150))
                fast.update(bytes[at..<(at + piece)])
                portable.update(bytes[at..<(at + piece)])
                at += piece
            }
            XCTAssertEqual(fast.hexDigest(), portable.hexDigest(), "length \(length)")
        }
        // Which path ran is reported, so a machine without SHA-NI shows it in the log.
        print("SHA256.hardwareAvailable = \(SHA256.hardwareAvailable)")
    }

    /// FIPS 180-4 test vectors, and a multi-block input fed in uneven pieces.
    func testKnownDigests() {
        XCTAssertEqual(SHA256.hex(of: []), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(of: Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(of: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var h = SHA256()
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        var at = 0
        for step in [1, 63, 64, 65, 1000, 100_000] where at < million.count {
            h.update(million[at..<min(at + step, million.count)])
            at += step
        }
        h.update(million[at...])
        XCTAssertEqual(h.hexDigest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
