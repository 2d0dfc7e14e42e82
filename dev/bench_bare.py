"""The baseline for dev/bench: a bare urllib3 POST and JSON parse, nothing else."""

import json
import sys

import urllib3

url, secret_file = sys.argv[1], sys.argv[2]
with open(secret_file) as f:
    secret = f.read().strip()
response = urllib3.PoolManager().request(
    "POST", url, body=b"{}", headers={"x-cron-secret": secret,
                                      "Content-Type": "application/json"})
data = json.loads(response.data)
sys.exit(0 if response.status == 200 and data.get("success") is True else 1)
