// The TZif footer: reading it out of a file, parsing its POSIX TZ rule, and the yearly changes the
// rule gives. Expected instants are worked out by hand from the rule (and agree with Python's
// zoneinfo, which applies the same footers).
#include "engine/calendar/posix_tz.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace procedo {
namespace {

int64_t Utc(int y, unsigned m, unsigned d, int h, int min = 0) {
  const std::chrono::sys_days day{std::chrono::year{y} / std::chrono::month{m} / d};
  return day.time_since_epoch().count() * 86'400 + h * 3600 + min * 60;
}

std::vector<OffsetChange> Changes(const char* footer, int year) {
  auto tz = ParsePosixTz(footer);
  INFO(footer << ": " << tz.status().ToString());
  REQUIRE(tz.ok());
  return PosixTzChanges(*tz, year, year);
}

// A minimal TZif file: one local time type, no transitions, then `footer` when version != 0.
std::string Tzif(char version, const std::string& footer) {
  auto header = [version] {
    std::string h = "TZif";
    h += version;
    h += std::string(15, '\0');
    const char counts[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4};
    return h + std::string(counts, sizeof counts);  // isut, isstd, leap, time: 0; type 1; char 4
  };
  const std::string block = std::string("\0\0\0\0\0\0UTC\0", 10);  // utoff 0, isdst 0, "UTC"
  std::string s = header() + block;
  if (version != '\0') s += header() + block + "\n" + footer + "\n";
  return s;
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/procedo-tzif-XXXXXX";
    const int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    close(fd);
    path = name;
    std::ofstream(path, std::ios::binary) << content;
  }
  ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("POSIX TZ rules parse into offsets east of UTC and change dates", "[calendar][tz]") {
  auto rome = ParsePosixTz("CET-1CEST,M3.5.0,M10.5.0/3");
  REQUIRE(rome.ok());
  CHECK(rome->std_offset == 3600);
  CHECK(rome->has_dst);
  CHECK(rome->dst_offset == 7200);  // no DST offset written: one hour ahead of standard time
  CHECK(rome->dst_start.kind == PosixTz::When::Kind::kMonthWeek);
  CHECK((rome->dst_start.month == 3 && rome->dst_start.week == 5 && rome->dst_start.day == 0));
  CHECK(rome->dst_start.time == 2 * 3600);  // the default
  CHECK(rome->dst_end.time == 3 * 3600);

  auto tokyo = ParsePosixTz("JST-9");
  REQUIRE(tokyo.ok());
  CHECK(tokyo->std_offset == 9 * 3600);
  CHECK_FALSE(tokyo->has_dst);
  CHECK(ParsePosixTz("UTC0")->std_offset == 0);
  CHECK(ParsePosixTz("<-03>3")->std_offset == -3 * 3600);

  auto chatham = ParsePosixTz("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45");
  REQUIRE(chatham.ok());
  CHECK(chatham->std_offset == 12 * 3600 + 45 * 60);
  CHECK(chatham->dst_offset == 13 * 3600 + 45 * 60);
  CHECK(chatham->dst_end.time == 3 * 3600 + 45 * 60);
  auto howe = ParsePosixTz("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
  REQUIRE(howe.ok());
  CHECK(howe->dst_offset == 11 * 3600);                                // DST is 30 minutes ahead
  CHECK(ParsePosixTz("IST-1GMT0,M10.5.0,M3.5.0/1")->dst_offset == 0);  // Dublin: DST in winter
  // RFC 8536 version 3: times beyond 24 h and negative ones.
  CHECK(ParsePosixTz("IST-2IDT,M3.4.4/26,M10.5.0")->dst_start.time == 26 * 3600);
  CHECK(ParsePosixTz("<-02>2<-01>,M3.5.0/-1,M10.5.0/0")->dst_start.time == -3600);
  CHECK(ParsePosixTz("EST5EDT,0/0,J365/167:59:59")->dst_end.time == 167 * 3600 + 59 * 60 + 59);
  auto julian = ParsePosixTz("XXX3YYY,J60/1:30:15,300");
  REQUIRE(julian.ok());
  CHECK(julian->dst_start.kind == PosixTz::When::Kind::kJulian);
  CHECK(julian->dst_start.time == 5415);
  CHECK(julian->dst_end.kind == PosixTz::When::Kind::kZeroBased);
  CHECK(julian->dst_end.day == 300);
}

TEST_CASE("malformed POSIX TZ rules are errors, never a crash", "[calendar][tz]") {
  std::vector<std::string> bad = {"",         "CET",         "CET-",   "CE-1",  "CET-25",
                                  "CET-1:60", "CET-1:00:60", "<CET-1", "<C>-1", "<CE T>-1",
                                  "CET-0001", "CET-1 ",      "CET-1;"};
  bad.push_back("CET-99999999999999999999");
  // A DST name needs its dates; each date must be a valid day and time.
  for (const char* rule :
       {"", ",M3.5.0", ",M3.5.0,", ",M13.5.0,M10.5.0", ",M3.6.0,M10.5.0", ",M3.5.7,M10.5.0",
        ",M3.0.0,M10.5.0", ",J0,J365", ",J366,J1", ",366,1", ",M3.5.0/168,M10.5.0",
        ",M3.5.0/,M10.5.0", ";M3.5.0,M10.5.0", "-25,1,2", ",M3.5.0,M10.5.0/3junk"}) {
    bad.push_back(std::string("CET-1CEST") + rule);
  }
  for (const auto& text : bad) {
    INFO(text);
    auto r = ParsePosixTz(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().IsInvalidArgument());
    CHECK_THAT(r.status().message(), Catch::Contains("POSIX TZ"));
  }
  // Random strings over the rule's alphabet: every outcome is a value.
  std::mt19937 rng(7);
  const std::string alphabet = "CESTJM<>+-,./:0123456789\n";
  int parsed = 0;
  for (int i = 0; i < 50'000; ++i) {
    std::string s = i % 2 ? "CET-1CEST," : "";
    for (size_t n = rng() % 24; n > 0; --n) s += alphabet[rng() % alphabet.size()];
    auto r = ParsePosixTz(s);
    if (r.ok()) {
      ++parsed;
      (void)PosixTzChanges(*r, 2100, 2101);
    }
  }
  CHECK(parsed < 50'000);
}

TEST_CASE("the changes of a year follow the rule", "[calendar][tz]") {
  // Rome 2038: last Sunday of March (28) at 02:00 CET = 01:00Z; last Sunday of October (31) at
  // 03:00 CEST = 01:00Z.
  auto c = Changes("CET-1CEST,M3.5.0,M10.5.0/3", 2038);
  REQUIRE(c.size() == 2);
  CHECK((c[0].utc == Utc(2038, 3, 28, 1) && c[0].offset == 7200));
  CHECK((c[1].utc == Utc(2038, 10, 31, 1) && c[1].offset == 3600));
  // Sydney 2038: DST ends first, on the first Sunday of April (4) at 03:00 +11; it starts on the
  // first Sunday of October (3) at 02:00 +10.
  c = Changes("AEST-10AEDT,M10.1.0,M4.1.0/3", 2038);
  REQUIRE(c.size() == 2);
  CHECK((c[0].utc == Utc(2038, 4, 3, 16) && c[0].offset == 36000));
  CHECK((c[1].utc == Utc(2038, 10, 2, 16) && c[1].offset == 39600));
  // Jerusalem 2040: the fourth Thursday of March is the 22nd; 26:00 is Friday 02:00 +02.
  c = Changes("IST-2IDT,M3.4.4/26,M10.5.0", 2040);
  REQUIRE(c.size() == 2);
  CHECK(c[0].utc == Utc(2040, 3, 23, 0));
  // Nuuk 2040: -1:00 on Sunday 25 March is Saturday 23:00 at -02, 01:00Z.
  c = Changes("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", 2040);
  REQUIRE(c.size() == 2);
  CHECK((c[0].utc == Utc(2040, 3, 25, 1) && c[0].offset == -3600));
  CHECK((c[1].utc == Utc(2040, 10, 28, 1) && c[1].offset == -7200));
  // Dublin: "standard" IST in summer; its winter GMT is the DST of the rule.
  c = Changes("IST-1GMT0,M10.5.0,M3.5.0/1", 2040);
  REQUIRE(c.size() == 2);
  CHECK((c[0].utc == Utc(2040, 3, 25, 1) && c[0].offset == 3600));
  CHECK((c[1].utc == Utc(2040, 10, 28, 1) && c[1].offset == 0));
  // Week 5 of a month with four such weekdays: the last one. February 2100 has four Sundays, the
  // last on the 28th (2100 is not a leap year).
  c = Changes("XXX0YYY,M2.5.0/0,M11.1.0/0", 2100);
  CHECK(c[0].utc == Utc(2100, 2, 28, 0));
  // Jn never counts 29 February, n does: J60 is 1 March and 59 is 29 February in 2040. The end
  // comes first: 29 February 00:00 in DST (+01:00) is 28 February 23:00Z.
  c = Changes("XXX0YYY,J60/0,59/0", 2040);
  REQUIRE(c.size() == 2);
  CHECK((c[0].utc == Utc(2040, 2, 28, 23) && c[0].offset == 0));
  CHECK((c[1].utc == Utc(2040, 3, 1, 0) && c[1].offset == 3600));
  // DST all year (RFC 8536 section 3.3.1): each year's end meets the next start, end first.
  c = PosixTzChanges(*ParsePosixTz("EST5EDT,0/0,J365/25"), 2040, 2041);
  REQUIRE(c.size() == 4);
  CHECK((c[1].utc == Utc(2041, 1, 1, 5) && c[1].offset == -5 * 3600));
  CHECK((c[2].utc == Utc(2041, 1, 1, 5) && c[2].offset == -4 * 3600));
  CHECK(PosixTzChanges(*ParsePosixTz("JST-9"), 2040, 2041).empty());
}

TEST_CASE("the footer is read from the end of a TZif file", "[calendar][tz]") {
  auto rome = ReadTzifFooter("/usr/share/zoneinfo/Europe/Rome");
  INFO(rome.status().ToString());
  REQUIRE(rome.ok());
  CHECK(*rome == "CET-1CEST,M3.5.0,M10.5.0/3");

  TempFile v2(Tzif('2', "EST5EDT,M3.2.0,M11.1.0"));
  CHECK(*ReadTzifFooter(v2.path) == "EST5EDT,M3.2.0,M11.1.0");
  TempFile v1(Tzif('\0', ""));
  CHECK(*ReadTzifFooter(v1.path) == "");
  TempFile empty(Tzif('3', ""));
  CHECK(*ReadTzifFooter(empty.path) == "");
  // A footer that is no rule reads fine; it is the parser that refuses it.
  TempFile junk(Tzif('2', "\x01\xff garbage"));
  CHECK_FALSE(ParsePosixTz(*ReadTzifFooter(junk.path)).ok());

  const std::string good = Tzif('2', "UTC0");
  for (const std::string& bad :
       {std::string(), std::string("TZif2"), std::string("NotTZif") + good,
        good.substr(0, good.size() - 1), good.substr(0, 60), good.substr(0, good.size() - 6)}) {
    TempFile f(bad);
    auto r = ReadTzifFooter(f.path);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().IsInvalidArgument());
    CHECK_THAT(r.status().message(), Catch::Contains(f.path));
  }
  CHECK(ReadTzifFooter("/nonexistent/zone").status().IsInvalidArgument());
  CHECK(ReadTzifFooter("/usr/share/zoneinfo").status().IsInvalidArgument());
}

}  // namespace procedo
