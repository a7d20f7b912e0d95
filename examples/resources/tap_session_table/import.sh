# By table name (home region us-east-1):
terraform import tap_session_table.sessions trading-sessions-prod

# With another home region:
terraform import tap_session_table.sessions us-east-2/trading-sessions-prod
