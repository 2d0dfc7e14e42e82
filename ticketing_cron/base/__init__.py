"""What every feature shares: errors, records, redaction, text, times, deadlines and
the journal catalog's message ids. Imports nothing else of the package."""
