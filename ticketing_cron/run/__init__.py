"""`ticketing-cron run`: one job's call, judged and recorded, its slot and its ping."""
