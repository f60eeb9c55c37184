// Facts about this host and moment that every report records: the host
// name and the current time in UTC, ISO 8601.
#pragma once

#include <string>

namespace aicloud {

// gethostname(), or "localhost" when it fails.
std::string host_name();
// "2025-11-26T06:13:49Z".
std::string utc_now_iso();

}  // namespace aicloud
