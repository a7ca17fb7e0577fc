resource "aws_s3_bucket" "b" {
  bucket = "x" # name
  tags = { env = "prod" }
  dynamic "rule" {
    for_each = var.rules
    content { id = rule.value }
  }
}
