#include "core/diff.hpp"

#include <algorithm>
#include <vector>

namespace infra::core::diff {
namespace {

std::vector<std::string_view> lines_of(std::string_view s)
{
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (start < s.size()) {
        auto nl = s.find('\n', start);
        std::size_t end = nl == std::string_view::npos ? s.size() : nl + 1;
        out.push_back(s.substr(start, end - start));
        start = end;
    }
    return out;
}

enum class Op { keep, del, add };

// Myers' O(ND) shortest edit script.
std::vector<Op> script(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b)
{
    const int n = static_cast<int>(a.size()), m = static_cast<int>(b.size());
    const int max = n + m;
    std::vector<int> v(2 * static_cast<std::size_t>(max) + 2, 0);
    std::vector<std::vector<int>> trace;
    int offset = max + 1;
    for (int d = 0; d <= max; ++d) {
        trace.push_back(v);
        for (int k = -d; k <= d; k += 2) {
            int x = (k == -d || (k != d && v[static_cast<std::size_t>(offset + k - 1)] <
                                               v[static_cast<std::size_t>(offset + k + 1)]))
                        ? v[static_cast<std::size_t>(offset + k + 1)]
                        : v[static_cast<std::size_t>(offset + k - 1)] + 1;
            int y = x - k;
            while (x < n && y < m && a[static_cast<std::size_t>(x)] == b[static_cast<std::size_t>(y)]) {
                ++x;
                ++y;
            }
            v[static_cast<std::size_t>(offset + k)] = x;
            if (x >= n && y >= m) {
                // Walk back through the trace to recover the script.
                std::vector<Op> ops;
                int cx = n, cy = m;
                for (int dd = d; dd > 0; --dd) {
                    const auto& pv = trace[static_cast<std::size_t>(dd)];
                    int kk = cx - cy;
                    int prev_k = (kk == -dd || (kk != dd && pv[static_cast<std::size_t>(offset + kk - 1)] <
                                                                pv[static_cast<std::size_t>(offset + kk + 1)]))
                                     ? kk + 1
                                     : kk - 1;
                    int px = pv[static_cast<std::size_t>(offset + prev_k)];
                    int py = px - prev_k;
                    while (cx > px && cy > py) {
                        ops.push_back(Op::keep);
                        --cx;
                        --cy;
                    }
                    ops.push_back(cx == px ? Op::add : Op::del);
                    cx = px;
                    cy = py;
                }
                while (cx > 0 && cy > 0) {
                    ops.push_back(Op::keep);
                    --cx;
                    --cy;
                }
                std::reverse(ops.begin(), ops.end());
                return ops;
            }
        }
    }
    return {};
}

}  // namespace

std::string unified(std::string_view before, std::string_view after, const std::string& path)
{
    return unified_files(std::optional<std::string_view>(before), std::optional<std::string_view>(after), path);
}

std::string unified_files(std::optional<std::string_view> before_file, std::optional<std::string_view> after_file,
                          const std::string& path)
{
    std::string_view before = before_file.value_or(""), after = after_file.value_or("");
    if (before_file.has_value() == after_file.has_value() && before == after) return {};
    auto a = lines_of(before), b = lines_of(after);
    auto ops = script(a, b);
    struct Line {
        Op op;
        std::string_view text;
        int ai, bi;  // line numbers (0-based) before the line
    };
    std::vector<Line> all;
    int ai = 0, bi = 0;
    for (Op op : ops) {
        if (op == Op::keep) all.push_back({op, a[static_cast<std::size_t>(ai)], ai, bi}), ++ai, ++bi;
        else if (op == Op::del) all.push_back({op, a[static_cast<std::size_t>(ai)], ai, bi}), ++ai;
        else all.push_back({op, b[static_cast<std::size_t>(bi)], ai, bi}), ++bi;
    }
    std::string out = (before_file ? "--- a/" + path : std::string("--- /dev/null")) + "\n" +
                      (after_file ? "+++ b/" + path : std::string("+++ /dev/null")) + "\n";
    const int ctx = 3;
    std::size_t i = 0;
    while (i < all.size()) {
        if (all[i].op == Op::keep) {
            ++i;
            continue;
        }
        std::size_t start = i >= static_cast<std::size_t>(ctx) ? i - ctx : 0;
        while (start < i && all[start].op != Op::keep) ++start;
        // Extend the hunk while changes are within 2*ctx lines of each other.
        std::size_t end = i;
        std::size_t last_change = i;
        while (end < all.size()) {
            if (all[end].op != Op::keep) last_change = end;
            else if (end - last_change > 2 * static_cast<std::size_t>(ctx)) break;
            ++end;
        }
        end = std::min(all.size(), last_change + ctx + 1);
        int a_start = all[start].ai, b_start = all[start].bi, a_len = 0, b_len = 0;
        std::string body;
        for (std::size_t k = start; k < end; ++k) {
            char mark = all[k].op == Op::keep ? ' ' : all[k].op == Op::del ? '-' : '+';
            if (all[k].op != Op::add) ++a_len;
            if (all[k].op != Op::del) ++b_len;
            body += mark;
            body += all[k].text;
            if (body.back() != '\n') body += "\n\\ No newline at end of file\n";
        }
        out += "@@ -" + std::to_string(a_len ? a_start + 1 : a_start) +
               (a_len == 1 ? "" : "," + std::to_string(a_len)) + " +" + std::to_string(b_len ? b_start + 1 : b_start) +
               (b_len == 1 ? "" : "," + std::to_string(b_len)) + " @@\n" + body;
        i = end;
    }
    return out;
}

}  // namespace infra::core::diff
