#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "calendar/working_calendar.hpp"
#include "common/reason.hpp"
#include "workflow/workflow.hpp"

// What the workflow's files share (workflow.cpp, signed_documents.cpp, acts_and_payments.cpp,
// ais_events.cpp, deadlines_and_timers.cpp): the fields of a mapped document, the rejection of an
// input about nothing known, and the effects of one input that moves several applications.
namespace nqs::workflow::detail {

// The text at `path` of a mapped document; empty if it is not there or not text.
std::string text_at(const boost::json::object& payload, std::string_view path);
// The date at `path` of a mapped document, if there is one.
std::optional<calendar::Date> date_at(const boost::json::object& payload, std::string_view path);
// An input about an application, voucher or act this adapter does not know.
Rejection unknown(std::string detail);
// Appends what `from` does to what `into` does: one input that moves several applications.
void absorb(Effects& into, Effects from);

}  // namespace nqs::workflow::detail
