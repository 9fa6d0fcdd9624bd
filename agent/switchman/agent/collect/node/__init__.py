"""node_exporter's Linux collectors, read straight from ``/proc`` and ``/sys``.

One module per node_exporter collector, each a function of :class:`Paths`
that returns :class:`~switchman.agent.collect.model.Family` values under
node_exporter 1.5's names, help, types and label sets. The roots are passed
in (node_exporter's ``--path.procfs``, ``--path.sysfs``, ``--path.rootfs``)
so tests read small fixture trees. A file the host does not have gives a
family without samples, as node_exporter then exports nothing for it.
"""

from switchman.agent.collect.node.paths import Paths

__all__ = ["Paths"]
