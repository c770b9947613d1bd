// /metrics in the Prometheus text format, from prometheus-cpp's registry and serializer: what was
// counted, what is read at scrape time, label values escaped, families with nothing left out.
#include "ops/metrics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace nqs::ops {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Metrics, CountedInputsAndDurationsAppearWithTheirLabels) {
  Metrics metrics;
  metrics.input("nqs.gov.in", "VoucherApplication", "processed", "");
  metrics.input("nqs.gov.in", "VoucherApplication", "processed", "");
  metrics.input("nqs.ais.events", "", "rejected", "json.invalid");
  metrics.duplicate("nqs.gov.in");
  metrics.end_to_end_seconds(0.02);
  metrics.end_to_end_seconds(3);
  metrics.commit(0.0004, 1);
  metrics.commit(0.003, 12);
  metrics.sla_steps({"lmc_payment", "center_review"});
  metrics.sla(true, "lmc_payment");
  const auto text = exposition(metrics.collect({}));
  EXPECT_THAT(text, HasSubstr("# TYPE nqs_inputs_total counter"));
  EXPECT_THAT(text, HasSubstr("nqs_inputs_total{document_type=\"VoucherApplication\",outcome="
                              "\"processed\",queue=\"nqs.gov.in\",reason=\"\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("nqs_inputs_total{document_type=\"\",outcome=\"rejected\",queue="
                              "\"nqs.ais.events\",reason=\"json.invalid\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("nqs_duplicates_total{queue=\"nqs.gov.in\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("nqs_sla_breaches_total{step=\"lmc_payment\"} 1\n"));
  // A step counted from 0 before its first breach (an alert on its increase sees that one).
  EXPECT_THAT(text, HasSubstr("nqs_sla_breaches_total{step=\"center_review\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("nqs_sla_warnings_total{step=\"lmc_payment\"} 0\n"));
  // Buckets are cumulative.
  EXPECT_THAT(text, HasSubstr("nqs_input_duration_seconds_bucket{le=\"0.025\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("nqs_input_duration_seconds_bucket{le=\"5\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("nqs_input_duration_seconds_count 2\n"));
  EXPECT_THAT(text, HasSubstr("nqs_commit_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("nqs_commit_duration_seconds_bucket{le=\"0.005\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("nqs_commit_inputs_bucket{le=\"1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("nqs_commit_inputs_bucket{le=\"8\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("nqs_commit_inputs_bucket{le=\"16\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("nqs_commit_inputs_sum 13\n"));
  EXPECT_THAT(text, HasSubstr("nqs_decided_again_total 0\n"));
}

TEST(Metrics, ScrapeTimeValuesAreReadFromTheGauges) {
  Metrics metrics;
  Gauges gauges;
  gauges.ready = true;
  gauges.outbox_pending = 7;
  gauges.broker_connected = true;
  gauges.broker_nodes = {{"127.0.0.1:5672", true}, {"127.0.0.1:5673", false}};
  gauges.queues = {{"nqs.gov.in", 3, 1, true}, {"nqs.gov.in.dlq", 0, 0, false}};
  const auto text = exposition(metrics.collect(gauges));
  EXPECT_THAT(text, HasSubstr("nqs_ready 1\n"));
  EXPECT_THAT(text, HasSubstr("nqs_outbox_pending 7\n"));
  EXPECT_THAT(text, HasSubstr("nqs_broker_connected{node=\"127.0.0.1:5672\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("nqs_broker_connected{node=\"127.0.0.1:5673\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("nqs_queue_messages{queue=\"nqs.gov.in\"} 3\n"));
  EXPECT_THAT(text, Not(HasSubstr("nqs.gov.in.dlq"))) << "a queue the poll could not read";
}

TEST(Metrics, LabelValuesAreEscapedAndEmptyFamiliesLeftOut) {
  Scrape scrape;
  scrape.family("nqs_crl_fetch_ok", "help", prometheus::MetricType::Gauge)
      .sample(1, {{"url", "http://x/\"a\"\\b\nc"}});
  scrape.family("nqs_crl_age_seconds", "nothing to say", prometheus::MetricType::Gauge);
  scrape.family("nqs_ocsp_request_seconds", "help", prometheus::MetricType::Summary)
      .summary(0.5, 4);
  const auto text = exposition(std::move(scrape).families());
  EXPECT_THAT(text, HasSubstr(R"(nqs_crl_fetch_ok{url="http://x/\"a\"\\b\nc"} 1)"));
  EXPECT_THAT(text, Not(HasSubstr("nqs_crl_age_seconds")));
  EXPECT_THAT(text, HasSubstr("nqs_ocsp_request_seconds_sum 0.5\n"));
  EXPECT_THAT(text, HasSubstr("nqs_ocsp_request_seconds_count 4\n"));
}

}  // namespace
}  // namespace nqs::ops
