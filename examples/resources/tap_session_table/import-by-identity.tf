import {
  to = tap_session_table.sessions
  identity = {
    name = "trading-sessions-prod"
    # region = "us-east-1" by default
  }
}
