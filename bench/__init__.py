"""``make bench``: the real-time path measured against baselines taken in the same run.

Folders by responsibility: ``stack`` starts and watches the processes (PostgreSQL database,
gunicorn replicas, the gateway emulator), ``load`` is the asyncio load generator (WebSocket
clients with the token flow, HTTP clients, pacing, statistics), ``scenarios`` are the
measurements, ``report`` writes the Markdown table, the sizing guide and the chart.
``baseline`` is a benchmark-only Django app (a view doing one INSERT) mounted by
``bench.settings`` / ``bench.urls``, never by the production URLconf.
"""
