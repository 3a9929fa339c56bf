// Attribute and method names, resolved once when the template is compiled: `message.role`,
// `text.strip()`, `loop.index` carry a `Name` whose `member` says which built-in attribute or
// method it is (if any), so rendering dispatches on an enum instead of comparing strings.

/// The built-in attributes and methods of the values templates use (str, dict, list, tuple,
/// numbers, the loop object, macros, range, cycler). One case per spelling; each type decides
/// which of them it has.
enum Member: String, Sendable {
    // str
    case capitalize, casefold, center, count, encode, endswith, expandtabs, find, format
    case formatMap = "format_map"
    case index, isalnum, isalpha, isascii, isdecimal, isdigit, isidentifier, islower, isnumeric, isprintable
    case isspace, istitle, isupper, join, ljust, lower, lstrip, maketrans, partition, removeprefix, removesuffix
    case replace, rfind, rindex, rjust, rpartition, rsplit, rstrip, split, splitlines, startswith, strip, swapcase
    case title, translate, upper, zfill
    // dict (and list.copy)
    case get, items, keys, values, copy, fromkeys, clear, pop, popitem, setdefault, update
    // list
    case append, reverse, insert, sort, extend, remove
    // numbers
    case real, imag, numerator, denominator, conjugate
    case bitLength = "bit_length"
    case isInteger = "is_integer"
    // the loop object
    case index0, first, last, length, revindex, revindex0, depth, depth0, previtem, nextitem, cycle, changed
    // macros
    case name, arguments
    case catchKwargs = "catch_kwargs"
    case catchVarargs = "catch_varargs"
    case caller
    // range, cycler
    case start, stop, step, current, next, reset
    case dunderNext = "__next__"
    case dunderClass = "__class__"

    var isStringMethod: Bool {
        switch self {
        case .capitalize, .casefold, .center, .count, .encode, .endswith, .expandtabs, .find, .format, .formatMap, .index,
             .isalnum, .isalpha, .isascii, .isdecimal, .isdigit, .isidentifier, .islower, .isnumeric, .isprintable, .isspace,
             .istitle, .isupper, .join, .ljust, .lower, .lstrip, .maketrans, .partition, .removeprefix, .removesuffix,
             .replace, .rfind, .rindex, .rjust, .rpartition, .rsplit, .rstrip, .split, .splitlines, .startswith, .strip,
             .swapcase, .title, .translate, .upper, .zfill:
            return true
        default:
            return false
        }
    }

    /// For dict methods: whether the immutable sandbox allows it; nil when dicts have no such method.
    var dictMethodIsSafe: Bool? {
        switch self {
        case .get, .items, .keys, .values, .copy, .fromkeys: return true
        case .clear, .pop, .popitem, .setdefault, .update: return false
        default: return nil
        }
    }

    /// For list methods: whether the immutable sandbox allows it; nil when lists have no such method.
    var listMethodIsSafe: Bool? {
        switch self {
        case .count, .index, .copy: return true
        case .append, .clear, .pop, .reverse, .insert, .sort, .extend, .remove: return false
        default: return nil
        }
    }
}

/// An attribute or method name with its resolved member.
struct Name: Sendable {
    let text: String
    let bytes: [UInt8]
    let member: Member?

    init(_ text: String) {
        self.text = text
        bytes = Array(text.utf8)
        member = Member(rawValue: text)
    }

    init(_ s: PyString) {
        self.init(s.string)
    }

    /// Starts with `_` (the sandbox refuses such attributes when they exist).
    var isPrivate: Bool { bytes.first == UInt8(ascii: "_") }
}
