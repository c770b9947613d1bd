// xml::canonicalize with an apex (libxml2's walk starting at the rendered subtree) must render
// exactly what libxml2's walk through the whole document renders: checked on random documents
// made to stress what a subtree inherits (namespaces declared, redeclared and undeclared above
// it, xml:* attributes of its ancestors, comments and processing instructions beside it), for
// every element as the subtree, by each canonicalization the signature profile allows.
#include "xml/canonical.hpp"

#include <gtest/gtest.h>
#include <libxml/parser.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "xml/xml.hpp"

namespace nqs::xml {
namespace {

// The subtree of an element: what a reference by Id or ds:SignedInfo renders. It notes whether
// libxml2 asked about a node in `skipped`, when given.
struct Subtree {
  xmlNode* top = nullptr;
  const std::set<const void*>* skipped = nullptr;
  bool asked_about_skipped = false;
};

bool within(const xmlNode* tree, const xmlNode* at) {
  for (; at != nullptr && at->type == XML_ELEMENT_NODE; at = at->parent) {
    if (at == tree) return true;
  }
  return false;
}

int in_subtree(void* data, xmlNodePtr node, xmlNodePtr parent) {
  auto* subtree = static_cast<Subtree*>(data);
  if (subtree->skipped != nullptr && subtree->skipped->count(node) != 0) {
    subtree->asked_about_skipped = true;
  }
  return node == subtree->top || within(subtree->top, parent) ? 1 : 0;
}

// A random document: elements in no namespace, the default one or prefixes a, b and c, each
// perhaps declaring (or redeclaring, or undeclaring the default) namespaces, with attributes
// plain, prefixed and xml:*, text that canonicalization escapes, comments and PIs.
class Generator {
 public:
  explicit Generator(unsigned seed) : random_(seed) {}

  std::string document() {
    std::string out = pick(0, 1) ? "<?pi before?><!-- before -->" : "";
    element(out, 0, {});
    if (pick(0, 1)) out += "<!-- after --><?pi after?>";
    return out;
  }

 private:
  struct Scope {
    std::set<std::string> prefixes;  // bound in scope ("" for a non-empty default namespace)
  };

  int pick(int low, int high) { return std::uniform_int_distribution<int>(low, high)(random_); }

  void element(std::string& out, int depth, Scope scope) {
    std::string declarations;
    static const char* const kUris[] = {"urn:one", "urn:two", "http://example.kz/three"};
    for (const std::string prefix : {"", "a", "b", "c"}) {
      if (pick(0, 3) != 0) continue;
      const bool undeclare = prefix.empty() && pick(0, 2) == 0;
      declarations += prefix.empty() ? " xmlns=\"" : " xmlns:" + prefix + "=\"";
      declarations += undeclare ? "" : kUris[pick(0, 2)];
      declarations += "\"";
      if (undeclare) {
        scope.prefixes.erase("");
      } else {
        scope.prefixes.insert(prefix);
      }
    }
    std::vector<std::string> usable(scope.prefixes.begin(), scope.prefixes.end());
    std::string prefix;
    if (!usable.empty() && pick(0, 2) != 0) prefix = usable[pick(0, int(usable.size()) - 1)];
    const std::string name = (prefix.empty() ? "" : prefix + ":") + "e" + std::to_string(depth);
    out += "<" + name + declarations;
    if (pick(0, 2) == 0) out += " id=\"x&amp;&lt;&#9;&#10;&#13;\"";
    if (pick(0, 3) == 0) out += " xml:lang=\"kk\"";
    if (pick(0, 4) == 0) out += " xml:space=\"preserve\"";
    if (pick(0, 5) == 0) out += " xml:base=\"http://example.kz/base/\"";
    for (const auto& bound : usable) {
      if (!bound.empty() && pick(0, 3) == 0) out += " " + bound + ":at" + bound + "=\"v\"";
    }
    out += ">";
    const int children = depth < 4 ? pick(0, 3) : 0;
    for (int i = 0; i < children; ++i) {
      switch (pick(0, 4)) {
        case 0:
          out += "text &amp; &lt;&gt; &#13; \xD2\x9B ";
          break;
        case 1:
          out += "<!-- comment -->";
          break;
        case 2:
          out += "<?target data?>";
          break;
        default:
          element(out, depth + 1, scope);
      }
    }
    out += "</" + name + ">";
  }

