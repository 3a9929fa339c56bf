// `finetok lengths` output: the JSON document and a self-contained SVG histogram.

import Foundation

extension LengthSummary {
    /// `{min, max, mean, p50, p90, p95, p99}` as in `--json`.
    var statsJSON: JSONOut {
        .object([("min", .int(min)), ("max", .int(max)), ("mean", .double(mean)), ("p50", .double(p50)),
                 ("p90", .double(p90)), ("p95", .double(p95)), ("p99", .double(p99))])
    }
}

extension LengthsReport {
    /// The `--json` document.
    public func json() -> String {
        let doc: JSONOut = .object([
            ("inputs", .array(inputs.map { .string($0) })),
            ("template", .string(templateName)),
            ("eos", .bool(eos)),
            ("examples", .int(examples)),
            ("skipped", .int(skipped)),
            ("total_tokens", .int(totalTokens)),
            ("bytes_per_token", .double(bytesPerToken)),
            ("prompt", prompt.statsJSON),
            ("completion", completion.statsJSON),
            ("total", total.statsJSON),
            ("max_length", maxLength.map { .int($0) } ?? .null),
            ("truncation", .string(truncation.rawValue)),
            ("over_max_length", .int(overMaxLength)),
            ("truncated_tokens", .int(truncatedTokens)),
            ("no_labels_after_truncation", .int(noLabels)),
            ("suggested_max_length", .object([("p95", .int(suggested.p95)), ("p99", .int(suggested.p99)), ("max", .int(suggested.max)),
                                              ("p95_multiple_of_64", .int(LengthsReport.roundUp(suggested.p95))),
                                              ("p99_multiple_of_64", .int(LengthsReport.roundUp(suggested.p99))),
                                              ("max_multiple_of_64", .int(LengthsReport.roundUp(suggested.max)))])),
            ("histogram", .object([("edges", .array(histogram.edges.map { .int($0) })), ("counts", .array(histogram.counts.map { .int($0) })),
                                   ("prompt_counts", .array(promptHistogram.counts.map { .int($0) })),
                                   ("completion_counts", .array(completionHistogram.counts.map { .int($0) }))])),
            ("longest", .array(longest.map { .object([("file", .string($0.file)), ("line", .int($0.line)), ("tokens", .int($0.tokens))]) })),
        ])
        return doc.render() + "\n"
    }

