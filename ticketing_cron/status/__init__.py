"""`ticketing-cron status`: each job's timer, last runs and health, from systemd and the
journal."""
