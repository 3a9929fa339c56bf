// Parser: tokens → syntax tree (`Nodes.swift`), a port of jinja2's recursive-descent `Parser`
// with its precedence levels (lowest first):
//   conditional `a if b else c` → `or` → `and` → `not` → comparisons and `in` → `+ -` → `~`
//   → `* / // %` → `**` → unary `- +` → primary with postfix `.x [x] (args)` then `| filter`
//   and `is test`.
// Statements: for/if/set/macro/call/filter/with/print, plus the loopcontrols extension
// (break, continue) and transformers' `{% generation %}`. Error messages are jinja2's.
//
// Bounded: every subtree's depth is checked against `maxNestingDepth` as it is built (chains of
// operators and filters are built in loops, so the tree depth, not only the parser's own
// recursion, is what must be bounded), and the parser counts its own recursion too.
//
// Statements are here; expressions in Parser+Expressions.swift.

struct Parser {
    var lexer: Lexer
    var current: Token
    var lookahead: Token?
    let maxDepth: Int
    var recursion = 0
    var tagStack: [String] = []
    var endTokenStack: [[String]] = []

    init(lexer: Lexer, maxDepth: Int) throws(JinjaError) {
        self.lexer = lexer
        self.maxDepth = maxDepth
        current = try self.lexer.next()
    }

    static func parse(_ source: String, maxDepth: Int) throws(JinjaError) -> (body: [Stmt], source: [UInt8]) {
        var p = try Parser(lexer: Lexer(source: source), maxDepth: maxDepth)
        let body = try p.subparse(endTokens: nil)
        return (body, p.lexer.src)
    }

    // MARK: Token stream (jinja2's TokenStream: one current token, one token of lookahead)

    /// The token after `current`.
    mutating func look() throws(JinjaError) -> Token {
        if let la = lookahead { return la }
        if current.kind == .eof { return current }
        let t = try lexer.next()
        lookahead = t
        return t
    }

    /// Moves to the next token; returns the one that was current.
    @discardableResult
    mutating func next() throws(JinjaError) -> Token {
        let t = current
        if t.kind != .eof {
            if let la = lookahead {
                current = la
                lookahead = nil
            } else {
                current = try lexer.next()
            }
        }
        return t
    }

    func test(_ kind: TokenKind) -> Bool { current.kind == kind }
    func testName(_ name: String) -> Bool { current.kind == .name && current.text == name }

    /// Matches a token expression such as `name:endfor` or `block_end`.
    static func tokenMatches(_ t: Token, _ expr: String) -> Bool {
        if expr.hasPrefix("name:") { return t.kind == .name && t.text == expr.dropFirst(5) }
        return false
    }

    mutating func skipIf(_ kind: TokenKind) throws(JinjaError) -> Bool {
        if current.kind == kind { try next(); return true }
        return false
    }

    mutating func skipIfName(_ name: String) throws(JinjaError) -> Bool {
        if testName(name) { try next(); return true }
        return false
    }

    // Error paths are out of line: string interpolation inlined into the recursive parse
    // functions would enlarge every frame of the recursion.

    @inline(never)
    func fail(_ message: String, at pos: Int? = nil) -> JinjaError {
        .syntax(message, at: pos ?? current.pos)
    }

    /// jinja2's `TokenStream.expect`.
    @discardableResult
    mutating func expect(_ kind: TokenKind) throws(JinjaError) -> Token {
        guard current.kind == kind else { throw expectedError(kind.describe) }
        return try next()
    }

    @discardableResult
    mutating func expectName(_ name: String) throws(JinjaError) -> Token {
        guard testName(name) else { throw expectedError(name) }
        return try next()
    }

    @inline(never)
    func expectedError(_ what: String) -> JinjaError {
        if current.kind == .eof { return fail("unexpected end of template, expected '\(what)'.") }
        return fail("expected token '\(what)', got '\(current.describe)'")
    }

