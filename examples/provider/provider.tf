provider "tap" {
  # Global services (IAM, Route 53) and the default home region.
  region = "us-east-1"

  # Optional: deploy through a role.
  # assume_role {
  #   role_arn = "arn:aws:iam::123456789012:role/deploy"
  # }

  default_tags {
    tags = {
      Project = "trading-failover"
    }
  }
}
