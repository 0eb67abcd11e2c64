"""What an operator watches: health and readiness, Prometheus metrics, JSON logs.

`recorder` is what the rest of the package calls (no dependencies; a no-op
until a command installs a real one); `metrics` backs it with
``prometheus_client``; `health` serves ``/healthz``, ``/readyz`` and
``/metrics``; `logs` formats log records as one JSON object per line.
"""
