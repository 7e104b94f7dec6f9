#include <gtest/gtest.h>

#include "core/error.h"
#include "data/annotations.h"

using namespace crowdrt;
using namespace crowdrt::data;

TEST(Annotations, ReadsFrameXYLinesGroupedByFrame) {
  const HeadsByFrame h = parse_annotations("1,10,20\n1,11.5,21\n3,5,6\n", "a.txt");
  ASSERT_EQ(h.size(), 2u);
  ASSERT_EQ(h.at(1).size(), 2u);
  EXPECT_DOUBLE_EQ(h.at(1)[1].x, 11.5);
  EXPECT_DOUBLE_EQ(h.at(3)[0].y, 6);
  EXPECT_EQ(h.count(2), 0u);
}

TEST(Annotations, CopesWithBomCrlfBlankLinesSpacesAndExtraColumns) {
  const HeadsByFrame h = parse_annotations("\xEF\xBB\xBF" "1,10,20\r\n\r\n  \n 2 , 3 ,4 ,0.9,person\r\n2,7,8", "a.txt");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.at(2).size(), 2u);
  EXPECT_DOUBLE_EQ(h.at(2)[0].x, 3);
  EXPECT_DOUBLE_EQ(h.at(2)[1].y, 8);
}

TEST(Annotations, EmptyFileMeansNoHeads) { EXPECT_TRUE(parse_annotations("", "a.txt").empty()); }

TEST(Annotations, MalformedLinesAreErrorsNamingFileAndLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"1,2,3\n1,2\n", "a.txt:2:"},          {"1,2,3\n\nx,2,3\n", "a.txt:3:"}, {"0,2,3\n", "a.txt:1:"},
      {"1,2,nan\n", "a.txt:1:"},            {"1,2,3e999\n", "a.txt:1:"},      {"1.5,2,3\n", "a.txt:1:"},
      {"frame,x,y\n1,2,3\n", "a.txt:1:"},   {"1,,3\n", "a.txt:1:"},           {"1 2 3\n", "a.txt:1:"},
      {"-1,2,3\n", "a.txt:1:"}};
  for (const auto& [text, where] : cases) {
    try {
      parse_annotations(text, "a.txt");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(where, 0), 0u) << e.what();
    }
  }
}
