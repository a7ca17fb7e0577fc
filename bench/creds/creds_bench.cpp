// bench/creds: local credential mints (an HS256 token and its ledger row in
// the state db, as `creds mint` does) and SigV4 signatures of an STS
// AssumeRole request, per second with p50/p99 latency; JSON lines.
//   creds_bench SECONDS
#include "core/creds/broker.hpp"
#include "core/creds/sigv4.hpp"
#include "core/home.hpp"
#include "core/state.hpp"
#include "plugins/credentials/providers.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

using namespace infra;
using clock_type = std::chrono::steady_clock;

static void measure(const char* name, double seconds, const std::function<void(long)>& fn)
{
    for (long i = 0; i < 1000; ++i) fn(-1 - i);  // warm up
    std::vector<double> lat;
    lat.reserve(1 << 22);
    auto start = clock_type::now();
    auto end = start + std::chrono::duration<double>(seconds);
    long n = 0;
    for (auto now = start; now < end; ++n) {
        fn(n);
        auto after = clock_type::now();
        lat.push_back(std::chrono::duration<double, std::micro>(after - now).count());
        now = after;
    }
    double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
    std::sort(lat.begin(), lat.end());
    auto q = [&](double p) { return lat[std::min(lat.size() - 1, static_cast<std::size_t>(p * lat.size()))]; };
    std::printf("%s\n",
                nlohmann::json({{"engine", name}, {"perSecond", n / elapsed}, {"p50us", q(0.5)}, {"p99us", q(0.99)}})
                    .dump()
                    .c_str());
}

int main(int argc, char** argv)
{
    double seconds = argc > 1 ? std::atof(argv[1]) : 2;
    auto dir = std::filesystem::temp_directory_path() / ("bench-creds-" + std::to_string(::getpid()));
    core::Home home{dir, ""};
    auto db = core::open_state(home);
    if (!db) {
        std::fprintf(stderr, "%s\n", db.error().message.c_str());
        return 1;
    }
    core::creds::Ledger::relax_sync(**db);  // as the CLI's broker does
    core::creds::Ledger ledger(**db);
    auto key = plugins::credentials::load_or_create_key(dir / "keys" / "local-creds.key");
    auto provider = plugins::credentials::make_local(*key);
    core::creds::Broker broker(ledger, *provider);
    measure("infra-agent-local-mint", seconds, [&](long i) {
        auto c = broker.mint({"git:push:repo=acme/infra,branch=infra-agent/*", std::chrono::minutes(15),
                              "task-" + std::to_string(i), ""});
        if (!c) std::abort();
    });

    core::creds::sigv4::Request req;
    req.method = "POST";
    req.body = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Ffixer"
               "&RoleSessionName=infra-agent-01JD&DurationSeconds=900&Policy=%7B%22Version%22%3A%222012-10-17%22%7D&"
               "SourceIdentity=infra-agent";
    req.headers = {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
                   {"host", "sts.amazonaws.com"},
                   {"x-amz-date", "20261124T120000Z"}};
    core::creds::sigv4::Signer signer({"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}, "us-east-1", "sts");
    std::size_t sink = 0;
    measure("infra-agent-sigv4", seconds, [&](long) { sink += signer.authorization(req, "20261124T120000Z").size(); });
    std::filesystem::remove_all(dir);
    return sink == 0;
}
