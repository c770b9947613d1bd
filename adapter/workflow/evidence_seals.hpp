#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "calendar/working_calendar.hpp"
#include "common/instant.hpp"
#include "common/result.hpp"
#include "notify/signer.hpp"
#include "store/store.hpp"

namespace nqs::workflow {

// How long after a local day ends its records are sealed: a transaction that began before
// midnight commits its day's records first.
inline constexpr std::chrono::minutes kSealMargin{10};

// Seals, oldest first, each local day (by the calendar's time zone) that ended more than
// kSealMargin before `now`, has records and comes after the last day sealed: a signed seal of the
// day's records archived as a record of its own (evidence id seal:<day>), with an inbox entry of
// the same key, so that of two instances sealing at once one archives the seal and the other
// finds it there. Returns the days sealed by this call.
Result<std::vector<std::string>> seal_ended_days(store::Store& store, const notify::Signer& signer,
                                                 const calendar::WorkingCalendar& calendar,
                                                 Instant now);

}  // namespace nqs::workflow
