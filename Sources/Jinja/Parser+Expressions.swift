// Parser, expressions: jinja2's precedence climbing from the conditional expression down to
// primaries, postfix access, calls, filters and tests (the levels are listed in Parser.swift).

extension Parser {
    // MARK: Expressions

    mutating func parseExpression(withCondexpr: Bool = true) throws(JinjaError) -> Expr {
        withCondexpr ? try parseCondexpr() : try parseOr()
    }

    mutating func parseCondexpr() throws(JinjaError) -> Expr {
        var pos = current.pos
        var expr1 = try parseOr()
        while try skipIfName("if") {
            let expr2 = try parseOr()
            var expr3: Expr? = nil
            if try skipIfName("else") { expr3 = try parseCondexpr() }
            expr1 = try node(.conditional(test: expr2, then: expr1, orElse: expr3), pos, [expr2, expr1] + (expr3.map { [$0] } ?? []))
            pos = current.pos
        }
        return expr1
    }

    mutating func parseOr() throws(JinjaError) -> Expr {
        var pos = current.pos
        var left = try parseAnd()
        while try skipIfName("or") {
            let right = try parseAnd()
            left = try node(.or(left, right), pos, [left, right])
            pos = current.pos
        }
        return left
    }

    mutating func parseAnd() throws(JinjaError) -> Expr {
        var pos = current.pos
        var left = try parseNot()
        while try skipIfName("and") {
            let right = try parseNot()
            left = try node(.and(left, right), pos, [left, right])
            pos = current.pos
        }
        return left
    }

    mutating func parseNot() throws(JinjaError) -> Expr {
        if testName("not") {
            let pos = try next().pos
            try enter()
            defer { leave() }
            let operand = try parseNot()
            return try node(.not(operand), pos, [operand])
        }
        return try parseCompare()
    }

    mutating func parseCompare() throws(JinjaError) -> Expr {
        var pos = current.pos
        let expr = try parseMath1()
        var ops: [(CompareOperator, Expr)] = []
        while true {
            let op: CompareOperator
            switch current.kind {
            case .eq: op = .eq
            case .ne: op = .ne
            case .lt: op = .lt
            case .lteq: op = .lteq
            case .gt: op = .gt
            case .gteq: op = .gteq
            default:
                if testName("in") {
                    op = .in
                } else if testName("not"), case let la = try look(), la.kind == .name && la.text == "in" {
                    try next()
                    op = .notin
                } else {
                    if ops.isEmpty { return expr }
                    return try node(.compare(expr, ops), pos, [expr] + ops.map(\.1))
                }
            }
            try next()
            ops.append((op, try parseMath1()))
            pos = current.pos
        }
    }

    mutating func parseMath1() throws(JinjaError) -> Expr {
        var pos = current.pos
        var left = try parseConcat()
        while current.kind == .add || current.kind == .sub {
            let op: BinaryOperator = current.kind == .add ? .add : .sub
            try next()
            let right = try parseConcat()
            left = try node(.binary(op, left, right), pos, [left, right])
            pos = current.pos
        }
        return left
    }

    mutating func parseConcat() throws(JinjaError) -> Expr {
        let pos = current.pos
        var args = [try parseMath2()]
        while current.kind == .tilde {
            try next()
            args.append(try parseMath2())
        }
        if args.count == 1 { return args[0] }
        return try node(.concat(args), pos, args)
    }

    mutating func parseMath2() throws(JinjaError) -> Expr {
        var pos = current.pos
        var left = try parsePow()
        while true {
            let op: BinaryOperator
            switch current.kind {
            case .mul: op = .mul
            case .div: op = .div
            case .floordiv: op = .floordiv
            case .mod: op = .mod
            default: return left
            }
            try next()
            let right = try parsePow()
            left = try node(.binary(op, left, right), pos, [left, right])
            pos = current.pos
        }
    }

    mutating func parsePow() throws(JinjaError) -> Expr {
        var pos = current.pos
        var left = try parseUnary()
        while current.kind == .pow {
            try next()
            let right = try parseUnary()
            left = try node(.binary(.pow, left, right), pos, [left, right])
            pos = current.pos
        }
        return left
    }

    mutating func parseUnary(withFilter: Bool = true) throws(JinjaError) -> Expr {
        let pos = current.pos
        try enter()
        defer { leave() }
        var n: Expr
        if current.kind == .sub {
            try next()
            let operand = try parseUnary(withFilter: false)
            n = try node(.negative(operand), pos, [operand])
        } else if current.kind == .add {
            try next()
            let operand = try parseUnary(withFilter: false)
            n = try node(.positive(operand), pos, [operand])
        } else {
            n = try parsePrimary()
        }
        n = try parsePostfix(n)
        if withFilter { n = try parseFilterExpr(n) }
        return n
    }

