// The numbers a person quotes on the phone and finds in every message (TCK-2026-000123): issued
// by the server per tenant and year, gap-free, from the log. Each number is a `number.assigned`
// event on a counter stream (`number-<tenant>-<series>-<year>`) whose stream version is the
// number, written in the same batch as the event that carries it, so one command stays one
// durable write and a number is never burnt.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "domain/calendars.h"
#include "engine/log/log_store.h"
#include "engine/workflow/workflow.h"

namespace procedo::domain {

// A series: tickets "TCK", administrative cases "PRA" (pratica).
inline constexpr std::string_view kTicketSeries = "TCK";
inline constexpr std::string_view kCaseSeries = "PRA";
// Households (nucleo familiare, seed 003): the server's number for a family, never its members'
// fiscal codes.
inline constexpr std::string_view kHouseholdSeries = "NUC";

struct IssuedNumber {
  std::string series;  // "TCK"
  int year = 0;
  uint64_t n = 0;
  std::string Text() const;  // "TCK-2026-000123"
};

// The counter stream of a series: "number-comune-forli-tck-2026".
std::string CounterStream(std::string_view tenant, std::string_view series, int year);

// The first number of `series` in `text` (a subject line: "Re: Ticket TCK-2026-000123 chiuso");
// nullopt when there is none. Tolerates any surrounding text and never reads past `text`.
std::optional<IssuedNumber> FindNumber(std::string_view text, std::string_view series);

// `text` exactly a number of `series` ("TCK-2026-000123"); nullopt for anything else.
std::optional<IssuedNumber> ParseNumber(std::string_view text, std::string_view series);

// The stream that holds `number` in `tenant`'s series: the counter event's `claimed_by`.
// NotFound when the tenant never issued it, so another tenant's number finds nothing.
Result<std::string> StreamOfNumber(const LogStore& log, std::string_view tenant,
                                   const IssuedNumber& number);

// A new stream id for a stream the server names: "<kind>-<tenant>-<24 hex>". With an
// idempotency key the id is derived from it, so that a retry of the same request meets the
// stream its first attempt created (and is answered from it) instead of creating another.
std::string NewStreamId(std::string_view kind, std::string_view tenant,
                        std::string_view idempotency_key);

// The allocators "ticket_number", "case_number" and "household_number": the year is the local year
// of the command's instant in the tenant's time zone (tenants.json `time_zone`, default
// Europe/Rome).
void RegisterNumberHooks(HookRegistry& hooks, std::shared_ptr<const CalendarCatalog> tenants);

}  // namespace procedo::domain
