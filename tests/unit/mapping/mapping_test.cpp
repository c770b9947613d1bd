// Mapping files are operators' data: every mistake is named with its place.
#include "mapping/mapping.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <functional>

#include "test_support.hpp"
#include "xml/xml.hpp"
#include "xmldsig/signature.hpp"

namespace nqs::mapping {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> problems_of(const std::string& yaml) {
  xmldsig::ensure_xml_security_initialised();
  test::TempDir dir;
  const auto file = dir.write("m.yaml", yaml);
  yaml::Diagnostics diagnostics;
  auto mapping = load_mapping(file, diagnostics);
  EXPECT_EQ(mapping == nullptr, !diagnostics.empty());
  std::vector<std::string> out;
  for (auto problem : diagnostics.problems()) {
    const auto prefix = dir.path().string() + "/";
    for (auto at = problem.find(prefix); at != std::string::npos; at = problem.find(prefix)) {
      problem.erase(at, prefix.size());
    }
    out.push_back(problem);
  }
  return out;
}

std::string header() {
  return "document: {namespace: 'urn:x', element: X}\n"
         "schema: " +
         test::source_path("xsd/voucher/sick-leave-notice.xsd").string() +
         "\n"
         "namespaces: {v: 'urn:x'}\n"
         "command: C\n"
         "signer: {holder: individual, identifier: iin, field: a}\n";
}

// A mapping of header() and these `fields` (YAML under "fields:"); null, with its problems
// reported, when it does not load.
std::shared_ptr<const DocumentMapping> mapping_of(const std::string& fields) {
  xmldsig::ensure_xml_security_initialised();
  test::TempDir dir;
  const auto file = dir.write("m.yaml", header() + "fields:\n" + fields);
  yaml::Diagnostics diagnostics;
  auto mapping = load_mapping(file, diagnostics);
  EXPECT_NE(mapping, nullptr) << test::join(diagnostics.problems());
  return mapping;
}

TEST(Mapping, TheShippedMappingsLoad) {
  xmldsig::ensure_xml_security_initialised();
  for (const char* name : {"voucher-application", "recognition-center-decision",
                           "sick-leave-notice", "recognition-outcome", "service-act"}) {
    yaml::Diagnostics diagnostics;
    auto mapping =
        load_mapping(test::source_path(std::string("mappings/") + name + ".yaml"), diagnostics);
    ASSERT_NE(mapping, nullptr) << name << "\n" << test::join(diagnostics.problems());
    EXPECT_EQ(mapping->ns, "urn:kz:enbek:nqs:voucher:1");
    EXPECT_FALSE(mapping->fields.empty());
  }
}

TEST(Mapping, XPathsMustStayInsideTheSignedElement) {
  EXPECT_THAT(
      problems_of(header() + "fields:\n"
                             "  a: {xpath: /soap:Envelope/v:Id, type: string}\n"
                             "  b: {xpath: ../v:Other, type: string}\n"
                             "  c: {xpath: \"id('app-1')\", type: string}\n"
                             "  d: {xpath: 'v:A[', type: string}\n"),
      ElementsAre("m.yaml:7:14: fields.a.xpath: the XPath must be relative to the document "
                  "element",
                  "m.yaml:8:14: fields.b.xpath: the XPath may not use '..': it must stay "
                  "inside the document element",
                  "m.yaml:9:14: fields.c.xpath: the XPath may not use 'id(': it must stay "
                  "inside the document element",
                  "m.yaml:10:14: fields.d.xpath: 'v:A[' is not a valid XPath 1.0 expression"));
}

TEST(Mapping, TypesChecksAndRulesAreChecked) {
  EXPECT_THAT(problems_of(header() + "fields:\n"
                                     "  a: {xpath: v:A, type: text}\n"
                                     "  b: {xpath: v:B, type: enum}\n"
                                     "  c: {xpath: v:C, type: list}\n"
                                     "  d: {xpath: v:D, type: string, check: luhn}\n"
                                     "  e: {xpath: v:E, type: string, optinal: true}\n"
                                     "rules:\n"
                                     "  - {rule: sum_of, list: x}\n"),
              ElementsAre(HasSubstr("fields.a.type: 'text' is not one of: string, date"),
                          HasSubstr("fields.b: an enum needs its values"),
                          HasSubstr("fields.c: a list needs items"),
                          HasSubstr("fields.d.check: 'luhn' is not one of: iin, bin, iban"),
                          HasSubstr("fields.e.optinal: unknown key, did you mean 'optional'?"),
                          HasSubstr("rules[0].rule: 'sum_of' is not one of: required_when")));
}

TEST(Mapping, MissingSchemaAndSections) {
  EXPECT_THAT(problems_of("document: {element: X}\nschema: nowhere.xsd\nfields: {}\n"),
              ElementsAre(HasSubstr("document.namespace: required key is missing"),
                          HasSubstr("schema: file not found"),
                          HasSubstr("command: required key is missing"),
                          HasSubstr("signer.field: required key is missing"),
                          HasSubstr("fields: a mapping needs at least one field")));
}

TEST(Mapping, PlainChildPathsAreWalkedAndEverythingElseLeftToXPath) {
  const auto mapping = mapping_of(
      "  a: {xpath: v:A, type: string}\n"
      "  b: {xpath: v:A/v:B_2.x-y, type: string}\n"
      "  c: {xpath: 'v:A[1]', type: string}\n"
      "  d: {xpath: v:A/text(), type: string}\n"
      "  e: {xpath: A, type: string}\n"
      "  f: {xpath: w:A, type: string}\n"
      "  g: {xpath: 'v:A / v:B', type: string}\n"
      "  h: {xpath: v:A//v:B, type: string}\n"
      "  i: {xpath: '*', type: string}\n");
  ASSERT_NE(mapping, nullptr);
  using Steps = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(mapping->fields[0].child_steps, (Steps{{"urn:x", "A"}}));
  EXPECT_EQ(mapping->fields[1].child_steps, (Steps{{"urn:x", "A"}, {"urn:x", "B_2.x-y"}}));
  for (std::size_t i = 2; i < mapping->fields.size(); ++i)
    EXPECT_TRUE(mapping->fields[i].child_steps.empty()) << mapping->fields[i].name;
}

// The element named by a mapping's document header, wherever it is in `node`.
xmlNode* document_element(xmlNode* node, const DocumentMapping& mapping) {
  for (; node != nullptr; node = node->next) {
    if (xml::is_element(node, mapping.ns, mapping.element)) return node;
    if (auto* found = document_element(node->children, mapping)) return found;
  }
  return nullptr;
}

std::string command_of(const DocumentMapping& mapping, xmlNode* document) {
  auto mapped = map_document(mapping, document, {});
  if (auto* rejection = std::get_if<Rejection>(&mapped)) return "refused: " + rejection->detail;
  return boost::json::serialize(std::get<boost::json::object>(mapped));
}

// The same of a document given as text, its root element mapped.
std::string command_of(const DocumentMapping& mapping, const std::string& text) {
  const xml::XmlDoc doc(
      xmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, nullptr, 0));
  return command_of(mapping, xmlDocGetRootElement(doc.get()));
}

