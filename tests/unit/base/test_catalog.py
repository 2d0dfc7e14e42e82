"""Journal MESSAGE_IDs: one per outcome and alert kind, each explained by the catalog."""



from ticketing_cron.base import catalog as message_ids

NOW = 1_764_417_600.0  # 2025-11-29 12:00:00 UTC
PING = "https://hc-ping.com/3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60"
REQUEST_ID = "0123456789abcdef0123456789abcdef"


def test_every_outcome_and_alert_kind_has_its_own_message_id():
    from ticketing_cron.base.errors import EXIT_STATUS

    ids = list(message_ids.OUTCOME.values()) + list(message_ids.ALERT.values()) + \
        [message_ids.PING_FAILED]
    assert set(message_ids.OUTCOME) == set(EXIT_STATUS)
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_the_catalog_explains_every_message_id():
    from pathlib import Path

    catalog = (Path(__file__).resolve().parents[3] / "systemd" / "ticketing-cron.catalog")
    entries = {}
    for block in catalog.read_text().split("\n-- ")[1:]:
        head, _, text = block.partition("\n")
        entries[head.strip()] = text
    ids = set(message_ids.OUTCOME.values()) | set(message_ids.ALERT.values()) | \
        {message_ids.PING_FAILED}
    assert set(entries) == ids
    for text in entries.values():
        assert "\nDefined-By: ticketing-cron\n" in "\n" + text
        assert text.split("\n\n", 1)[1].strip(), "every entry explains what to do"
    assert "sha256sum" in entries[message_ids.OUTCOME["auth"]]