    @inline(never)
    func unexpected(_ token: Token) -> JinjaError {
        fail("unexpected '\(token.describe)'", at: token.pos)
    }

    @inline(never)
    func tooDeep(_ pos: Int, blocks: Bool) -> JinjaError {
        JinjaError.limit("the template nests expressions\(blocks ? " or blocks" : "") more than \(maxDepth) deep (JinjaLimits.maxNestingDepth)").at(pos)
    }

    // MARK: Depth

    func node(_ kind: Expr.Kind, _ pos: Int, _ children: [Expr]) throws(JinjaError) -> Expr {
        var d = 0
        for c in children where c.depth > d { d = c.depth }
        if d + 1 > maxDepth {
            throw tooDeep(pos, blocks: false)
        }
        return Expr(kind, pos, depth: d + 1)
    }

    func leaf(_ kind: Expr.Kind, _ pos: Int) -> Expr { Expr(kind, pos, depth: 1) }

    mutating func enter() throws(JinjaError) {
        recursion += 1
        if recursion > maxDepth {
            throw tooDeep(current.pos, blocks: true)
        }
    }

    mutating func leave() { recursion -= 1 }

    // MARK: Statements

    mutating func subparse(endTokens: [String]?) throws(JinjaError) -> [Stmt] {
        var body: [Stmt] = []
        var data: [Expr] = []
        var dataPos = 0
        if let e = endTokens { endTokenStack.append(e) }
        defer { if endTokens != nil { endTokenStack.removeLast() } }
        func flush() {
            if !data.isEmpty {
                body.append(Stmt(.output(data), dataPos))
                data = []
            }
        }
        while current.kind != .eof {
            let t = current
            switch t.kind {
            case .data:
                if data.isEmpty { dataPos = t.pos }
                if !t.text.isEmpty { data.append(leaf(.data(t.text), t.pos)) }
                try next()
            case .variableBegin:
                if data.isEmpty { dataPos = t.pos }
                try next()
                data.append(try parseTuple(withCondexpr: true))
                try expect(.variableEnd)
            case .blockBegin:
                flush()
                try next()
                if let ends = endTokens, ends.contains(where: { Parser.tokenMatches(current, $0) }) {
                    return body
                }
                let stmts = try parseStatement()
                body.append(contentsOf: stmts)
                try expect(.blockEnd)
            default:
                throw fail("internal parsing error")
            }
        }
        flush()
        return body
    }

    mutating func parseStatement() throws(JinjaError) -> [Stmt] {
        let token = current
        guard token.kind == .name else { throw fail("tag name expected", at: token.pos) }
        try enter()
        defer { leave() }
        tagStack.append(token.text)
        defer { tagStack.removeLast() }
        switch token.text {
        case "for": return [try parseFor()]
        case "if": return [try parseIf()]
        case "set": return [try parseSet()]
        case "macro": return [try parseMacro()]
        case "call": return [try parseCallBlock()]
        case "filter": return [try parseFilterBlock()]
        case "with": return [try parseWith()]
        case "print": return [try parsePrint()]
        case "break":
            try next()
            return [Stmt(.breakLoop, token.pos)]
        case "continue":
            try next()
            return [Stmt(.continueLoop, token.pos)]
        case "generation":
            try next()
            let body = try parseStatements(["name:endgeneration"], dropNeedle: true)
            return [Stmt(.generation(body: body), token.pos)]
        case "block", "extends", "include", "import", "from", "autoescape":
            throw unsupportedTag(token)
        default:
            tagStack.removeLast()
            defer { tagStack.append(token.text) }
            throw failUnknownTag(token.text, at: token.pos)
        }
    }

    @inline(never)
    func unsupportedTag(_ token: Token) -> JinjaError {
        JinjaError.unsupported("{% \(token.text) %}", at: token.pos)
    }

