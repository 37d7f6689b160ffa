// The rule a TZif v2+ file (RFC 8536) keeps in its footer for the times after its last explicit
// transition, a POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3". Debian's files list
// transitions only up to 2037 and date/tz, as Debian builds it, never reads the footer, so the
// years after that come from here. Internal to engine/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"

namespace procedo {

struct PosixTz {
  // A day of the year and a local time of it.
  struct When {
    enum class Kind : uint8_t {
      kJulian,     // Jn: 1..365, 29 February never counted
      kZeroBased,  // n: 0..365, 29 February counted
      kMonthWeek,  // Mm.w.d: weekday d (0 = Sunday) of week w (1..5, 5 = the last) of month m
    };
    Kind kind = Kind::kMonthWeek;
    int day = 0;
    int month = 0;
    int week = 0;
    // Seconds after local midnight; RFC 8536 (v3) allows -167..167 hours, so a change can fall on
    // another day than the one named.
    int32_t time = 2 * 3600;
  };
  // Seconds east of UTC: the opposite of the TZ string's sign, which counts west.
  int32_t std_offset = 0;
  bool has_dst = false;
  int32_t dst_offset = 0;
  When dst_start;  // a local time in standard time
  When dst_end;    // a local time in DST
};

struct OffsetChange {
  int64_t utc;     // seconds since the epoch
  int32_t offset;  // seconds east of UTC from then on
};

// InvalidArgument saying what is wrong and where; a malformed string is never an exception.
Result<PosixTz> ParsePosixTz(std::string_view text);

// The DST starts and ends of the years first_year..last_year in time order, empty without DST.
// Where a year's end meets the next start (DST all year), the end comes first.
std::vector<OffsetChange> PosixTzChanges(const PosixTz& tz, int first_year, int last_year);

// The footer of a TZif file, without its newlines: "" when the file has none (version 1) or an
// empty one. InvalidArgument when the file cannot be read or is not TZif.
Result<std::string> ReadTzifFooter(const std::string& path);

}  // namespace procedo
