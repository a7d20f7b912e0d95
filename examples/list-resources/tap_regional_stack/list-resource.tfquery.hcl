# The regional stacks of one system, with their full objects.
list "tap_regional_stack" "prod" {
  provider         = tap
  include_resource = true

  config {
    environment_suffix = "prod"
  }
}
