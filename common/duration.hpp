// Durations as techs type them: "90s", "10m", "2h", "1h30m", "500ms", or a
// bare number of seconds. Pure; unit-tested.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace aicloud {

using Seconds = std::chrono::duration<double>;

std::optional<Seconds> parse_duration(std::string_view text);
// The inverse, shortest exact form: 5400 s -> "1h30m", 0.5 s -> "500ms".
std::string format_duration(Seconds d);

}  // namespace aicloud
