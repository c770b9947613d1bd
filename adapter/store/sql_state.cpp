// The domain's state, timers and deadlines: what the workflow reads, and what an input's
// transaction writes, in the SQL both dialects understand.
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <tuple>

#include "store/sql_store.hpp"

namespace nqs::store {
namespace {

constexpr std::string_view kApplicationColumns =
    "application_id, iin, quota_year, region, stage, voucher_id, act_number, state, version, "
    "voucher_year";
constexpr std::string_view kDeadlineColumns =
    "application_id, step, responsible, basis, started_ms, due_ms, warned_ms, breached_ms, "
    "closed_ms";
// The stages of a refused application (domain::Stage): art. 3 counts every other one.
constexpr std::string_view kRefusedStages =
    "('refused_automatic', 'refused_career_center', 'refused_recognition_center')";
// How long a claimed timer is left to the instance that claimed it before another may fire it.
constexpr std::chrono::milliseconds kTimerLease{60000};

std::vector<TimerRow> timer_rows(const SqlRows& rows) {
  std::vector<TimerRow> out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out.push_back(TimerRow{rows.text(i, 0), rows.text(i, 1), rows.millis(i, 2).value_or(Instant{}),
                           rows.text(i, 3)});
  }
  return out;
}

std::vector<DeadlineRow> deadline_rows(const SqlRows& rows) {
  std::vector<DeadlineRow> out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out.push_back(DeadlineRow{rows.text(i, 0), rows.text(i, 1), rows.text(i, 2), rows.text(i, 3),
                              rows.millis(i, 4).value_or(Instant{}),
                              rows.millis(i, 5).value_or(Instant{}), rows.millis(i, 6),
                              rows.millis(i, 7), rows.millis(i, 8)});
  }
  return out;
}

// An error of a write, with what was being written.
Error writing(const Error& error, const std::string& what) {
  return make_error(fmt::format("{}: {}", what, error.message), error.kind);
}

}  // namespace

Result<std::vector<ApplicationRow>> SqlStore::applications_where(std::string_view condition,
                                                                 const SqlParams& params) {
  BOOST_OUTCOME_TRY(auto rows, driver_->run(fmt::format("SELECT {} FROM applications WHERE {}",
                                                        kApplicationColumns, condition),
                                            params, "reading applications"));
  std::vector<ApplicationRow> out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ApplicationRow row;
    row.application_id = rows.text(i, 0);
    row.iin = rows.text(i, 1);
    row.quota_year = static_cast<int>(rows.integer(i, 2));
    row.region = rows.text(i, 3);
    const auto stage = domain::stage_named(rows.text(i, 4));
    if (!stage) {
      return make_error(fmt::format("application {} has an unknown stage '{}'", row.application_id,
                                    rows.text(i, 4)));
    }
    row.stage = *stage;
    row.voucher_id = rows.text(i, 5);
    row.act_number = rows.text(i, 6);
    row.state_json = rows.text(i, 7);
    row.version = rows.integer(i, 8);
    if (!rows.is_null(i, 9)) row.voucher_year = static_cast<int>(rows.integer(i, 9));
    out.push_back(std::move(row));
  }
  return out;
}

Result<std::optional<ApplicationRow>> SqlStore::find_application(const std::string& id) {
  BOOST_OUTCOME_TRY(auto rows, applications_where("application_id = $1", SqlParams().text(id)));
  if (rows.empty()) return std::optional<ApplicationRow>{};
  return std::optional<ApplicationRow>{std::move(rows.front())};
}

Result<std::optional<ApplicationRow>> SqlStore::find_application_by_voucher(
    const std::string& voucher_id) {
  BOOST_OUTCOME_TRY(auto rows, applications_where("voucher_id = $1", SqlParams().text(voucher_id)));
  if (rows.empty()) return std::optional<ApplicationRow>{};
  return std::optional<ApplicationRow>{std::move(rows.front())};
}

Result<std::vector<ApplicationRow>> SqlStore::find_applications_by_act(
    const std::string& act_number) {
  return applications_where("act_number = $1 AND act_number <> '' ORDER BY application_id",
                            SqlParams().text(act_number));
}

Result<std::vector<ApplicationRow>> SqlStore::applications_of(const std::string& iin, int year) {
  return applications_where(
      fmt::format("iin = $1 AND quota_year = $2 AND stage NOT IN {} ORDER BY application_id",
                  kRefusedStages),
      SqlParams().text(iin).integer(year));
}

Result<std::int64_t> SqlStore::quota_left(const std::string& region, int year) {
  BOOST_OUTCOME_TRY(auto known, quota(region, year));
  return known ? known->allocated - known->reserved : 0;
}

