"""Checks on names and labels that every side applies to input from outside."""

from __future__ import annotations

import re

MAX_LABEL_VALUE_BYTES = 1024
MAX_NAME_LENGTH = 128
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ValidationError(ValueError):
    """Input that breaks a naming or size rule; the message names the field."""


def check_identifier(field: str, value: str) -> str:
    """A host id, service name or token name: letters, digits, ``.``, ``_``, ``-``.

    No path separators, no control characters, at most 128 characters.
    """
    if not value:
        raise ValidationError(f"{field}: must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise ValidationError(f"{field}: longer than {MAX_NAME_LENGTH} characters")
    if not _ID.fullmatch(value):  # fullmatch: `$` would let a trailing newline through
        raise ValidationError(
            f"{field}: {value[:40]!r} may hold only letters, digits, '.', '_' and '-' and must start "
            "with a letter or digit"
        )
    return value


def check_version(version: str) -> str:
    """A version to deploy (it names a slot's release and a rollout's target):
    1 to 128 printable characters, no spaces, no slashes.
    """
    if (
        not version
        or len(version) > MAX_NAME_LENGTH
        or any(c in version for c in "/\\ ")
        or not version.isprintable()  # no control characters: \r, \n, \t, \x00, ...
    ):
        raise ValidationError(f"version {version!r}: must be 1 to 128 printable characters without spaces or slashes")
    return version


def check_metric_name(value: str) -> str:
    if not _METRIC_NAME.fullmatch(value):
        raise ValidationError(f"metric name {value[:60]!r} is not a valid Prometheus metric name")
    return value


def check_labels(field: str, labels: dict[str, str]) -> dict[str, str]:
    for name, val in labels.items():
        if not _LABEL_NAME.fullmatch(name):
            raise ValidationError(f"{field}: label name {name[:60]!r} is not a valid Prometheus label name")
        if len(val.encode()) > MAX_LABEL_VALUE_BYTES:
            raise ValidationError(f"{field}: value of label {name!r} is longer than {MAX_LABEL_VALUE_BYTES} bytes")
    return labels
