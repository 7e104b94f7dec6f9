// Bytes from data files reach the terminal through printable(): control characters and bytes that are not
// UTF-8 are shown as \xNN, letters of any script pass unchanged.
#include <gtest/gtest.h>

#include "core/printable.h"

using namespace crowdrt;

TEST(Printable, PlainTextAndUtf8LettersPassUnchanged) {
  EXPECT_EQ(printable("seq_001/00001.jpg: not found"), "seq_001/00001.jpg: not found");
  EXPECT_EQ(printable("Zürich 東京 😀"), "Zürich 東京 😀");
  EXPECT_EQ(printable("a\\b"), "a\\b");
}

TEST(Printable, TerminalEscapesAndControlCharactersAreShownAsHex) {
  EXPECT_EQ(printable("seq\x1b[31mRED\x07"), "seq\\x1b[31mRED\\x07");
  EXPECT_EQ(printable("a\rb\tc\x7f"), "a\\x0db\\x09c\\x7f");
  EXPECT_EQ(printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("\xc2\x9b" "2J"), "\\xc2\\x9b2J");  // C1 CSI acts as ESC [ on some terminals
}

TEST(Printable, NewlinesAreEscapedInOneLineMessagesOnly) {
  EXPECT_EQ(printable("one\ntwo"), "one\\x0atwo");
  EXPECT_EQ(printable("one\ntwo", /*keep_newlines=*/true), "one\ntwo");
}

TEST(Printable, InvalidUtf8IsShownByteByByte) {
  EXPECT_EQ(printable("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(printable("\xc3"), "\\xc3");                    // cut sequence
  EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf");            // overlong '/'
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");   // surrogate
  EXPECT_EQ(printable("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
  EXPECT_EQ(printable("ok\xe6\x9d"), "ok\\xe6\\x9d");
}

TEST(Printable, ItsOutputIsPrintedUnchangedAgain) {
  const std::string once = printable("\x1b]0;title\x07\xff");
  EXPECT_EQ(printable(once), once);
}
