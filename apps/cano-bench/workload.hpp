// A benchmark workload: a name and a function that measures for `seconds` and returns the
// figures as one JSON object. Workloads register themselves at static-initialisation time.
#pragma once

#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace bench {

using workload_fn = std::function<nlohmann::json(double seconds)>;

std::map<std::string, workload_fn>& workloads();

struct register_workload {
  register_workload(const std::string& name, workload_fn fn) { workloads()[name] = std::move(fn); }
};

} // namespace bench
