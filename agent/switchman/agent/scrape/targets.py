"""``[[scrape]]`` tables: what to scrape, how often, and which series to keep.

[[scrape]]
job = "node_exporter"
url = "http://127.0.0.1:9100/metrics"
interval = "15s"           # default: the agent's interval
timeout = "10s"            # default: the interval, at most 10s
honor_labels = false
[[scrape.metric_relabel]]
action = "drop"            # keep | drop
source_labels = ["__name__"]
regex = "go_.*"
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field

from switchman.proto.durations import DurationError, parse_duration_s
from switchman.proto.settings import ConfigError

SCRAPE_KEYS = {"job", "url", "interval", "timeout", "honor_labels", "metric_relabel"}
RELABEL_KEYS = {"action", "source_labels", "regex", "separator"}


@dataclass(frozen=True)
class Relabel:
    """A ``keep`` or ``drop`` step of ``metric_relabel_configs``: the source
    labels' values joined by ``separator``, matched against the fully anchored regex."""

    action: str
    source_labels: tuple[str, ...]
    regex: re.Pattern[str]
    separator: str = ";"

    def keeps(self, name: str, labels: dict[str, str]) -> bool:
        value = self.separator.join(name if s == "__name__" else labels.get(s, "") for s in self.source_labels)
        matched = self.regex.fullmatch(value) is not None
        return matched if self.action == "keep" else not matched


@dataclass(frozen=True)
class ScrapeTarget:
    job: str
    url: str
    interval: float
    timeout: float
    honor_labels: bool = False
    relabel: tuple[Relabel, ...] = ()
    extra: tuple[tuple[str, str], ...] = field(default=())  # target labels besides job and instance

    @property
    def instance(self) -> str:
        """``host:port`` of the URL, as Prometheus' ``__address__``."""
        parts = urllib.parse.urlsplit(self.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return f"{parts.hostname}:{port}"

    def keeps(self, name: str, labels: dict[str, str]) -> bool:
        return all(r.keeps(name, labels) for r in self.relabel)


def _duration(where: str, key: str, value: object) -> float:
    try:
        return parse_duration_s(str(value))
    except DurationError as exc:
        raise ConfigError(f"{where}: key {key!r}: {exc}") from None


def parse_relabel(table: object, where: str) -> Relabel:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table")
    unknown = sorted(set(table) - RELABEL_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(RELABEL_KEYS))})")
    action = str(table.get("action", "keep"))
    if action not in ("keep", "drop"):
        raise ConfigError(f"{where}: key 'action': {action!r} is not keep or drop")
    sources = table.get("source_labels", ["__name__"])
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
        raise ConfigError(f"{where}: key 'source_labels': expected a list of label names")
    text = str(table.get("regex", "(.*)"))
    try:
        regex = re.compile(text)
    except re.error as exc:
        raise ConfigError(f"{where}: key 'regex': {text!r} does not compile: {exc}") from None
    return Relabel(action, tuple(sources), regex, str(table.get("separator", ";")))


def parse_scrape(table: dict[str, object], where: str, default_interval: float) -> ScrapeTarget:
    """:raises ConfigError: naming the table and the key."""
    unknown = sorted(set(table) - SCRAPE_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(SCRAPE_KEYS))})")
    job, url = table.get("job"), table.get("url")
    if not isinstance(job, str) or not job:
        raise ConfigError(f"{where}: key 'job' is required (the job label of what it scrapes)")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: key 'url': expected an http:// or https:// URL, got {url!r}")
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname:
        raise ConfigError(f"{where}: key 'url': {url!r} has no host")
    interval = _duration(where, "interval", table["interval"]) if "interval" in table else default_interval
    timeout = _duration(where, "timeout", table["timeout"]) if "timeout" in table else min(interval, 10.0)
    if interval <= 0 or timeout <= 0:
        raise ConfigError(f"{where}: interval and timeout must be greater than 0")
    if timeout > interval:
        raise ConfigError(f"{where}: key 'timeout': {timeout}s is longer than the interval ({interval}s)")
    rules = table.get("metric_relabel", [])
    if not isinstance(rules, list):
        raise ConfigError(f"{where}: key 'metric_relabel': expected [[scrape.metric_relabel]] tables")
    relabel = tuple(parse_relabel(r, f"{where}: metric_relabel #{i + 1}") for i, r in enumerate(rules))
    return ScrapeTarget(job, url, interval, timeout, bool(table.get("honor_labels", False)), relabel)


def parse_scrapes(tables: list[dict[str, object]], source: str, default_interval: float) -> list[ScrapeTarget]:
    targets = [parse_scrape(t, f"{source}: scrape #{i + 1}", default_interval) for i, t in enumerate(tables)]
    seen: set[tuple[str, str]] = set()
    for i, t in enumerate(targets):
        if (t.job, t.instance) in seen:
            raise ConfigError(f"{source}: scrape #{i + 1}: job {t.job!r} already scrapes {t.instance}")
        seen.add((t.job, t.instance))
    return targets