// A refusal names the field where it stands in the command: nested objects with '.', list items
// with their index, walked or evaluated by XPath alike.
TEST(Mapping, ARefusalNamesTheFieldByItsPathInTheCommand) {
  const auto mapping = mapping_of(
      "  a: {xpath: v:A, type: string}\n"
      "  o:\n"
      "    n: {xpath: v:O/v:N, type: integer}\n"
      "    p: {xpath: 'v:O/v:P[1]', type: bool}\n"
      "  l:\n"
      "    xpath: v:L\n"
      "    type: list\n"
      "    items:\n"
      "      u: {xpath: v:U, type: integer}\n"
      "  s: {xpath: v:S, type: list, items: integer}\n");
  ASSERT_NE(mapping, nullptr);
  auto mapped = [&](const std::string& inside) {
    return command_of(*mapping, "<X xmlns='urn:x'>" + inside + "</X>");
  };
  const std::string a = "<A>a</A>";
  const std::string o = "<O><N>1</N><P>1</P></O>";
  EXPECT_EQ(mapped(o), "refused: a: required element v:A is missing");
  EXPECT_EQ(mapped(a + "<O><N>x</N><P>true</P></O>"), "refused: o.n: 'x' is not a whole number");
  EXPECT_EQ(mapped(a + "<O><N>1</N><P>yes</P></O>"), "refused: o.p: 'yes' is not true or false");
  EXPECT_EQ(mapped(a + o + "<L><U>1</U></L><L><U>2</U><U>3</U></L>"),
            "refused: l[1].u: 2 elements match v:U; exactly one is expected");
  EXPECT_EQ(mapped(a + o + "<L><U>1</U></L><S>1</S><S>z</S>"),
            "refused: s[1]: 'z' is not a whole number");
  EXPECT_EQ(mapped(a + o + "<L><U>1</U></L><S>1</S>"),
            R"({"a":"a","o":{"n":1,"p":true},"l":[{"u":1}],"s":[1]})");
}

