# Session tables whose home is eu-west-1, at most 10.
list "tap_session_table" "eu" {
  provider = tap
  limit    = 10

  config {
    regions = ["eu-west-1"]
  }
}
