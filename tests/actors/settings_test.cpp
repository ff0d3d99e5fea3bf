#include <actors/settings.hpp>

#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace {

actors::settings make(std::vector<const char*> args, std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), "svc");
  return actors::settings{static_cast<int>(args.size()), args.data(), std::move(env)};
}

std::string failure_of(const actors::settings& s) {
  try {
    s.finish();
  } catch (const actors::settings_error& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(settings, flag_beats_environment_beats_default) {
  auto s = make({"--RabbitMQHost=flag-host"}, {{"RabbitMQHost", "env-host"}, {"RabbitMQPort", "5673"}});
  EXPECT_EQ(s.text("RabbitMQHost", "localhost", ""), "flag-host");
  EXPECT_EQ(s.port("RabbitMQPort", 5672, ""), 5673);
  EXPECT_EQ(s.text("CommandService", "http://x", ""), "http://x");
  EXPECT_NO_THROW(s.finish());
}

TEST(settings, aspnet_nesting_with_colon_or_double_underscore) {
  auto s = make({"--ConnectionStrings:PlatformsConn", "host=db password=secret"});
  EXPECT_EQ(s.connection_string("ConnectionStrings__PlatformsConn", "x", ""),
            "host=db password=secret");
  EXPECT_NO_THROW(s.finish());
}

TEST(settings, bad_values_name_the_setting_and_the_problem) {
  auto s = make({"--RabbitMQPort=70000", "--Timeout=soon"}, {{"Verbose", "maybe"}});
  s.port("RabbitMQPort", 5672, "");
  s.duration("Timeout", 1s, "");
  s.boolean("Verbose", false, "");
  auto msg = failure_of(s);
  EXPECT_NE(msg.find("RabbitMQPort='70000': out of range [1, 65535]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Timeout='soon': not a duration"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Verbose='maybe': not a boolean"), std::string::npos) << msg;
}

TEST(settings, unknown_flags_and_malformed_arguments_are_rejected) {
  auto s = make({"--Typo=1", "stray"});
  auto msg = failure_of(s);
  EXPECT_NE(msg.find("--Typo: unknown setting"), std::string::npos) << msg;
  EXPECT_NE(msg.find("argument 'stray'"), std::string::npos) << msg;
}

TEST(settings, empty_text_is_an_error) {
  auto s = make({"--RabbitMQHost="});
  s.text("RabbitMQHost", "localhost", "");
  EXPECT_NE(failure_of(s).find("RabbitMQHost='': must not be empty"), std::string::npos);
}

TEST(settings, secrets_are_masked_in_the_log_fields) {
  auto s = make({}, {{"Conn", "host=db user=u password=hunter2 dbname=p"},
                     {"Url", "amqp://user:hunter2@broker:5672/"},
                     {"Key", "hunter2"}});
  s.connection_string("Conn", "", "");
  s.connection_string("Url", "", "");
  s.secret("Key", "", "");
  for (auto& f : s.masked())
    EXPECT_EQ(f.value.find("hunter2"), std::string::npos) << f.key << "=" << f.value;
  EXPECT_EQ(s.masked()[0].value, "host=db user=u password=*** dbname=p");
}

TEST(settings, durations_and_integers_parse_strictly) {
  EXPECT_EQ(actors::parse_duration("250ms"), 250ms);
  EXPECT_EQ(actors::parse_duration("2s"), 2000ms);
  EXPECT_EQ(actors::parse_duration("5m"), 300'000ms);
  EXPECT_EQ(actors::parse_duration("40"), 40ms);
  EXPECT_FALSE(actors::parse_duration("-1s"));
  EXPECT_FALSE(actors::parse_duration("1.5s"));
  EXPECT_FALSE(actors::parse_integer("12abc"));
  EXPECT_FALSE(actors::parse_integer(""));
  EXPECT_EQ(actors::parse_integer("-7"), -7);
}

TEST(settings, choices_accept_only_the_listed_values) {
  auto s = make({"--Mode=fast"}, {{"Level", "warn"}});
  EXPECT_EQ(s.choice("Level", "info", {"info", "warn"}, ""), "warn");
  EXPECT_EQ(s.choice("Mode", "safe", {"safe", "careful"}, ""), "safe");
  EXPECT_NE(failure_of(s).find("Mode='fast': expected one of safe, careful"), std::string::npos);
}

TEST(settings, optional_text_may_be_unset_and_services_can_reject_values) {
  auto s = make({"--GrpcPlatform=nohost"});
  EXPECT_EQ(s.optional_text("CaFile", ""), "");
  s.reject("GrpcPlatform", s.text("GrpcPlatform", "x", ""), "has no host:port");
  EXPECT_NE(failure_of(s).find("GrpcPlatform='nohost': has no host:port"), std::string::npos);
}

TEST(settings, durations_print_in_their_largest_whole_unit) {
  EXPECT_EQ(actors::format_duration(250ms), "250ms");
  EXPECT_EQ(actors::format_duration(10'000ms), "10s");
  EXPECT_EQ(actors::format_duration(1500ms), "1500ms");
  EXPECT_EQ(actors::format_duration(300'000ms), "5m");
  EXPECT_EQ(actors::format_duration(7'200'000ms), "2h");
  EXPECT_EQ(actors::format_duration(0ms), "0ms");
  for (auto ms : {250ms, 10'000ms, 300'000ms, 7'200'000ms})
    EXPECT_EQ(actors::parse_duration(actors::format_duration(ms)), ms) << "reads back";
}

TEST(settings, usage_aligns_each_setting_with_its_type_default_and_environment_name) {
  auto s = make({"--help"});
  s.duration("ShutdownTimeout", 10s, "time to finish in-flight work");
  s.choice("LogLevel", "info", {"debug", "info"}, "minimum log level");
  s.integer("DatabasePoolSize", 4, 1, 64, "sessions");
  s.optional_text("GrpcCertificate", "PEM file");
  EXPECT_TRUE(s.help_requested());
  auto text = s.usage("svc");
  const std::string help_column(2 + std::string{"--DatabasePoolSize <integer 1..64>"}.size() + 2,
                                ' ');
  EXPECT_NE(text.find("  --ShutdownTimeout <duration>        time to finish in-flight work\n"
                      + help_column + "default: 10s, env: ShutdownTimeout\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("  --LogLevel <debug|info>             minimum log level\n"
                      + help_column + "default: info, env: LogLevel\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("  --DatabasePoolSize <integer 1..64>  sessions\n"
                      + help_column + "default: 4, env: DatabasePoolSize\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("  --GrpcCertificate <text>            PEM file\n"
                      + help_column + "default: none, env: GrpcCertificate\n"),
            std::string::npos) << text;
}

TEST(settings, version_is_a_request_not_a_setting) {
  auto s = make({"--version"});
  EXPECT_TRUE(s.version_requested());
  EXPECT_FALSE(s.help_requested());
  EXPECT_NO_THROW(s.finish());
}
