#include "domain/calendars.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "engine/calendar/calendar_zone.h"

#include "domain/domain_paths.h"
#include "domain/holidays.h"

namespace procedo::domain {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kTenantsFile = "tenants.json";
constexpr const char* kWeekKeys[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

// valijson's draft-7 parser reads our 2020-12 files: they use only keywords both drafts share,
// and "$defs" is reached through plain JSON-pointer $refs.
struct CompiledSchema {
  json source;
  valijson::Schema schema;
};

const valijson::Schema& Compiled(const char* text, const char* name) {
  static std::map<std::string, std::unique_ptr<CompiledSchema>> cache;
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[name];
  if (!slot) {
    slot = std::make_unique<CompiledSchema>();
    slot->source = json::parse(text);
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(slot->source);
    parser.populateSchema(adapter, slot->schema);  // the embedded schemas are tested
  }
  return slot->schema;
}

std::string Hint(const std::string& pointer, const std::string& description) {
  const std::string last = pointer.substr(pointer.rfind('/') + 1);
  if (description.find("could not be validated") != std::string::npos ||
      description.find("additional") != std::string::npos) {
    return "remove the key or correct its spelling";
  }
  if (last == "open" || last == "close" || last == "non_working_day_receipt") {
    return "write a local time as HH:MM, e.g. 08:00 (a close may be 24:00)";
  }
  if (last == "patron_saint") return "write the day as MM-DD, e.g. 02-04";
  if (pointer.find("/extra_holidays") == 0) return "write a date as YYYY-MM-DD";
  if (last == "time_zone") return "write an IANA name such as Europe/Rome";
  if (last == "id") return "use lower-case letters, digits, '-' and '_', starting with a letter";
  return "see the schema for what is allowed here";
}

// The first violation, deepest first: valijson also reports each enclosing object.
Status Validate(const json& doc, const char* schema_text, const char* schema_name,
                const std::string& file) {
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(doc);
  if (validator.validate(Compiled(schema_text, schema_name), target, &results)) return Status::Ok();
  valijson::ValidationResults::Error error;
  std::string best_path;
  std::string best_description;
  size_t best_depth = 0;
  bool first = true;
  while (results.popError(error)) {
    std::string pointer;
    for (const auto& c : error.context) {
      if (c == "<root>") continue;
      std::string part = c;
      if (part.size() >= 2 && part.front() == '[' && part.back() == ']') {
        part = part.substr(1, part.size() - 2);
      }
      if (part.size() >= 2 && part.front() == '"' && part.back() == '"') {
        part = part.substr(1, part.size() - 2);
      }
      pointer += "/" + part;
    }
    if (first || error.context.size() > best_depth) {
      best_depth = error.context.size();
      best_path = pointer;
      best_description = error.description;
      first = false;
    }
  }
  return Status::InvalidArgument(fmt::format("{}: at {}: {}; {} ({})", file,
                                             best_path.empty() ? "/" : best_path, best_description,
                                             Hint(best_path, best_description), schema_name));
}

Result<json> ReadJson(const fs::path& path) {
  std::ifstream in(path);
  if (!in) {
    return Status::IoError(fmt::format("{}: cannot read the file", path.string()));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::parse_error& e) {
    return Status::InvalidArgument(
        fmt::format("{}: not valid JSON (byte {}): {}", path.string(), e.byte, e.what()));
  }
}

std::chrono::minutes ParseHourMinute(const std::string& s) {  // schema-checked HH:MM
  return std::chrono::minutes{std::stoi(s.substr(0, 2)) * 60 + std::stoi(s.substr(3, 2))};
}

Result<CalendarDefinition> ParseCalendar(const json& doc, const fs::path& path) {
  const std::string file = path.string();
  CalendarDefinition def;
  def.file = file;
  def.id = doc.at("id").get<std::string>();
  if (def.id != path.stem().string()) {
    return Status::InvalidArgument(
        fmt::format("{}: at /id: '{}' differs from the file name; name the file {}.json or set "
                    "\"id\": \"{}\"",
                    file, def.id, def.id, path.stem().string()));
  }
  def.description = doc.value("description", "");
  def.national_holidays = doc.value("national_holidays", true);
  def.patron_saint = doc.value("patron_saint", true);
  def.spec.name = def.id;
  def.spec.time_zone = doc.at("time_zone").get<std::string>();
  const auto& week = doc.at("week");
  for (size_t wd = 0; wd < 7; ++wd) {
    auto it = week.find(kWeekKeys[wd]);
    if (it == week.end()) continue;
    for (const auto& w : *it) {
      def.spec.windows[wd].push_back({ParseHourMinute(w.at("open").get<std::string>()),
                                      ParseHourMinute(w.at("close").get<std::string>())});
    }
  }
  if (doc.contains("non_working_day_receipt")) {
    def.spec.non_working_day_receipt =
        ParseHourMinute(doc.at("non_working_day_receipt").get<std::string>());
  }
  if (doc.contains("extra_holidays")) {
    size_t i = 0;
    for (const auto& d : doc.at("extra_holidays")) {
      auto date = ParseDate(d.get<std::string>());
      if (!date) {
        return Status::InvalidArgument(fmt::format(
            "{}: at /extra_holidays/{}: '{}' is not a date; write an existing YYYY-MM-DD", file, i,
            d.get<std::string>()));
      }
      def.spec.holidays.push_back(*date);
      ++i;
    }
  }
  // The engine checks the zone and the windows; its message gains the file's name.
  auto check = BusinessCalendar::Create(def.spec);
  if (!check.ok()) {
    return Status::InvalidArgument(fmt::format("{}: {}", file, check.status().message()));
  }
  return def;
}

Status ParseTenants(const json& doc, const std::string& file,
                    std::map<std::string, TenantCalendarInfo, std::less<>>* out) {
  for (const auto& [id, t] : doc.items()) {
    TenantCalendarInfo info;
    info.id = id;
    info.name = t.at("name").get<std::string>();
    info.patron_saint_name = t.value("patron_saint_name", "");
    info.region = t.value("region", "");
    info.office = t.value("office", json::object());
    info.time_zone = t.value("time_zone", std::string(kDefaultTimeZone));
    if (auto zone = ZoneTable::Get(info.time_zone); !zone.ok()) {
      return Status::InvalidArgument(fmt::format(
          "{}: at /{}/time_zone: '{}' is not a zone of the tz database; write an IANA name such "
          "as Europe/Rome",
          file, id, info.time_zone));
    }
    if (t.contains("patron_saint")) {
      const std::string s = t.at("patron_saint").get<std::string>();
      const std::chrono::month_day md{
          std::chrono::month{static_cast<unsigned>(std::stoi(s))},
          std::chrono::day{static_cast<unsigned>(std::stoi(s.substr(3)))}};
      if (!md.ok()) {
        return Status::InvalidArgument(fmt::format(
            "{}: at /{}/patron_saint: '{}' is not a day of the year; write MM-DD", file, id, s));
      }
      info.patron_saint = md;
    }
    out->emplace(id, std::move(info));
  }
  return Status::Ok();
}

}  // namespace

std::optional<std::chrono::year_month_day> ParseDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  auto num = [s](size_t pos, size_t n) {
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  const std::chrono::year_month_day d{std::chrono::year{num(0, 4)},
                                      std::chrono::month{static_cast<unsigned>(num(5, 2))},
                                      std::chrono::day{static_cast<unsigned>(num(8, 2))}};
  if (!d.ok()) return std::nullopt;
  return d;
}

std::string FormatDate(std::chrono::year_month_day d) {
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d.year()),
                     static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
}

