"""Meetings: scheduling, recurrence, join links, roles and attendance."""

from cloudlink.meetings.join_link import make_join_link, parse_join_link

__all__ = ["make_join_link", "parse_join_link"]
