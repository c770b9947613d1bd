// The hostile-XML layer on its own: the structure scan and the parser, without intake around them.
#include "xml/xml.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "xml/xml_limits.hpp"

namespace nqs::xml {
namespace {

using ::testing::HasSubstr;

std::string nested(int depth) {
  std::string out;
  for (int i = 0; i < depth; ++i)
    out += "<d>";
  for (int i = 0; i < depth; ++i)
    out += "</d>";
  return out;
}

TEST(XmlLimits, TheScanNamesTheFirstLimitExceededAndWhere) {
  XmlLimits limits;
  EXPECT_EQ(exceeds_limits(nested(64), limits), std::nullopt);
  EXPECT_THAT(exceeds_limits(nested(65), limits).value_or(""),
              HasSubstr("elements nested deeper than 64"));
  limits.max_depth = 3;
  EXPECT_THAT(exceeds_limits(nested(4), limits).value_or(""),
              HasSubstr("elements nested deeper than 3"));
  std::string attributes = "<a";
  for (int i = 0; i < 5; ++i)
    attributes += " x" + std::to_string(i) + "=\"v\"";
  attributes += "/>";
  limits.max_attributes = 4;
  EXPECT_THAT(exceeds_limits(attributes, limits).value_or(""),
              HasSubstr("the element a has more than 4 attributes at line 1"));
  // Markup inside comments, CDATA and attribute values is text, not structure.
  limits = XmlLimits{};
  limits.max_elements = 2;
  EXPECT_EQ(
      exceeds_limits("<r><!-- <a/><b/><c/> --><![CDATA[<a/><b/>]]><e k=\"<a/>\"/></r>", limits),
      std::nullopt);
  EXPECT_THAT(exceeds_limits("<r><a/><b/></r>", limits).value_or(""),
              HasSubstr("more than 2 elements"));
}

// The line named is where the offending tag, text, comment or value begins, however many lines
// come before it or inside it.
TEST(XmlLimits, TheLineNamedIsWhereTheOffenceBegins) {
  XmlLimits limits;
  limits.max_attributes = 2;
  EXPECT_THAT(
      exceeds_limits("<r>\n<!-- a\ncomment -->\n  <e\n a=\"1\"\n b=\"2\"\n c=\"3\"/></r>", limits)
          .value_or(""),
      HasSubstr("the element e has more than 2 attributes at line 4"));
  limits = XmlLimits{};
  limits.max_text_bytes = 8;
  EXPECT_THAT(
      exceeds_limits("<r>\n<a>short</a>\n<b>\nlonger than eight</b></r>", limits).value_or(""),
      HasSubstr("a text node of 18 bytes; at most 8 are accepted at line 3"));
  EXPECT_THAT(
      exceeds_limits("<r>\n\n<a k=\"ok\"\n  v=\"a value too long\"/></r>", limits).value_or(""),
      HasSubstr("an attribute value of 16 bytes; at most 8 are accepted at line 4"));
  EXPECT_THAT(exceeds_limits("<r>\n<!-- a comment of some length --></r>", limits).value_or(""),
              HasSubstr("a comment of 30 bytes; at most 8 are accepted at line 2"));
  limits = XmlLimits{};
  limits.max_depth = 2;
  EXPECT_THAT(exceeds_limits("<r>\n<a>\n\n<b></b></a></r>", limits).value_or(""),
              HasSubstr("elements nested deeper than 2 at line 4"));
}

// What follows '<' tells the markup apart: each kind is measured as its own, a DOCTYPE ends the
// scan (the parser refuses it), and markup cut short leaves the verdict to the parser.
TEST(XmlLimits, EachKindOfMarkupIsToldByWhatFollowsItsLessThan) {
  XmlLimits limits;
  limits.max_text_bytes = 8;
  EXPECT_THAT(exceeds_limits("<r><?pi a longer instruction?></r>", limits).value_or(""),
              HasSubstr("a processing instruction of"));
  EXPECT_THAT(exceeds_limits("<r><![CDATA[a longer section]]></r>", limits).value_or(""),
              HasSubstr("a CDATA section of"));
  EXPECT_THAT(exceeds_limits("<r><!--a longer comment--></r>", limits).value_or(""),
              HasSubstr("a comment of"));
  limits = XmlLimits{};
  limits.max_elements = 1;
  EXPECT_THAT(exceeds_limits("<r><a/></r>", limits).value_or(""),
              HasSubstr("more than 1 elements"));
  EXPECT_EQ(exceeds_limits("<!DOCTYPE r><r><a/></r>", limits), std::nullopt);
  EXPECT_EQ(exceeds_limits("<r><!x><a/></r>", limits), std::nullopt);
  EXPECT_EQ(exceeds_limits("<r></r", limits), std::nullopt);
  limits = XmlLimits{};
  limits.max_depth = 1;  // an end tag closes: two elements side by side are one deep
  EXPECT_EQ(exceeds_limits("<r></r><s></s>", limits), std::nullopt);
  EXPECT_EQ(exceeds_limits("<", limits), std::nullopt);
  EXPECT_EQ(exceeds_limits("<r><", limits), std::nullopt);
}

TEST(ParseHostileXml, EachReasonOfItsOwn) {
  auto reason_of = [](std::string_view bytes, std::size_t max_bytes = 1 << 20) {
    auto parsed = parse_hostile_xml(bytes, max_bytes);
    const auto* rejection = std::get_if<Rejection>(&parsed);
    return rejection == nullptr ? std::string("accepted") : std::string(code(rejection->reason));
  };
  EXPECT_EQ(reason_of("<r xmlns=\"urn:x\"><a>text &amp; more</a></r>"), "accepted");
  EXPECT_EQ(reason_of("<r>" + std::string(100, 'x') + "</r>", 64), "xml.too_large");
  EXPECT_EQ(reason_of(nested(65)), "xml.too_complex");
  EXPECT_EQ(reason_of("<r><a></r>"), "xml.malformed");
  EXPECT_EQ(reason_of("<r>\xC3\x28</r>"), "xml.malformed");
  EXPECT_EQ(reason_of("<!DOCTYPE r [<!ENTITY e \"x\">]><r>&e;</r>"), "xml.forbidden_construct");
  EXPECT_EQ(reason_of("<!DOCTYPE r SYSTEM \"http://127.0.0.1:1/r.dtd\"><r/>"),
            "xml.forbidden_construct");
}

// A thread's parser is reused: nothing of one message (a refusal, an error, a declared encoding)
// carries into the next, and the documents it gave stay whole when the parser is replaced.
TEST(ParseHostileXml, OneParserAThreadCarriesNothingFromOneMessageToTheNext) {
  auto parse = [](std::string_view bytes) { return parse_hostile_xml(bytes, 1 << 20); };
  auto accepted = [](const auto& parsed) { return std::holds_alternative<XmlDoc>(parsed); };
  auto message_of = [](const auto& parsed) {
    const auto* rejection = std::get_if<Rejection>(&parsed);
    return rejection == nullptr ? std::string("accepted") : rejection->detail;
  };
  auto first = parse("<r xmlns=\"urn:a\"><x>one</x></r>");
  ASSERT_TRUE(accepted(first)) << message_of(first);
  auto second = parse("<r xmlns=\"urn:b\"><y>two</y></r>");
  ASSERT_TRUE(accepted(second)) << message_of(second);
  const xmlDoc* one = std::get<XmlDoc>(first).get();
  EXPECT_EQ(one->dict, std::get<XmlDoc>(second)->dict)
      << "the parser (and its dictionary of names) is reused";

  EXPECT_FALSE(accepted(parse("<!DOCTYPE r [<!ENTITY e \"x\">]><r>&e;</r>")));
  EXPECT_THAT(message_of(parse("<r>\n\n<a></r>")), HasSubstr("at line 3"));
  EXPECT_THAT(message_of(parse("<r/>\n<r/>")), HasSubstr("at line 2"));
  EXPECT_FALSE(accepted(parse("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r/>")));
  auto third = parse("<r xmlns=\"urn:b\"><y>three</y></r>");
  ASSERT_TRUE(accepted(third)) << message_of(third);
  EXPECT_EQ(std::get<XmlDoc>(third)->encoding, nullptr);
  EXPECT_NE(std::get<XmlDoc>(third)->dict, one->dict) << "a parser that refused is not kept";

  // Messages of names never seen before: the dictionary is not kept past 20,000 names.
  const xmlDict* dict = std::get<XmlDoc>(third)->dict;
  int message = 0;
  for (; message < 40 && std::get<XmlDoc>(third)->dict == dict; ++message) {
    std::string names = "<r>";
    for (int i = 0; i < 1000; ++i)
      names += fmt::format("<n{}_{}/>", message, i);
    names += "</r>";
    third = parse(names);
    ASSERT_TRUE(accepted(third)) << message_of(third);
  }
  EXPECT_NE(std::get<XmlDoc>(third)->dict, dict) << "a parser that has seen too many names";
  EXPECT_GE(message, 20);
  const auto* root = xmlDocGetRootElement(one);
  EXPECT_EQ(qualified_name(root), "{urn:a}r");
  EXPECT_EQ(text_of(child_element(root, "urn:a", "x")), "one");
}

// libxml2 stops adding names to a dictionary at 10 MB: messages of a few names of 40,000 bytes
// each (well-formed, as long as libxml2 allows) must not fill the reused parser's dictionary and
// leave the thread unable to parse the next application.
TEST(ParseHostileXml, MessagesOfHugeNamesCannotFillTheThreadsDictionary) {
  for (int message = 0; message < 30; ++message) {
    std::string names = "<r>";
    for (int i = 0; i < 16; ++i)
      names += fmt::format("<n{}_{}{}/>", message, i, std::string(40000, 'x'));
    names += "</r>";
    auto parsed = parse_hostile_xml(names, 1 << 20);
    ASSERT_TRUE(std::holds_alternative<XmlDoc>(parsed))
        << message << ": " << std::get<Rejection>(parsed).detail;
  }
  auto next = parse_hostile_xml("<r xmlns=\"urn:a\"><fresh-name>ok</fresh-name></r>", 1 << 20);
  ASSERT_TRUE(std::holds_alternative<XmlDoc>(next)) << std::get<Rejection>(next).detail;
}

TEST(XmlHelpers, ElementsAreMatchedByNamespaceAndLocalName) {
  auto parsed = parse_hostile_xml(
      "<r xmlns=\"urn:a\" xmlns:b=\"urn:b\"><b:x>1</b:x><x>2</x><!-- c --><y>3</y></r>", 1 << 20);
  ASSERT_TRUE(std::holds_alternative<XmlDoc>(parsed));
  const auto* root = xmlDocGetRootElement(std::get<XmlDoc>(parsed).get());
  EXPECT_EQ(element_children(root).size(), 3U);
  const auto* x = child_element(root, "urn:a", "x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(text_of(x), "2");
  EXPECT_EQ(text_of(child_element(root, "urn:b", "x")), "1");
  EXPECT_EQ(child_element(root, "urn:c", "x"), nullptr);
  EXPECT_EQ(qualified_name(root), "{urn:a}r");
  // A name or namespace is matched whole: neither a prefix of it nor a longer one.
  EXPECT_TRUE(is_element(root, "urn:a", "r"));
  EXPECT_FALSE(is_element(root, "urn:a", ""));
  EXPECT_FALSE(is_element(root, "urn:a", "rr"));
  EXPECT_FALSE(is_element(root, "urn:", "r"));
  EXPECT_FALSE(is_element(root, "urn:ab", "r"));
  EXPECT_FALSE(is_element(root, "", "r"));
  EXPECT_FALSE(is_element(root, "urn:a", std::string_view("r\0", 2)));
  EXPECT_FALSE(is_element(root->children->next->next, "urn:a", "c"));  // the comment
  auto bare = parse_hostile_xml("<Signature/>", 1 << 20);
  ASSERT_TRUE(std::holds_alternative<XmlDoc>(bare));
  const auto* signature = xmlDocGetRootElement(std::get<XmlDoc>(bare).get());
  EXPECT_TRUE(is_element(signature, "", "Signature"));
  EXPECT_FALSE(is_element(signature, "", "Sig"));
  EXPECT_FALSE(is_element(signature, "urn:a", "Signature"));
}

// An element's text is all the text inside it, in order, however it is split.
TEST(XmlHelpers, TextOfAnElementIsAllItsText) {
  auto parsed = parse_hostile_xml(
      "<r><a>one</a><b>one<!-- c -->two</b><c><![CDATA[<x>]]></c><d>t<e>u</e>v</d><f/>"
      "<g>&lt;&amp;</g></r>",
      1 << 20);
  ASSERT_TRUE(std::holds_alternative<XmlDoc>(parsed));
  const auto children = element_children(xmlDocGetRootElement(std::get<XmlDoc>(parsed).get()));
  ASSERT_EQ(children.size(), 6U);
  EXPECT_EQ(text_of(children[0]), "one");
  EXPECT_EQ(text_of(children[1]), "onetwo");
  EXPECT_EQ(text_of(children[2]), "<x>");
  EXPECT_EQ(text_of(children[3]), "tuv");
  EXPECT_EQ(text_of(children[4]), "");
  EXPECT_EQ(text_of(children[5]), "<&");
  EXPECT_EQ(text_of(children[0]->children), "one");  // a text node itself
}

}  // namespace
}  // namespace nqs::xml