Result<CalendarCatalog> CalendarCatalog::LoadDomain(const std::string& domain_dir) {
  return LoadDir(CalendarsDir(domain_dir));
}

Result<CalendarCatalog> CalendarCatalog::LoadDir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::NotFound(
        fmt::format("calendar directory '{}' does not exist; set domain_dir (PROCEDO_DOMAIN_DIR) "
                    "to the folder that "
                    "holds calendars/ (the repository's domain/)",
                    dir));
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  CalendarCatalog cat;
  cat.dir_ = dir;
  for (const auto& path : files) {
    auto doc = ReadJson(path);
    if (!doc.ok()) return doc.status();
    if (path.filename() == kTenantsFile) {
      auto s = Validate(*doc, CalendarTenantsSchemaText(), "schemas/calendar_tenants.schema.json",
                        path.string());
      if (s.ok()) s = ParseTenants(*doc, path.string(), &cat.tenants_);
      if (!s.ok()) return s;
      continue;
    }
    auto s = Validate(*doc, CalendarSchemaText(), "schemas/calendar.schema.json", path.string());
    if (!s.ok()) return s;
    auto def = ParseCalendar(*doc, path);
    if (!def.ok()) return def.status();
    cat.calendars_.emplace(def->id, std::move(def).value());
  }
  if (cat.calendars_.empty()) {
    return Status::NotFound(fmt::format("no calendar files (<id>.json) in '{}'", dir));
  }
  return cat;
}

const CalendarDefinition* CalendarCatalog::Find(std::string_view id) const {
  auto it = calendars_.find(id);
  return it == calendars_.end() ? nullptr : &it->second;
}

std::vector<TenantCalendarInfo> CalendarCatalog::Tenants() const {
  std::vector<TenantCalendarInfo> out;
  for (const auto& [id, t] : tenants_) out.push_back(t);
  return out;
}

const TenantCalendarInfo* CalendarCatalog::FindTenant(std::string_view id) const {
  auto it = tenants_.find(id);
  return it == tenants_.end() ? nullptr : &it->second;
}

std::vector<std::string> CalendarCatalog::Ids() const {
  std::vector<std::string> ids;
  for (const auto& [id, def] : calendars_) ids.push_back(id);
  return ids;
}

Result<BusinessCalendar> CalendarCatalog::Build(std::string_view id,
                                                std::string_view tenant) const {
  const CalendarDefinition* def = Find(id);
  if (def == nullptr) {
    std::string known;
    for (const auto& k : Ids()) known += (known.empty() ? "" : ", ") + k;
    return Status::NotFound(
        fmt::format("unknown calendar '{}'; the calendars in {} are: {}", id, dir_, known));
  }
  const TenantCalendarInfo* t = nullptr;
  if (!tenant.empty()) {
    t = FindTenant(tenant);
    if (t == nullptr) {
      return Status::NotFound(
          fmt::format("unknown tenant '{}'; add it with its patron saint to {}/{}", tenant, dir_,
                      kTenantsFile));
    }
  }
  CalendarSpec spec = def->spec;
  spec.name = tenant.empty() ? def->id : fmt::format("{}/{}", def->id, tenant);
  // Every year the engine can reach; holidays beyond its range are dropped there.
  for (int y = 1970; y <= 2199; ++y) {
    if (def->national_holidays) {
      for (const auto& h : ItalianNationalHolidays(y)) spec.holidays.push_back(h.date);
    }
    if (def->patron_saint && t != nullptr && t->patron_saint) {
      const std::chrono::year_month_day d =
          std::chrono::year{y} / t->patron_saint->month() / t->patron_saint->day();
      if (d.ok()) spec.holidays.push_back(d);  // 29 February only in leap years
    }
  }
  return BusinessCalendar::Create(spec);
}

}  // namespace procedo::domain