// Attributes of the signed element and of what it holds are inside it; XPath's namespace nodes
// are copies of no element of the document: a mapping may not name them.
TEST(Mapping, AttributesOfTheSignedElementAreInsideIt) {
  const auto mapping = mapping_of(
      "  id: {xpath: '@Id', type: string}\n"
      "  k: {xpath: 'v:A/@k', type: string}\n");
  ASSERT_NE(mapping, nullptr);
  EXPECT_EQ(command_of(*mapping, std::string("<X xmlns='urn:x' Id='doc-1'><A k='value'>a</A></X>")),
            R"({"id":"doc-1","k":"value"})");
  EXPECT_THAT(problems_of(header() + "fields:\n  n: {xpath: 'namespace::*', type: string}\n"),
              ElementsAre(HasSubstr("the XPath may not use 'namespace::'")));
}

TEST(Mapping, WalkingTheTreeSelectsWhatXPathSelects) {
  xmldsig::ensure_xml_security_initialised();
  for (const char* name : {"voucher-application", "recognition-center-decision",
                           "sick-leave-notice", "recognition-outcome", "service-act"}) {
    yaml::Diagnostics diagnostics;
    const auto walked =
        load_mapping(test::source_path(std::string("mappings/") + name + ".yaml"), diagnostics);
    ASSERT_NE(walked, nullptr) << name;
    // The same mapping with every path evaluated by XPath.
    DocumentMapping evaluated = *walked;
    std::function<void(std::vector<FieldSpec>&)> clear = [&](std::vector<FieldSpec>& fields) {
      for (auto& field : fields) {
        field.child_steps.clear();
        clear(field.children);
      }
    };
    clear(evaluated.fields);
    const auto fixture =
        test::source_path(std::string("tests/fixtures/documents/") + name + ".xml");
    std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc(xmlReadFile(fixture.c_str(), nullptr, 0),
                                                       xmlFreeDoc);
    ASSERT_TRUE(doc) << name;
    xmlNode* document = document_element(xmlDocGetRootElement(doc.get()), *walked);
    ASSERT_NE(document, nullptr) << name;
    const auto command = command_of(*walked, document);
    EXPECT_EQ(command, command_of(evaluated, document)) << name;
    EXPECT_EQ(command.rfind("refused", 0), std::string::npos) << name << ": " << command;
    // Every element of the document twice: lists grow, single fields are refused alike.
    std::vector<xmlNode*> children;
    for (xmlNode* child = document->children; child != nullptr; child = child->next)
      children.push_back(child);
    for (xmlNode* child : children)
      xmlAddChild(document, xmlCopyNode(child, 1));
    EXPECT_EQ(command_of(*walked, document), command_of(evaluated, document)) << name;
  }
}

}  // namespace
}  // namespace nqs::mapping
