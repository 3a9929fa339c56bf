// `strftime_now(format)`: `datetime.now().strftime(format)` with the C locale, as Python on
// glibc formats it (including glibc's `-`, `_`, `0` and `^` flags, e.g. `%-d`). The time comes
// from `JinjaClock` (a fixed time in UTC, or now in the local time zone); Python's `now()` is
// naive, so `%z` and `%Z` are empty.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// The process environment variable `name` (only SOURCE_DATE_EPOCH is ever read).
func environmentValue(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
}

enum Strftime {
    struct Civil {
        var year: Int, month: Int, day: Int
        var hour: Int, minute: Int, second: Int
        /// 0 = Monday ... 6 = Sunday.
        var weekday: Int
        /// 1-based day of the year.
        var yearDay: Int
        var epoch: Int64
    }

    static func civil(epochSeconds: Int64, offset: Int) -> Civil {
        let t = epochSeconds + Int64(offset)
        var days = t / 86400
        var secs = t % 86400
        if secs < 0 { secs += 86400; days -= 1 }
        // Howard Hinnant's days-from-civil inverse.
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        var y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        if m <= 2 { y += 1 }
        let weekday = Int(((days % 7) + 7 + 3) % 7)  // 1970-01-01 was a Thursday (3)
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let cumulative = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]
        let yday = cumulative[Int(m) - 1] + Int(d) + (leap && m > 2 ? 1 : 0)
        return Civil(year: Int(y), month: Int(m), day: Int(d), hour: Int(secs / 3600), minute: Int(secs % 3600 / 60),
                     second: Int(secs % 60), weekday: weekday, yearDay: yday, epoch: epochSeconds)
    }

    static func now(_ clock: JinjaClock) -> Civil {
        if let e = clock.epochSeconds { return civil(epochSeconds: e, offset: clock.utcOffsetSeconds ?? 0) }
        var t = time(nil)
        var offset = clock.utcOffsetSeconds ?? 0
        if clock.utcOffsetSeconds == nil {
            var local = tm()
            localtime_r(&t, &local)
            offset = Int(local.tm_gmtoff)
        }
        return civil(epochSeconds: Int64(t), offset: offset)
    }

    static let days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                         "October", "November", "December"]

    /// ISO 8601 year and week.
    static func isoWeek(_ c: Civil) -> (Int, Int) {
        let wday = c.weekday + 1  // 1 = Monday
        var week = (c.yearDay - wday + 10) / 7
        var year = c.year
        func weeks(_ y: Int) -> Int {
            let jan1 = civil(epochSeconds: daysFromCivil(y, 1, 1) * 86400, offset: 0).weekday
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
            return (jan1 == 3 || (leap && jan1 == 2)) ? 53 : 52
        }
        if week < 1 {
            year -= 1
            week = weeks(year)
        } else if week > weeks(year) {
            year += 1
            week = 1
        }
        return (year, week)
    }

    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int64 {
        let y = Int64(m <= 2 ? y0 - 1 : y0)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mm = Int64(m)
        let doy = (153 * (mm > 2 ? mm - 3 : mm + 9) + 2) / 5 + Int64(d) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func format(_ fmt: String, clock: JinjaClock) -> String {
        format(fmt, Strftime.now(clock))
    }

    static func format(_ fmt: String, _ c: Civil) -> String {
        var out = ""
        let chars = Array(fmt)
        var i = 0
        while i < chars.count {
            let ch = chars[i]
            guard ch == "%", i + 1 < chars.count else {
                out.append(ch)
                i += 1
                continue
            }
            i += 1
            var flag: Character? = nil
            if "-_0^#".contains(chars[i]) && i + 1 < chars.count {
                flag = chars[i]
                i += 1
            }
            let conv = chars[i]
            i += 1
            func num(_ v: Int, _ width: Int, pad: Character = "0") -> String {
                let s = String(v)
                switch flag {
                case "-": return s
                case "_": return String(repeating: " ", count: max(0, width - s.count)) + s
                case "0": return String(repeating: "0", count: max(0, width - s.count)) + s
                default: return String(repeating: pad, count: max(0, width - s.count)) + s
                }
            }
            func text(_ s: String) -> String { flag == "^" ? s.uppercased() : s }
            let hour12 = c.hour % 12 == 0 ? 12 : c.hour % 12
            switch conv {
            case "a": out += text(String(days[c.weekday].prefix(3)))
            case "A": out += text(days[c.weekday])
            case "b", "h": out += text(String(months[c.month - 1].prefix(3)))
            case "B": out += text(months[c.month - 1])
            case "c": out += format("%a %b %e %H:%M:%S %Y", c)
            case "C": out += num(c.year / 100, 2)
            case "d": out += num(c.day, 2)
            case "D": out += format("%m/%d/%y", c)
            case "e": out += num(c.day, 2, pad: " ")
            case "f": out += "000000"
            case "F": out += format("%Y-%m-%d", c)
            case "g": out += num(isoWeek(c).0 % 100, 2)
            case "G": out += String(isoWeek(c).0)
            case "H": out += num(c.hour, 2)
            case "I": out += num(hour12, 2)
            case "j": out += num(c.yearDay, 3)
            case "k": out += num(c.hour, 2, pad: " ")
            case "l": out += num(hour12, 2, pad: " ")
            case "m": out += num(c.month, 2)
            case "M": out += num(c.minute, 2)
            case "n": out += "\n"
            case "p": out += c.hour < 12 ? "AM" : "PM"
            case "P": out += c.hour < 12 ? "am" : "pm"
            case "r": out += format("%I:%M:%S %p", c)
            case "R": out += format("%H:%M", c)
            case "s": out += String(c.epoch)
            case "S": out += num(c.second, 2)
            case "t": out += "\t"
            case "T", "X": out += format("%H:%M:%S", c)
            case "u": out += String(c.weekday + 1)
            case "U": out += num((c.yearDay - 1 + 7 - (c.weekday + 1) % 7) / 7, 2)
            case "V": out += num(isoWeek(c).1, 2)
            case "w": out += String((c.weekday + 1) % 7)
            case "W": out += num((c.yearDay - 1 + 7 - c.weekday) / 7, 2)
            case "x": out += format("%m/%d/%y", c)
            case "y": out += num(c.year % 100, 2)
            case "Y": out += String(c.year)
            case "z", "Z": break
            case "%": out += "%"
            default:
                out.append("%")
                if let flag { out.append(flag) }
                out.append(conv)
            }
        }
        return out
    }
}
