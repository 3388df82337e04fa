// Random tokens for stores (append tokens, commit marks, owner identities). Not part of the API.
#pragma once

#include <string>

namespace cano::detail {

/// 128 random bits as 32 lower-case hex digits (a per-thread generator seeded from the system's
/// entropy source).
std::string random_token();

} // namespace cano::detail