  std::mt19937 random_;
};

XmlDoc parsed(const std::string& text) {
  return XmlDoc(xmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
}

struct Method {
  int mode;
  bool comments;
  std::vector<const char*> prefixes;  // exclusive c14n's InclusiveNamespaces
};

std::string rendered(xmlDoc* doc, Subtree& subtree, const Method& method, xmlNode* apex) {
  std::vector<xmlChar*> prefixes;
  for (const char* prefix : method.prefixes)
    prefixes.push_back(const_cast<xmlChar*>(as_xml(prefix)));
  prefixes.push_back(nullptr);
  const Canonicalization how{
      .is_visible = in_subtree,
      .visible_data = &subtree,
      .mode = method.mode,
      .inclusive_prefixes = method.prefixes.empty() ? nullptr : prefixes.data(),
      .comments = method.comments,
      .apex = apex};
  std::string out;
  EXPECT_TRUE(canonicalize(doc, how, out));
  return out;
}

// Every node of the tree from `node` (its siblings after it included) with its attributes.
void nodes_from(const xmlNode* node, std::set<const void*>& out) {
  for (; node != nullptr; node = node->next) {
    out.insert(node);
    for (const xmlAttr* attribute = node->type == XML_ELEMENT_NODE ? node->properties : nullptr;
         attribute != nullptr; attribute = attribute->next) {
      out.insert(attribute);
    }
    nodes_from(node->children, out);
  }
}

// What a walk from `top` leaves out: the nodes before it in document order that are not its
// ancestors (libxml2 reads those through parent links, for what `top` inherits).
std::set<const void*> skipped_by_walk_from(xmlDoc* doc, const xmlNode* top) {
  std::set<const void*> all;
  nodes_from(doc->children, all);
  std::set<const void*> walked;
  nodes_from(top, walked);
  for (const void* node : walked)
    all.erase(node);
  for (const xmlNode* at = top->parent; at != nullptr; at = at->parent)
    all.erase(at);
  return all;
}

TEST(Canonicalize, FromTheApexRendersWhatTheWholeWalkRenders) {
  const std::vector<Method> methods = {
      {XML_C14N_1_0, false, {}},
      {XML_C14N_1_0, true, {}},
      {XML_C14N_EXCLUSIVE_1_0, false, {}},
      {XML_C14N_EXCLUSIVE_1_0, true, {}},
      {XML_C14N_EXCLUSIVE_1_0, false, {"a", "#default"}},
      {XML_C14N_EXCLUSIVE_1_0, false, {"b", ""}},
  };
  int compared = 0;
  int below_root = 0;
  for (unsigned seed = 1; seed <= 300; ++seed) {
    const auto text = Generator(seed).document();
    SCOPED_TRACE(text);
    XmlDoc doc = parsed(text);
    ASSERT_TRUE(doc);
    xmlNode* const first = doc->children;
    std::vector<xmlNode*> elements;
    for_each_element(doc->children, [&](xmlNode* element) { elements.push_back(element); });
    for (xmlNode* top : elements) {
      const auto skipped = skipped_by_walk_from(doc.get(), top);
      for (const auto& method : methods) {
        Subtree whole{top};
        Subtree from_apex{top, &skipped};
        const auto expected = rendered(doc.get(), whole, method, nullptr);
        const auto actual = rendered(doc.get(), from_apex, method, top);
        ASSERT_EQ(actual, expected) << "subtree " << top->name << ", mode " << method.mode;
        // libxml2 started at the apex: it asked about nothing it was to leave out.
        ASSERT_FALSE(from_apex.asked_about_skipped);
        ASSERT_EQ(doc->children, first);
        below_root += top != elements.front() && !expected.empty() ? 1 : 0;
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 3000);
  EXPECT_GT(below_root, compared / 2);  // most renderings are of subtrees below the root
}

void quiet(void*, const char*, ...) {}

// What an apex changes: libxml2 refuses a relative namespace URI on any element it walks, and no
// longer walks those before the apex or above it.
TEST(Canonicalize, ARelativeNamespaceOutsideTheWalkIsNotSeen) {
  xmlSetGenericErrorFunc(nullptr, quiet);  // libxml2 prints its refusal otherwise
  const std::string text = R"(<r xmlns:rel="not/absolute"><before/><top><in/></top></r>)";
  XmlDoc doc = parsed(text);
  ASSERT_TRUE(doc);
  xmlNode* top = xmlDocGetRootElement(doc.get())->children->next;
  ASSERT_EQ(as_view(top->name), "top");
  Subtree subtree{top};
  Canonicalization how{
      .is_visible = in_subtree, .visible_data = &subtree, .mode = XML_C14N_EXCLUSIVE_1_0};
  std::string out;
  EXPECT_FALSE(canonicalize(doc.get(), how, out));
  how.apex = top;
  EXPECT_TRUE(canonicalize(doc.get(), how, out));
  EXPECT_EQ(out, "<top><in></in></top>");
  EXPECT_EQ(doc->children, xmlDocGetRootElement(doc.get()));

  // Refused inside the walk, the document is given back as it was.
  const std::string inside = R"(<r><before/><top xmlns:rel="not/absolute"><in/></top></r>)";
  XmlDoc refused = parsed(inside);
  ASSERT_TRUE(refused);
  xmlNode* const root = xmlDocGetRootElement(refused.get());
  Subtree refused_subtree{root->children->next};
  Canonicalization refused_how{.is_visible = in_subtree,
                               .visible_data = &refused_subtree,
                               .mode = XML_C14N_EXCLUSIVE_1_0,
                               .apex = refused_subtree.top};
  EXPECT_FALSE(canonicalize(refused.get(), refused_how, out));
  EXPECT_EQ(refused->children, root);
  // An apex of another document is refused before libxml2 starts.
  refused_how.apex = top;
  EXPECT_FALSE(canonicalize(refused.get(), refused_how, out));
  EXPECT_EQ(refused->children, root);
  xmlSetGenericErrorFunc(nullptr, nullptr);  // libxml2's own again
}

// declares_relative_namespace finds what libxml2's walk through the whole document refuses: each
// namespace URI below, declared (prefixed and as the default) on the root, on an element above
// another, on a leaf, on an element after the others (also after a climb of three levels past
// text, a comment and a PI), and on a root alone, gives the verdict of that walk.
TEST(Canonicalize, ARelativeNamespaceIsFoundWhereTheWholeWalkRefusesIt) {
  xmlSetGenericErrorFunc(nullptr, quiet);
  const std::vector<std::string> uris = {"not/absolute",
                                         "../up",
                                         "#fragment",
                                         "?query",
                                         "//host/path",
                                         "foo:bar",
                                         "mailto:someone@example.kz",
                                         "urn:kz:enbek:nqs",
                                         "URN:x",
                                         "dav:x",
                                         "DAV:",
                                         "http://www.w3.org/2000/09/xmldsig#",
                                         "http:relative",
                                         "file:///tmp/x",
                                         "https://h",
                                         "tag:example.kz,2026:x",
                                         "http://[::1",
                                         "%zz",
                                         "a b",
                                         "http://h/a b",
                                         "x:",
                                         "http://h:notaport/"};
  const std::vector<std::string> shapes = {R"(<r D><a><b/></a><c/></r>)",
                                           R"(<r><a D><b/></a><c/></r>)",
                                           R"(<r><a><b D/></a><c/></r>)",
                                           R"(<r><a><b/></a><c D/></r>)",
                                           R"(<r D/>)",
                                           R"(<r><a><b><x/>t</b></a>t<!--c--><?p i?><c D/>t</r>)"};
  int refused = 0;
  int rendered_whole = 0;
  for (const auto& uri : uris) {
    for (const auto& declaration : {"xmlns:p=\"" + uri + "\"", "xmlns=\"" + uri + "\""}) {
      for (const auto& shape : shapes) {
        auto text = shape;
        text.replace(text.find('D'), 1, declaration);
        SCOPED_TRACE(text);
        XmlDoc doc = parsed(text);
        ASSERT_TRUE(doc);
        Canonicalization whole{.mode = XML_C14N_EXCLUSIVE_1_0};
        std::string out;
        const bool walked = canonicalize(doc.get(), whole, out);
        EXPECT_EQ(declares_relative_namespace(doc.get()), !walked);
        (walked ? rendered_whole : refused) += 1;
      }
    }
  }
  // Both verdicts were given, and a document of absolute URIs alone passes.
  EXPECT_GT(refused, 0);
  EXPECT_GT(rendered_whole, 0);
  XmlDoc plain = parsed(R"(<r xmlns="urn:a"><a xmlns:p="http://h/p" xmlns=""/></r>)");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(declares_relative_namespace(plain.get()));
  xmlSetGenericErrorFunc(nullptr, nullptr);
}

}  // namespace
}  // namespace nqs::xml
