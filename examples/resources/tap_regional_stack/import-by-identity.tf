import {
  to = tap_regional_stack.standby
  identity = {
    region             = "us-east-2"
    environment_suffix = "prod"
    role               = "standby" # default "primary"
  }
}
