// The lexer's tokens: their kinds (jinja2's token types) and descriptions for error messages.

enum TokenKind: UInt8, Sendable {
    case data, variableBegin, variableEnd, blockBegin, blockEnd, name, string, integer, float, eof
    case add, sub, div, floordiv, mul, mod, pow, tilde
    case lbracket, rbracket, lparen, rparen, lbrace, rbrace
    case eq, ne, gt, gteq, lt, lteq, assign, dot, colon, pipe, comma, semicolon

    /// jinja2's `_describe_token_type`.
    var describe: String {
        switch self {
        case .data: return "template data / text"
        case .variableBegin: return "begin of print statement"
        case .variableEnd: return "end of print statement"
        case .blockBegin: return "begin of statement block"
        case .blockEnd: return "end of statement block"
        case .name: return "name"
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .eof: return "end of template"
        case .add: return "+"
        case .sub: return "-"
        case .div: return "/"
        case .floordiv: return "//"
        case .mul: return "*"
        case .mod: return "%"
        case .pow: return "**"
        case .tilde: return "~"
        case .lbracket: return "["
        case .rbracket: return "]"
        case .lparen: return "("
        case .rparen: return ")"
        case .lbrace: return "{"
        case .rbrace: return "}"
        case .eq: return "=="
        case .ne: return "!="
        case .gt: return ">"
        case .gteq: return ">="
        case .lt: return "<"
        case .lteq: return "<="
        case .assign: return "="
        case .dot: return "."
        case .colon: return ":"
        case .pipe: return "|"
        case .comma: return ","
        case .semicolon: return ";"
        }
    }
}

struct Token: Sendable {
    var kind: TokenKind
    /// Byte offset in the normalized source.
    var pos: Int
    /// The text of data, names and strings (strings unescaped).
    var text: String = ""
    var int: Int = 0
    var double: Double = 0

    /// jinja2's `describe_token`: a name is its value, anything else its type's description.
    var describe: String { kind == .name ? text : kind.describe }
}
