#include "core/approve.hpp"

#include "core/events/event.hpp"
#include "core/policy/policy.hpp"
#include "core/state.hpp"

namespace infra::core {
namespace {

/// A refusal of which group approves says how the command names one; other
/// errors (an ambiguous task prefix, a queue URL) keep their own hints.
Error with_group_hint(Error err, bool hintless_is_about_the_group)
{
    if (err.code == Errc::usage &&
        (err.hint == approval::k_name_the_group || (hintless_is_about_the_group && err.hint.empty())))
        err.hint = "name the one you approve for with --group";
    return err;
}

}  // namespace

Result<HumanVerdict> decide_by_hand(const Site& site, const HumanDecision& d)
{
    const approval::Request& r = d.request;
    auto groups = approval::Groups::from_config(site.config);
    if (!groups) return fail(groups.error());
    auto db = open_state(site.home);
    if (!db) return fail(db.error());
    auto sink = events::StateSink::open(site.home.state_location());
    if (!sink) return fail(sink.error());
    auto q = site.open_queue(d.queue, sink->get());
    if (!q) return fail(q.error());
    HumanVerdict out;
    if (r.approve) {
        // A tier-4 task that ran and kept its plan waits for approval of that plan.
        auto e = (*q)->show(r.task);
        if (!e) return fail(e.error());
        auto decided = policy::decision_from_json(e->decision);
        if (e->state == queue::State::succeeded && decided && decided->tier == 4) {
            change::ApplyStore store(**db);
            auto v = change::approve_plan(*e, store, **sink, r.by, r.group, d.plan, *groups);
            (*sink)->flush();
            // Every usage refusal of a plan's approval is about its group.
            if (!v) return fail(with_group_hint(v.error(), true));
            out.plan = std::move(*v);
            return out;
        }
        if (!d.plan.empty())
            return fail(Errc::conflict, "task " + e->id + " is " + std::string(queue::to_string(e->state)) +
                                            ": --plan approves the saved plan of a tier-4 task that ran");
    }
    auto v = approval::decide(**q, **sink, r, *groups);
    (*sink)->flush();
    if (!v) return fail(with_group_hint(v.error(), false));
    out.task = std::move(*v);
    return out;
}

}  // namespace infra::core
