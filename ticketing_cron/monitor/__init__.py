"""Knowing that it works: the dead-man's ping, `ticketing-cron status`, journal message ids."""
