#include "cli/task_stream.hpp"

#include "cli/exit_codes.hpp"
#include "core/json_stream.hpp"

#include <spdlog/spdlog.h>

namespace infra::cli {

int worse(int a, int b)
{
    auto rank = [](int c) {
        switch (c) {
        case exit_code::ok:
            return 0;
        case exit_code::pending:
            return 1;
        case exit_code::denied:
            return 2;
        case exit_code::failure:
            return 3;
        default:
            return 4;  // usage, data, internal
        }
    };
    return rank(b) > rank(a) ? b : a;
}

int for_each_task(Context& ctx, const std::string& input, bool keep_going,
                  const std::function<void(core::AgentTask&&)>& fn)
{
    auto src = core::ByteSource::open(input);
    if (!src) return ctx.fail(src.error());
    core::json_stream::Reader reader(**src, {{"", "*"}, {}});
    int code = exit_code::ok;
    std::size_t rejected = 0;
    bool stop = false;
    core::json_stream::Handler h;
    h.record = [&](core::json_stream::Record&& r, const core::json_stream::Context&) {
        if (stop) return;
        auto task = core::task_from_json(r.value);
        if (!task) {
            ++rejected;
            ctx.fail(core::make_error(core::Errc::invalid_input,
                                      "'" + (*src)->name() + "': line " + std::to_string(r.line) + ": " +
                                          task.error().message,
                                      task.error().hint));
            code = worse(code, exit_code::data);
            if (!keep_going) stop = true;
            return;
        }
        fn(std::move(*task));
    };
    while (!stop) {
        auto r = reader.next(h);
        if (!r) {
            ++rejected;
            code = worse(code, ctx.fail(r.error()));
            if (!keep_going) break;
            reader.skip_line();
            continue;
        }
        if (!*r) break;
    }
    if (rejected && keep_going)
        spdlog::error("{} record{} of '{}' rejected", rejected, rejected == 1 ? "" : "s", (*src)->name());
    return code;
}

}  // namespace infra::cli