    /// A self-contained SVG: prompt, completion and total length histograms on shared bins, the
    /// max-length line, axes with ticks, a legend and a title naming the input.
    public func svg(title: String) -> String {
        let width = 900.0, height = 480.0
        let left = 70.0, right = 24.0, top = 56.0, bottom = 64.0
        let plotW = width - left - right, plotH = height - top - bottom
        let bins = histogram.counts.count
        let xMax = Double(histogram.edges.last ?? 1)
        let yMaxRaw = max(1, [histogram.counts.max() ?? 0, promptHistogram.counts.max() ?? 0, completionHistogram.counts.max() ?? 0].max() ?? 1)
        let yStep = niceStep(Double(yMaxRaw) / 5)
        let yMax = (Double(yMaxRaw) / yStep).rounded(.up) * yStep
        func x(_ v: Double) -> Double { left + v / xMax * plotW }
        func y(_ v: Double) -> Double { top + plotH - v / yMax * plotH }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text x="\(f(width / 2))" y="26" text-anchor="middle" font-size="16" font-weight="bold">\(xmlEscape(title))</text>
            <text x="\(f(width / 2))" y="44" text-anchor="middle" fill="#555">\(examples) examples · \(totalTokens) tokens · p95 \(String(format: "%.0f", total.p95)) · max \(total.max)\(eos ? " · with EOS" : "")</text>

            """
        // Grid and y ticks.
        var t = 0.0
        while t <= yMax + 1e-9 {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y(t)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y(t)))\" stroke=\"#e5e5e5\"/>\n"
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(y(t) + 4))\" text-anchor=\"end\" fill=\"#333\">\(Int(t))</text>\n"
            t += yStep
        }
        // Bars: total behind, then prompt and completion as outlined steps.
        let series: [(Histogram, String, String, Bool)] = plainText
            ? [(histogram, "#4c78a8", "tokens per document", true)]
            : [(histogram, "#4c78a8", "total (prompt + completion)", true),
               (promptHistogram, "#f58518", "prompt", false),
               (completionHistogram, "#54a24b", "completion\(eos ? " + EOS" : "")", false)]
        for (h, color, _, filled) in series {
            if filled {
                for i in 0..<bins where h.counts[i] > 0 {
                    let x0 = x(Double(h.edges[i])), x1 = x(Double(h.edges[i + 1]))
                    s += "<rect x=\"\(f(x0 + 0.5))\" y=\"\(f(y(Double(h.counts[i]))))\" width=\"\(f(max(x1 - x0 - 1, 0.5)))\" height=\"\(f(y(0) - y(Double(h.counts[i]))))\" fill=\"\(color)\" fill-opacity=\"0.55\"/>\n"
                }
            } else {
                var d = "M \(f(x(0))) \(f(y(0)))"
                for i in 0..<bins {
                    let v = Double(h.counts[i])
                    d += " L \(f(x(Double(h.edges[i])))) \(f(y(v))) L \(f(x(Double(h.edges[i + 1])))) \(f(y(v)))"
                }
                d += " L \(f(x(xMax))) \(f(y(0)))"
                s += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            }
        }
        // Axes and x ticks.
        s += "<line x1=\"\(f(left))\" y1=\"\(f(y(0)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y(0)))\" stroke=\"#333\"/>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(y(0)))\" stroke=\"#333\"/>\n"
        let xStep = niceStep(xMax / 8)
        var xt = 0.0
        while xt <= xMax + 1e-9 {
            s += "<line x1=\"\(f(x(xt)))\" y1=\"\(f(y(0)))\" x2=\"\(f(x(xt)))\" y2=\"\(f(y(0) + 5))\" stroke=\"#333\"/>\n"
            s += "<text x=\"\(f(x(xt)))\" y=\"\(f(y(0) + 18))\" text-anchor=\"middle\" fill=\"#333\">\(Int(xt))</text>\n"
            xt += xStep
        }
        s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 18))\" text-anchor=\"middle\">tokens per example (bins of \(histogram.edges.count > 1 ? histogram.edges[1] : 1))</text>\n"
        s += "<text transform=\"translate(18 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">examples</text>\n"
        // max-length line.
        if let m = maxLength {
            let mx = x(min(Double(m), xMax))
            s += "<line x1=\"\(f(mx))\" y1=\"\(f(top))\" x2=\"\(f(mx))\" y2=\"\(f(y(0)))\" stroke=\"#d62728\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n"
            let pct = examples > 0 ? 100 * Double(overMaxLength) / Double(examples) : 0
            let anchor = mx > left + plotW * 0.7 ? "end" : "start"
            let dx = anchor == "end" ? -6.0 : 6.0
            s += "<text x=\"\(f(mx + dx))\" y=\"\(f(top + 14))\" text-anchor=\"\(anchor)\" fill=\"#d62728\">max_length \(m)\(Double(m) > xMax ? " →" : ""): \(overMaxLength) over (\(String(format: "%.1f", pct))%)</text>\n"
        }
        // Legend.
        var ly = top + 8
        for (_, color, label, filled) in series {
            let lx = left + plotW - 230
            if filled {
                s += "<rect x=\"\(f(lx))\" y=\"\(f(ly + 18))\" width=\"14\" height=\"10\" fill=\"\(color)\" fill-opacity=\"0.55\"/>\n"
            } else {
                s += "<line x1=\"\(f(lx))\" y1=\"\(f(ly + 23))\" x2=\"\(f(lx + 14))\" y2=\"\(f(ly + 23))\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            }
            s += "<text x=\"\(f(lx + 20))\" y=\"\(f(ly + 27))\" fill=\"#333\">\(xmlEscape(label))</text>\n"
            ly += 18
        }
        s += "</svg>\n"
        return s
    }
}

/// 1, 2 or 5 × 10^k, at least `raw`.
func niceStep(_ raw: Double) -> Double {
    guard raw > 0 else { return 1 }
    let scale = pow(10, floor(log10(raw)))
    for m in [1.0, 2.0, 5.0, 10.0] where m * scale >= raw { return max(1, m * scale) }
    return max(1, 10 * scale)
}

func xmlEscape(_ s: String) -> String {
    var out = ""
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(c)
        }
    }
    return out
}
