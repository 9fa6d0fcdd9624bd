"""Metric families read at collection time: the host's (psutil, node_exporter's
names, :mod:`.host`), the agent's own (:mod:`.agent_self`), its service slots'
(:mod:`.services`); :mod:`.readings` reads them for the push cycle and for
scrapes, :mod:`.exposition` serves ``/metrics``."""

from switchman.agent.collect.host import HostCollector
from switchman.agent.collect.model import Collector, Family, Labels, Sample

__all__ = ["Collector", "Family", "HostCollector", "Labels", "Sample"]
