resource "tap_regional_stack" "primary" {
  environment_suffix = "prod"
  role               = "primary"

  # Defaults for the primary, shown for reference.
  region          = "us-east-1"
  vpc_cidr        = "10.0.0.0/16"
  public_subnets  = ["10.0.1.0/24", "10.0.2.0/24"]
  private_subnets = ["10.0.11.0/24", "10.0.12.0/24"]
  nat_mode        = "single"
  allowed_cidrs   = ["0.0.0.0/0"]
}

resource "tap_regional_stack" "standby" {
  environment_suffix = "prod"
  role               = "standby" # us-east-2, 10.1.0.0/16
  nat_mode           = "per_az"
}