Result<std::optional<Quota>> SqlStore::quota(const std::string& region, int year) {
  BOOST_OUTCOME_TRY(auto rows,
                    driver_->run("SELECT allocated, reserved, coalesce(pool_start, 0), "
                                 "coalesce(pool_end, 0) FROM quota WHERE region = $1 "
                                 "AND year = $2",
                                 SqlParams().text(region).integer(year), "reading the quota"));
  if (rows.empty()) return std::optional<Quota>{};
  return std::optional<Quota>{Quota{rows.integer(0, 0), rows.integer(0, 1),
                                    static_cast<int>(rows.integer(0, 2)),
                                    static_cast<int>(rows.integer(0, 3))}};
}

Result<std::vector<TimerRow>> SqlStore::due_timers(Instant now, std::size_t limit) {
  const auto count = static_cast<std::int64_t>(limit);
  if (!driver_->shared()) {
    BOOST_OUTCOME_TRY(
        auto rows, driver_->run("SELECT kind, subject, due_ms, payload FROM timers "
                                "WHERE due_ms <= $1 ORDER BY due_ms, kind, subject "
                                "LIMIT $2",
                                SqlParams().instant(now).integer(count), "reading the due timers"));
    return timer_rows(rows);
  }
  // Several instances: the due timers are claimed (FOR UPDATE SKIP LOCKED), so that two never
  // take the same ones, and left to the instance that claimed them for kTimerLease (then due
  // again, if it died before firing them).
  BOOST_OUTCOME_TRY(
      auto rows,
      driver_->run("UPDATE timers SET claimed_until_ms = $2 WHERE (kind, subject) IN (SELECT kind, "
                   "subject FROM timers WHERE due_ms <= $1 AND (claimed_until_ms IS NULL OR "
                   "claimed_until_ms <= $1) ORDER BY due_ms, kind, subject LIMIT $3 FOR UPDATE "
                   "SKIP LOCKED) RETURNING kind, subject, due_ms, payload",
                   SqlParams().instant(now).instant(now + kTimerLease).integer(count),
                   "claiming the due timers"));
  auto timers = timer_rows(rows);
  std::sort(timers.begin(), timers.end(), [](const TimerRow& a, const TimerRow& b) {
    return std::tie(a.due, a.kind, a.subject) < std::tie(b.due, b.kind, b.subject);
  });
  return timers;
}

// A claimed timer is due again when its claim ends (never claimed on a store of its own). Read
// after every commit that wrote a timer, so by indexes alone (migration 9): the first unclaimed
// one by timers_by_due, the claimed ones (a batch an instance) by timers_claimed.
const char* const SqlStore::kNextTimerDue =
    "SELECT min(due) FROM (SELECT due FROM (SELECT due_ms AS due FROM timers WHERE "
    "claimed_until_ms IS NULL ORDER BY due_ms LIMIT 1) AS unclaimed UNION ALL SELECT min(CASE "
    "WHEN claimed_until_ms > due_ms THEN claimed_until_ms ELSE due_ms END) FROM timers WHERE "
    "claimed_until_ms IS NOT NULL) AS due_times";

Result<std::optional<Instant>> SqlStore::next_timer_due() {
  BOOST_OUTCOME_TRY(auto rows, driver_->run(kNextTimerDue, {}, "reading the timers"));
  return rows.millis(0, 0);
}

Result<std::vector<TimerRow>> SqlStore::timers_of(const std::string& subject) {
  BOOST_OUTCOME_TRY(auto rows, driver_->run("SELECT kind, subject, due_ms, payload FROM timers "
                                            "WHERE subject = $1 ORDER BY due_ms, kind",
                                            SqlParams().text(subject), "reading the timers"));
  return timer_rows(rows);
}

Result<std::optional<DeadlineRow>> SqlStore::deadline(const std::string& application_id,
                                                      const std::string& step) {
  BOOST_OUTCOME_TRY(
      auto rows,
      driver_->run(fmt::format("SELECT {} FROM deadlines WHERE application_id = $1 AND step = $2",
                               kDeadlineColumns),
                   SqlParams().text(application_id).text(step), "reading the deadlines"));
  auto found = deadline_rows(rows);
  if (found.empty()) return std::optional<DeadlineRow>{};
  return std::optional<DeadlineRow>{std::move(found.front())};
}

