"""SLOs (SPEC 4.4): Sloth's ``prometheus/v1`` files and Switchman's probe
and latency shorthands, error ratios over the standard windows written as
Sloth's ``slo:*`` series, multiwindow multi-burn-rate alerts fed to the rule
engine, and SLA reports."""