    /// jinja2's `_fail_ut_eof`.
    @inline(never)
    func failUnknownOrEOF(_ name: String?, _ stack: [[String]], at pos: Int) -> JinjaError {
        var expected = Set<String>()
        for exprs in stack { for e in exprs { expected.insert(Parser.describeExpr(e)) } }
        let currentlyLooking = stack.last.map { $0.map { "'\(Parser.describeExpr($0))'" }.joined(separator: " or ") }
        var message: [String] = []
        if let name {
            message.append("Encountered unknown tag '\(name)'.")
        } else {
            message.append("Unexpected end of template.")
        }
        if let looking = currentlyLooking, !looking.isEmpty {
            if let name, expected.contains(name) {
                message.append("You probably made a nesting mistake. Jinja is expecting this tag, but currently looking for \(looking).")
            } else {
                message.append("Jinja was looking for the following tags: \(looking).")
            }
        }
        if let last = tagStack.last {
            message.append("The innermost block that needs to be closed is '\(last)'.")
        }
        return .syntax(message.joined(separator: " "), at: pos)
    }

    @inline(never)
    func failUnknownTag(_ name: String, at pos: Int) -> JinjaError {
        failUnknownOrEOF(name, endTokenStack, at: pos)
    }

    static func describeExpr(_ e: String) -> String {
        e.hasPrefix("name:") ? String(e.dropFirst(5)) : e
    }

    mutating func parseStatements(_ endTokens: [String], dropNeedle: Bool = false) throws(JinjaError) -> [Stmt] {
        _ = try skipIf(.colon)
        try expect(.blockEnd)
        let result = try subparse(endTokens: endTokens)
        if current.kind == .eof {
            throw failUnknownOrEOF(nil, endTokenStack + [endTokens], at: current.pos)
        }
        if dropNeedle { try next() }
        return result
    }

    mutating func parseSet() throws(JinjaError) -> Stmt {
        let pos = try next().pos
        let target = try parseAssignTarget(withNamespace: true)
        if try skipIf(.assign) {
            let value = try parseTuple()
            return Stmt(.assign(target: target, value: value), pos)
        }
        let filter = try parseFilter(nil)
        let body = try parseStatements(["name:endset"], dropNeedle: true)
        return Stmt(.assignBlock(target: target, filter: filter, body: body), pos)
    }

    mutating func parseFor() throws(JinjaError) -> Stmt {
        let pos = try expectName("for").pos
        let target = try parseAssignTarget(extraEndRules: ["name:in"])
        try expectName("in")
        let iterable = try parseTuple(withCondexpr: false, extraEndRules: ["name:recursive"])
        var filter: Expr? = nil
        if try skipIfName("if") { filter = try parseExpression() }
        let recursive = try skipIfName("recursive")
        let body = try parseStatements(["name:endfor", "name:else"])
        var orElse: [Stmt] = []
        if try next().text != "endfor" {
            orElse = try parseStatements(["name:endfor"], dropNeedle: true)
        }
        return Stmt(.forLoop(ForNode(target: target, iterable: iterable, body: body, orElse: orElse, filter: filter, recursive: recursive)), pos)
    }

    mutating func parseIf() throws(JinjaError) -> Stmt {
        let pos = try expectName("if").pos
        var branches: [(test: Expr, body: [Stmt])] = []
        var orElse: [Stmt] = []
        while true {
            let test = try parseTuple(withCondexpr: false)
            let body = try parseStatements(["name:elif", "name:else", "name:endif"])
            branches.append((test, body))
            let token = try next()
            if token.kind == .name && token.text == "elif" { continue }
            if token.kind == .name && token.text == "else" {
                orElse = try parseStatements(["name:endif"], dropNeedle: true)
            }
            break
        }
        return Stmt(.ifStmt(IfNode(branches: branches, orElse: orElse)), pos)
    }

