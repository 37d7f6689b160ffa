#pragma once

#include <string>

#include "bench/bench_util.h"

namespace procedo::bench {

int AppendCase(const std::string& name, int threads, const Limits& limits);
int AppendBatchCase(const Limits& limits);
int ReplayCase(const Limits& limits);
int RunCommandCase(const Limits& limits, const std::string& source_dir);
int HttpCases(const Limits& limits, bool get, bool command, bool page);
int KafkaCase(const Limits& limits, const std::string& source_dir);
int SlaCase(const Limits& limits, const std::string& source_dir);
int RunNotifyCase(const Limits& limits, const std::string& source_dir);
int RunMailCase(const Limits& limits, const std::string& source_dir);
int KbCase(const Limits& limits);
int BalanceCase(const Limits& limits, const std::string& source_dir);
int ImportCase(const Limits& limits, const std::string& source_dir);
int PaymentsCase(const Limits& limits, const std::string& source_dir);
int RebuildCase(const Limits& limits, const std::string& source_dir);
int CatchUpCase(const Limits& limits, const std::string& source_dir);
int PersonalCase(const Limits& limits, const std::string& source_dir);

}  // namespace procedo::bench
