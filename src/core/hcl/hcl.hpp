#pragma once
// A formatting- and comment-preserving reader and writer for HCL2 native
// syntax (Terraform files). It finds blocks and attributes with their exact
// byte spans and edits the text in place, so a fix changes only what it
// must: every comment, blank line and expression elsewhere stays as written.

#include "core/result.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace infra::core::hcl {

struct Block;

/// name = expression, on one or more lines.
struct Attribute {
    std::string name;
    std::size_t line_start = 0;  ///< offset of the first character of its line
    std::size_t name_start = 0;
    std::size_t eq = 0;          ///< offset of '='
    std::size_t expr_start = 0;  ///< first character of the expression
    std::size_t expr_end = 0;    ///< one past its last character (before comments)
    std::size_t end = 0;         ///< one past the end of its line (after the newline)
    int line = 0;                ///< 1-based
    /// The expression as written.
    std::string_view expr(std::string_view text) const { return text.substr(expr_start, expr_end - expr_start); }
};

/// An item of a body: an attribute or a block.
struct Body {
    std::vector<Attribute> attributes;
    std::vector<Block> blocks;
    /// Attributes and blocks in source order: index into one of the lists
    /// (true: block).
    std::vector<std::pair<bool, std::size_t>> order;
};

/// type "label" "label" { body }
struct Block {
    std::string type;
    std::vector<std::string> labels;
    std::size_t line_start = 0;  ///< offset of the first character of its first line
    std::size_t open = 0;        ///< offset of '{'
    std::size_t close = 0;       ///< offset of the matching '}'
    std::size_t end = 0;         ///< one past the end of its last line
    int line = 0;                ///< 1-based line of the type
    int end_line = 0;            ///< 1-based line of the '}'
    std::string indent;          ///< whitespace before the type
    Body body;

    const Attribute* attribute(std::string_view name) const;
    const Block* block(std::string_view type) const;
    /// "aws_s3_bucket.logs" for a resource or data block.
    std::string address() const;
};

/// A parsed file: the text and its top-level body.
struct File {
    std::string text;
    Body body;

    /// The resource block with this address (type.name), if any.
    const Block* resource(std::string_view type, std::string_view name) const;
    /// Every resource block of a type.
    std::vector<const Block*> resources(std::string_view type) const;
};

/// Parses text; name is used in messages ("main.tf: line 3, column 7: ...").
Result<File> parse(std::string text, const std::string& name);

/// Edits collected against one parse and applied together, from the end of
/// the file backwards so that offsets stay valid.
class Editor {
public:
    explicit Editor(const File& file) : m_file(file) {}

    /// Sets an attribute of a block: replaces its expression, or adds a line
    /// before the block's closing brace (with the '=' aligned as terraform fmt does).
    void set(const Block& block, std::string_view name, std::string_view expr);
    /// Removes an attribute's lines.
    void remove(const Attribute& attr);
    /// Removes a nested block's lines.
    void remove(const Block& block);
    /// Replaces the text [start, end) with text.
    void replace(std::size_t start, std::size_t end, std::string text);
    /// Adds a nested block at the end of a block's body.
    void add_block(const Block& parent, std::string_view text);
    /// Adds top-level text (a new resource) after a block, separated by a blank line.
    void add_after(const Block& block, std::string_view text);

    /// The edited text, re-parsed to be sure it is still valid HCL.
    Result<std::string> apply(const std::string& name) const;

private:
    struct Edit {
        std::size_t start, end;
        std::string text;
    };
    const File& m_file;
    std::vector<Edit> m_edits;
};

/// Text of a block indented by indent (lines after the first also get it).
std::string indent_lines(std::string_view text, std::string_view indent);

}  // namespace infra::core::hcl