    mutating func parsePrimary(withNamespace: Bool = false) throws(JinjaError) -> Expr {
        let token = current
        switch token.kind {
        case .name:
            try next()
            switch token.text {
            case "true", "True": return leaf(.constant(.bool(true)), token.pos)
            case "false", "False": return leaf(.constant(.bool(false)), token.pos)
            case "none", "None": return leaf(.constant(.none), token.pos)
            default:
                if withNamespace && current.kind == .dot {
                    try next()
                    let attr = try expect(.name)
                    return leaf(.namespaceRef(token.text, attr.text), token.pos)
                }
                return leaf(.name(token.text, .load), token.pos)
            }
        case .string:
            try next()
            var s = token.text
            while current.kind == .string {
                s += current.text
                try next()
            }
            return leaf(.constant(.string(s)), token.pos)
        case .integer:
            try next()
            return leaf(.constant(.int(token.int)), token.pos)
        case .float:
            try next()
            return leaf(.constant(.float(token.double)), token.pos)
        case .lparen:
            try next()
            try enter()
            defer { leave() }
            let n = try parseTuple(explicitParentheses: true)
            try expect(.rparen)
            return n
        case .lbracket:
            try enter()
            defer { leave() }
            return try parseList()
        case .lbrace:
            try enter()
            defer { leave() }
            return try parseDict()
        default:
            throw unexpected(token)
        }
    }

    @inline(never)
    func expectedExpression() -> JinjaError {
        fail("Expected an expression, got '\(current.describe)'")
    }

