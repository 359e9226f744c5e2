"""One clock: every "today" is the cluster's date (or a member's), never the machine's."""

from datetime import UTC, date, datetime

from journey.core.types import CLUSTER_TIMEZONE, today_in


def test_today_is_the_cluster_date_when_utc_is_still_on_the_day_before():
    late_evening_utc = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)
    assert CLUSTER_TIMEZONE == "Europe/Vilnius"  # UTC+2 in winter
    assert today_in(now=late_evening_utc) == date(2026, 11, 23)
    assert today_in("UTC", late_evening_utc) == date(2026, 11, 22)
    assert today_in("America/New_York", late_evening_utc) == date(2026, 11, 22)


def test_a_member_zone_counts_its_own_date():
    morning_utc = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
    assert today_in("Europe/Vilnius", morning_utc) == date(2026, 6, 1)
    assert today_in("America/Los_Angeles", morning_utc) == date(2026, 5, 31)
