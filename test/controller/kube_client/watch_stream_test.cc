#include "cmesh/kube/watch_stream.h"

#include <gtest/gtest.h>

namespace cmesh::kube {
namespace {

TEST(WatchLineBuffer, LinesSplitAcrossChunks) {
  WatchLineBuffer buffer;
  std::string line;
  std::string a = "{\"type\":\"ADDED\"}";
  std::string b = "{\"type\":\"DELETED\"}";
  buffer.Append(a.data(), 5);
  EXPECT_FALSE(buffer.NextLine(&line));
  EXPECT_TRUE(buffer.HasPartialLine());
  std::string rest = a.substr(5) + "\n" + b.substr(0, 3);
  buffer.Append(rest.data(), rest.size());
  ASSERT_TRUE(buffer.NextLine(&line));
  EXPECT_EQ(line, a);
  EXPECT_FALSE(buffer.NextLine(&line));
  rest = b.substr(3) + "\r\n\n";
  buffer.Append(rest.data(), rest.size());
  ASSERT_TRUE(buffer.NextLine(&line));
  EXPECT_EQ(line, b);  // "\r" dropped
  ASSERT_TRUE(buffer.NextLine(&line));
  EXPECT_EQ(line, "");
  EXPECT_FALSE(buffer.NextLine(&line));
  EXPECT_FALSE(buffer.HasPartialLine());
}

TEST(DecodeWatchLine, EventTypes) {
  struct Case {
    const char* type;
    WatchEventType expected;
  };
  for (const Case& c : {Case{"ADDED", WatchEventType::kAdded}, Case{"MODIFIED", WatchEventType::kModified},
                        Case{"DELETED", WatchEventType::kDeleted}, Case{"BOOKMARK", WatchEventType::kBookmark}}) {
    std::string line = std::string("{\"type\":\"") + c.type + "\",\"object\":{\"metadata\":{\"resourceVersion\":\"7\"}}}";
    DecodedWatchLine decoded = DecodeWatchLine(line);
    ASSERT_EQ(decoded.kind, DecodedWatchLine::Kind::kEvent) << c.type;
    EXPECT_EQ(decoded.event.type, c.expected) << c.type;
    EXPECT_EQ(decoded.event.object["metadata"]["resourceVersion"], "7");
  }
}

TEST(DecodeWatchLine, ErrorCarriesTheStatus) {
  DecodedWatchLine decoded = DecodeWatchLine(
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}})");
  ASSERT_EQ(decoded.kind, DecodedWatchLine::Kind::kError);
  EXPECT_EQ(decoded.status["code"], 410);
  EXPECT_EQ(decoded.status["reason"], "Expired");
}

TEST(DecodeWatchLine, BlankAndInvalidLines) {
  EXPECT_EQ(DecodeWatchLine("").kind, DecodedWatchLine::Kind::kBlank);
  EXPECT_EQ(DecodeWatchLine("  \r").kind, DecodedWatchLine::Kind::kBlank);
  EXPECT_EQ(DecodeWatchLine("{\"type\":\"ADDED\"").kind, DecodedWatchLine::Kind::kInvalid);  // cut off
  EXPECT_EQ(DecodeWatchLine("[1,2]").kind, DecodedWatchLine::Kind::kInvalid);
  EXPECT_EQ(DecodeWatchLine(R"({"type":"ADDED"})").kind, DecodedWatchLine::Kind::kInvalid);  // no object
  DecodedWatchLine unknown = DecodeWatchLine(R"({"type":"RENAMED","object":{}})");
  EXPECT_EQ(unknown.kind, DecodedWatchLine::Kind::kInvalid);
  EXPECT_NE(unknown.problem.find("RENAMED"), std::string::npos);
}

}  // namespace
}  // namespace cmesh::kube