    func isTupleEnd(_ extraEndRules: [String]?) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .rparen: return true
        default: return extraEndRules?.contains(where: { Parser.tokenMatches(current, $0) }) ?? false
        }
    }

    mutating func parseTuple(simplified: Bool = false, withCondexpr: Bool = true, extraEndRules: [String]? = nil,
                             explicitParentheses: Bool = false, withNamespace: Bool = false) throws(JinjaError) -> Expr {
        var pos = current.pos
        var args: [Expr] = []
        var isTuple = false
        while true {
            if !args.isEmpty { try expect(.comma) }
            if isTupleEnd(extraEndRules) { break }
            if simplified {
                args.append(try parsePrimary(withNamespace: withNamespace))
            } else {
                args.append(try parseExpression(withCondexpr: withCondexpr))
            }
            if current.kind == .comma {
                isTuple = true
            } else {
                break
            }
            pos = current.pos
        }
        if !isTuple {
            if let first = args.first { return first }
            if !explicitParentheses {
                throw expectedExpression()
            }
        }
        return try node(.tuple(args, .load), pos, args)
    }

    mutating func parseList() throws(JinjaError) -> Expr {
        let token = try expect(.lbracket)
        var items: [Expr] = []
        while current.kind != .rbracket {
            if !items.isEmpty { try expect(.comma) }
            if current.kind == .rbracket { break }
            items.append(try parseExpression())
        }
        try expect(.rbracket)
        return try node(.list(items), token.pos, items)
    }

    mutating func parseDict() throws(JinjaError) -> Expr {
        let token = try expect(.lbrace)
        var items: [(Expr, Expr)] = []
        while current.kind != .rbrace {
            if !items.isEmpty { try expect(.comma) }
            if current.kind == .rbrace { break }
            let key = try parseExpression()
            try expect(.colon)
            let value = try parseExpression()
            items.append((key, value))
        }
        try expect(.rbrace)
        return try node(.dict(items), token.pos, items.flatMap { [$0.0, $0.1] })
    }

    mutating func parsePostfix(_ start: Expr) throws(JinjaError) -> Expr {
        var n = start
        while true {
            switch current.kind {
            case .dot, .lbracket: n = try parseSubscript(n)
            case .lparen: n = try parseCall(n)
            default: return n
            }
        }
    }

    mutating func parseFilterExpr(_ start: Expr) throws(JinjaError) -> Expr {
        var n = start
        while true {
            if current.kind == .pipe {
                guard let f = try parseFilter(n) else { return n }
                n = f
            } else if testName("is") {
                n = try parseTest(n)
            } else if current.kind == .lparen {
                n = try parseCall(n)
            } else {
                return n
            }
        }
    }

    mutating func parseSubscript(_ obj: Expr) throws(JinjaError) -> Expr {
        let token = try next()
        if token.kind == .dot {
            let attr = current
            try next()
            if attr.kind == .name {
                return try node(.getattr(obj, attr.text), token.pos, [obj])
            }
            guard attr.kind == .integer else { throw fail("expected name or number", at: attr.pos) }
            let arg = leaf(.constant(.int(attr.int)), attr.pos)
            return try node(.getitem(obj, arg), token.pos, [obj, arg])
        }
        // `[`
        try enter()
        defer { leave() }
        var args: [Expr] = []
        while current.kind != .rbracket {
            if !args.isEmpty { try expect(.comma) }
            args.append(try parseSubscribed())
        }
        try expect(.rbracket)
        let arg = args.count == 1 ? args[0] : try node(.tuple(args, .load), token.pos, args)
        return try node(.getitem(obj, arg), token.pos, [obj, arg])
    }

    mutating func parseSubscribed() throws(JinjaError) -> Expr {
        let pos = current.pos
        var args: [Expr?] = []
        if current.kind == .colon {
            try next()
            args = [nil]
        } else {
            let n = try parseExpression()
            if current.kind != .colon { return n }
            try next()
            args = [n]
        }
        if current.kind == .colon {
            args.append(nil)
        } else if current.kind != .rbracket && current.kind != .comma {
            args.append(try parseExpression())
        } else {
            args.append(nil)
        }
        if current.kind == .colon {
            try next()
            if current.kind != .rbracket && current.kind != .comma {
                args.append(try parseExpression())
            } else {
                args.append(nil)
            }
        } else {
            args.append(nil)
        }
        return try node(.slice(args[0], args[1], args[2]), pos, args.compactMap { $0 })
    }

    mutating func parseCallArgs() throws(JinjaError) -> CallArguments {
        let token = try expect(.lparen)
        var a = CallArguments()
        var requireComma = false
        func ensure(_ ok: Bool) throws(JinjaError) {
            if !ok { throw JinjaError.syntax("invalid syntax for function call expression", at: token.pos) }
        }
        while current.kind != .rparen {
            if requireComma {
                try expect(.comma)
                if current.kind == .rparen { break }
            }
            if current.kind == .mul {
                try ensure(a.star == nil && a.starStar == nil)
                try next()
                a.star = try parseExpression()
            } else if current.kind == .pow {
                try ensure(a.starStar == nil)
                try next()
                a.starStar = try parseExpression()
            } else if current.kind == .name, try look().kind == .assign {
                try ensure(a.starStar == nil)
                let key = current.text
                try next()
                try next()
                a.keywords.append((key, try parseExpression()))
            } else {
                try ensure(a.star == nil && a.starStar == nil && a.keywords.isEmpty)
                a.positional.append(try parseExpression())
            }
            requireComma = true
        }
        try expect(.rparen)
        return a
    }

    mutating func parseCall(_ callee: Expr) throws(JinjaError) -> Expr {
        let pos = current.pos
        try enter()
        defer { leave() }
        let args = try parseCallArgs()
        return try node(.call(callee, args), pos, [callee] + args.children)
    }

    mutating func parseFilter(_ start: Expr?, startInline: Bool = false) throws(JinjaError) -> Expr? {
        var n = start
        var inline = startInline
        while current.kind == .pipe || inline {
            if !inline { try next() }
            let token = try expect(.name)
            var name = token.text
            while current.kind == .dot {
                try next()
                name += "." + (try expect(.name)).text
            }
            var args = CallArguments()
            if current.kind == .lparen {
                try enter()
                defer { leave() }
                args = try parseCallArgs()
            }
            n = try node(.filter(n, name, args), token.pos, (n.map { [$0] } ?? []) + args.children)
            inline = false
        }
        return n
    }

    mutating func parseTest(_ value: Expr) throws(JinjaError) -> Expr {
        let token = try next()
        var negated = false
        if testName("not") {
            try next()
            negated = true
        }
        var name = (try expect(.name)).text
        while current.kind == .dot {
            try next()
            name += "." + (try expect(.name)).text
        }
        var args = CallArguments()
        if current.kind == .lparen {
            try enter()
            defer { leave() }
            args = try parseCallArgs()
        } else if [.name, .string, .integer, .float, .lparen, .lbracket, .lbrace].contains(current.kind)
                    && !(testName("else") || testName("or") || testName("and")) {
            if testName("is") { throw fail("You cannot chain multiple tests with is") }
            var arg = try parsePrimary()
            arg = try parsePostfix(arg)
            args.positional = [arg]
        }
        var n = try node(.test(value, name, args), token.pos, [value] + args.children)
        if negated { n = try node(.not(n), token.pos, [n]) }
        return n
    }
}