    mutating func parseWith() throws(JinjaError) -> Stmt {
        let pos = try next().pos
        var targets: [Expr] = []
        var values: [Expr] = []
        while current.kind != .blockEnd {
            if !targets.isEmpty { try expect(.comma) }
            let target = try parseAssignTarget(context: .param)
            targets.append(target)
            try expect(.assign)
            values.append(try parseExpression())
        }
        let body = try parseStatements(["name:endwith"], dropNeedle: true)
        return Stmt(.with(targets: targets, values: values, body: body), pos)
    }

    mutating func parseSignature() throws(JinjaError) -> Signature {
        var sig = Signature()
        try expect(.lparen)
        while current.kind != .rparen {
            if !sig.params.isEmpty { try expect(.comma) }
            let token = try expect(.name)
            if try skipIf(.assign) {
                sig.defaults.append(try parseExpression())
            } else if !sig.defaults.isEmpty {
                throw fail("non-default argument follows default argument")
            }
            sig.params.append(token.text)
            sig.paramPositions.append(token.pos)
        }
        try expect(.rparen)
        return sig
    }

    mutating func parseCallBlock() throws(JinjaError) -> Stmt {
        let pos = try next().pos
        var sig = Signature()
        if current.kind == .lparen { sig = try parseSignature() }
        let call = try parseExpression()
        guard case .call = call.kind else { throw fail("expected call", at: pos) }
        let body = try parseStatements(["name:endcall"], dropNeedle: true)
        return Stmt(.callBlock(call: call, sig, body: body), pos)
    }

    mutating func parseFilterBlock() throws(JinjaError) -> Stmt {
        let pos = try next().pos
        guard let filter = try parseFilter(nil, startInline: true) else { throw fail("expected filter", at: pos) }
        let body = try parseStatements(["name:endfilter"], dropNeedle: true)
        return Stmt(.filterBlock(filter: filter, body: body), pos)
    }

    mutating func parseMacro() throws(JinjaError) -> Stmt {
        let pos = try next().pos
        let name = try expect(.name).text
        let sig = try parseSignature()
        let body = try parseStatements(["name:endmacro"], dropNeedle: true)
        return Stmt(.macro(name: name, sig, body: body), pos)
    }

    mutating func parsePrint() throws(JinjaError) -> Stmt {
        let pos = try next().pos
        var items: [Expr] = []
        while current.kind != .blockEnd {
            if !items.isEmpty { try expect(.comma) }
            items.append(try parseExpression())
        }
        return Stmt(.output(items), pos)
    }

    mutating func parseAssignTarget(withTuple: Bool = true, extraEndRules: [String]? = nil,
                                    withNamespace: Bool = false, context: NameContext = .store) throws(JinjaError) -> Expr {
        let target: Expr
        if withTuple {
            target = try parseTuple(simplified: true, extraEndRules: extraEndRules, withNamespace: withNamespace)
        } else {
            target = try parsePrimary(withNamespace: withNamespace)
        }
        let stored = try withContext(target, context)
        if !stored.canAssign {
            throw cannotAssign(stored)
        }
        return stored
    }

    @inline(never)
    func cannotAssign(_ e: Expr) -> JinjaError {
        fail("can't assign to \(Parser.nodeTypeName(e))", at: e.pos)
    }

    /// jinja2's `set_ctx`: names and tuples of names become store (or param) targets.
    func withContext(_ e: Expr, _ ctx: NameContext) throws(JinjaError) -> Expr {
        switch e.kind {
        case .name(let n, _): return Expr(.name(n, ctx), e.pos, depth: e.depth)
        case .tuple(let items, _):
            var out: [Expr] = []
            for item in items { out.append(try withContext(item, ctx)) }
            return Expr(.tuple(out, ctx), e.pos, depth: e.depth)
        default: return e
        }
    }

    static func nodeTypeName(_ e: Expr) -> String {
        switch e.kind {
        case .constant: return "'const'"
        case .getattr: return "'getattr'"
        case .getitem: return "'getitem'"
        case .call: return "'call'"
        case .list: return "'list'"
        case .dict: return "'dict'"
        default: return "'expression'"
        }
    }
}
