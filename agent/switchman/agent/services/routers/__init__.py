"""Routers flip a service's front port between its slots: ``builtin`` (an
asyncio TCP proxy in the agent) and ``haproxy`` (HAProxy's runtime API)."""
