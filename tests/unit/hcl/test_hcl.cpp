#include "core/hcl/hcl.hpp"
#include "support/fixtures.hpp"

#include <gtest/gtest.h>

#include <filesystem>

using namespace infra::core;
using infra::test::read_file;
using infra::test::sample;

TEST(Hcl, ParsesEveryCheckovFixture)
{
    int files = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(sample("terraform/checkov-fixtures"))) {
        if (e.path().extension() != ".tf") continue;
        auto f = hcl::parse(read_file(e.path()), e.path().string());
        ASSERT_TRUE(f) << f.error().message;
        EXPECT_FALSE(f->body.blocks.empty()) << e.path();
        ++files;
    }
    EXPECT_GE(files, 10);
}

TEST(Hcl, FindsBlocksAttributesAndSpans)
{
    std::string text = "# header comment\n"
                       "resource \"aws_s3_bucket\" \"data\" {\n"
                       "  bucket = \"my-${var.env}-data\" # trailing\n"
                       "  tags = {\n"
                       "    Name = \"x\"\n"
                       "  }\n"
                       "  policy = <<EOT\n"
                       "{\"a\": \"}\"}\n"
                       "EOT\n"
                       "  lifecycle_rule {\n"
                       "    enabled = true\n"
                       "  }\n"
                       "}\n"
                       "\n"
                       "variable \"env\" {}\n";
    auto f = hcl::parse(text, "main.tf");
    ASSERT_TRUE(f) << f.error().message;
    const auto* b = f->resource("aws_s3_bucket", "data");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->address(), "aws_s3_bucket.data");
    EXPECT_EQ(b->line, 2);
    EXPECT_EQ(b->end_line, 13);
    EXPECT_EQ(b->attribute("bucket")->expr(f->text), "\"my-${var.env}-data\"");
    EXPECT_EQ(b->attribute("tags")->expr(f->text), "{\n    Name = \"x\"\n  }");
    EXPECT_NE(b->attribute("policy")->expr(f->text).find("EOT"), std::string::npos);
    ASSERT_NE(b->block("lifecycle_rule"), nullptr);
    EXPECT_EQ(b->block("lifecycle_rule")->attribute("enabled")->expr(f->text), "true");
    EXPECT_EQ(f->body.blocks.size(), 2u);
}

TEST(Hcl, ErrorsNameTheLineAndColumn)
{
    auto f = hcl::parse("resource \"a\" \"b\" {\n  x = [1, 2\n", "bad.tf");
    ASSERT_FALSE(f);
    EXPECT_NE(f.error().message.find("cannot parse 'bad.tf': line"), std::string::npos) << f.error().message;
    auto g = hcl::parse("resource \"a\" \"b\" {\n  = 1\n}\n", "bad.tf");
    ASSERT_FALSE(g);
    EXPECT_NE(g.error().message.find("line 2, column 3: expected an attribute or a block"), std::string::npos)
        << g.error().message;
}

TEST(Hcl, EditsKeepEverythingElseAndAlignLikeTerraformFmt)
{
    std::string text = "# keep me\nresource \"aws_db_instance\" \"db\" {\n  engine   = \"postgres\" # why\n"
                       "  username = \"admin\"\n\n  tags = {\n    Team = \"x\"\n  }\n}\n";
    auto f = hcl::parse(text, "db.tf");
    ASSERT_TRUE(f);
    hcl::Editor ed(*f);
    const auto* db = f->resource("aws_db_instance", "db");
    ed.set(*db, "storage_encrypted", "true");
    ed.set(*db, "engine", "\"mysql\"");
    auto out = ed.apply("db.tf");
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(*out, "# keep me\nresource \"aws_db_instance\" \"db\" {\n  engine   = \"mysql\" # why\n"
                    "  username = \"admin\"\n\n  tags = {\n    Team = \"x\"\n  }\n  storage_encrypted = true\n}\n");
}

TEST(Hcl, AddsNestedAndTopLevelBlocks)
{
    std::string text = "resource \"aws_instance\" \"web\" {\n  ami = \"x\"\n}\n";
    auto f = hcl::parse(text, "i.tf");
    hcl::Editor ed(*f);
    const auto* web = f->resource("aws_instance", "web");
    ed.add_block(*web, "metadata_options {\n  http_tokens = \"required\"\n}\n");
    ed.add_after(*web, "resource \"aws_ebs_volume\" \"v\" {\n  size = 1\n  encrypted = true\n}\n");
    auto out = ed.apply("i.tf");
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(*out, "resource \"aws_instance\" \"web\" {\n  ami = \"x\"\n  metadata_options {\n    http_tokens = "
                    "\"required\"\n  }\n}\n"
                    "\nresource \"aws_ebs_volume\" \"v\" {\n  size      = 1\n  encrypted = true\n}\n");
}

TEST(Hcl, UntouchedBlocksKeepTheirOwnAlignment)
{
    std::string text = "resource \"a\" \"x\" {\n  k = 1\n  kk = 2\n}\nresource \"a\" \"y\" {\n  z = 1\n}\n";
    auto f = hcl::parse(text, "t.tf");
    hcl::Editor ed(*f);
    ed.set(*f->resource("a", "y"), "zz", "2");
    auto out = ed.apply("t.tf");
    ASSERT_TRUE(out);
    EXPECT_EQ(*out, "resource \"a\" \"x\" {\n  k = 1\n  kk = 2\n}\nresource \"a\" \"y\" {\n  z  = 1\n  zz = 2\n}\n");
}
