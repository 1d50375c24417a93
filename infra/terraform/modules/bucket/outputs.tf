output "bucket_name" {
  description = "Name of the bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the bucket, for IAM policies."
  value       = aws_s3_bucket.this.arn
}

output "prefix" {
  description = "Key prefix the agents write under."
  value       = var.prefix
}

output "object_store_url" {
  description = "The agents' FLOE_OBJECT_STORE setting: s3://BUCKET/PREFIX."
  value       = "s3://${aws_s3_bucket.this.id}/${var.prefix}"
}

output "segments_prefix" {
  description = "Where segment files land: PREFIX/segments/<2 hex digits>/<segment id>.seg."
  value       = "${var.prefix}/segments/"
}
