#include "core/change/apply_by_hand.hpp"

#include "core/change/apply.hpp"
#include "core/events/event.hpp"
#include "core/state.hpp"

namespace infra::core::change {
namespace {

Result<std::vector<std::string>> recover(const queue::Entry& e, const std::string& by, ApplyStore& store,
                                         events::EventSink& events)
{
    if (auto st = interrupt_ended(e.id, store, events); !st) return fail(st.error());
    auto recovered = store.recover(e.id, by);
    if (!recovered) {
        events.emit(
            {"apply.refused", e.id, "", {{"by", by}, {"reason", recovered.error().message}, {"recover", true}}});
        events.flush();
        return fail(recovered.error());
    }
    events.emit({"apply.recovered", e.id, "", {{"by", by}, {"applies", *recovered}}});
    events.flush();
    return recovered;
}

}  // namespace

Result<ApplyDone> apply_by_hand(const Site& site, const ApplyRequest& r)
{
    auto db = open_state(site.home);
    if (!db) return fail(db.error());
    auto sink = events::StateSink::open(site.home.state_location());
    if (!sink) return fail(sink.error());
    auto q = site.open_queue(r.queue, sink->get());
    if (!q) return fail(q.error());
    auto e = (*q)->show(r.task);
    if (!e) return fail(e.error());
    ApplyStore store(**db);
    ApplyDone out;
    out.task_id = e->id;
    if (r.recover) {
        auto recovered = recover(*e, r.by, store, **sink);
        if (!recovered) return fail(recovered.error());
        out.recovered = std::move(*recovered);
        return out;
    }
    auto refuse = [&](const Error& err) -> Result<ApplyDone> {
        (*sink)->emit({"apply.refused", e->id, "", {{"by", r.by}, {"reason", err.message}}});
        (*sink)->flush();
        return fail(err);
    };
    // A closed gate is refused before anything is set up.
    if (auto gate = check_gate(*e, store); !gate) return refuse(gate.error());
    auto how = open_apply(site, *e, r.how);
    if (!how) return how.error().code == Errc::denied ? refuse(how.error()) : fail(how.error());
    attach_events(*(*how)->delivery, sink->get());
    auto applied = apply_task(*e, r.by, store, **sink, (*how)->runner);
    (*sink)->flush();
    if (!applied) return fail(applied.error());
    out.applied = std::move(*applied);
    return out;
}

}  // namespace infra::core::change
