"""ticketing-cron: call a ticketing web app's cron endpoints from a systemd timer."""

__version__ = "0.2.0"