Result<std::vector<DeadlineRow>> SqlStore::open_deadlines(std::optional<Instant> overdue_at,
                                                          std::size_t limit) {
  const auto before = overdue_at ? overdue_at->time_since_epoch().count()
                                 : std::numeric_limits<std::int64_t>::max();
  BOOST_OUTCOME_TRY(
      auto rows, driver_->run(fmt::format("SELECT {} FROM deadlines WHERE closed_ms "
                                          "IS NULL AND due_ms < $1 ORDER BY due_ms, "
                                          "application_id, step LIMIT $2",
                                          kDeadlineColumns),
                              SqlParams().integer(before).integer(static_cast<std::int64_t>(limit)),
                              "reading the deadlines"));
  return deadline_rows(rows);
}

Result<std::optional<UnemploymentRecord>> SqlStore::unemployment(const std::string& iin) {
  BOOST_OUTCOME_TRY(auto rows,
                    driver_->run("SELECT iin, registered, region, since, occurred_at "
                                 "FROM unemployment WHERE iin = $1",
                                 SqlParams().text(iin), "reading the unemployment register"));
  if (rows.empty()) return std::optional<UnemploymentRecord>{};
  return std::optional<UnemploymentRecord>{UnemploymentRecord{
      rows.text(0, 0), rows.integer(0, 1) != 0, rows.text(0, 2), rows.text(0, 3), rows.utc(0, 4)}};
}

Result<void> SqlStore::apply(const StateChanges& changes) {
  BOOST_OUTCOME_TRY(apply_applications(changes.applications));
  BOOST_OUTCOME_TRY(apply_quota(changes));
  for (const auto& record : changes.unemployment) {
    // Events may arrive out of order: an older one never overwrites a newer one.
    BOOST_OUTCOME_TRY(driver_->run(
        "INSERT INTO unemployment (iin, registered, region, since, occurred_at) VALUES ($1, $2, "
        "$3, $4, $5) ON CONFLICT (iin) DO UPDATE SET registered = excluded.registered, region = "
        "excluded.region, since = excluded.since, occurred_at = excluded.occurred_at WHERE "
        "excluded.occurred_at >= unemployment.occurred_at",
        SqlParams()
            .text(record.iin)
            .integer(record.registered ? 1 : 0)
            .text(record.region)
            .text(record.since)
            .text(to_utc_string(record.occurred_at)),
        "writing the unemployment register"));
  }
  BOOST_OUTCOME_TRY(apply_deadlines(changes));
  return apply_timers(changes);
}

Result<void> SqlStore::apply_applications(const std::vector<ApplicationRow>& rows) {
  for (const auto& row : rows) {
    // A new application is inserted; a known one is updated only from the version it was decided
    // on (several instances: the later writer fails and decides again).
    SqlParams params;
    params.text(row.application_id)
        .text(row.iin)
        .integer(row.quota_year)
        .text(row.region)
        .text(std::string(domain::stage_name(row.stage)))
        .text(row.voucher_id)
        .text(row.act_number)
        .text(row.state_json)
        .optional_integer(row.voucher_year);
    if (row.version != 0) params.integer(row.version);
    BOOST_OUTCOME_TRY(
        auto written,
        driver_->run(row.version == 0
                         ? "INSERT INTO applications (application_id, iin, quota_year, region, "
                           "stage, voucher_id, act_number, state, voucher_year, version) VALUES "
                           "($1, $2, $3, $4, $5, $6, $7, $8, $9, 1) ON CONFLICT (application_id) "
                           "DO NOTHING"
                         : "UPDATE applications SET iin = $2, quota_year = $3, region = $4, stage "
                           "= $5, voucher_id = $6, act_number = $7, state = $8, voucher_year = "
                           "$9, version = version + 1 WHERE application_id = $1 AND version = $10",
                     params, "writing an application"));
    if (written.changed() == 0) {
      return make_error(
          fmt::format("application {} changed since it was read (version {}): decided again",
                      row.application_id, row.version),
          Failure::conflict);
    }
  }
  return outcome::success();
}

