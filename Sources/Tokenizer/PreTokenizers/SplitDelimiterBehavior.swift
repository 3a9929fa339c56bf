// How a split keeps the delimiters it finds — HF's `SplitDelimiterBehavior`, applied as
// `NormalizedString::split` does, but streaming: segments in, pieces out, nothing stored beyond
// one pending piece.
//
// A pattern cuts a piece of text into segments that alternate between "not matched" and
// "matched" (a regex may also produce empty matches, which still separate). With
// text "the-final--countdown" and delimiter "-":
//   Removed             the | final | countdown
//   Isolated            the | - | final | - | - | countdown
//   MergedWithPrevious  the- | final- | - | countdown
//   MergedWithNext      the | -final | - | -countdown
//   Contiguous          the | - | final | -- | countdown
// Empty pieces are dropped (HF's PreTokenizedString::split filters them).

/// HF `SplitDelimiterBehavior`.
enum SplitDelimiterBehavior: String, Sendable, CaseIterable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"
}

/// Turns segments `(start, end, isMatch)` into pieces under a behaviour. Feed every segment in
/// order with `add`, then call `finish`.
struct SegmentCombiner {
    let behavior: SplitDelimiterBehavior
    private var pendingStart = 0
    private var pendingEnd = 0
    private var hasPending = false
    private var previousMatch = false

    init(_ behavior: SplitDelimiterBehavior) { self.behavior = behavior }

    @inline(__always)
    private static func emit(_ s: Int, _ e: Int, _ body: (Int, Int) -> Void) {
        if e > s { body(s, e) }
    }

    @inline(__always)
    private mutating func flush(_ body: (Int, Int) -> Void) {
        if hasPending { SegmentCombiner.emit(pendingStart, pendingEnd, body) }
        hasPending = false
    }

    @inline(__always)
    private mutating func hold(_ s: Int, _ e: Int) {
        pendingStart = s
        pendingEnd = e
        hasPending = true
    }

    @inline(__always)
    mutating func add(_ s: Int, _ e: Int, isMatch: Bool, _ body: (Int, Int) -> Void) {
        switch behavior {
        case .removed:
            if !isMatch { SegmentCombiner.emit(s, e, body) }
        case .isolated:
            SegmentCombiner.emit(s, e, body)
        case .contiguous:
            // Consecutive segments of the same kind join (the first piece starts a run).
            if isMatch == previousMatch && hasPending {
                pendingEnd = e
            } else {
                flush(body)
                hold(s, e)
            }
        case .mergedWithPrevious:
            // A match joins the piece before it, unless that piece ended with a match.
            if isMatch && !previousMatch && hasPending {
                pendingEnd = e
            } else {
                flush(body)
                hold(s, e)
            }
        case .mergedWithNext:
            // A match joins the segment after it when that one is not a match (HF folds from
            // the end; this is the same forwards).
            if hasPending {
                if !isMatch {
                    SegmentCombiner.emit(pendingStart, e, body)
                    hasPending = false
                    previousMatch = isMatch
                    return
                }
                flush(body)
            }
            if isMatch { hold(s, e) } else { SegmentCombiner.emit(s, e, body) }
        }
        previousMatch = isMatch
    }

    mutating func finish(_ body: (Int, Int) -> Void) {
        flush(body)
        previousMatch = false
    }
}
