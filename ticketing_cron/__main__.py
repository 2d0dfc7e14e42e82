"""Entry point for ``python3 -m ticketing_cron``."""

import sys

from ticketing_cron.cli import main

sys.exit(main())