Result<void> SqlStore::apply_quota(const StateChanges& changes) {
  for (const auto& allocation : changes.allocations) {
    // reserved < 0: keep the units reserved so far.
    auto written = driver_->run(
        "INSERT INTO quota (region, year, allocated, reserved, pool_start, pool_end) VALUES ($1, "
        "$2, $3, CASE WHEN CAST($4 AS BIGINT) < 0 THEN 0 ELSE CAST($4 AS BIGINT) END, "
        "NULLIF(CAST($5 AS INTEGER), 0), NULLIF(CAST($6 AS INTEGER), 0)) ON CONFLICT (region, "
        "year) DO UPDATE SET allocated = excluded.allocated, pool_start = excluded.pool_start, "
        "pool_end = excluded.pool_end, reserved = CASE WHEN CAST($4 AS BIGINT) < 0 THEN "
        "quota.reserved ELSE CAST($4 AS BIGINT) END",
        SqlParams()
            .text(allocation.region)
            .integer(allocation.year)
            .integer(allocation.allocated)
            .integer(allocation.reserved)
            .integer(allocation.pool_start)
            .integer(allocation.pool_end),
        "allocating");
    if (!written) {
      return writing(written.error(),
                     fmt::format("allocating {} vouchers to region {} for {} (fewer than already "
                                 "reserved?)",
                                 allocation.allocated, allocation.region, allocation.year));
    }
  }
  for (const auto& reservation : changes.reservations) {
    // The year's own row, or every row of the period whose total it shares. The CHECK constraint
    // refuses a reservation beyond the allocation: two applications cannot both take the last
    // unit, whatever their order (on PostgreSQL the row lock orders two instances).
    auto written = driver_->run(
        "UPDATE quota SET reserved = reserved + $1 WHERE region = $2 AND ((pool_start IS NULL "
        "AND year = $3) OR (pool_start <= $3 AND pool_end >= $3))",
        SqlParams().integer(reservation.delta).text(reservation.region).integer(reservation.year),
        "reserving");
    if (!written) {
      return writing(written.error(),
                     fmt::format("reserving {} of region {} for {}", reservation.delta,
                                 reservation.region, reservation.year));
    }
    if (written.value().changed() == 0) {
      return make_error(
          fmt::format("region {} has no allocation for {}", reservation.region, reservation.year),
          Failure::conflict);
    }
  }
  return outcome::success();
}

Result<void> SqlStore::apply_deadlines(const StateChanges& changes) {
  // Closed before the opened ones: a step may reopen.
  for (const auto& close : changes.closed_deadlines) {
    BOOST_OUTCOME_TRY(driver_->run(
        "UPDATE deadlines SET closed_ms = $1 WHERE application_id = $2 AND step = $3 AND "
        "closed_ms IS NULL",
        SqlParams().instant(close.at).text(close.application_id).text(close.step),
        "closing a deadline"));
  }
  for (const auto& row : changes.opened_deadlines) {
    BOOST_OUTCOME_TRY(driver_->run(
        "INSERT INTO deadlines (application_id, step, responsible, basis, started_ms, due_ms) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (application_id, step) DO UPDATE SET "
        "responsible = excluded.responsible, basis = excluded.basis, started_ms = "
        "excluded.started_ms, due_ms = excluded.due_ms, warned_ms = NULL, breached_ms = NULL, "
        "closed_ms = NULL",
        SqlParams()
            .text(row.application_id)
            .text(row.step)
            .text(row.responsible)
            .text(row.basis)
            .instant(row.started)
            .instant(row.due),
        "opening a deadline"));
  }
  for (const auto& mark : changes.marked_deadlines) {
    BOOST_OUTCOME_TRY(driver_->run(
        mark.breached ? "UPDATE deadlines SET breached_ms = $1 WHERE application_id = $2 AND "
                        "step = $3 AND started_ms = $4"
                      : "UPDATE deadlines SET warned_ms = $1 WHERE application_id = $2 AND step = "
                        "$3 AND started_ms = $4",
        SqlParams()
            .instant(mark.at)
            .text(mark.application_id)
            .text(mark.step)
            .instant(mark.started),
        "marking a deadline"));
  }
  return outcome::success();
}

Result<void> SqlStore::apply_timers(const StateChanges& changes) {
  // Cancellations first: a decision may cancel the timer that fired and set its successor.
  for (const auto& cancel : changes.cancelled_timers) {
    SqlParams params;
    params.text(cancel.kind).text(cancel.subject);
    if (cancel.due) params.instant(*cancel.due);
    BOOST_OUTCOME_TRY(driver_->run(
        cancel.due ? "DELETE FROM timers WHERE kind = $1 AND subject = $2 AND due_ms = $3"
                   : "DELETE FROM timers WHERE kind = $1 AND subject = $2",
        params, "removing a timer"));
  }
  for (const auto& timer : changes.timers) {
    BOOST_OUTCOME_TRY(driver_->run(
        "INSERT INTO timers (kind, subject, due_ms, payload) VALUES ($1, $2, $3, $4) ON CONFLICT "
        "(kind, subject) DO UPDATE SET due_ms = excluded.due_ms, payload = excluded.payload, "
        "claimed_until_ms = NULL",
        SqlParams().text(timer.kind).text(timer.subject).instant(timer.due).text(timer.payload),
        "writing a timer"));
  }
  return outcome::success();
}

}  // namespace nqs::store
