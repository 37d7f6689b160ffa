#include "adapters/cli/serve_setup.h"

#include <fmt/format.h>

#include <filesystem>
#include <sstream>

#include "projections/reactors/erasure.h"
#include "projections/reactors/retention.h"
#include "projections/views/case_view_rendered.h"

namespace procedo::cli {

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto b = item.find_first_not_of(' '), e = item.find_last_not_of(' ');
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

Status CheckFaultPoints(const Config& cfg) {
  const std::vector<std::string> faults = SplitList(cfg.testing_fault_points);
#ifndef PROCEDO_FAULT_POINTS
  if (!faults.empty()) {
    return Status::InvalidArgument(
        "testing.fault_points is set, but this build has no fault points (they exist only in "
        "builds made with -DPROCEDO_FAULT_POINTS=ON for the tests); remove the setting");
  }
#else
  for (const auto& f : faults) {
    if (f != "notify.crash_after_send" && f != "mail.crash_after_file") {
      return Status::InvalidArgument(fmt::format(
          "testing.fault_points: unknown fault '{}'; the faults are: notify.crash_after_send, "
          "mail.crash_after_file",
          f));
    }
    fmt::print("procedo: WARNING: fault point {} is armed; never run production like this\n", f);
  }
#endif
  return Status::Ok();
}

PersonalReactors ServePersonalData(const Config& cfg, const PersonalKeys& personal,
                                   ViewStore& views, CommandHandler& commands,
                                   std::shared_ptr<const domain::Catalogue> catalogue,
                                   projections::Waiter& waiter) {
  PersonalReactors out;
  if (!personal.data) {
    fmt::print("procedo: personal data kept as given (set personal.master_key_file to seal it)\n");
    return out;
  }
  // A rendered case view is shown in two parts, its timeline's offset kept (case_view_rendered.h).
  views.ShowRowsWith([p = personal.data.get()](std::string& row) {
    if (!crypto::MayHoldPersonal(row)) return;
    auto show = [p](std::string& text) { p->ShowInPlace(text); };
    if (!projections::ShowRenderedRow(row, show)) show(row);
  });
  fmt::print("procedo: personal data sealed per data subject, keys beside the events in {}\n",
             std::filesystem::absolute(cfg.LogPath()).string());
  auto erasure = std::make_unique<projections::ErasureReactor>(commands.log(), *personal.keys);
  out.erasure = erasure.get();
  out.all.push_back(std::move(erasure));
  out.all.push_back(std::make_unique<projections::RetentionReactor>(commands, views,
                                                                    std::move(catalogue), waiter));
  return out;
}

}  // namespace procedo::cli
