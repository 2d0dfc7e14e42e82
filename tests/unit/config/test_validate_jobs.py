"""The [jobs.NAME] tables: schedule, timezone, deadline, names that become unit names."""

import pytest

from ticketing_cron.config.load import job_deadline
from ticketing_cron.config.validate import validate


def problems_of(jobs, api=None):
    problems = []
    config = validate({"api": {"base_url": "https://a.test", **(api or {})}, "jobs": jobs},
                      "/c.toml", problems)
    return config, problems


def test_a_scheduled_job():
    config, problems = problems_of({"daily-digest": {
        "path": "/api/cron/daily-digest", "schedule": "0 7 * * 1-5",
        "timezone": "Europe/Berlin", "deadline": 300}})
    assert problems == []
    job = config.jobs["daily-digest"]
    assert (job.schedule, job.timezone, job.deadline) == ("0 7 * * 1-5", "Europe/Berlin", 300)
    assert job_deadline(config, job) == 300


def test_defaults_sla_check_every_minute_others_by_hand_utc_api_deadline():
    config, problems = problems_of({"sla-check": {"path": "/s"}, "cleanup": {"path": "/c"}},
                                   api={"deadline": 20})
    assert problems == []
    assert config.jobs["sla-check"].schedule == "*-*-* *:*:00"
    assert config.jobs["cleanup"].schedule is None
    assert config.jobs["cleanup"].timezone == "UTC"
    assert job_deadline(config, config.jobs["cleanup"]) == 20


@pytest.mark.parametrize("name", ["Daily", "daily_digest", "-x", "dig est", "x.y", "é"])
def test_job_names_must_be_unit_name_safe(name):
    _, problems = problems_of({name: {"path": "/x"}})
    assert problems == [f"jobs.{name}: job names use lower-case letters, digits and -, "
                        f"starting with a letter or digit, at most 64 characters (they "
                        f"become unit names)"]


def test_job_names_are_at_most_64_characters():
    """Longer names broke unit names (ENAMETOOLONG in the generator, an OnFailure= that
    cannot resolve) and the alert path's trust in the run record."""
    good = "a" * 64
    config, problems = problems_of({good: {"path": "/x"}})
    assert problems == [] and good in config.jobs
    for name in ("a" * 65, "b" * 233, "c" * 5000):
        _, problems = problems_of({name: {"path": "/x"}})
        assert problems == [f"jobs.{name[:64]}: job names use lower-case letters, digits "
                            f"and -, starting with a letter or digit, at most 64 characters "
                            f"(they become unit names)"]


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "/etc/localtime",
                                  "Europe/../UTC", "Europe/Berlin\n", ""])
def test_time_zone_must_exist(zone):
    _, problems = problems_of({"j": {"path": "/x", "timezone": zone}})
    assert len(problems) == 1 and problems[0].startswith("jobs.j.timezone:")


@pytest.mark.parametrize("zone,fix", [("right/Europe/Berlin", "use 'Europe/Berlin'"),
                                      ("right/UTC", "use 'UTC'")])
def test_leap_second_zones_are_refused(zone, fix):
    """right/* files count leap seconds, which systemd's timers and Python's clock do
    not: every run would come 27 s late and get a catch-up key."""
    _, problems = problems_of({"j": {"path": "/x", "timezone": zone}})
    assert problems == [f"jobs.j.timezone: {zone!r} counts leap seconds, so the job's runs "
                        f"would come 27 s after the times its timer means and never claim "
                        f"their slot; {fix}"]


@pytest.mark.parametrize("zone,near", [("europe/berlin", "Europe/Berlin"),
                                       ("Europe/Berln", "Europe/Berlin"),
                                       ("America/New_Yrok", "America/New_York")])
def test_a_mistyped_time_zone_gets_the_close_name(zone, near):
    _, problems = problems_of({"j": {"path": "/x", "timezone": zone}})
    assert len(problems) == 1 and problems[0].endswith(f"did you mean {near!r}?")


def test_a_time_zone_with_no_close_name_gets_an_example():
    _, problems = problems_of({"j": {"path": "/x", "timezone": "Mars/Olympus_Mons"}})
    assert problems[0].endswith('use an IANA name such as "Europe/Berlin"')


@pytest.mark.parametrize("schedule", ["0 7 * * *\nExecStart=/bin/sh", "x" * 201, 5, "",
                                      "0 7 * * *\t# x"])
def test_schedule_cannot_smuggle_anything_into_a_unit_file(schedule):
    _, problems = problems_of({"j": {"path": "/x", "schedule": schedule}})
    assert len(problems) == 1 and problems[0].startswith("jobs.j.schedule:")


@pytest.mark.parametrize("deadline", [0, -1, 86401, "5m", True])
def test_job_deadline_bounds(deadline):
    _, problems = problems_of({"j": {"path": "/x", "deadline": deadline}})
    assert len(problems) == 1 and problems[0].startswith("jobs.j.deadline: must be")


def test_every_problem_of_a_job_is_reported_at_once():
    _, problems = problems_of({"j": {"path": "x", "schedule": "a\nb", "timezone": "Nowhere",
                                     "deadlin": 5}})
    assert [p.split(":")[0] for p in problems] == [
        "jobs.j.deadlin", "jobs.j.path", "jobs.j.schedule", "jobs.j.timezone"]


def test_ping_start_is_off_by_default_and_only_a_toml_boolean_turns_it_on():
    config, problems = problems_of({"sla-check": {"path": "/s"},
                                    "other": {"path": "/o", "ping_start": True}})
    assert problems == []
    assert config.jobs["sla-check"].ping_start is False
    assert config.jobs["other"].ping_start is True
    for value in ("yes", 1, "true", 0):
        _, problems = problems_of({"sla-check": {"path": "/s", "ping_start": value}})
        assert problems == [f"jobs.sla-check.ping_start: must be true or false, not {value!r}"]
