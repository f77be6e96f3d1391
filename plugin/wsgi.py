"""The WSGI entry point: `tastemaker serve` runs `plugin.wsgi:app` under granian."""

import gc

from plugin import create_app

app = create_app()
# Everything built so far lives as long as the process: keep it out of the collector's passes
# (a full pass over the app's objects took ~73 ms, a latency spike on the redirect hot path).
gc.freeze()
