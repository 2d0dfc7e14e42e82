"""One POST to the app: name resolution, the connection, an attempt, retries."""
