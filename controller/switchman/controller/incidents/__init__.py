"""Incidents (SPEC 4.5): opened by paging alerts, de-duplicated, escalated
until acknowledged, resolved when their alerts are, with a timeline built
from alerts, notes and the rollouts, rollbacks and faults around them."""
