"""`ticketing-cron import-env`: moving the Node.js app's .env into config and secret."""
