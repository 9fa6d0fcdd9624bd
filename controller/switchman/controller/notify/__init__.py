"""Alert notification: silences, inhibition, grouping and delivery through a
durable outbox (SPEC 4.3). One module per notifier kind, all behind
:class:`~switchman.controller.notify.base.Notifier`."""
