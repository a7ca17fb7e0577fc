# Provider
provider "aws" {
  region = "ap-south-1"  # Change this to your preferred AWS region
}

resource "aws_s3_bucket" "security_logs" {
  bucket = "my-security-logs-${var.account_id}"
}

# Bucket policy: the account may read and write its logs.
resource "aws_s3_bucket_policy" "security_logs_policy" {
  bucket = aws_s3_bucket.security_logs.id
  policy = jsonencode({
    Statement = [{
      Action    = ["s3:GetObject", "s3:PutObject"]
      Effect    = "Allow"
      Principal = {
        AWS = "arn:aws:iam::${var.account_id}:root"
      }
      Resource = "arn:aws:s3:::${aws_s3_bucket.security_logs.id}/*"
    }]
    Version = "2012-10-17"
  })
}

variable "account_id" {
  description = "AWS account ID"
  type        = string
}

resource "aws_guardduty_detector" "gd" {
  enable = true
}

# IAM role for security audits
# (read-only access for the audit team)

resource "aws_iam_role" "security_audit_role" {
  name = "SecurityAuditRole"

  assume_role_policy = jsonencode({
    Version = "2012-10-17",
    Statement = [{
      Action = "sts:AssumeRole",
      Effect = "Allow",
      Principal = {
        AWS = "arn:aws:iam::${var.account_id}:root"
      }
    }]
  })

  tags = {
    Name        = "Security Audit Role"
    Environment = "Production"
  }
}
