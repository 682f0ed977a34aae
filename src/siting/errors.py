"""Errors meant for people.

A :class:`UserError` is a mistake in the user's inputs (missing file, wrong column,
bad scenario value, empty study area, CRS problem).  The CLI prints its message
and exits with status 2, without a traceback (``--debug`` shows it).  Every other
exception is an internal error and keeps its traceback.
"""
from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; the message says where and what to do."""

    exit_code = 2

    def __init__(self, message: str, *, source: str | None = None, hint: str | None = None):
        self.source = source
        self.hint = hint
        text = message
        if source:
            text = f"{source}: {text}"
        if hint:
            text = f"{text}\n  -> {hint}"
        super().__init__(text)


class ScenarioError(UserError):
    """The scenario file is invalid (unknown key, wrong type, bad value)."""


class DataError(UserError):
    """An input data file cannot be used as it is."""
