// The generated Unicode tables (tools/make_unicode_tables.py measures them from HF tokenizers'
// Oniguruma, Unicode 16.0): they decode to a partition of the code space by general category,
// agree with Swift's own Unicode data (17.0 in Swift 6.3) except where Unicode 17 assigned or
// re-categorized characters, and the case-folding data is consistent.

import Foundation
import XCTest
@testable import Tokenizer

final class UnicodeTablesTests: XCTestCase {
    static let categories: [(String, Unicode.GeneralCategory)] = [
        ("Lu", .uppercaseLetter), ("Ll", .lowercaseLetter), ("Lt", .titlecaseLetter), ("Lm", .modifierLetter),
        ("Lo", .otherLetter), ("Mn", .nonspacingMark), ("Mc", .spacingMark), ("Me", .enclosingMark),
        ("Nd", .decimalNumber), ("Nl", .letterNumber), ("No", .otherNumber), ("Pc", .connectorPunctuation),
        ("Pd", .dashPunctuation), ("Ps", .openPunctuation), ("Pe", .closePunctuation), ("Pi", .initialPunctuation),
        ("Pf", .finalPunctuation), ("Po", .otherPunctuation), ("Sm", .mathSymbol), ("Sc", .currencySymbol),
        ("Sk", .modifierSymbol), ("So", .otherSymbol), ("Zs", .spaceSeparator), ("Zl", .lineSeparator),
        ("Zp", .paragraphSeparator), ("Cc", .control), ("Cf", .format), ("Co", .privateUse), ("Cn", .unassigned),
    ]

    func testCategoriesPartitionTheCodeSpace() {
        var total = 0
        var union = ScalarSet.empty
        for (name, _) in UnicodeTablesTests.categories {
            let s = UnicodeTables.set(name)
            XCTAssertTrue(union.intersection(s).isEmpty, "\(name) overlaps another category")
            union = union.union(s)
            total += s.ranges.reduce(0) { $0 + Int($1.upperBound - $1.lowerBound) + 1 }
        }
        // Every scalar but the surrogates (which text never holds) has exactly one category.
        XCTAssertEqual(total, 0x110000 - 0x800)
        XCTAssertEqual(union.union(ScalarSet(bounds: [0xD800, 0xDFFF])), .all)
        XCTAssertEqual(UnicodeTables.property("Letter"), UnicodeTables.set("L"))
        XCTAssertEqual(UnicodeTables.property(" uppercase-LETTER"), UnicodeTables.set("Lu"))
        XCTAssertNil(UnicodeTables.property("Han"))
    }

    /// Swift 6.3 knows Unicode 17.0; Oniguruma in HF tokenizers 0.23 knows 16.0. Where Swift
    /// assigns a category to a code point Oniguruma calls unassigned, Unicode 17 added it; any
    /// other disagreement must be one of the few characters Unicode 17 re-categorized.
    func testAgreesWithSwiftUpToTheUnicodeVersion() {
        var added = 0
        var changed: [String] = []
        // Our category of every code point, from the range lists.
        var ours = [UInt8](repeating: 255, count: 0x110000)
        for (k, (name, _)) in UnicodeTablesTests.categories.enumerated() {
            for r in UnicodeTables.set(name).ranges { for v in r { ours[Int(v)] = UInt8(k) } }
        }
        let unassigned = UInt8(UnicodeTablesTests.categories.count - 1)
        var index: [Unicode.GeneralCategory: Int] = [:]
        for (k, (_, gc)) in UnicodeTablesTests.categories.enumerated() { index[gc] = k }
        // Planes 4 to 13 hold nothing in either version (checked: all unassigned in ours).
        XCTAssertTrue(UnicodeTables.set("Cn").contains(0x40000) && ours[0x40000...0xDFFFF].allSatisfy { $0 == unassigned })
        for v in UInt32(0)...0x10FFFF where v < 0x40000 || v > 0xDFFFF {
            guard let u = Unicode.Scalar(v), let k = index[u.properties.generalCategory] else { continue }
            if UInt8(k) == ours[Int(v)] { continue }
            if ours[Int(v)] == unassigned {
                added += 1
            } else {
                changed.append("U+\(String(v, radix: 16, uppercase: true)) \(UnicodeTablesTests.categories[Int(ours[Int(v)])].0)→\(UnicodeTablesTests.categories[k].0)")
            }
        }
        XCTAssertGreaterThan(added, 4000, "Unicode 17 added about 4,800 characters")
        XCTAssertLessThan(changed.count, 40, "re-categorized: \(changed)")
        print("Unicode tables vs Swift: \(added) code points new in Unicode 17; re-categorized: \(changed.joined(separator: ", "))")
        // White_Space has not changed.
        for v in UInt32(0)...0xFFFF {
            guard let u = Unicode.Scalar(v) else { continue }
            XCTAssertEqual(u.properties.isWhitespace, UnicodeTables.set("\\s").contains(v), "U+\(String(v, radix: 16))")
        }
    }

    func testCaseFolding() {
        // Orbits are symmetric and each holds its members.
        for (c, orbit) in UnicodeTables.orbits {
            XCTAssertTrue(orbit.contains(c))
            for m in orbit { XCTAssertEqual(UnicodeTables.orbits[m], orbit) }
        }
        XCTAssertEqual(UnicodeTables.orbits[0x73], [0x53, 0x73, 0x17F])  // S s ſ
        XCTAssertEqual(UnicodeTables.orbits[0x6B], [0x4B, 0x6B, 0x212A])  // K k K
        XCTAssertEqual(UnicodeTables.fold(0xDF), UnicodeTables.fold(0x73) + UnicodeTables.fold(0x73))  // ß → ss
        XCTAssertEqual(UnicodeTables.multiFolds.count, 104)
        XCTAssertTrue(UnicodeTables.multiFoldTargets.contains(UnicodeTables.fold(0xFB03)))  // ﬃ → ffi
    }
}
