"""Live subscriptions: event types, resolvers, the per-process dispatcher, the WS handler.

Flow: a writer appends ``events`` rows in its transaction and, after
commit, the bus (``infra/events``) announces the newest id. One
:class:`~.dispatcher.EventDispatcher` per process reads the new rows and
offers each to the matching subscriptions' bounded queues, once it has
checked, per subscriber identity and per event, that the subscriber may see
it. A resuming subscription replays from the table first (see ``resolvers``).
"""
