"""Host metrics: psutil readings as metric families with node_exporter's names."""

from switchman.agent.collect.host import HostCollector
from switchman.agent.collect.model import Family, Labels, Sample

__all__ = ["Family", "HostCollector", "Labels", "Sample"]
